//! The analyzer reads HTTP/2: from the client preface on, each stream's `:path`,
//! `:authority`, header fields, cookies and (decoded) body are scanned as url, header,
//! cookie and body, HPACK's dynamic table included; responses count as received.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use phonehome_analyzer::{Analyzer, Settings};
use phonehome_catalog::Catalog;
use phonehome_detect::{Detector, Identifiers, Options};
use phonehome_model::{
    CloseReason, Destination, Direction, Finding, FlowRecord, HostSource, Proto, TlsMode, Where,
};

const IMEI: &str = "861234567890127";
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;

fn analyzer() -> Analyzer {
    let ids = Identifiers::from_toml(&format!("imei = [\"{IMEI}\"]\n")).expect("valid identifiers");
    Analyzer::new(
        Detector::new(&ids, &Options::default()),
        Catalog::builtin(),
        Settings::default(),
    )
}

fn t() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn findings(a: &mut Analyzer) -> Vec<Finding> {
    std::iter::from_fn(|| a.pop_finding()).collect()
}

fn places(found: &[Finding]) -> Vec<(Where, Direction)> {
    let mut v: Vec<_> = found.iter().map(|f| (f.place, f.direction)).collect();
    v.sort_by_key(|(p, d)| (p.as_str(), *d == Direction::In));
    v
}

fn start(a: &mut Analyzer, id: u64, port: u16) {
    a.flow_start(
        id,
        Proto::Tcp,
        "10.111.0.2:40000".parse().expect("an address"),
        format!("10.201.0.2:{port}").parse().expect("an address"),
        None,
    );
}

fn end(a: &mut Analyzer, id: u64, port: u16) {
    a.flow_end(FlowRecord {
        flow: id,
        proto: Proto::Tcp,
        src: "10.111.0.2:40000".parse().expect("an address"),
        dst: format!("10.201.0.2:{port}").parse().expect("an address"),
        bytes_out: 1,
        bytes_in: 1,
        start: t(),
        end: t(),
        close: CloseReason::Closed,
        app: None,
        destination: Destination::default(),
    });
}

fn frame(kind: u8, flags: u8, stream: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len())
        .expect("a small frame")
        .to_be_bytes();
    let mut f = vec![0, len[0], len[1], kind, flags, 0, 0, 0, stream];
    f.extend_from_slice(payload);
    f
}

/// An HPACK literal with incremental indexing, new name, no Huffman.
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x40, u8::try_from(name.len()).expect("short")];
    out.extend_from_slice(name.as_bytes());
    out.push(u8::try_from(value.len()).expect("short"));
    out.extend_from_slice(value.as_bytes());
    out
}

/// POST (static 3), https (7), with the IMEI in a header field only.
fn post_headers(coding: &str) -> Vec<u8> {
    [
        &[0x83, 0x87][..],
        &literal(":authority", "api.account.xiaomi.com"),
        &literal(":path", "/v1/log"),
        &literal("x-device-imei", IMEI),
        &literal("content-encoding", coding),
    ]
    .concat()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).expect("in memory");
    gz.finish().expect("in memory")
}

