//! Any bytes as a DNS message over UDP and over TCP: never panics, and attribution of
//! addresses to names stays total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::dns;

fuzz_target!(|data: &[u8]| {
    if let Ok(answer) = dns::parse(data) {
        for (_, name) in answer.address_names() {
            assert!(!name.is_empty());
        }
    }
    if let Ok((_, used)) = dns::parse_tcp(data) {
        assert!(used <= data.len());
    }
});
