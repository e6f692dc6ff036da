//! Any string as a host name: the registrable domain never panics, is a suffix of the
//! host (its trailing dot aside) on a label boundary, and is stable when asked again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_catalog::registrable_domain;

fuzz_target!(|data: &[u8]| {
    let Ok(host) = std::str::from_utf8(data) else {
        return;
    };
    let domain = registrable_domain(host);
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    assert!(trimmed.ends_with(domain));
    let before = &trimmed[..trimmed.len() - domain.len()];
    assert!(before.is_empty() || before.ends_with('.'));
    assert_eq!(registrable_domain(domain), domain.strip_suffix('.').unwrap_or(domain));
});
