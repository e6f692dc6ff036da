//! Bounded randomized tests of both readers (the fuzz targets' stable-toolchain twin):
//! no input panics, and damage keeps the packets before it.

use std::time::{Duration, SystemTime};

use phonehome_capture::{
    read_all, LinkType, Packet, PcapReader, PcapngReader, PcapngWriter, TsResolution, WriterConfig,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 3000,
        // Failures are reported with their minimal input; no regression files in tests/.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn packets() -> impl Strategy<Value = Vec<(u64, Vec<u8>, Option<String>)>> {
    prop::collection::vec(
        (
            0u64..4_000_000_000_000_000,
            prop::collection::vec(any::<u8>(), 0..80),
            prop::option::of(".{0,40}"),
        ),
        0..6,
    )
}

fn write(pkts: &[(u64, Vec<u8>, Option<String>)], res: TsResolution) -> (Vec<u8>, Vec<Packet>) {
    let cfg = WriterConfig {
        resolution: res,
        ..WriterConfig::default()
    };
    let mut w = PcapngWriter::with_config(Vec::new(), cfg).expect("vec write");
    let mut want = vec![];
    for (micros, data, comment) in pkts {
        let ts = SystemTime::UNIX_EPOCH + Duration::from_micros(*micros);
        w.write_packet(ts, data, comment.as_deref())
            .expect("vec write");
        want.push(Packet {
            ts,
            linktype: LinkType::RAW,
            data: data.clone(),
            orig_len: data.len() as u32,
            comment: comment.clone(),
        });
    }
    (w.into_inner().expect("flush"), want)
}

/// A pcap global header (little-endian, microseconds, Ethernet).
const PCAP_HEADER: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pcapng_round_trip(pkts in packets(), nano in any::<bool>()) {
        let res = if nano { TsResolution::Nanoseconds } else { TsResolution::Microseconds };
        let (file, want) = write(&pkts, res);
        let (got, err) = read_all(&file[..]);
        prop_assert!(err.is_none());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn pcapng_reader_survives_damage(
        pkts in packets(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let (mut file, want) = write(&pkts, TsResolution::Microseconds);
        let flipped = !flips.is_empty();
        for (i, b) in flips {
            let i = i.index(file.len());
            file[i] = b;
        }
        let cut = cut.index(file.len() + 1);
        let mut got = vec![];
        let mut err = None;
        for item in PcapngReader::new(&file[..cut]) {
            match item {
                Ok(p) => got.push(p),
                Err(e) => {
                    prop_assert!(e.offset <= cut as u64);
                    err = Some(e);
                }
            }
        }
        if !flipped {
            prop_assert!(want.starts_with(&got));
            if err.is_some() {
                prop_assert!(cut < file.len());
            } else if cut == file.len() {
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn pcapng_reader_arbitrary_bytes(tail in prop::collection::vec(any::<u8>(), 0..400)) {
        let (mut file, _) = write(&[], TsResolution::Microseconds);
        file.extend(tail);
        for item in PcapngReader::new(&file[..]) {
            if let Err(e) = item {
                prop_assert!(e.offset <= file.len() as u64);
            }
        }
    }

    #[test]
    fn pcap_reader_arbitrary_bytes(
        header in prop::collection::vec(any::<u8>(), 24),
        tail in prop::collection::vec(any::<u8>(), 0..400),
        keep_header in any::<bool>(),
    ) {
        let mut file = if keep_header { PCAP_HEADER.to_vec() } else { header };
        file.extend(tail);
        match PcapReader::new(&file[..]) {
            Ok(r) => {
                for item in r {
                    if let Err(e) = item {
                        prop_assert!(e.offset <= file.len() as u64);
                    }
                }
            }
            Err(e) => prop_assert!(e.offset <= file.len() as u64),
        }
        let _ = read_all(&file[..]);
    }

    #[test]
    fn pcap_reader_truncation_keeps_prefix(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..60), 0..5),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut file = PCAP_HEADER.to_vec();
        for (i, r) in records.iter().enumerate() {
            file.extend((i as u32).to_le_bytes());
            file.extend(7u32.to_le_bytes());
            file.extend((r.len() as u32).to_le_bytes());
            file.extend((r.len() as u32).to_le_bytes());
            file.extend(r);
        }
        let (all, err) = read_all(&file[..]);
        prop_assert!(err.is_none());
        prop_assert_eq!(all.len(), records.len());
        let cut = cut.index(file.len() + 1);
        let (got, _) = read_all(&file[..cut]);
        prop_assert!(all.starts_with(&got));
    }
}
