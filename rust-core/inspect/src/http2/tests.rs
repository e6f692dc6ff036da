use std::io::Write;

use super::frames::{CONTINUATION, DATA, END_HEADERS, END_STREAM, HEADERS, PADDED, PUSH_PROMISE};
use super::*;

pub(super) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let head = FrameHeader {
        len: u32::try_from(payload.len()).unwrap(),
        kind,
        flags,
        stream,
    };
    [&head.emit()[..], payload].concat()
}

/// An HPACK literal with incremental indexing and a new name, no Huffman (lengths < 127).
fn indexed_literal(name: &str, value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x40, u8::try_from(name.len()).unwrap()];
    out.extend_from_slice(name.as_bytes());
    out.push(u8::try_from(value.len()).unwrap());
    out.extend_from_slice(value);
    out
}

const SETTINGS: [u8; 15] = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];

/// GET https://api.example.com/dev?imei=861234567890123 with a custom header and two
/// cookie fields; `:method GET` and `:scheme https` from the static table.
fn request_block() -> Vec<u8> {
    [
        &[0x82, 0x87][..],
        &indexed_literal(":authority", b"api.example.com:443"),
        &indexed_literal(":path", b"/dev?imei=861234567890123"),
        &indexed_literal("x-device", b"861234567890123"),
        &indexed_literal("cookie", b"sid=1"),
        &indexed_literal("cookie", b"did=861234567890123"),
    ]
    .concat()
}

fn client_stream(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut s = PREFACE.to_vec();
    s.extend_from_slice(&SETTINGS);
    for p in parts {
        s.extend_from_slice(p);
    }
    s
}

fn messages(side: Side, stream: &[u8], split: usize) -> (Vec<Message>, Result<(), H2Error>) {
    let mut r = Reader::new(side, Config::default());
    let first = r.push(&stream[..split]);
    let second = r.push(&stream[split..]);
    let mut out = Vec::new();
    while let Some(m) = r.next_message() {
        out.push(m);
    }
    (out, first.and(second))
}

#[test]
fn a_request_comes_out_with_its_path_authority_headers_cookies_and_padded_body() {
    let block = request_block();
    let (a, b) = block.split_at(20);
    let mut padded = vec![5u8];
    padded.extend_from_slice(b"{\"imei\":\"861234567890123\"}");
    padded.extend_from_slice(&[0; 5]);
    let stream = client_stream(&[
        frame(HEADERS, 0, 1, a),
        frame(CONTINUATION, END_HEADERS, 1, b),
        frame(DATA, PADDED | END_STREAM, 1, &padded),
    ]);
    for split in 0..=stream.len() {
        let (out, result) = messages(Side::Client, &stream, split);
        assert_eq!(result, Ok(()));
        assert_eq!(out.len(), 1, "split at {split}");
        let m = &out[0];
        assert!(m.complete);
        let req = m.request().expect("a request");
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/dev?imei=861234567890123");
        assert_eq!(req.host.as_deref(), Some("api.example.com"));
        assert_eq!(req.version, Version::Http2);
        assert_eq!(req.header("x-device").unwrap().value, b"861234567890123");
        let cookies: Vec<_> = req.cookies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cookies, ["sid", "did"]);
        assert_eq!(req.body.data, b"{\"imei\":\"861234567890123\"}");
    }
}

#[test]
fn a_second_request_whose_fields_are_table_references_is_read_whole() {
    // Stream 3 names every field of stream 1 by its dynamic table index (62..66, newest
    // first): no literal of the IMEI is on the wire the second time.
    let again: Vec<u8> = vec![0x82, 0x87, 0xc2, 0xc1, 0xc0, 0xbf, 0xbe];
    let stream = client_stream(&[
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &request_block()),
        frame(HEADERS, END_HEADERS | END_STREAM, 3, &again),
    ]);
    let (out, result) = messages(Side::Client, &stream, 0);
    assert_eq!(result, Ok(()));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].stream, 3);
    assert_eq!(out[1].fields, out[0].fields);
}

