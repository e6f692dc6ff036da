//! Response bodies as the parser gives them: de-chunked, decoded, bounded.

use std::io::Write;

use super::*;
use crate::http::{BodyParts, Decoding};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn parser(keep: usize) -> ResponseParser {
    ResponseParser::new(Config {
        max_body_bytes: keep,
        max_decoded_bytes: keep,
        ..Config::default()
    })
}

/// Feeds `wire` in pieces of `step`; returns the heads' statuses and the bodies.
fn feed(p: &mut ResponseParser, wire: &[u8], step: usize) -> (Vec<u16>, Vec<Body>) {
    let (mut heads, mut bodies) = (Vec::new(), Vec::new());
    for piece in wire.chunks(step.max(1)) {
        p.push(piece).unwrap();
        drain(p, &mut heads, &mut bodies);
    }
    (heads, bodies)
}

fn drain(p: &mut ResponseParser, heads: &mut Vec<u16>, bodies: &mut Vec<Body>) {
    while let Some(r) = p.next_received() {
        match r {
            Received::Head(h) => heads.push(h.status),
            Received::Body(b) => bodies.push(b),
            Received::Part(_) => {}
        }
    }
}

/// `body` in chunks cut at `cuts` (offsets into it).
fn chunked(body: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut from = 0;
    for &to in cuts.iter().chain([&body.len()]) {
        out.extend_from_slice(format!("{:x}\r\n", to - from).as_bytes());
        out.extend_from_slice(&body[from..to]);
        out.extend_from_slice(b"\r\n");
        from = to;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const JSON: &[u8] = br#"{"account":{"email":"someone@example.com","imei":"861234567890127"}}"#;

#[test]
fn a_chunked_gzip_json_response_comes_out_whole_and_decoded_however_it_is_split() {
    let plain = [JSON; 3].concat();
    let imei = plain
        .windows(15)
        .position(|w| w == b"861234567890127")
        .unwrap();
    // Chunk boundaries in the decoded text mean nothing once compressed, so the plain
    // text itself is sent chunked too, cut inside the IMEI.
    for (encoding, body) in [("gzip", gzip(&plain)), ("identity", plain.clone())] {
        let cut = if encoding == "gzip" {
            body.len() / 2
        } else {
            imei + 7
        };
        let mut wire = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {encoding}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        wire.extend(chunked(&body, &[cut]));
        wire.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        for step in [1, 7, 100, wire.len()] {
            let mut p = parser(64 * 1024);
            let (heads, bodies) = feed(&mut p, &wire, step);
            assert_eq!(heads, [200, 204], "{encoding} step {step}");
            assert_eq!(bodies.len(), 1);
            assert_eq!(bodies[0].data, plain, "{encoding} step {step}");
            assert!(!bodies[0].truncated);
        }
    }
}

#[test]
fn transfer_codings_before_chunked_are_undone_too() {
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec();
    wire.extend(chunked(&gzip(JSON), &[3]));
    let (_, bodies) = feed(&mut parser(1024), &wire, 5);
    assert_eq!(bodies[0].codings, ["gzip"]);
    assert_eq!(
        (bodies[0].data.as_slice(), &bodies[0].decoding),
        (JSON, &Decoding::Decoded)
    );
}

#[test]
fn a_body_past_the_limit_comes_out_cut_and_the_rest_may_be_stepped_over() {
    let mut wire = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n".to_vec();
    wire.extend(vec![b'a'; 10_000]);
    let mut p = parser(100);
    p.push(&wire[..wire.len() - 9_000]).unwrap();
    let (mut heads, mut bodies) = (Vec::new(), Vec::new());
    drain(&mut p, &mut heads, &mut bodies);
    assert_eq!(bodies.len(), 1);
    assert_eq!((bodies[0].data.len(), bodies[0].truncated), (100, true));
    assert!(!p.keeping());
    assert_eq!(p.skippable(), 9_000);
    assert_eq!(p.passed_over(), 900, "read past the limit before the step");
}

#[test]
fn nothing_is_stepped_over_while_a_body_is_kept() {
    let mut p = parser(100);
    p.push(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nabc")
        .unwrap();
    assert!(p.keeping());
    assert_eq!((p.skippable(), p.body_left()), (0, 47));
}

#[test]
fn a_decompression_bomb_is_cut_at_the_decoded_limit() {
    let bomb = gzip(&vec![0u8; 4 << 20]);
    let mut wire = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    wire.extend(&bomb);
    let (_, bodies) = feed(&mut parser(64 * 1024), &wire, 4096);
    assert_eq!(bodies[0].data.len(), 64 * 1024);
    assert!(bodies[0].truncated);
}

#[test]
fn a_body_to_the_close_comes_out_when_full_or_at_the_end() {
    let mut p = parser(1000);
    let (_, bodies) = feed(&mut p, b"HTTP/1.0 200 OK\r\n\r\nstreamed ", 4);
    assert!(bodies.is_empty(), "its end is not known yet");
    p.push(b"on").unwrap();
    p.finish();
    let (mut heads, mut bodies) = (Vec::new(), Vec::new());
    drain(&mut p, &mut heads, &mut bodies);
    assert_eq!(bodies[0].data, b"streamed on");
    assert!(bodies[0].truncated);

    let mut p = parser(10);
    let (_, bodies) = feed(&mut p, b"HTTP/1.0 200 OK\r\n\r\n0123456789abcdef", 3);
    assert_eq!(bodies[0].data, b"0123456789");
    assert!(p.at_end() && !p.keeping());
}

#[test]
fn what_came_before_a_hole_still_comes_out() {
    let mut p = parser(1000);
    p.push(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nimei=8612")
        .unwrap();
    p.cut();
    let (mut heads, mut bodies) = (Vec::new(), Vec::new());
    drain(&mut p, &mut heads, &mut bodies);
    assert_eq!(
        (heads.len(), bodies[0].data.as_slice()),
        (1, &b"imei=8612"[..])
    );
}

#[test]
fn a_form_response_is_split_into_fields_and_bodiless_ones_give_no_body() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\na=1&b=%41\
HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    let mut p = parser(1000);
    p.expect(Ask::Plain { head: false });
    p.expect(Ask::Plain { head: false });
    p.expect(Ask::Plain { head: true });
    let (heads, bodies) = feed(&mut p, wire, 1000);
    assert_eq!(heads, [200, 304, 200]);
    assert_eq!(
        bodies.len(),
        1,
        "neither a 304 nor a HEAD answer has a body"
    );
    let BodyParts::Form(fields) = &bodies[0].parts else {
        panic!("{:?}", bodies[0].parts);
    };
    assert_eq!(fields[1].value, b"A");
}

#[test]
fn a_parser_that_keeps_nothing_gives_heads_only() {
    let mut p = parser(0);
    let (heads, bodies) = feed(
        &mut p,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        2,
    );
    assert_eq!((heads.len(), bodies.len()), (1, 0));
}
