//! Stepping over what a reader does not keep: DATA past a stream's body limit, while
//! every header block is still read (HPACK's dynamic table needs them all).

use super::frames::{DATA, END_HEADERS, END_STREAM, HEADERS, PADDED};
use super::tests::frame;
use super::*;

/// `:status 200` (static index 8), then `x-device: VALUE` as a literal that enters the
/// dynamic table: the next block can name it by index 62 alone.
fn first_block(value: &[u8]) -> Vec<u8> {
    let mut b = vec![0x88, 0x40, 8];
    b.extend_from_slice(b"x-device");
    b.push(u8::try_from(value.len()).unwrap());
    b.extend_from_slice(value);
    b
}

const FROM_TABLE: [u8; 2] = [0x88, 0x80 | 62];

/// A server stream: a big response on stream 1 in 16 KiB DATA frames (every other one
/// padded), then stream 3 whose header field comes only from the dynamic table.
fn wire(big: usize) -> Vec<u8> {
    let mut w = frame(HEADERS, END_HEADERS, 1, &first_block(b"861234567890123"));
    let body = vec![b'x'; big];
    let frames = body.chunks(16 * 1024).count();
    for (i, c) in body.chunks(16 * 1024).enumerate() {
        let end = if i + 1 == frames { END_STREAM } else { 0 };
        if i % 2 == 0 {
            w.extend(frame(DATA, end, 1, c));
        } else {
            let padded = [&[3u8][..], c, &[0, 0, 0]].concat();
            w.extend(frame(DATA, end | PADDED, 1, &padded));
        }
    }
    w.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &FROM_TABLE));
    w
}

/// Pushes `wire` in pieces of `step`, stepping over all it may; the bytes given and
/// the messages out.
fn follow(wire: &[u8], step: usize, keep: usize) -> (usize, Vec<Message>) {
    let mut r = Reader::new(
        Side::Server,
        Config {
            max_body_bytes: keep,
            ..Config::default()
        },
    );
    let (mut at, mut given) = (0, 0);
    while at < wire.len() {
        let piece = &wire[at..(at + step).min(wire.len())];
        r.push(piece).unwrap();
        given += piece.len();
        at += piece.len();
        let n = r.skippable();
        r.skip(n);
        at += usize::try_from(n).unwrap();
    }
    (given, std::iter::from_fn(|| r.next_message()).collect())
}

#[test]
fn data_past_the_limit_is_stepped_over_and_a_later_header_block_still_decodes() {
    let big = 1 << 20;
    let w = wire(big);
    for step in [1000, 5000, 70_000] {
        let (given, out) = follow(&w, step, 20_000);
        assert_eq!(out.len(), 2, "step {step}");
        assert_eq!(out[0].stream, 1);
        assert_eq!(out[0].body.data.len(), 20_000);
        assert_eq!(
            out[0].body.wire_len, big as u64,
            "skipped bytes are counted"
        );
        assert!(out[0].body.truncated && out[0].complete);
        let later = &out[1];
        assert_eq!(later.stream, 3);
        assert_eq!(
            later.field("x-device").map(|f| f.value.as_slice()),
            Some(&b"861234567890123"[..]),
            "step {step}"
        );
        // Each frame's header, what was kept, and at most a piece per frame.
        let frames = big / (16 * 1024);
        assert!(given < 20_000 + frames * (step + 20) + 2 * step, "{given}");
        assert!(given < big / 2 || step > 16 * 1024, "{given}");
    }
}

#[test]
fn nothing_is_skippable_inside_a_header_block_or_before_the_limit() {
    let mut r = Reader::new(
        Side::Server,
        Config {
            max_body_bytes: 100,
            ..Config::default()
        },
    );
    let headers = frame(HEADERS, END_HEADERS, 1, &first_block(b"v"));
    r.push(&headers[..12]).unwrap();
    assert_eq!(r.skippable(), 0, "a header block is never skipped");
    r.push(&headers[12..]).unwrap();
    let data = frame(DATA, 0, 1, &[b'y'; 300]);
    r.push(&data[..9 + 50]).unwrap();
    assert_eq!(r.skippable(), 0, "the body is still kept");
    r.push(&data[59..9 + 120]).unwrap();
    assert_eq!(r.skippable(), 180);
}

#[test]
fn a_stream_whose_last_frame_is_stepped_over_still_ends() {
    let mut r = Reader::new(
        Side::Server,
        Config {
            max_body_bytes: 4,
            ..Config::default()
        },
    );
    r.push(&frame(HEADERS, END_HEADERS, 1, &first_block(b"v")))
        .unwrap();
    let data = frame(DATA, END_STREAM, 1, b"0123456789");
    r.push(&data[..9 + 5]).unwrap();
    assert!(r.next_message().is_none());
    r.skip(r.skippable());
    let m = r
        .next_message()
        .expect("the stream ended in the skipped bytes");
    assert_eq!((m.body.data.as_slice(), m.complete), (&b"0123"[..], true));
}
