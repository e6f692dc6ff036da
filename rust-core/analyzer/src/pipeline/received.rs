//! What servers send back is read as a whole response: header fields, and bodies
//! de-chunked and decoded, so an identifier split across relayed pieces or chunks, or
//! inside a compressed body, is found (as received, never as sent).

use std::io::Write;

use super::following::{request, Tap};
use super::tests::{analyzer, start_http, t};
use super::*;

const IMEI: &str = "861234567890123";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn account() -> Vec<u8> {
    format!("{{\"account\":{{\"device\":{{\"imei\":\"{IMEI}\"}}}},\"plan\":\"free\"}}").into_bytes()
}

/// `body` sent chunked, cut at `cuts`, with these extra header lines.
fn chunked_at(headers: &str, body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut r =
        format!("HTTP/1.1 200 OK\r\n{headers}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    let mut from = 0;
    for &to in cuts.iter().chain([&body.len()]) {
        r.extend_from_slice(format!("{:x}\r\n", to - from).as_bytes());
        r.extend_from_slice(&body[from..to]);
        r.extend_from_slice(b"\r\n");
        from = to;
    }
    r.extend_from_slice(b"0\r\n\r\n");
    r
}

fn received_in(a: &mut Analyzer) -> Vec<(Kind, Where, Direction)> {
    std::iter::from_fn(|| a.pop_finding())
        .map(|f| (f.kind, f.place, f.direction))
        .collect()
}

/// The response arrives in pieces of `step` bytes.
fn answer_in_pieces(response: &[u8], step: usize) -> Vec<(Kind, Where, Direction)> {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(1, Direction::Out, &request("/account"), t());
    for piece in response.chunks(step) {
        a.data(1, Direction::In, piece, t());
    }
    received_in(&mut a)
}

#[test]
fn an_imei_cut_by_a_chunk_boundary_and_by_the_relayed_pieces_is_received_in_the_body() {
    let body = account();
    let at = body
        .windows(IMEI.len())
        .position(|w| w == IMEI.as_bytes())
        .unwrap();
    let wire = chunked_at("Content-Type: application/json\r\n", &body, &[at + 8]);
    for step in [5, 11, 64, wire.len()] {
        assert_eq!(
            answer_in_pieces(&wire, step),
            [(Kind::Imei, Where::Body, Direction::In)],
            "pieces of {step}"
        );
    }
}

#[test]
fn an_imei_in_a_gzip_chunked_response_is_received_in_the_body() {
    let body = gzip(&account());
    let wire = chunked_at(
        "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
        &body,
        &[body.len() / 3, body.len() / 2],
    );
    for step in [7, 1400] {
        assert_eq!(
            answer_in_pieces(&wire, step),
            [(Kind::Imei, Where::Body, Direction::In)],
            "pieces of {step}"
        );
    }
}

#[test]
fn an_imei_in_a_response_header_is_received_in_a_header() {
    let wire = format!("HTTP/1.1 204 No Content\r\nX-Device: {IMEI}\r\n\r\n");
    assert_eq!(
        answer_in_pieces(wire.as_bytes(), 20),
        [(Kind::Imei, Where::Header, Direction::In)]
    );
}

#[test]
fn a_body_to_the_close_is_read_when_the_connection_ends() {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(1, Direction::Out, &request("/legacy"), t());
    let wire = [
        b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n".as_slice(),
        &gzip(&account()),
    ]
    .concat();
    for piece in wire.chunks(10) {
        a.data(1, Direction::In, piece, t());
    }
    assert_eq!(received_in(&mut a), []);
    a.flow_end(FlowRecord {
        flow: 1,
        proto: Proto::Tcp,
        src: "10.111.0.2:40000".parse().unwrap(),
        dst: "10.201.0.2:80".parse().unwrap(),
        bytes_out: 1,
        bytes_in: 1,
        start: t(),
        end: t(),
        close: phonehome_model::CloseReason::Closed,
        app: None,
        destination: Destination::default(),
    });
    assert_eq!(
        received_in(&mut a),
        [(Kind::Imei, Where::Body, Direction::In)]
    );
}

#[test]
fn a_long_gzip_response_is_decoded_up_to_the_scan_limit_and_the_next_one_read() {
    let mut tap = Tap::new();
    tap.relay(Direction::Out, &request("/feed"));
    tap.relay(Direction::Out, &request("/account"));
    // 4 MiB of JSON compresses to little; only the limit's worth of it is decoded.
    let mut feed = b"[".to_vec();
    while feed.len() < 4 << 20 {
        feed.extend_from_slice(b"{\"item\":\"nothing to see\"},");
    }
    feed.extend_from_slice(&account());
    feed.push(b']');
    let gz = gzip(&feed);
    let cuts: Vec<usize> = (1..gz.len() / 8192).map(|i| i * 8192).collect();
    tap.relay(
        Direction::In,
        &chunked_at("Content-Encoding: gzip\r\n", &gz, &cuts),
    );
    assert!(tap.received().is_empty(), "the IMEI lies past the limit");
    tap.relay(
        Direction::In,
        &chunked_at("Content-Encoding: gzip\r\n", &gzip(&account()), &[5]),
    );
    let got = tap.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].kind, got[0].place), (Kind::Imei, Where::Body));
}