#[test]
fn an_h2c_connection_is_read_header_cookie_url_and_gzip_body_and_named_by_its_authority() {
    let mut a = analyzer();
    start(&mut a, 1, 80);
    // The server's SETTINGS may come before the client's preface: held, not lost.
    a.data(1, Direction::In, &SETTINGS, t());
    let get = [
        &[0x82, 0x87][..],
        &literal(":authority", "api.account.xiaomi.com:443"),
        &literal(":path", &format!("/dev?imei={IMEI}")),
        &literal("cookie", &format!("did={IMEI}")),
    ]
    .concat();
    let body = gzip(format!("{{\"imei\":\"{IMEI}\"}}").as_bytes());
    let stream = [
        PREFACE.to_vec(),
        SETTINGS.to_vec(),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &get),
        frame(HEADERS, END_HEADERS, 3, &post_headers("gzip")),
        frame(DATA, END_STREAM, 3, &body),
    ]
    .concat();
    // Split where the preface is not yet whole.
    a.data(1, Direction::Out, &stream[..10], t());
    a.data(1, Direction::Out, &stream[10..], t());
    assert!(a.follows(1), "an HTTP/2 flow asks for all its bytes");
    let found = findings(&mut a);
    assert_eq!(
        places(&found),
        [
            (Where::Body, Direction::Out),
            (Where::Cookie, Direction::Out),
            (Where::Header, Direction::Out),
            (Where::Url, Direction::Out),
        ]
    );
    for f in &found {
        assert_eq!(f.kind.as_str(), "imei");
        assert!(
            f.layers.is_empty(),
            "content-encoding is not a hiding layer"
        );
        assert_eq!(
            f.destination.host.as_deref(),
            Some("api.account.xiaomi.com")
        );
        assert_eq!(f.destination.host_source, Some(HostSource::Http));
        assert!(!f.evidence.contains(IMEI));
    }
}

#[test]
fn a_header_sent_as_a_dynamic_table_index_is_found() {
    let mut a = analyzer();
    start(&mut a, 1, 80);
    // Stream 1 adds `x-imei` to the table and stays open (its body is still to come);
    // stream 3 sends the field as index 62 only and ends first: the finding is its.
    let first = [
        &[0x83, 0x87, 0x84][..],
        &literal(":authority", "a.example"),
        &literal("x-imei", IMEI),
    ]
    .concat();
    a.data(
        1,
        Direction::Out,
        &[PREFACE.to_vec(), frame(HEADERS, END_HEADERS, 1, &first)].concat(),
        t(),
    );
    assert!(findings(&mut a).is_empty(), "stream 1 has not ended");
    // GET (2), https (7), path / (4), then :authority (63) and x-imei (62).
    let indexed = frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &[0x82, 0x87, 0x84, 0xbf, 0xbe],
    );
    assert!(!indexed.windows(IMEI.len()).any(|w| w == IMEI.as_bytes()));
    a.data(1, Direction::Out, &indexed, t());
    let found = findings(&mut a);
    assert_eq!(places(&found), [(Where::Header, Direction::Out)]);
    assert_eq!(found[0].destination.host.as_deref(), Some("a.example"));
}

#[test]
fn what_an_h2_server_sends_back_is_received_not_sent() {
    let mut a = analyzer();
    start(&mut a, 1, 80);
    a.data(
        1,
        Direction::Out,
        &[
            PREFACE.to_vec(),
            frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x82, 0x87, 0x84]),
        ]
        .concat(),
        t(),
    );
    let response = [
        SETTINGS.to_vec(),
        frame(HEADERS, END_HEADERS, 1, &[0x88]),
        frame(DATA, END_STREAM, 1, format!("imei={IMEI}").as_bytes()),
    ]
    .concat();
    a.data(1, Direction::In, &response, t());
    assert_eq!(places(&findings(&mut a)), [(Where::Body, Direction::In)]);
}

#[test]
fn intercepted_h2_findings_say_intercepted() {
    let mut a = analyzer();
    start(&mut a, 1, 443);
    a.tls_mode(1, TlsMode::Intercepted);
    a.data(1, Direction::In, &SETTINGS, t());
    let get = [
        &[0x82, 0x87][..],
        &literal(":authority", "api.account.xiaomi.com"),
        &literal(":path", &format!("/dev?imei={IMEI}")),
    ]
    .concat();
    a.data(
        1,
        Direction::Out,
        &[
            PREFACE.to_vec(),
            frame(HEADERS, END_HEADERS | END_STREAM, 1, &get),
        ]
        .concat(),
        t(),
    );
    let f = findings(&mut a);
    assert_eq!(places(&f), [(Where::Url, Direction::Out)]);
    assert_eq!(f[0].destination.tls, Some(TlsMode::Intercepted));
}

