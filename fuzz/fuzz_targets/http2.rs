//! Any bytes as one direction of an HTTP/2 connection (the first byte picks the side,
//! the stream cap and where the bytes are split; client bytes get the preface in front):
//! never panics, no message holds more body than the limit, and what is left after
//! `finish` comes out too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::http2::{Config, Reader, Side, PREFACE};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let side = if knobs & 1 == 0 {
        Side::Client
    } else {
        Side::Server
    };
    let config = Config {
        max_streams: usize::from(knobs >> 1 & 3) + 1,
        max_body_bytes: 1024,
        max_decoded_bytes: 4096,
        ..Config::default()
    };
    let mut reader = Reader::new(side, config.clone());
    if side == Side::Client {
        let _ = reader.push(PREFACE);
    }
    let cut = usize::from(knobs >> 3).min(rest.len());
    for piece in [&rest[..cut], &rest[cut..]] {
        let _ = reader.push(piece);
    }
    reader.finish();
    while let Some(m) = reader.next_message() {
        assert!(m.body.data.len() <= config.max_decoded_bytes);
        let _ = m.request();
    }
});
