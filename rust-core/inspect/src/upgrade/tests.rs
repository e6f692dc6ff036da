use super::*;
use crate::http::RequestParser;
use proptest::prelude::*;

fn asks(stream: &[u8]) -> Vec<Ask> {
    let mut p = RequestParser::default();
    p.push(stream).unwrap();
    std::iter::from_fn(|| p.next_request())
        .map(|r| Ask::of(&r))
        .collect()
}

// RFC 6455 section 1.2: the opening handshake.
const WS_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
const WS_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

#[test]
fn requests_say_whether_they_ask_to_switch() {
    assert_eq!(
        asks(WS_REQUEST),
        [Ask::Upgrade {
            protocols: vec!["websocket".into()]
        }]
    );
    assert_eq!(
        asks(b"CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n"),
        [Ask::Connect {
            authority: "api.example:443".into()
        }]
    );
    assert_eq!(
        asks(b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"),
        [Ask::Plain { head: true }, Ask::Plain { head: false }],
        "Upgrade without Connection: upgrade asks nothing"
    );
}

#[test]
fn rfc6455_handshake_switches_and_hands_over_the_first_frame() {
    let mut p = ResponseParser::default();
    p.expect(Ask::Upgrade {
        protocols: vec!["websocket".into()],
    });
    let mut wire = WS_RESPONSE.to_vec();
    wire.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    for piece in wire.chunks(7) {
        p.push(piece).unwrap();
    }
    let Some(Answer::Switched { protocol, head }) = p.next_answer() else {
        panic!("switched");
    };
    assert_eq!((protocol.as_str(), head.status), ("websocket", 101));
    assert_eq!(head.values("sec-websocket-protocol"), [&b"chat"[..]]);
    assert_eq!(p.take_rest(), [0x81, 0x02, b'h', b'i']);
    p.push(b"more").unwrap();
    assert_eq!(p.take_rest(), b"more");
}

#[test]
fn earlier_responses_on_the_connection_are_stepped_over_by_their_framing() {
    let mut p = ResponseParser::default();
    p.expect(Ask::Plain { head: false });
    p.expect(Ask::Plain { head: true });
    p.expect(Ask::Plain { head: false });
    p.expect(Ask::Connect {
        authority: "a.example:443".into(),
    });
    // A body that looks like a response must not be taken for one.
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 37\r\n\r\nHTTP/1.1 200 Connection established\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nHTTP\r\n0\r\nX-T: 1\r\n\r\n\
HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03";
    for split in [1, 3, 50, wire.len()] {
        let mut p2 = ResponseParser::default();
        for a in p.asks.iter() {
            p2.expect(a.clone());
        }
        for piece in wire.chunks(split) {
            p2.push(piece).unwrap();
        }
        let answer = p2.next_answer();
        assert!(
            matches!(&answer, Some(Answer::Tunnel { authority, .. }) if authority == "a.example:443"),
            "split {split}: {answer:?}"
        );
        assert_eq!(p2.take_rest(), b"\x16\x03\x03");
        assert_eq!(p2.next_answer(), None);
    }
}

#[test]
fn a_refused_switch_keeps_the_connection_http() {
    let mut p = ResponseParser::default();
    p.expect(Ask::Connect {
        authority: "a.example:443".into(),
    });
    p.expect(Ask::Upgrade {
        protocols: vec!["websocket".into()],
    });
    p.push(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nnope!HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert!(matches!(p.next_answer(), Some(Answer::Refused { head }) if head.status == 407));
    assert!(matches!(p.next_answer(), Some(Answer::Refused { head }) if head.status == 200));
    assert!(p.take_rest().is_empty());
}

#[test]
fn a_body_without_length_runs_to_the_end() {
    let mut p = ResponseParser::default();
    p.expect(Ask::Plain { head: false });
    p.expect(Ask::Connect {
        authority: "x:1".into(),
    });
    p.push(b"HTTP/1.0 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
        .unwrap();
    assert_eq!(p.next_answer(), None);
}

#[test]
fn malformed_responses_are_errors() {
    for bad in [
        &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 101 Switching\r\n\r\n",
    ] {
        let mut p = ResponseParser::default();
        assert!(p.push(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        assert!(p.push(b"HTTP/1.1 200 OK\r\n\r\n").is_err(), "errors stick");
    }
    let mut p = ResponseParser::new(Config {
        max_header_bytes: 64,
        ..Config::default()
    });
    assert_eq!(
        p.push(&[b"HTTP/1.1 200 OK\r\n".as_slice(), &[b'a'; 80]].concat()),
        Err(HttpError::HeaderTooLarge)
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        split in 1usize..64,
    ) {
        let mut p = ResponseParser::default();
        p.expect(Ask::Connect { authority: "a:1".into() });
        for piece in bytes.chunks(split) {
            let _ = p.push(piece);
            while p.next_answer().is_some() {}
            let _ = p.take_rest();
        }
    }

    #[test]
    fn mutated_handshakes_never_panic(wire in crate::testutil::mutated(
        [WS_RESPONSE, b"\x81\x02hi"].concat()
    )) {
        let mut p = ResponseParser::default();
        p.expect(Ask::Upgrade { protocols: vec!["websocket".into()] });
        let _ = p.push(&wire);
        let _ = p.next_answer();
    }
}

/// Pushes `wire` in pieces of `step` to a parser keeping `keep` body bytes a response,
/// stepping over every body byte it may; returns the bytes it was given and how many
/// heads and bodies came out.
fn follow_skipping(wire: &[u8], step: usize, keep: usize) -> (usize, usize, Vec<Body>) {
    let mut p = ResponseParser::new(Config {
        max_body_bytes: keep,
        ..Config::default()
    });
    let (mut at, mut given, mut heads, mut bodies) = (0, 0, 0, Vec::new());
    while at < wire.len() {
        let piece = &wire[at..(at + step).min(wire.len())];
        p.push(piece).unwrap();
        while let Some(r) = p.next_received() {
            match r {
                Received::Head(_) => heads += 1,
                Received::Body(b) => bodies.push(b),
                Received::Part(_) => {}
            }
        }
        given += piece.len();
        at += piece.len();
        let n = p.skippable();
        p.skip(n);
        at += n as usize;
    }
    (given, heads, bodies)
}

#[test]
fn bodies_of_known_length_are_stepped_over_past_what_is_kept_and_the_next_head_still_found() {
    let body = vec![b'x'; 100_000];
    let mut wire = Vec::new();
    for _ in 0..3 {
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        wire.extend_from_slice(&body);
    }
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".len();
    let (given, heads, bodies) = follow_skipping(&wire, 1000, 1500);
    assert_eq!(heads, 3);
    assert_eq!(bodies.len(), 3);
    for b in bodies {
        assert_eq!((b.data.len(), b.truncated), (1500, true));
    }
    assert!(given < 3 * 2000 + 3 * head, "bodies were not read: {given}");
}

#[test]
fn chunked_bodies_are_stepped_over_chunk_by_chunk() {
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        wire.extend_from_slice(b"4000\r\n");
        wire.extend_from_slice(&[b'y'; 0x4000]);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
    let (given, heads, bodies) = follow_skipping(&wire, 100, 10);
    assert_eq!(heads, 2);
    assert_eq!(bodies.len(), 1);
    assert!(given < 1000, "chunk data was not read: {given}");
}

#[test]
fn a_body_to_the_close_or_a_cut_has_nothing_left_to_follow() {
    let mut p = ResponseParser::default();
    p.push(b"HTTP/1.0 200 OK\r\n\r\nstreamed").unwrap();
    assert_eq!(p.body_left(), 0);
    assert!(p.at_end());
    let mut p = ResponseParser::default();
    p.push(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        .unwrap();
    assert_eq!(p.body_left(), 10);
    assert!(!p.at_end());
    p.cut();
    assert!(p.at_end());
    assert!(p.push(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
}
