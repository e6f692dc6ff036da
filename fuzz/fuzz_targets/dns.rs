//! Any bytes as a DNS message over UDP and over TCP: never panics, attribution of
//! addresses to names stays total, and every CNAME chain is bounded and starts at the
//! name its address is attributed to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::dns;

fuzz_target!(|data: &[u8]| {
    if let Ok(answer) = dns::parse(data) {
        for (_, name) in answer.address_names() {
            assert!(!name.is_empty());
        }
        let names = answer.address_names();
        let chains = answer.address_chains();
        assert_eq!(names.len(), chains.len());
        for ((ip, name), (chain_ip, chain)) in names.iter().zip(&chains) {
            // The chain starts at the name the address is attributed to and is cut at 16
            // aliases (plus the query and the owner).
            assert_eq!(ip, chain_ip);
            assert_eq!(Some(name), chain.first());
            assert!(chain.len() <= 18);
        }
    }
    if let Ok((_, used)) = dns::parse_tcp(data) {
        assert!(used <= data.len());
    }
});
