//! Any bytes as a client-to-server HTTP/1 stream, fed in two pieces at a split chosen by
//! the first byte: never panics, and limits hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::http::{Config, RequestParser};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let config = Config {
        max_decoded_bytes: 64 * 1024,
        ..Config::default()
    };
    let mut parser = RequestParser::new(config.clone());
    let cut = usize::from(split).min(rest.len());
    let _ = parser.push(&rest[..cut]);
    let _ = parser.push(&rest[cut..]);
    let last = parser.finish();
    while let Some(req) = parser.next_request() {
        assert!(req.body.data.len() <= config.max_decoded_bytes);
        let _ = req.pieces();
    }
    if let Some(req) = last {
        assert!(req.body.data.len() <= config.max_decoded_bytes);
        let _ = req.pieces();
    }
});
