//! Any bytes as client datagrams: header parsing, header-protection removal and
//! decryption never panic. AEAD tags cannot be forged by a fuzzer, so the frame parser
//! is also run on the raw input as if it were a decrypted payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::{quic, tls};

fuzz_target!(|data: &[u8]| {
    let _ = quic::client_hello(data);
    // The same bytes as two datagrams of one flow.
    let mut asm = quic::QuicInitialAssembler::with_limits(4, 4096);
    let (a, b) = data.split_at(data.len() / 2);
    let _ = asm.push_datagram(a);
    let _ = asm.push_datagram(b);
    if let Ok(frames) = quic::crypto_frames(data) {
        for f in frames {
            if f.offset == 0 {
                let _ = tls::parse_handshake(f.data);
            }
        }
    }
});
