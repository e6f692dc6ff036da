use super::*;
use flate2::{Compress, Compression, FlushCompress};
use proptest::prelude::*;

fn parser(sender: Sender, deflate: Option<Deflate>) -> MessageParser {
    MessageParser::new(sender, deflate, Config::default())
}

fn messages(p: &mut MessageParser, bytes: &[u8]) -> Vec<Message> {
    p.push(bytes).expect("valid frames");
    std::iter::from_fn(|| p.next_message()).collect()
}

fn text(data: &[u8]) -> Message {
    Message {
        opcode: Opcode::Text,
        data: data.to_vec(),
        compressed: false,
        truncated: false,
    }
}

fn deflate() -> Deflate {
    Deflate::from_response(&[b"permessage-deflate"])
        .unwrap()
        .unwrap()
}

/// A frame as a client sends it: masked with `key`.
fn client_frame(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n <= 0xffff => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Compresses one message the way a permessage-deflate sender does: a sync flush, the
/// trailing 00 00 ff ff removed.
fn compress(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    while out.len() == out.capacity() {
        out.reserve(64);
        c.compress_vec(&[], &mut out, FlushCompress::Sync).unwrap();
    }
    assert_eq!(out[out.len() - 4..], DEFLATE_TAIL);
    out.truncate(out.len() - 4);
    out
}

// RFC 6455 section 5.7 examples.
#[test]
fn rfc6455_single_frames_masked_and_unmasked() {
    let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(
        messages(&mut parser(Sender::Server, None), &unmasked),
        [text(b"Hello")]
    );
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        messages(&mut parser(Sender::Client, None), &masked),
        [text(b"Hello")]
    );
}

#[test]
fn rfc6455_fragments_join_and_a_ping_between_them_comes_out_first() {
    let frames = [
        0x01, 0x03, 0x48, 0x65, 0x6c, // "Hel", not final
        0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, // ping "Hello"
        0x80, 0x02, 0x6c, 0x6f, // "lo", final continuation
    ];
    let got = messages(&mut parser(Sender::Server, None), &frames);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].opcode, &got[0].data[..]),
        (Opcode::Ping, &b"Hello"[..])
    );
    assert_eq!(got[1], text(b"Hello"));
}

#[test]
fn rfc6455_16_and_64_bit_lengths() {
    let mut frames = vec![0x82, 0x7e, 0x01, 0x00];
    frames.extend(std::iter::repeat_n(0xab, 256));
    frames.extend_from_slice(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    frames.extend(std::iter::repeat_n(0xcd, 65536));
    let got = messages(&mut parser(Sender::Server, None), &frames);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].opcode, got[0].data.len()), (Opcode::Binary, 256));
    assert_eq!(got[1].data, vec![0xcd; 65536]);
}

#[test]
fn client_frames_of_every_length_size_unmask_across_any_split() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    for len in [0, 1, 125, 126, 65535, 65536, 70_000] {
        let frame = client_frame(0x82, &payload[..len], [1, 2, 3, 4]);
        for split in [1, 2, 5, 13, frame.len() / 2] {
            let mut p = parser(Sender::Client, None);
            let mut got = Vec::new();
            for piece in frame.chunks(split.max(1)) {
                got.extend(messages(&mut p, piece));
            }
            assert_eq!(got.len(), 1, "len {len} split {split}");
            assert_eq!(got[0].data, payload[..len], "len {len} split {split}");
        }
    }
}

#[test]
fn a_close_frame_keeps_its_code_and_reason() {
    let frame = client_frame(0x88, b"\x03\xe8bye", [9, 9, 9, 9]);
    let got = messages(&mut parser(Sender::Client, None), &frame);
    assert_eq!(
        (got[0].opcode, &got[0].data[..]),
        (Opcode::Close, &b"\x03\xe8bye"[..])
    );
}

#[test]
fn masking_must_match_the_sender() {
    let unmasked = [0x81, 0x01, b'x'];
    assert_eq!(
        parser(Sender::Client, None).push(&unmasked),
        Err(WsError::Unmasked)
    );
    let masked = client_frame(0x81, b"x", [1, 1, 1, 1]);
    assert_eq!(
        parser(Sender::Server, None).push(&masked),
        Err(WsError::Masked)
    );
}

