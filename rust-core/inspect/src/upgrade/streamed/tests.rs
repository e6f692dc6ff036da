//! Streamed bodies come out piece by piece, as they arrive, bounded by the limits.

use std::io::Write;

use super::super::{Config, Received, ResponseParser};

const IMEI: &str = "861234567890123";

fn parser(keep: usize) -> ResponseParser {
    ResponseParser::new(Config {
        max_body_bytes: keep,
        max_decoded_bytes: keep,
        overlap: 64,
        ..Config::default()
    })
}

fn parts(p: &mut ResponseParser) -> Vec<String> {
    std::iter::from_fn(|| p.next_received())
        .filter_map(|r| match r {
            Received::Part(t) => Some(String::from_utf8_lossy(&t).into_owned()),
            Received::Body(b) => Some(format!("BODY {}", String::from_utf8_lossy(&b.data))),
            Received::Head(_) => None,
        })
        .collect()
}

fn head(content_type: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{extra}Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes()
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut c = format!("{:x}\r\n", data.len()).into_bytes();
    c.extend_from_slice(data);
    c.extend_from_slice(b"\r\n");
    c
}

#[test]
fn each_server_sent_event_comes_out_as_soon_as_it_is_whole() {
    let mut p = parser(64 * 1024);
    p.push(&head("text/event-stream", "")).unwrap();
    p.push(&chunk(b": hello\n\nevent: account\ndata: {\"imei\":"))
        .unwrap();
    // Half an event: nothing yet.
    assert!(parts(&mut p).is_empty());
    p.push(&chunk(format!("\ndata: \"{IMEI}\"}}\r\n\r\n").as_bytes()))
        .unwrap();
    // The stream is still open, and the event is out: data lines joined by LF.
    assert_eq!(
        parts(&mut p),
        [
            format!("{{\"imei\":\n\"{IMEI}\"}}"),
            "event: account\n".into()
        ]
    );
    assert!(p.keeping());
}

#[test]
fn json_lines_come_out_one_by_one_and_a_json_sequence_loses_its_separators() {
    let mut p = parser(64 * 1024);
    p.push(&head("application/x-ndjson; charset=utf-8", ""))
        .unwrap();
    p.push(&chunk(b"{\"a\":1}\n{\"imei\":\"8612")).unwrap();
    assert_eq!(parts(&mut p), ["{\"a\":1}"]);
    p.push(&chunk(b"34567890123\"}\r\n")).unwrap();
    assert_eq!(parts(&mut p), [format!("{{\"imei\":\"{IMEI}\"}}")]);
    let mut p = parser(64 * 1024);
    p.push(&head("application/json-seq", "")).unwrap();
    p.push(&chunk(b"\x1e{\"b\":2}\n")).unwrap();
    assert_eq!(parts(&mut p), ["{\"b\":2}"]);
}

#[test]
fn a_gzip_stream_flushed_mid_identifier_is_read_as_it_comes() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut p = parser(64 * 1024);
    p.push(&head("text/event-stream", "Content-Encoding: gzip\r\n"))
        .unwrap();
    let mut sent = 0;
    for piece in [
        format!("data: {{\"imei\":\"{}", &IMEI[..7]),
        format!("{}\"}}\n\n", &IMEI[7..]),
    ] {
        e.write_all(piece.as_bytes()).unwrap();
        e.flush().unwrap();
        let wire = e.get_ref()[sent..].to_vec();
        sent += wire.len();
        p.push(&chunk(&wire)).unwrap();
    }
    assert_eq!(parts(&mut p), [format!("{{\"imei\":\"{IMEI}\"}}")]);
}

#[test]
fn unframed_pieces_overlap_so_a_value_cut_between_them_is_whole_in_one() {
    let mut s = super::Streamed::new(super::Framing::Windows, &[], 1000, 64).unwrap();
    let mut out = std::collections::VecDeque::new();
    let mut first = vec![b'x'; 300];
    first.extend_from_slice(&IMEI.as_bytes()[..6]);
    assert_eq!(s.push(&first, 1000, 1000, &mut out), None);
    assert_eq!(s.push(&IMEI.as_bytes()[6..], 1000, 1000, &mut out), None);
    let pieces: Vec<Vec<u8>> = out
        .into_iter()
        .map(|r| match r {
            Received::Part(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[1].len(), 64 + IMEI.len() - 6);
    assert!(pieces[1].ends_with(IMEI.as_bytes()));
}

#[test]
fn the_stream_is_let_go_at_the_limit_and_its_rest_stepped_over() {
    let mut p = parser(100);
    p.push(&head("application/x-ndjson", "")).unwrap();
    p.push(&chunk(&[b"{\"n\":1}\n".as_slice(); 20].concat()))
        .unwrap();
    assert!(!p.keeping());
    let got = parts(&mut p);
    assert!(got.len() >= 12 && got.len() <= 13, "{got:?}");
    p.push(b"100\r\n").unwrap();
    assert_eq!(p.skippable(), 0x100);
}

#[test]
fn an_ordinary_body_still_comes_out_whole_at_its_end() {
    let mut p = parser(64 * 1024);
    p.push(&head("application/json", "")).unwrap();
    p.push(&chunk(b"{\"imei\":")).unwrap();
    assert!(parts(&mut p).is_empty());
    p.push(&chunk(format!("\"{IMEI}\"}}").as_bytes())).unwrap();
    p.push(b"0\r\n\r\n").unwrap();
    assert_eq!(parts(&mut p), [format!("BODY {{\"imei\":\"{IMEI}\"}}")]);
}

#[test]
fn an_unfinished_event_comes_out_when_the_connection_ends() {
    let mut p = parser(64 * 1024);
    p.push(&head("text/event-stream", "")).unwrap();
    p.push(&chunk(format!("data: {IMEI}").as_bytes())).unwrap();
    assert!(parts(&mut p).is_empty());
    p.finish();
    assert_eq!(parts(&mut p), [IMEI]);
}