#[test]
fn a_stream_cut_by_the_close_is_read_at_the_end() {
    let mut a = analyzer();
    start(&mut a, 1, 80);
    a.data(
        1,
        Direction::Out,
        &[
            PREFACE.to_vec(),
            frame(HEADERS, END_HEADERS, 1, &post_headers("identity")),
            frame(DATA, 0, 1, format!("imei={IMEI}").as_bytes()),
        ]
        .concat(),
        t(),
    );
    assert_eq!(places(&findings(&mut a)), []);
    end(&mut a, 1, 80);
    assert_eq!(
        places(&findings(&mut a)),
        [
            (Where::Body, Direction::Out),
            (Where::Header, Direction::Out)
        ]
    );
}

#[test]
fn a_server_that_speaks_first_to_a_silent_client_is_still_scanned() {
    let mut a = analyzer();
    start(&mut a, 1, 25);
    a.data(
        1,
        Direction::In,
        format!("220 hello {IMEI}\r\n").as_bytes(),
        t(),
    );
    end(&mut a, 1, 25);
    assert_eq!(places(&findings(&mut a)), [(Where::Payload, Direction::In)]);
}

/// Relays `bytes` of flow 1's `dir` in 16 KiB pieces from stream offset `*seen`, giving
/// the analyzer only what it wants (as the live tap does); returns the bytes given.
fn relay(a: &mut Analyzer, dir: Direction, seen: &mut u64, bytes: &[u8]) -> u64 {
    let mut given = 0;
    for piece in bytes.chunks(16 * 1024) {
        let start = *seen;
        *seen += piece.len() as u64;
        let want = a.want(1, dir);
        let cap = if want.follow { u64::MAX } else { 256 * 1024 };
        let (from, to) = (start.max(want.from), (*seen).min(cap));
        if from < to {
            let copy = &piece[(from - start) as usize..(to - start) as usize];
            given += copy.len() as u64;
            a.data_at(1, dir, from, copy, t());
        }
    }
    given
}

#[test]
fn an_h2_response_after_megabytes_of_others_is_read_and_their_data_not_copied() {
    let mut a = analyzer();
    start(&mut a, 1, 80);
    let (mut out, mut inbound) = (0, 0);
    let get = |path: &str| [&[0x82, 0x86][..], &literal(":path", path)].concat();
    let requests = [
        PREFACE.to_vec(),
        SETTINGS.to_vec(),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &get("/big")),
        frame(HEADERS, END_HEADERS | END_STREAM, 3, &get("/account")),
    ]
    .concat();
    relay(&mut a, Direction::Out, &mut out, &requests);
    // 2 MiB on stream 1 in 64 KiB frames (as large as the client's SETTINGS could
    // allow, to show what is not copied); its first header enters the dynamic table.
    let mut wire = SETTINGS.to_vec();
    let first = [&[0x88][..], &literal("x-device", IMEI)].concat();
    wire.extend(frame(HEADERS, END_HEADERS, 1, &first));
    let frames = 32;
    for i in 0..frames {
        let end = if i + 1 == frames { END_STREAM } else { 0 };
        wire.extend(frame(DATA, end, 1, &[b'x'; 65_535]));
    }
    let mut given = relay(&mut a, Direction::In, &mut inbound, &wire);
    assert_eq!(
        places(&findings(&mut a)),
        [(Where::Header, Direction::In)],
        "the first response's header"
    );
    // Stream 3: its header only as an index into the dynamic table, then a body.
    let body = format!("{{\"imei\":\"{IMEI}\"}}");
    let later = [
        frame(HEADERS, END_HEADERS, 3, &[0x88, 0x80 | 62]),
        frame(DATA, END_STREAM, 3, body.as_bytes()),
    ]
    .concat();
    given += relay(&mut a, Direction::In, &mut inbound, &later);
    let found = findings(&mut a);
    assert_eq!(places(&found), [(Where::Body, Direction::In)], "{found:?}");
    assert!(a.want(1, Direction::In).follow);
    // The limit's worth of stream 1, and the relayed piece each frame header lies in
    // (with frames no larger than the pieces, that is nearly all of them).
    assert!(given < 64 * 1024 + frames * 2 * 16 * 1024, "{given}");
}