#[test]
fn protocol_violations_are_errors_and_stick() {
    let cases: [(&[u8], WsError); 6] = [
        (&[0x83, 0x00], WsError::ReservedOpcode(3)),
        (&[0xa1, 0x00], WsError::ReservedBit),
        (&[0x80, 0x00], WsError::StrayContinuation),
        (&[0x09, 0x00], WsError::BadControl),
        (&[0x01, 0x00, 0x81, 0x00], WsError::Interleaved),
        (&[0xc1, 0x00], WsError::NotNegotiated),
    ];
    for (bytes, want) in cases {
        let mut p = parser(Sender::Server, None);
        assert_eq!(p.push(bytes), Err(want.clone()), "{bytes:02x?}");
        assert_eq!(p.push(&[0x81, 0x00]), Err(want));
    }
    let mut long = vec![0x82, 0x7f, 0x80];
    long.extend_from_slice(&[0; 7]);
    assert_eq!(
        parser(Sender::Server, None).push(&long),
        Err(WsError::Length)
    );
    let mut ping = vec![0x89, 0x7e, 0x00, 0x7e];
    ping.extend_from_slice(&[0; 126]);
    assert_eq!(
        parser(Sender::Server, None).push(&ping),
        Err(WsError::BadControl)
    );
}

#[test]
fn messages_before_an_error_are_kept() {
    let mut p = parser(Sender::Server, None);
    assert!(p.push(&[0x81, 0x02, b'o', b'k', 0x83, 0x00]).is_err());
    assert_eq!(p.next_message(), Some(text(b"ok")));
}

