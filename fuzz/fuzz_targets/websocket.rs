//! Any bytes as one direction of a WebSocket connection with permessage-deflate: the first
//! byte picks the sender, the context takeover and where the bytes are split; never
//! panics, and no message is longer than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::websocket::{Config, Deflate, MessageParser, Sender};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let sender = if knobs & 1 == 0 {
        Sender::Client
    } else {
        Sender::Server
    };
    let deflate = (knobs & 2 != 0).then_some(Deflate {
        server_no_context_takeover: knobs & 4 != 0,
        client_no_context_takeover: knobs & 4 != 0,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    });
    let config = Config {
        max_message_bytes: 4096,
        max_inflate_bytes: 64 * 1024,
    };
    let mut parser = MessageParser::new(sender, deflate, config.clone());
    let cut = usize::from(knobs >> 3).min(rest.len());
    for piece in [&rest[..cut], &rest[cut..]] {
        let _ = parser.push(piece);
        while let Some(m) = parser.next_message() {
            assert!(m.data.len() <= config.max_message_bytes);
        }
    }
});
