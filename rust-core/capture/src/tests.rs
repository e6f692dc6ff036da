use std::time::{Duration, SystemTime};

use super::*;

const IPV4: [u8; 20] = [
    0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 93, 184, 216, 34,
];
const IPV6: [u8; 40] = {
    let mut p = [0u8; 40];
    p[0] = 0x60;
    p[6] = 17;
    p[7] = 64;
    p
};

fn at(secs: u64, nanos: u32) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

/// Three packets written by our writer, in the given resolution.
fn sample(resolution: TsResolution) -> (Vec<u8>, Vec<Packet>) {
    let config = WriterConfig {
        resolution,
        ..WriterConfig::default()
    };
    let mut w = PcapngWriter::with_config(Vec::new(), config).expect("vec write");
    let nanos = if resolution == TsResolution::Nanoseconds {
        123_456_789
    } else {
        123_456_000
    };
    let packets = vec![
        Packet {
            ts: at(1_408_000_000, nanos),
            linktype: LinkType::RAW,
            data: IPV4.to_vec(),
            orig_len: 20,
            comment: Some("flow=12 app=com.example uid=10123".into()),
        },
        Packet {
            ts: at(1_408_000_001, 0),
            linktype: LinkType::RAW,
            data: IPV6.to_vec(),
            orig_len: 40,
            comment: None,
        },
        Packet {
            ts: at(1_700_000_000, nanos),
            linktype: LinkType::RAW,
            data: vec![0x45; 7], // not a multiple of 4: exercises padding
            orig_len: 7,
            comment: Some("ünïcode, 3 bytes: ✓".into()),
        },
    ];
    for p in &packets {
        w.write_packet(p.ts, &p.data, p.comment.as_deref())
            .expect("vec write");
    }
    (w.into_inner().expect("vec flush"), packets)
}

/// Block boundaries of a pcapng file written by us (little-endian).
fn block_starts(file: &[u8]) -> Vec<usize> {
    let mut starts = vec![];
    let mut at = 0;
    while at < file.len() {
        starts.push(at);
        let len = u32::from_le_bytes(file[at + 4..at + 8].try_into().expect("4 bytes"));
        at += len as usize;
    }
    starts.push(file.len());
    starts
}

#[test]
fn pcapng_round_trip_micro_and_nano() {
    for res in [TsResolution::Microseconds, TsResolution::Nanoseconds] {
        let (file, packets) = sample(res);
        assert_eq!(file.len() % 4, 0);
        let (read, err) = read_all(&file[..]);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(read, packets, "{res:?}");
    }
}

/// The tshark check for the end-to-end test, verified by hand with Debian 12's tshark
/// 4.0.17 on files from this writer (micro- and nanosecond):
///   tshark -r capture.pcapng -T fields -e frame.comment -e frame.time_epoch
/// prints one line per packet: the comment (empty when none), TAB, the exact timestamp;
/// `tshark -r capture.pcapng` decodes the packets as raw IP, `capinfos` says "Raw IP".
/// (In 4.0 `-e pkt_comment` prints the protocol name "pkt_comment", not the text.)
#[test]
fn writer_emits_known_bytes() {
    let config = WriterConfig {
        application: None,
        ..WriterConfig::default()
    };
    let mut w = PcapngWriter::with_config(Vec::new(), config).expect("vec write");
    w.write_packet(at(1, 2_000), &[0x45, 0, 0], Some("ab"))
        .expect("vec write");
    let file = w.into_inner().expect("vec flush");
    #[rustfmt::skip]
    let expected: Vec<u8> = [
        // SHB: type, length 28, byte-order magic, version 1.0, section length -1, length.
        &[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0][..],
        &[0xff; 8], &[28, 0, 0, 0],
        // IDB: type 1, length 32, LINKTYPE_RAW, reserved, snaplen 65535,
        // if_tsresol=6 (padded), opt_endofopt, length.
        &[1, 0, 0, 0, 32, 0, 0, 0, 101, 0, 0, 0, 0xff, 0xff, 0, 0],
        &[9, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0],
        // EPB: type 6, length 48, interface 0, ts 1_000_002 us (high, low), caplen 3,
        // orig len 3, data padded, opt_comment "ab" padded, opt_endofopt, length.
        &[6, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42, 0x42, 0x0f, 0],
        &[3, 0, 0, 0, 3, 0, 0, 0, 0x45, 0, 0, 0],
        &[1, 0, 2, 0, b'a', b'b', 0, 0, 0, 0, 0, 0, 48, 0, 0, 0],
    ]
    .concat();
    assert_eq!(file, expected);
}