// RFC 7692 section 7.2.3 examples.
#[test]
fn rfc7692_compressed_hello_whole_and_fragmented() {
    let whole = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let got = messages(&mut parser(Sender::Server, Some(deflate())), &whole);
    assert_eq!((&got[0].data[..], got[0].compressed), (&b"Hello"[..], true));
    let fragmented = [
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    let got = messages(&mut parser(Sender::Server, Some(deflate())), &fragmented);
    assert_eq!(got[0].data, b"Hello");
}

#[test]
fn rfc7692_context_takeover_reuses_the_window() {
    let frames = [
        0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // "Hello"
        0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // "Hello" again, as a back-reference
    ];
    let got = messages(&mut parser(Sender::Server, Some(deflate())), &frames);
    assert_eq!(
        (&got[0].data[..], &got[1].data[..]),
        (&b"Hello"[..], &b"Hello"[..])
    );
}

#[test]
fn rfc7692_stored_block_bfinal_and_two_blocks() {
    let frames = [
        // A stored (uncompressed) block.
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        // BFINAL set, with padding after it.
        0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00,
        // Two blocks in one message.
        0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    let got = messages(&mut parser(Sender::Server, Some(deflate())), &frames);
    let data: Vec<&[u8]> = got.iter().map(|m| &m.data[..]).collect();
    assert_eq!(data, [&b"Hello"[..], b"Hello", b"Hello"]);
}

#[test]
fn without_context_takeover_each_message_inflates_alone() {
    let d = Deflate::from_response(&[
        b"permessage-deflate; client_no_context_takeover; client_max_window_bits=10",
    ])
    .unwrap()
    .unwrap();
    assert!(d.client_no_context_takeover && !d.server_no_context_takeover);
    assert_eq!(d.client_max_window_bits, 10);
    let mut p = parser(Sender::Client, Some(d));
    let mut wire = Vec::new();
    for m in ["imei=861234567890127", "imei=861234567890127 again"] {
        let mut c = Compress::new(Compression::default(), false);
        let mut f = client_frame(0xc1, &compress(&mut c, m.as_bytes()), [7, 8, 9, 10]);
        f[0] = 0xc1;
        wire.extend(f);
    }
    let got = messages(&mut p, &wire);
    assert_eq!(got[0].data, b"imei=861234567890127");
    assert_eq!(got[1].data, b"imei=861234567890127 again");
}

#[test]
fn with_context_takeover_later_messages_refer_back_to_earlier_ones() {
    let mut c = Compress::new(Compression::default(), false);
    let body = b"{\"device\":{\"imei\":\"861234567890127\",\"model\":\"Redmi\"}}";
    let first = compress(&mut c, body);
    let second = compress(&mut c, body);
    assert!(
        second.len() < first.len() / 2,
        "the second is a back-reference"
    );
    let mut p = parser(Sender::Client, Some(deflate()));
    let mut wire = client_frame(0xc1, &first, [1, 2, 3, 4]);
    // The second message fragmented, a pong between its fragments.
    let (a, b) = second.split_at(second.len() / 2);
    wire.extend(client_frame(0x42, a, [5, 6, 7, 8]));
    wire.extend(client_frame(0x8a, b"", [0, 0, 0, 0]));
    wire.extend(client_frame(0x80, b, [9, 9, 9, 9]));
    let got = messages(&mut p, &wire);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].data, body);
    assert_eq!(got[1].opcode, Opcode::Pong);
    assert_eq!(
        (got[2].opcode, &got[2].data[..]),
        (Opcode::Binary, &body[..])
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_inflate_cap() {
    let mut c = Compress::new(Compression::best(), false);
    let bomb = compress(&mut c, &vec![b'a'; 8 << 20]);
    let mut p = MessageParser::new(
        Sender::Client,
        Some(deflate()),
        Config {
            max_message_bytes: 1000,
            max_inflate_bytes: 64 * 1024,
        },
    );
    let mut wire = client_frame(0xc1, &bomb, [1, 2, 3, 4]);
    wire.extend(client_frame(
        0xc1,
        &compress(&mut c, b"later"),
        [1, 2, 3, 4],
    ));
    let got = messages(&mut p, &wire);
    assert_eq!((got[0].data.len(), got[0].truncated), (1000, true));
    // Under context takeover the cut left no usable context for what follows.
    assert_eq!((got[1].data.len(), got[1].truncated), (0, true));
}

#[test]
fn uncompressed_messages_keep_their_first_bytes_past_the_limit() {
    let mut p = MessageParser::new(
        Sender::Server,
        None,
        Config {
            max_message_bytes: 4,
            ..Config::default()
        },
    );
    let got = messages(&mut p, &[0x81, 0x06, b'a', b'b', b'c', b'd', b'e', b'f']);
    assert_eq!((&got[0].data[..], got[0].truncated), (&b"abcd"[..], true));
}

#[test]
fn extension_headers_are_read_strictly() {
    assert_eq!(
        Deflate::from_response(&[b"x-webkit-deflate-frame"]),
        Ok(None)
    );
    let d = Deflate::from_response(&[
        b"foo, permessage-deflate;server_no_context_takeover;server_max_window_bits=\"9\"",
    ])
    .unwrap()
    .unwrap();
    assert!(d.server_no_context_takeover);
    assert_eq!(d.server_max_window_bits, 9);
    for bad in [
        &b"permessage-deflate; server_max_window_bits=16"[..],
        b"permessage-deflate; server_max_window_bits=7",
        b"permessage-deflate; colour=blue",
    ] {
        assert!(Deflate::from_response(&[bad]).is_err(), "{bad:?}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        client in any::<bool>(),
        split in 1usize..64,
    ) {
        let sender = if client { Sender::Client } else { Sender::Server };
        let mut p = MessageParser::new(sender, Some(deflate()), Config {
            max_message_bytes: 256,
            max_inflate_bytes: 4096,
        });
        for piece in bytes.chunks(split) {
            let _ = p.push(piece);
            while p.next_message().is_some() {}
        }
    }

    #[test]
    fn compressed_client_messages_survive_any_split(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        split in 1usize..100,
    ) {
        let mut c = Compress::new(Compression::fast(), false);
        let mut wire = client_frame(0xc2, &compress(&mut c, &data), [3, 1, 4, 1]);
        wire.extend(client_frame(0xc2, &compress(&mut c, &data), [5, 9, 2, 6]));
        let mut p = parser(Sender::Client, Some(deflate()));
        let mut got = Vec::new();
        for piece in wire.chunks(split) {
            got.extend(messages(&mut p, piece));
        }
        prop_assert_eq!(got.len(), 2);
        prop_assert_eq!(&got[0].data, &data);
        prop_assert_eq!(&got[1].data, &data);
    }
}

/// Feeds `wire` in pieces of `step`, stepping over what the parser allows; returns the
/// messages and how many bytes it was given.
fn follow_skipping(p: &mut MessageParser, wire: &[u8], step: usize) -> (Vec<Message>, usize) {
    let (mut at, mut given) = (0, 0);
    while at < wire.len() {
        let piece = &wire[at..(at + step).min(wire.len())];
        p.push(piece).unwrap();
        given += piece.len();
        at += piece.len();
        let n = p.skippable();
        p.skip(n).unwrap();
        at += n as usize;
    }
    (std::iter::from_fn(|| p.next_message()).collect(), given)
}

fn small(max: usize, deflate: Option<Deflate>, sender: Sender) -> MessageParser {
    MessageParser::new(
        sender,
        deflate,
        Config {
            max_message_bytes: max,
            max_inflate_bytes: 16 * max,
        },
    )
}

#[test]
fn the_rest_of_a_long_frame_is_stepped_over_and_the_next_message_read_whole() {
    let mut wire = client_frame(0x82, &vec![7u8; 200_000], [1, 2, 3, 4]);
    // A fragmented message after it: its first fragment fills the limit, the rest of
    // that fragment and the whole second one are stepped over.
    wire.extend(client_frame(0x01, &[b'a'; 3000], [9, 8, 7, 6]));
    wire.extend(client_frame(0x80, &[b'b'; 3000], [5, 5, 5, 5]));
    wire.extend(client_frame(0x81, b"imei=861234567890127", [4, 3, 2, 1]));
    let mut p = small(1024, None, Sender::Client);
    let (got, given) = follow_skipping(&mut p, &wire, 1500);
    assert!(given < 8 * 1500, "payloads were not read: {given}");
    assert_eq!(got.len(), 3);
    assert!(got[0].truncated && got[0].data == vec![7u8; 1024]);
    assert!(got[1].truncated && got[1].data == vec![b'a'; 1024]);
    assert_eq!(got[2], text(b"imei=861234567890127"));
}

#[test]
fn nothing_is_stepped_over_before_the_limit_or_in_a_control_frame() {
    let mut p = small(1024, None, Sender::Server);
    p.push(&[0x82, 126, 0x08, 0x00]).unwrap();
    p.push(&[0; 100]).unwrap();
    assert_eq!(p.skippable(), 0, "100 of 1024 kept");
    p.push(&[0; 924]).unwrap();
    assert_eq!(p.skippable(), 2048 - 1024);
    let mut p = small(1024, None, Sender::Server);
    p.push(&[0x89, 100, 0]).unwrap();
    assert_eq!(p.skippable(), 0);
}

#[test]
fn under_context_takeover_compressed_bytes_are_never_stepped_over() {
    let mut c = Compress::new(Compression::default(), false);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..50_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    assert!(compress(&mut Compress::new(Compression::default(), false), &noise).len() > 40_000);
    let frame = client_frame(0xc2, &compress(&mut c, &noise), [1, 2, 3, 4]);
    let mut p = small(1024, Some(deflate()), Sender::Client);
    let (got, given) = follow_skipping(&mut p, &frame, 4096);
    assert_eq!(given, frame.len());
    assert!(got[0].truncated);
    // Without it, the rest of the message is stepped over and the next one inflates.
    let d = Deflate::from_response(&[b"permessage-deflate; client_no_context_takeover"])
        .unwrap()
        .unwrap();
    let mut wire = frame;
    let mut c = Compress::new(Compression::default(), false);
    wire.extend(client_frame(
        0xc1,
        &compress(&mut c, b"imei=861234567890127"),
        [5, 6, 7, 8],
    ));
    let mut p = small(1024, Some(d), Sender::Client);
    let (got, given) = follow_skipping(&mut p, &wire, 4096);
    assert!(given < wire.len());
    assert_eq!(got[1].data, b"imei=861234567890127");
}
