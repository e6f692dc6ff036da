//! Any bytes as the start of a TLS stream and as a bare handshake message: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::tls;

fuzz_target!(|data: &[u8]| {
    if let Ok(hello) = tls::parse_client_hello(data) {
        assert!(!hello.sni_is_outer || hello.sni.is_some());
    }
    let _ = tls::parse_handshake(data);
});
