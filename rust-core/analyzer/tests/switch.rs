//! The analyzer follows a connection out of HTTP: WebSocket messages after a 101 are
//! scanned as `where: websocket` both ways, and a CONNECT tunnel is read as a fresh stream.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use phonehome_analyzer::{Analyzer, Settings};
use phonehome_catalog::Catalog;
use phonehome_detect::{Detector, Identifiers, Options};
use phonehome_model::{Direction, Finding, HostSource, Proto};

fn analyzer() -> Analyzer {
    let ids = Identifiers::from_toml("imei = [\"861234567890127\"]\n").expect("valid identifiers");
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

fn start(a: &mut Analyzer, dst: &str) {
    a.flow_start(
        1,
        Proto::Tcp,
        "10.111.0.2:40000".parse().expect("an address"),
        dst.parse().expect("an address"),
        None,
    );
}

/// A masked client frame with a 16-bit length.
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0xa1, 0xb2, 0xc3, 0xd4];
    let mut f = vec![first, 0x80 | 126];
    f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

#[test]
fn an_imei_in_websocket_messages_is_found_in_both_directions_as_websocket() {
    let mut a = analyzer();
    start(&mut a, "10.201.0.2:80");
    a.data(
        1,
        Direction::Out,
        b"GET /socket HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        t(),
    );
    a.data(
        1,
        Direction::In,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        t(),
    );
    assert!(a.follows(1), "every message of the connection is read");
    // Masking hides the value on the wire: only the unmasked message shows it.
    let msg = b"{\"type\":\"hello\",\"device\":{\"imei\":\"861234567890127\"}}";
    let frame = client_frame(0x81, msg);
    for piece in frame.chunks(9) {
        a.data(1, Direction::Out, piece, t());
    }
    // The server's reply, unmasked, in two fragments.
    let mut reply = vec![0x02, 10];
    reply.extend_from_slice(b"known: 861");
    reply.extend_from_slice(&[0x80, 12]);
    reply.extend_from_slice(b"234567890127");
    a.data(1, Direction::In, &reply, t());
    let got: Vec<(String, &str, &str)> = findings(&mut a)
        .iter()
        .map(|f| (f.kind.to_string(), f.place.as_str(), f.direction.as_str()))
        .collect();
    assert!(
        got.contains(&("imei".into(), "websocket", "out")),
        "{got:?}"
    );
    assert!(got.contains(&("imei".into(), "websocket", "in")), "{got:?}");
    assert!(
        got.iter().all(|(_, place, _)| *place == "websocket"),
        "frames are not also scanned as raw payload: {got:?}"
    );
}

#[test]
fn plain_http_inside_a_connect_tunnel_is_read_and_names_the_flow() {
    let mut a = analyzer();
    start(&mut a, "10.201.0.3:8888");
    a.data(
        1,
        Direction::Out,
        b"CONNECT api.account.xiaomi.com:80 HTTP/1.1\r\nHost: api.account.xiaomi.com:80\r\nUser-Agent: curl/8\r\n\r\n",
        t(),
    );
    a.data(
        1,
        Direction::In,
        b"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.2\r\n\r\n",
        t(),
    );
    assert!(findings(&mut a).is_empty());
    a.data(
        1,
        Direction::Out,
        b"GET /register?imei=861234567890127 HTTP/1.1\r\nHost: api.account.xiaomi.com\r\n\r\n",
        t(),
    );
    let f = findings(&mut a);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].kind.as_str(), f[0].place.as_str()), ("imei", "url"));
    assert_eq!(
        f[0].destination.host.as_deref(),
        Some("api.account.xiaomi.com")
    );
    assert_eq!(f[0].destination.host_source, Some(HostSource::Http));
    assert_eq!(f[0].destination.company.as_deref(), Some("Xiaomi"));
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.bytes())
        .filter(u8::is_ascii_hexdigit)
        .collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

#[test]
fn tls_inside_a_connect_tunnel_names_the_flow_by_its_sni_and_is_not_followed() {
    let mut a = analyzer();
    start(&mut a, "10.201.0.3:8888");
    a.data(
        1,
        Direction::Out,
        b"CONNECT 10.0.0.1:443 HTTP/1.1\r\nHost: 10.0.0.1:443\r\n\r\n",
        t(),
    );
    a.data(1, Direction::In, b"HTTP/1.1 200 OK\r\n\r\n", t());
    let hello = hex(include_str!(
        "../../inspect/tests/vectors/openssl_client_hello.hex"
    ));
    a.data(1, Direction::Out, &hello, t());
    let d = a.destination(1).unwrap();
    assert_eq!(d.host.as_deref(), Some("api.account.xiaomi.com"));
    assert_eq!(d.host_source, Some(HostSource::Sni));
    assert!(!a.follows(1), "encrypted: only its first bytes are copied");
}

#[test]
fn a_websocket_bomb_costs_no_more_than_the_inflate_cap() {
    // permessage-deflate, a message that inflates to 32 MiB of zeros: cut at the cap,
    // the flow goes on.
    let mut a = analyzer();
    start(&mut a, "10.201.0.2:80");
    a.data(
        1,
        Direction::Out,
        b"GET / HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        t(),
    );
    a.data(
        1,
        Direction::In,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        t(),
    );
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..512 {
        z.write_all(&[0u8; 64 * 1024]).unwrap();
    }
    // A sync flush ends the message's data the way permessage-deflate senders do.
    z.flush().unwrap();
    let mut bomb = z.get_ref().clone();
    bomb.truncate(bomb.len() - 4);
    assert!(bomb.len() < 65_536);
    let mut frame = vec![0xc2, 126];
    frame.extend_from_slice(&(bomb.len() as u16).to_be_bytes());
    frame.extend_from_slice(&bomb);
    a.data(1, Direction::In, &frame, t());
    let mut text = vec![0x81, 25];
    text.extend_from_slice(b"imei=861234567890127 ok!!");
    a.data(1, Direction::In, &text, t());
    let f = findings(&mut a);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].place.as_str(), "websocket");
}