#[test]
fn a_gzip_body_is_decoded_and_a_zstd_one_too() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"imei=861234567890123").unwrap();
    let gz = gz.finish().unwrap();
    let zstd = crate::http::tests::zstd_raw_frame(b"imei=861234567890123");
    for (coding, body) in [("gzip", gz), ("zstd", zstd)] {
        let block = [
            &[0x83, 0x87, 0x84][..],
            &indexed_literal("content-encoding", coding.as_bytes()),
            &indexed_literal("content-type", b"application/x-www-form-urlencoded"),
        ]
        .concat();
        let (half1, half2) = body.split_at(body.len() / 2);
        let stream = client_stream(&[
            frame(HEADERS, END_HEADERS, 1, &block),
            frame(DATA, 0, 1, half1),
            frame(DATA, END_STREAM, 1, half2),
        ]);
        let (out, _) = messages(Side::Client, &stream, 7);
        let req = out[0].request().unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.body.data, b"imei=861234567890123", "{coding}");
        assert_eq!(req.body.decoding, crate::http::Decoding::Decoded);
    }
}

#[test]
fn server_responses_come_out_and_pushed_streams_and_1xx_do_not_stay() {
    let status = |code: &[u8]| indexed_literal(":status", code);
    let mut promise = vec![0, 0, 0, 2];
    promise.extend_from_slice(&[0x82, 0x87, 0x84]);
    let stream = [
        SETTINGS.to_vec(),
        frame(HEADERS, END_HEADERS, 1, &status(b"100")),
        frame(PUSH_PROMISE, END_HEADERS, 1, &promise),
        frame(HEADERS, END_HEADERS, 1, &[0x88]),
        frame(HEADERS, END_HEADERS, 2, &[0x88]),
        frame(DATA, END_STREAM, 2, b"pushed body"),
        frame(DATA, 0, 1, b"your id is "),
        frame(DATA, END_STREAM, 1, b"861234567890123"),
    ]
    .concat();
    let (out, result) = messages(Side::Server, &stream, 30);
    assert_eq!(result, Ok(()));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].field(":status").unwrap().value, b"200");
    assert_eq!(out[0].body.data, b"your id is 861234567890123");
    assert!(out[0].request().is_none());
}

#[test]
fn a_reset_stream_and_the_oldest_of_too_many_come_out_incomplete() {
    let config = Config {
        max_streams: 2,
        max_body_bytes: 4,
        ..Config::default()
    };
    let mut r = Reader::new(Side::Client, config);
    let mut stream = client_stream(&[]);
    for id in [1, 3, 5] {
        stream.extend(frame(HEADERS, END_HEADERS, id, &[0x82, 0x87, 0x84]));
    }
    stream.extend(frame(DATA, 0, 3, b"abcdefgh"));
    stream.extend(frame(3, 0, 3, &[0, 0, 0, 8])); // RST_STREAM, CANCEL
    r.push(&stream).unwrap();
    let first = r.next_message().unwrap();
    assert_eq!((first.stream, first.complete), (1, false));
    let reset = r.next_message().unwrap();
    assert_eq!((reset.stream, reset.complete), (3, false));
    assert_eq!(reset.body.data, b"abcd");
    assert!(reset.body.truncated);
    assert!(r.next_message().is_none());
    r.finish();
    assert_eq!(r.next_message().unwrap().stream, 5);
    assert!(r.is_failed());
}

