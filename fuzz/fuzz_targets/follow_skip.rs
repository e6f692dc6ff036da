//! Any bytes as a server's HTTP/1 responses, WebSocket frames or HTTP/2 frames, read the way the monitor follows
//! a long connection: in pieces, stepping over every byte the parser says it may skip
//! (the tap does not copy those). Never panics; a response body is never longer than its
//! decoded limit, nor a message than its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::http2;
use phonehome_inspect::upgrade::{self, Ask, Received, ResponseParser};
use phonehome_inspect::websocket::{Config, Deflate, MessageParser, Sender};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(knobs >> 2).max(1);
    if knobs & 3 == 3 {
        // HTTP/2 from the server: DATA past a stream's limit stepped over.
        let config = http2::Config {
            max_body_bytes: 64,
            max_decoded_bytes: 1024,
            ..http2::Config::default()
        };
        let mut reader = http2::Reader::new(http2::Side::Server, config.clone());
        let mut at = 0;
        while at < rest.len() {
            let piece = &rest[at..(at + step).min(rest.len())];
            at += piece.len();
            let _ = reader.push(piece);
            let n = reader.skippable();
            reader.skip(n);
            at = at.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
            while let Some(m) = reader.next_message() {
                assert!(m.body.data.len() <= config.max_decoded_bytes);
            }
        }
    } else if knobs & 1 == 0 {
        let config = upgrade::Config {
            max_body_bytes: 64 + usize::from(knobs >> 4) * 64,
            max_decoded_bytes: 1024,
            ..upgrade::Config::default()
        };
        let mut parser = ResponseParser::new(config.clone());
        parser.expect(Ask::Plain { head: knobs & 2 != 0 });
        parser.expect(Ask::Plain { head: false });
        // A byte below 40 first: a streamed answer (events or JSON lines, some coding,
        // chunked or to the close) whose body is the rest, decoded as it comes.
        let streamed;
        let rest = match rest.split_first() {
            Some((&mode, body)) if mode < 40 => {
                let media = ["text/event-stream", "application/x-ndjson"][usize::from(mode & 1)];
                let coding = ["identity", "gzip", "deflate", "br", "zstd"][usize::from(mode >> 1) % 5];
                let framing = ["", "Transfer-Encoding: chunked\r\n"][usize::from(mode >> 1) / 5 % 2];
                let mut wire = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {media}\r\nContent-Encoding: {coding}\r\n{framing}\r\n"
                )
                .into_bytes();
                wire.extend_from_slice(body);
                streamed = wire;
                &streamed[..]
            }
            _ => rest,
        };
        let mut at = 0;
        while at < rest.len() {
            let piece = &rest[at..(at + step).min(rest.len())];
            at += piece.len();
            if parser.push(piece).is_err() {
                return;
            }
            while let Some(r) = parser.next_received() {
                match r {
                    Received::Body(b) => assert!(b.data.len() <= config.max_decoded_bytes),
                    Received::Part(p) => assert!(p.len() <= config.max_decoded_bytes),
                    Received::Head(_) => {}
                }
            }
            let n = parser.skippable();
            parser.skip(n);
            at = at.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
        }
    } else {
        let deflate = (knobs & 2 != 0).then_some(Deflate {
            server_no_context_takeover: knobs & 4 != 0,
            client_no_context_takeover: knobs & 4 != 0,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        });
        let config = Config {
            max_message_bytes: 256,
            max_inflate_bytes: 4096,
        };
        let mut parser = MessageParser::new(Sender::Server, deflate, config.clone());
        let mut at = 0;
        while at < rest.len() {
            let piece = &rest[at..(at + step).min(rest.len())];
            at += piece.len();
            let _ = parser.push(piece);
            let n = parser.skippable();
            let _ = parser.skip(n);
            at = at.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
            while let Some(m) = parser.next_message() {
                assert!(m.data.len() <= config.max_message_bytes);
            }
        }
    }
});