/// tshark decrypting with these blocks alone is the end-to-end test's (test_intercept).
#[test]
fn a_decryption_secrets_block_has_the_tls_key_log_layout_and_readers_step_over_it() {
    let config = WriterConfig {
        application: None,
        ..WriterConfig::default()
    };
    let mut w = PcapngWriter::with_config(Vec::new(), config).expect("vec write");
    w.write_tls_key_log(b"CLIENT_RANDOM 00 11\n")
        .expect("vec write");
    w.write_packet(at(1, 0), &IPV4, None).expect("vec write");
    let file = w.into_inner().expect("vec flush");
    let dsb = &file[block_starts(&file)[2]..];
    #[rustfmt::skip]
    let expected: &[u8] = &[
        // DSB: type 0x0a, length 40, secrets type "TLSK", secrets length 20,
        // the lines (a multiple of 4 bytes: no padding), length.
        0x0a, 0, 0, 0, 40, 0, 0, 0, 0x4b, 0x53, 0x4c, 0x54, 20, 0, 0, 0,
        b'C', b'L', b'I', b'E', b'N', b'T', b'_', b'R', b'A', b'N', b'D', b'O', b'M',
        b' ', b'0', b'0', b' ', b'1', b'1', b'\n', 40, 0, 0, 0,
    ];
    assert_eq!(&dsb[..40], expected);
    let (read, err) = read_all(&file[..]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].data, IPV4);
}

#[test]
fn writer_cuts_to_snaplen_and_keeps_orig_len() {
    let config = WriterConfig {
        snaplen: 8,
        ..WriterConfig::default()
    };
    let mut w = PcapngWriter::with_config(Vec::new(), config).expect("vec write");
    w.write_packet(at(5, 0), &IPV4, None).expect("vec write");
    let (read, err) = read_all(&w.into_inner().expect("flush")[..]);
    assert!(err.is_none());
    assert_eq!(read[0].data, &IPV4[..8]);
    assert_eq!(read[0].orig_len, 20);
}

#[test]
fn writer_clamps_times_before_1970() {
    let mut w = PcapngWriter::new(Vec::new()).expect("vec write");
    w.write_packet(SystemTime::UNIX_EPOCH - Duration::from_secs(5), &IPV4, None)
        .expect("vec write");
    let (read, _) = read_all(&w.into_inner().expect("flush")[..]);
    assert_eq!(read[0].ts, SystemTime::UNIX_EPOCH);
}