#[test]
fn bytes_that_are_not_http2_or_break_it_stop_the_reader() {
    let (_, result) = messages(Side::Client, b"GET / HTTP/1.1\r\n\r\n", 3);
    assert_eq!(result, Err(H2Error::NoPreface));
    // A DATA frame where a CONTINUATION must come.
    let stream = client_stream(&[frame(HEADERS, 0, 1, &[0x82]), frame(DATA, 0, 1, b"x")]);
    let (_, result) = messages(Side::Client, &stream, 0);
    assert_eq!(result, Err(H2Error::ExpectedContinuation(1)));
    // Padding longer than the frame.
    let stream = client_stream(&[
        frame(HEADERS, END_HEADERS, 1, &[0x83]),
        frame(DATA, PADDED, 1, &[9, b'x']),
    ]);
    let (_, result) = messages(Side::Client, &stream, 0);
    assert_eq!(result, Err(H2Error::Frame(FrameError::Padding)));
    // A header block over the limit, announced by its frame header alone.
    let mut r = Reader::new(Side::Server, Config::default());
    let huge = FrameHeader {
        len: 1 << 20,
        kind: HEADERS,
        flags: 0,
        stream: 1,
    };
    assert_eq!(r.push(&huge.emit()), Err(H2Error::HeaderBlockTooLarge));
    assert_eq!(r.push(b"more"), Err(H2Error::HeaderBlockTooLarge));
}

#[test]
fn a_big_data_frame_is_read_as_it_arrives_not_buffered() {
    let mut r = Reader::new(
        Side::Server,
        Config {
            max_body_bytes: 10,
            ..Config::default()
        },
    );
    r.push(&frame(HEADERS, END_HEADERS, 1, &[0x88])).unwrap();
    let head = FrameHeader {
        len: 1 << 23,
        kind: DATA,
        flags: END_STREAM,
        stream: 1,
    };
    r.push(&head.emit()).unwrap();
    let chunk = vec![b'z'; 1 << 16];
    for _ in 0..(1 << 7) {
        r.push(&chunk).unwrap();
        assert!(r.buf.len() <= frames::HEADER_LEN);
    }
    let m = r.next_message().unwrap();
    assert_eq!(m.body.wire_len, 1 << 23);
    assert_eq!(m.body.data.len(), 10);
}

#[test]
fn open_streams_keep_at_most_the_connection_budget_the_oldest_ending_early() {
    let config = Config {
        max_body_bytes: 8,
        max_open_bytes: 12 + 2 * (7 + 3 + 32),
        ..Config::default()
    };
    let mut r = Reader::new(Side::Server, config);
    for id in [1, 3] {
        r.push(&frame(HEADERS, END_HEADERS, id, &[0x88])).unwrap();
    }
    r.push(&frame(DATA, 0, 1, b"aaaaaa")).unwrap();
    assert!(r.next_message().is_none());
    // Each stream keeps `:status: 200` (42 bytes as counted); 6 + 8 body bytes would pass
    // 12: stream 1, the oldest, comes out as it is.
    r.push(&frame(DATA, 0, 3, b"bbbbbbbbbb")).unwrap();
    let early = r.next_message().unwrap();
    assert_eq!(
        (early.stream, early.complete, &early.body.data[..]),
        (1, false, &b"aaaaaa"[..])
    );
    assert!(early.body.truncated);
    // Stream 1's later bytes are not kept; stream 3 still ends whole (up to its cap).
    r.push(&frame(DATA, END_STREAM, 1, b"more")).unwrap();
    r.push(&frame(DATA, END_STREAM, 3, b"")).unwrap();
    let last = r.next_message().unwrap();
    assert_eq!(
        (last.stream, last.complete, &last.body.data[..]),
        (3, true, &b"bbbbbbbb"[..])
    );
    assert!(r.next_message().is_none());
    assert_eq!(r.kept, 0);
}

proptest::proptest! {
    #[test]
    fn mutated_connections_never_panic(
        bytes in crate::testutil::mutated(client_stream(&[
            frame(HEADERS, 0, 1, &request_block()[..30]),
            frame(CONTINUATION, END_HEADERS, 1, &request_block()[30..]),
            frame(DATA, PADDED | END_STREAM, 1, &[2, b'a', b'b', 0, 0]),
        ])),
        split in 0usize..200,
    ) {
        for side in [Side::Client, Side::Server] {
            let mut r = Reader::new(side, Config { max_streams: 2, ..Config::default() });
            let split = split.min(bytes.len());
            let _ = r.push(&bytes[..split]);
            let _ = r.push(&bytes[split..]);
            r.finish();
            while let Some(m) = r.next_message() {
                let _ = m.request();
            }
        }
    }
}
