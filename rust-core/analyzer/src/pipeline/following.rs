//! Server bytes followed for a whole connection: each response and WebSocket message is
//! read up to the scan limit, and the rest of it is stepped over (the tap is told not to
//! copy it), without ever parsing across a hole.

use super::tests::{analyzer, start_http, t};
use super::*;

/// The IMEI the tests' analyzer knows.
const IMEI: &str = "861234567890123";

/// Plays the tap for one flow: relays each direction in pieces and copies to the
/// analyzer only what [`Analyzer::want`] asks for, as the live tap does.
pub(super) struct Tap {
    pub(super) a: Analyzer,
    seen: [u64; 2],
    /// Bytes copied to the analyzer per direction.
    copied: [u64; 2],
}

const PIECE: usize = 16 * 1024;
const TAP_CAP: u64 = 256 * 1024;

impl Tap {
    pub(super) fn new() -> Self {
        let mut a = analyzer();
        start_http(&mut a);
        Tap {
            a,
            seen: [0; 2],
            copied: [0; 2],
        }
    }

    pub(super) fn relay(&mut self, dir: Direction, bytes: &[u8]) {
        let i = match dir {
            Direction::Out => 0,
            Direction::In => 1,
        };
        for piece in bytes.chunks(PIECE) {
            let start = self.seen[i];
            let end = start + piece.len() as u64;
            self.seen[i] = end;
            let want = self.a.want(1, dir);
            let cap = if want.follow { u64::MAX } else { TAP_CAP };
            let (from, to) = (start.max(want.from), end.min(cap));
            if from < to {
                let copy = &piece[(from - start) as usize..(to - start) as usize];
                self.copied[i] += copy.len() as u64;
                self.a.data_at(1, dir, from, copy, t());
            }
        }
    }

    pub(super) fn received(&mut self) -> Vec<Finding> {
        std::iter::from_fn(|| self.a.pop_finding())
            .filter(|f| f.direction == Direction::In)
            .collect()
    }
}

pub(super) fn request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: api.example\r\n\r\n").into_bytes()
}

fn response(body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in body.chunks(chunk) {
        r.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

fn account() -> Vec<u8> {
    format!("{{\"device\":{{\"imei\":\"{IMEI}\"}}}}").into_bytes()
}

#[test]
fn the_third_response_after_a_long_one_is_read_and_the_long_body_is_not_copied() {
    let mut tap = Tap::new();
    let big = vec![b'x'; 1 << 20];
    for path in ["/a", "/big", "/account"] {
        tap.relay(Direction::Out, &request(path));
    }
    tap.relay(Direction::In, &response(b"{}"));
    tap.relay(Direction::In, &response(&big));
    tap.relay(Direction::In, &response(&account()));
    let got = tap.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, Kind::Imei);
    // The big body was read up to the scan limit (and a piece that was in flight).
    assert!(
        tap.copied[1] <= 64 * 1024 + PIECE as u64 + 200,
        "{}",
        tap.copied[1]
    );
}

#[test]
fn every_response_gets_the_scan_limit_again() {
    let mut tap = Tap::new();
    tap.relay(Direction::Out, &request("/a"));
    tap.relay(Direction::Out, &request("/b"));
    // The IMEI 60 KiB into the second body: within its own limit, past the flow's.
    let mut second = vec![b' '; 60 * 1024];
    second.extend(account());
    tap.relay(Direction::In, &response(&vec![b'x'; 60 * 1024]));
    tap.relay(Direction::In, &response(&second));
    assert_eq!(tap.received().len(), 1);
}

#[test]
fn a_chunked_body_is_stepped_over_chunk_by_chunk_and_the_next_response_read() {
    let mut tap = Tap::new();
    tap.relay(Direction::Out, &request("/stream"));
    tap.relay(Direction::Out, &request("/account"));
    // Chunks longer than the pieces relayed: their rest is not copied.
    tap.relay(Direction::In, &chunked(&vec![b'y'; 1 << 20], 40_000));
    tap.relay(Direction::In, &chunked(&account(), 1000));
    assert_eq!(tap.received().len(), 1);
    assert!(tap.copied[1] < 600 * 1024, "{}", tap.copied[1]);
}

#[test]
fn a_body_that_runs_to_the_close_stops_following_at_its_limit() {
    let mut tap = Tap::new();
    tap.relay(Direction::Out, &request("/legacy"));
    let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    r.extend(vec![b'z'; 1 << 20]);
    tap.relay(Direction::In, &r);
    assert_eq!(tap.a.want(1, Direction::In), Want::NONE);
    assert!(
        tap.copied[1] <= 64 * 1024 + PIECE as u64,
        "{}",
        tap.copied[1]
    );
}

#[test]
fn bytes_after_a_hole_are_never_parsed() {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(
        1,
        Direction::Out,
        &[request("/a"), request("/b")].concat(),
        t(),
    );
    let first = response(b"0123456789");
    a.data_at(1, Direction::In, 0, &first[..first.len() - 4], t());
    // Four bytes never came: the next response would be read from the wrong place.
    a.data_at(
        1,
        Direction::In,
        first.len() as u64,
        &response(&account()),
        t(),
    );
    assert!(std::iter::from_fn(|| a.pop_finding()).next().is_none());
}

/// A server's unmasked frame.
fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

#[test]
fn a_websocket_message_after_megabytes_of_others_is_read() {
    let mut tap = Tap::new();
    tap.relay(
        Direction::Out,
        b"GET /ws HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    tap.relay(
        Direction::In,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    for _ in 0..3 {
        tap.relay(Direction::In, &server_frame(2, &vec![0u8; 512 * 1024]));
    }
    tap.relay(Direction::In, &server_frame(1, &account()));
    let got = tap.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].place, Where::Websocket);
    assert!(tap.copied[1] < 4 * (64 + 16) * 1024, "{}", tap.copied[1]);
}

#[test]
fn a_long_body_in_small_chunks_is_given_up_after_a_bounded_amount() {
    let mut tap = Tap::new();
    tap.relay(Direction::Out, &request("/stream"));
    tap.relay(Direction::Out, &request("/account"));
    // 8 MiB in 4000-byte chunks: most of each relayed piece is chunk data and headers
    // the parser must read through; it stops after 32 times the scan limit.
    tap.relay(Direction::In, &chunked(&vec![b'y'; 8 << 20], 4000));
    assert_eq!(tap.a.want(1, Direction::In), Want::NONE);
    assert!(tap.copied[1] < 3 << 20, "{}", tap.copied[1]);
}