/// Builds a classic pcap file by hand: `be` picks the byte order, `nano` the magic.
fn pcap_file(be: bool, nano: bool, linktype: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut f = vec![];
    f.extend(u32b(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend(u16b(2));
    f.extend(u16b(4));
    f.extend(u32b(0)); // thiszone
    f.extend(u32b(0)); // sigfigs
    f.extend(u32b(262_144));
    f.extend(u32b(linktype));
    for (secs, frac, data) in records {
        f.extend(u32b(*secs));
        f.extend(u32b(*frac));
        f.extend(u32b(data.len() as u32));
        f.extend(u32b(data.len() as u32 + 100));
        f.extend_from_slice(data);
    }
    f
}

#[test]
fn pcap_headers_known_bytes() {
    // The four magics exactly as they appear on disk.
    let cases: [(&[u8; 4], bool, bool); 4] = [
        (&[0xd4, 0xc3, 0xb2, 0xa1], false, false),
        (&[0xa1, 0xb2, 0xc3, 0xd4], true, false),
        (&[0x4d, 0x3c, 0xb2, 0xa1], false, true),
        (&[0xa1, 0xb2, 0x3c, 0x4d], true, true),
    ];
    for (magic, be, nano) in cases {
        let f = pcap_file(be, nano, 1, &[(1_408_000_000, 999_999, &IPV4)]);
        assert_eq!(&f[..4], magic);
        let r = PcapReader::new(&f[..]).expect("header");
        assert_eq!(r.linktype(), LinkType::ETHERNET);
        assert_eq!(r.snaplen(), 262_144);
        assert_eq!(r.nanosecond(), nano);
        let (read, err) = read_all(&f[..]);
        assert!(err.is_none(), "{err:?}");
        let want_ns = if nano { 999_999 } else { 999_999_000 };
        assert_eq!(read[0].ts, at(1_408_000_000, want_ns));
        assert_eq!(read[0].data, IPV4);
        assert_eq!(read[0].orig_len, 120);
        assert_eq!(read[0].linktype, LinkType::ETHERNET);
    }
}

#[test]
fn pcap_linktype_ignores_fcs_bits() {
    let f = pcap_file(false, false, 0x1000_0000 | 101, &[]);
    assert_eq!(
        PcapReader::new(&f[..]).expect("header").linktype(),
        LinkType::RAW
    );
}

/// Every cut of a valid file: cuts on a block/record boundary are shorter valid files;
/// every other cut gives the packets before it and an error at the cut block's offset.
fn check_truncations(file: &[u8], boundaries: &[usize], all: &[Packet], header_len: usize) {
    for cut in 0..file.len() {
        let (read, err) = read_all(&file[..cut]);
        assert!(all.starts_with(&read), "cut {cut}");
        if cut >= header_len && boundaries.contains(&cut) {
            assert!(err.is_none(), "cut {cut}: {err:?}");
        } else {
            let err = err.unwrap_or_else(|| panic!("cut {cut}: no error"));
            let block_start = boundaries
                .iter()
                .copied()
                .filter(|&b| b <= cut)
                .max()
                .unwrap_or(0);
            assert_eq!(err.offset, block_start as u64, "cut {cut}: {err}");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("offset {block_start}"))
                    && (msg.contains("truncated") || msg.contains("empty")),
                "cut {cut}: {msg}"
            );
        }
    }
}

#[test]
fn pcapng_every_truncation_errors_with_offset() {
    let (file, packets) = sample(TsResolution::Nanoseconds);
    let starts = block_starts(&file);
    // starts[0] = SHB, starts[1] = IDB, starts[2..] = EPBs then end.
    check_truncations(&file, &starts, &packets, starts[1]);
    for (i, &b) in starts.iter().enumerate().skip(2) {
        let (read, err) = read_all(&file[..b]);
        assert!(err.is_none());
        assert_eq!(read.len(), i - 2);
    }
}

#[test]
fn pcap_every_truncation_errors_with_offset() {
    let f = pcap_file(
        true,
        false,
        101,
        &[(1, 2, &IPV4), (3, 4, &IPV6), (5, 6, &[])],
    );
    let (all, err) = read_all(&f[..]);
    assert!(err.is_none());
    assert_eq!(all.len(), 3);
    let boundaries = [0, 24, 24 + 16 + 20, 24 + 32 + 60, 24 + 48 + 60];
    assert_eq!(boundaries[4], f.len());
    check_truncations(&f, &boundaries, &all, 24);
}

/// A tiny deterministic generator, so garbage tests need no dependency.
fn lcg(seed: &mut u64) -> u8 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 56) as u8
}

