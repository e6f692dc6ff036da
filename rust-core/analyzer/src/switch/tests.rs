use super::*;
use phonehome_detect::Where;
use phonehome_inspect::upgrade::Ask;

const LIMIT: usize = 64 * 1024;

const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
const SWITCHED: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n";

/// A masked client frame.
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![first, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

fn messages(events: &[Event]) -> Vec<(Direction, &[u8])> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(d, m) => Some((*d, &m[..])),
            _ => None,
        })
        .collect()
}

#[test]
fn after_the_101_both_directions_are_read_as_websocket_messages() {
    let mut flow = HttpFlow::new(LIMIT);
    let mut events = Vec::new();
    flow.push_out(UPGRADE, &mut events);
    assert!(events.contains(&Event::Piece(Piece::Ask(Ask::Upgrade {
        protocols: vec!["websocket".into()]
    }))));
    // RFC 7692 7.2.3.1: "Hello" compressed, right behind the 101 in the same segment.
    let mut wire = SWITCHED.to_vec();
    wire.extend_from_slice(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let mut events = Vec::new();
    let http = flow.push_in(&wire, &mut events);
    assert_eq!(http, SWITCHED.len(), "only the 101 is HTTP");
    flow.push_out(
        &client_frame(0x81, b"{\"imei\":\"861234567890127\"}"),
        &mut events,
    );
    flow.push_out(&client_frame(0x89, b"ping"), &mut events);
    assert_eq!(
        messages(&events),
        [
            (Direction::In, &b"Hello"[..]),
            (Direction::Out, &b"{\"imei\":\"861234567890127\"}"[..])
        ]
    );
}

#[test]
fn frames_sent_before_the_answer_are_held_until_it_comes() {
    let mut flow = HttpFlow::new(LIMIT);
    let mut events = Vec::new();
    flow.push_out(
        &[UPGRADE, &client_frame(0x82, b"early")].concat(),
        &mut events,
    );
    flow.push_in(SWITCHED, &mut events);
    assert_eq!(messages(&events), [(Direction::Out, &b"early"[..])]);
}

#[test]
fn a_refused_upgrade_leaves_the_connection_http() {
    let mut flow = HttpFlow::new(LIMIT);
    let mut events = Vec::new();
    flow.push_out(UPGRADE, &mut events);
    flow.push_out(
        b"GET /next?imei=861234567890127 HTTP/1.1\r\nHost: ws.example\r\n\r\n",
        &mut events,
    );
    let next = Event::Piece(Piece::Text(
        Where::Url,
        b"/next?imei=861234567890127".to_vec(),
    ));
    assert!(!events.contains(&next), "held until the server answers");
    let mut events = Vec::new();
    let answer = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(flow.push_in(answer, &mut events), answer.len());
    assert!(events.contains(&next));
    assert!(messages(&events).is_empty());
}

#[test]
fn a_2xx_to_connect_hands_both_directions_to_a_fresh_stream() {
    let mut flow = HttpFlow::new(LIMIT);
    let mut events = Vec::new();
    flow.push_out(
        b"CONNECT api.example:80 HTTP/1.1\r\nHost: api.example:80\r\n\r\nGET /x HTTP/1.1\r\n",
        &mut events,
    );
    let mut events = Vec::new();
    let answer = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let http = flow.push_in(&[&answer[..], b"HTTP/1.1 200"].concat(), &mut events);
    assert_eq!(http, answer.len());
    assert_eq!(
        events,
        [Event::Tunnel {
            out: Some(b"GET /x HTTP/1.1\r\n".to_vec()),
            inbound: b"HTTP/1.1 200".to_vec()
        }]
    );
    let mut events = Vec::new();
    flow.push_out(b"more", &mut events);
    assert_eq!(flow.push_in(b"more", &mut events), 0);
    assert!(events.is_empty(), "the tunnel is no longer this parser's");
}

#[test]
fn an_upgrade_to_another_protocol_is_not_read() {
    let mut flow = HttpFlow::new(LIMIT);
    let mut events = Vec::new();
    flow.push_out(
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n",
        &mut events,
    );
    flow.push_in(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x81\x01x",
        &mut events,
    );
    flow.push_out(&client_frame(0x81, b"x"), &mut events);
    assert!(messages(&events).is_empty());
}
