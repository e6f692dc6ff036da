//! Sans-IO parsers for what a privacy monitor can read off the wire: names from DNS
//! answers, the server name and ALPN of a TLS ClientHello (also inside QUIC Initial
//! packets, decrypted with the public Initial keys), and HTTP/1.x requests with their
//! bodies decoded, protocol switches (CONNECT, Upgrade) and the WebSocket messages that
//! follow one, permessage-deflate undone, and HTTP/2 streams (frames, HPACK) with theirs.
//!
//! Every parser takes untrusted bytes, returns `Result`/`Option`, never panics, and
//! sizes its allocations by the bytes actually present (never by a length field alone).
//! Nothing here does IO, reads a clock or spawns threads; callers feed bytes in.
#![forbid(unsafe_code)]

pub mod dns;
pub mod http;
pub mod http2;
pub mod quic;
pub mod tls;
pub mod upgrade;
pub mod websocket;

mod codings;
mod read;
mod text;

#[cfg(test)]
pub(crate) mod testutil {
    /// Decodes a test vector file: hex digits, `#` comment lines naming the source.
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.bytes())
            .filter(u8::is_ascii_hexdigit)
            .collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// Overwrites up to a few bytes of a valid input: the mutations a fuzzer tries first.
    pub(crate) fn mutated(base: Vec<u8>) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let len = base.len().max(1);
        (
            proptest::collection::vec((0..len, any::<u8>()), 1..8),
            0..=base.len(),
        )
            .prop_map(move |(edits, cut)| {
                let mut v = base.clone();
                for (i, b) in edits {
                    if let Some(x) = v.get_mut(i) {
                        *x = b;
                    }
                }
                if cut % 3 == 0 {
                    v.truncate(cut);
                }
                v
            })
    }
}