#[test]
fn garbage_never_panics() {
    let (valid, _) = sample(TsResolution::Microseconds);
    let pcap = pcap_file(false, true, 1, &[(1, 2, &IPV4)]);
    let mut seed = 7;
    for round in 0..3000 {
        let len = (lcg(&mut seed) as usize) * 2;
        let mut data: Vec<u8> = (0..len).map(|_| lcg(&mut seed)).collect();
        match round % 4 {
            // Valid headers followed by garbage.
            1 => data
                .splice(0..0, valid[..valid.len().min(60)].iter().copied())
                .for_each(drop),
            2 => data.splice(0..0, pcap[..24].iter().copied()).for_each(drop),
            // A valid file with a few bytes flipped.
            3 => {
                data = valid.clone();
                for _ in 0..3 {
                    let i = lcg(&mut seed) as usize % data.len();
                    data[i] = lcg(&mut seed);
                }
            }
            _ => {}
        }
        let (_, err) = read_all(&data[..]);
        if round % 4 == 0 {
            assert!(err.is_some(), "random bytes read as a capture");
        }
    }
}

fn err_of(file: &[u8]) -> CaptureError {
    let (_, err) = read_all(file);
    err.expect("an error")
}

#[test]
fn corrupt_files_name_offset_and_cause() {
    let (valid, _) = sample(TsResolution::Microseconds);
    let starts = block_starts(&valid);
    let epb2 = starts[3];

    let e = err_of(b"GIF89a..");
    assert_eq!(e.offset, 0);
    assert!(matches!(e.kind, ErrorKind::BadMagic(_)), "{e}");
    assert!(e.to_string().contains("bad magic"));
    assert!(matches!(err_of(b"").kind, ErrorKind::Empty));

    // Trailing length of the second EPB changed.
    let mut f = valid.clone();
    let trailer = starts[4] - 4;
    f[trailer] ^= 4;
    let (read, e) = read_all(&f[..]);
    let e = e.expect("error");
    assert_eq!(read.len(), 1, "the packet before the damage is kept");
    assert_eq!(e.offset, epb2 as u64);
    assert!(
        matches!(e.kind, ErrorKind::BlockLengthMismatch { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("mismatch"));

    // A block claiming 1 GiB: refused before reading or allocating it.
    let mut f = valid.clone();
    f[epb2 + 4..epb2 + 8].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let e = err_of(&f);
    assert_eq!(e.offset, epb2 as u64);
    assert!(matches!(e.kind, ErrorKind::TooLarge { .. }), "{e}");

    // Length not a multiple of 4.
    let mut f = valid.clone();
    f[epb2 + 4] += 1;
    assert!(matches!(err_of(&f).kind, ErrorKind::BadBlockLength(_)));

    // Unknown interface id.
    let mut f = valid.clone();
    f[epb2 + 8] = 3;
    let e = err_of(&f);
    assert!(
        matches!(e.kind, ErrorKind::UnknownInterface { id: 3, count: 1 }),
        "{e}"
    );

    // Captured length larger than the block.
    let mut f = valid.clone();
    f[epb2 + 20] = 200;
    assert!(matches!(
        err_of(&f).kind,
        ErrorKind::CapturedLengthTooLong { .. }
    ));

    // Option length running past the block (the first EPB's comment).
    let mut f = valid.clone();
    let opt = starts[2] + 28 + 20;
    assert_eq!(&f[opt..opt + 2], &[1, 0], "opt_comment code");
    f[opt + 2..opt + 4].copy_from_slice(&500u16.to_le_bytes());
    let e = err_of(&f);
    assert_eq!(e.offset, opt as u64);
    assert!(
        matches!(e.kind, ErrorKind::BadOption { code: 1, len: 500 }),
        "{e}"
    );

    // Bad byte-order magic.
    let mut f = valid.clone();
    f[8] = 0;
    let e = err_of(&f);
    assert_eq!(e.offset, 8);
    assert!(matches!(e.kind, ErrorKind::BadByteOrderMagic(_)), "{e}");

    // pcapng version 2.0.
    let mut f = valid.clone();
    f[12] = 2;
    assert!(matches!(
        err_of(&f).kind,
        ErrorKind::UnsupportedVersion { major: 2, .. }
    ));

    // pcap record claiming 100 MiB.
    let mut f = pcap_file(false, false, 101, &[(1, 2, &IPV4)]);
    f[24 + 8..24 + 12].copy_from_slice(&(100u32 << 20).to_le_bytes());
    let e = err_of(&f);
    assert_eq!(e.offset, 24);
    assert!(matches!(e.kind, ErrorKind::TooLarge { .. }), "{e}");

    // pcap version 3.
    let mut f = pcap_file(false, false, 101, &[]);
    f[4] = 3;
    assert!(matches!(
        err_of(&f).kind,
        ErrorKind::UnsupportedVersion { .. }
    ));
}

/// Hand-built pcapng blocks in either byte order.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn block(&mut self, btype: u32, body: &[u8]) {
        let mut body = body.to_vec();
        body.resize(body.len().div_ceil(4) * 4, 0);
        let total = body.len() as u32 + 12;
        let (t, l) = (self.u32(btype), self.u32(total));
        self.out.extend(t);
        self.out.extend(l);
        self.out.extend(body);
        self.out.extend(l);
    }
    fn shb(&mut self, be: bool) {
        self.be = be;
        let mut b = vec![];
        b.extend(self.u32(0x1A2B_3C4D));
        b.extend(self.u16(1));
        b.extend(self.u16(0));
        b.extend([0xff; 8]);
        self.block(0x0A0D_0D0A, &b);
    }
    fn idb(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) {
        let mut b = vec![];
        b.extend(self.u16(linktype));
        b.extend(self.u16(0));
        b.extend(self.u32(snaplen));
        for (code, v) in opts {
            b.extend(self.u16(*code));
            b.extend(self.u16(v.len() as u16));
            b.extend_from_slice(v);
            b.resize(b.len().div_ceil(4) * 4, 0);
        }
        self.block(1, &b);
    }
    fn epb(&mut self, iface: u32, units: u64, data: &[u8]) {
        let mut b = vec![];
        b.extend(self.u32(iface));
        b.extend(self.u32((units >> 32) as u32));
        b.extend(self.u32(units as u32));
        b.extend(self.u32(data.len() as u32));
        b.extend(self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(6, &b);
    }
}

#[test]
fn pcapng_sections_interfaces_and_block_kinds() {
    let mut ng = Ng {
        be: true,
        out: vec![],
    };
    // Section 1, big-endian: an Ethernet interface in milliseconds (10^-3).
    ng.shb(true);
    ng.idb(1, 0, &[(9, &[3])]);
    let mut eth = vec![0u8; 12];
    eth.extend([0x08, 0x00]);
    eth.extend(IPV4);
    ng.epb(0, 1_500, &eth);
    // An unknown block (Name Resolution Block) is skipped.
    ng.block(4, &[0, 0, 0, 0]);
    // Section 2, little-endian: RAW with binary 2^-10 resolution and a +100 s offset,
    // LINUX_SLL2 with snaplen 24, then an SPB and an obsolete Packet Block.
    ng.shb(false);
    ng.idb(101, 0, &[(9, &[0x80 | 10]), (14, &100u64.to_le_bytes())]);
    ng.idb(276, 24, &[]);
    ng.epb(0, 2048 + 512, &IPV6);
    let mut spb = vec![];
    spb.extend(60u32.to_le_bytes());
    spb.extend([0xaa; 60]);
    ng.block(3, &spb);
    let mut opb = vec![];
    opb.extend(1u16.to_le_bytes());
    opb.extend(0u16.to_le_bytes());
    opb.extend(0u32.to_le_bytes());
    opb.extend(7_000_000u32.to_le_bytes());
    opb.extend(3u32.to_le_bytes());
    opb.extend(3u32.to_le_bytes());
    opb.extend([1, 2, 3]);
    ng.block(2, &opb);

    let (read, err) = read_all(&ng.out[..]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read.len(), 4);
    assert_eq!(read[0].linktype, LinkType::ETHERNET);
    assert_eq!(read[0].ts, at(1, 500_000_000));
    assert_eq!(ip_payload(&read[0]), Some(&IPV4[..]));
    assert_eq!(read[1].linktype, LinkType::RAW);
    assert_eq!(read[1].ts, at(102, 500_000_000));
    assert_eq!(read[1].data, IPV6);
    // SPB on interface 0 of section 2 (RAW); its data is not cut (snaplen 0).
    assert_eq!(read[2].linktype, LinkType::RAW);
    assert_eq!(read[2].data.len(), 60);
    assert_eq!(read[2].ts, SystemTime::UNIX_EPOCH);
    assert_eq!(read[3].linktype, LinkType::LINUX_SLL2);
    assert_eq!(read[3].data, [1, 2, 3]);
    assert_eq!(read[3].ts, at(7, 0));

    // Interfaces belong to their section: an EPB naming interface 1 after a new SHB
    // with only one IDB is an error.
    let mut ng2 = Ng {
        be: false,
        out: vec![],
    };
    ng2.shb(false);
    ng2.idb(101, 0, &[]);
    ng2.idb(101, 0, &[]);
    ng2.shb(false);
    ng2.idb(101, 0, &[]);
    ng2.epb(1, 0, &IPV4);
    assert!(matches!(
        err_of(&ng2.out).kind,
        ErrorKind::UnknownInterface { id: 1, count: 1 }
    ));

    // A file that does not start with a section header.
    let mut r = PcapngReader::new(&ng.out[..0]);
    assert!(r.next().is_none());
    let mut ng4 = Ng {
        be: false,
        out: vec![],
    };
    ng4.idb(101, 0, &[]);
    let mut r = PcapngReader::new(&ng4.out[..]);
    let e = r.next().expect("item").expect_err("no SHB");
    assert!(matches!(e.kind, ErrorKind::NoSectionHeader(1)), "{e}");
    // Through format detection the same file is simply not a capture.
    assert!(matches!(err_of(&ng4.out).kind, ErrorKind::BadMagic(1)));
    assert!(r.next().is_none(), "fused after an error");
}

fn pkt(linktype: LinkType, data: &[u8]) -> Packet {
    Packet {
        ts: SystemTime::UNIX_EPOCH,
        linktype,
        data: data.to_vec(),
        orig_len: data.len() as u32,
        comment: None,
    }
}

#[test]
fn ip_payload_per_link_type() {
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();
    let eth = |ethertype: &[u8]| cat(&cat(&[0u8; 12], ethertype), &IPV4);
    assert_eq!(ip_payload(&pkt(LinkType::RAW, &IPV4)), Some(&IPV4[..]));
    assert_eq!(ip_payload(&pkt(LinkType::RAW, &IPV6)), Some(&IPV6[..]));
    assert_eq!(ip_payload(&pkt(LinkType::RAW, &[0x20, 1])), None);
    assert_eq!(ip_payload(&pkt(LinkType::RAW, &[])), None);
    assert_eq!(ip_payload(&pkt(LinkType::IPV4, &IPV4)), Some(&IPV4[..]));
    assert_eq!(ip_payload(&pkt(LinkType::IPV4, &IPV6)), None);
    assert_eq!(ip_payload(&pkt(LinkType::IPV6, &IPV6)), Some(&IPV6[..]));
    assert_eq!(
        ip_payload(&pkt(LinkType::ETHERNET, &eth(&[8, 0]))),
        Some(&IPV4[..])
    );
    // 802.1ad outer tag, 802.1Q inner tag.
    let qinq = eth(&[0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 8, 0]);
    assert_eq!(ip_payload(&pkt(LinkType::ETHERNET, &qinq)), Some(&IPV4[..]));
    assert_eq!(
        ip_payload(&pkt(LinkType::ETHERNET, &eth(&[8, 6]))),
        None,
        "ARP"
    );
    assert_eq!(
        ip_payload(&pkt(LinkType::ETHERNET, &eth(&[0x86, 0xdd]))),
        None,
        "v4 in v6 frame"
    );
    assert_eq!(ip_payload(&pkt(LinkType::ETHERNET, &[0; 13])), None);
    assert_eq!(
        ip_payload(&pkt(LinkType::ETHERNET, &[0x81, 0, 0, 0].repeat(10))),
        None
    );
    let sll = cat(&cat(&[0u8; 14], &[0x86, 0xdd]), &IPV6);
    assert_eq!(ip_payload(&pkt(LinkType::LINUX_SLL, &sll)), Some(&IPV6[..]));
    let sll2 = cat(&cat(&[8, 0], &[0u8; 18]), &IPV4);
    assert_eq!(
        ip_payload(&pkt(LinkType::LINUX_SLL2, &sll2)),
        Some(&IPV4[..])
    );
    assert_eq!(ip_payload(&pkt(LinkType::LINUX_SLL2, &sll2[..19])), None);
    let null_le = cat(&2u32.to_le_bytes(), &IPV4);
    assert_eq!(ip_payload(&pkt(LinkType::NULL, &null_le)), Some(&IPV4[..]));
    let null_be6 = cat(&30u32.to_be_bytes(), &IPV6);
    assert_eq!(ip_payload(&pkt(LinkType::NULL, &null_be6)), Some(&IPV6[..]));
    let loop6 = cat(&24u32.to_be_bytes(), &IPV6);
    assert_eq!(ip_payload(&pkt(LinkType::LOOP, &loop6)), Some(&IPV6[..]));
    let null_bad = cat(&7u32.to_le_bytes(), &IPV4);
    assert_eq!(ip_payload(&pkt(LinkType::NULL, &null_bad)), None);
    assert_eq!(
        ip_payload(&pkt(LinkType(147), &IPV4)),
        None,
        "unsupported type"
    );
}

#[test]
fn comment_longer_than_an_option_is_cut_on_a_char_boundary() {
    let long = "é".repeat(40_000); // 80,000 bytes
    let mut w = PcapngWriter::new(Vec::new()).expect("vec write");
    w.write_packet(at(1, 0), &IPV4, Some(&long))
        .expect("vec write");
    let (read, err) = read_all(&w.into_inner().expect("flush")[..]);
    assert!(err.is_none());
    let c = read[0].comment.as_deref().expect("comment");
    assert_eq!(c.len(), 65_534);
    assert!(long.starts_with(c));
}

#[test]
fn only_the_link_types_ip_payload_reads_are_supported() {
    let ether = [&[0u8; 12][..], &[8, 0], &IPV4].concat();
    let null = [&[2u8, 0, 0, 0][..], &IPV4].concat();
    let frames: [&[u8]; 4] = [&IPV4, &IPV6, &ether, &null];
    for t in 0..=u16::MAX {
        let lt = LinkType(t);
        if !lt.is_supported() {
            for f in frames {
                assert_eq!(ip_payload(&pkt(lt, f)), None, "{lt}");
            }
        }
    }
    for lt in [
        LinkType::NULL,
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::LOOP,
        LinkType::LINUX_SLL,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::LINUX_SLL2,
    ] {
        assert!(lt.is_supported() && lt.name().is_some(), "{lt}");
    }
}

#[test]
fn link_types_display_their_number_and_name() {
    assert_eq!(LinkType(105).to_string(), "link type 105 (IEEE 802.11)");
    assert_eq!(
        LinkType::LINUX_SLL2.to_string(),
        "link type 276 (Linux cooked v2)"
    );
    assert_eq!(LinkType(65_000).to_string(), "link type 65000 (unknown)");
}
