//! A streamed response (server-sent events, JSON lines) is read while it streams: what
//! each event or line holds is found as it arrives, not when the connection closes.

use std::io::Write;

use super::following::request;
use super::tests::{analyzer, start_http, t};
use super::*;

const IMEI: &str = "861234567890123";

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

fn found(a: &mut Analyzer) -> Vec<(Kind, Where, Direction)> {
    std::iter::from_fn(|| a.pop_finding())
        .map(|f| (f.kind, f.place, f.direction))
        .collect()
}

fn open_stream(content_type: &str, extra: &str) -> Analyzer {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(1, Direction::Out, &request("/events"), t());
    a.data(1, Direction::In, &head(content_type, extra), t());
    a
}

#[test]
fn an_event_is_found_while_the_stream_stays_open_and_once_however_often_it_comes() {
    let mut a = open_stream("text/event-stream", "");
    let event = format!("event: device\ndata: {{\"imei\":\"{IMEI}\"}}\n\n");
    a.data(1, Direction::In, &chunk(event.as_bytes()), t());
    assert_eq!(
        found(&mut a),
        [(Kind::Imei, Where::Body, Direction::In)],
        "found before the stream ends"
    );
    // The same again: the same finding, not a second one.
    a.data(1, Direction::In, &chunk(event.as_bytes()), t());
    assert!(found(&mut a).is_empty());
    assert!(a.want(1, Direction::In).follow);
}

#[test]
fn a_gzip_json_lines_stream_flushed_mid_imei_is_found_after_the_second_flush() {
    let mut a = open_stream("application/x-ndjson", "Content-Encoding: gzip\r\n");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut sent = 0;
    let halves = [
        format!("{{\"tick\":1}}\n{{\"imei\":\"{}", &IMEI[..8]),
        format!("{}\"}}\n", &IMEI[8..]),
    ];
    for (i, half) in halves.iter().enumerate() {
        e.write_all(half.as_bytes()).unwrap();
        e.flush().unwrap();
        let wire = e.get_ref()[sent..].to_vec();
        sent += wire.len();
        a.data(1, Direction::In, &chunk(&wire), t());
        let got = found(&mut a);
        if i == 0 {
            assert!(got.is_empty(), "{got:?}");
        } else {
            assert_eq!(got, [(Kind::Imei, Where::Body, Direction::In)]);
        }
    }
}

#[test]
fn after_its_scan_limit_a_stream_is_stepped_over_and_the_next_response_read() {
    let mut a = open_stream("text/event-stream", "");
    a.data(1, Direction::Out, &request("/account"), t());
    // 100 KiB of events, past the 64 KiB limit, then the stream ends.
    let events = "data: {\"tick\":1}\n\n".repeat(100 * 1024 / 18);
    a.data(1, Direction::In, &chunk(events.as_bytes()), t());
    a.data(1, Direction::In, b"0\r\n\r\n", t());
    let body = format!("{{\"imei\":\"{IMEI}\"}}");
    let next = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    a.data(1, Direction::In, next.as_bytes(), t());
    assert_eq!(found(&mut a), [(Kind::Imei, Where::Body, Direction::In)]);
}
