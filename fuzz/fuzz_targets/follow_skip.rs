//! Any bytes as a server's responses or WebSocket frames, read the way the monitor follows
//! a long connection: in pieces, stepping over every byte the parser says it may skip
//! (the tap does not copy those). Never panics; response starts lie inside the piece they
//! are reported for; a message is never longer than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::upgrade::{Ask, ResponseParser};
use phonehome_inspect::websocket::{Config, Deflate, MessageParser, Sender};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(knobs >> 2).max(1);
    if knobs & 1 == 0 {
        let mut parser = ResponseParser::default();
        parser.expect(Ask::Plain { head: knobs & 2 != 0 });
        parser.expect(Ask::Plain { head: false });
        let mut at = 0;
        while at < rest.len() {
            let piece = &rest[at..(at + step).min(rest.len())];
            at += piece.len();
            if parser.push(piece).is_err() {
                return;
            }
            for start in parser.take_starts() {
                assert!(start <= piece.len());
            }
            let n = parser.body_left();
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
