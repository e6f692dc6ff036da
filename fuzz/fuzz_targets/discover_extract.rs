//! Any bytes as each readable part of a request: extraction and the token rules never
//! panic, stay within their bounds, and only well-shaped tokens become candidates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_discover::extract::{extract, MAX_PAIRS};
use phonehome_discover::token::{shape, MAX_LEN};
use phonehome_discover::{Context, Discovery, State};
use phonehome_model::Where;

fuzz_target!(|data: &[u8]| {
    let mut pairs = Vec::new();
    for &place in Where::ALL {
        pairs.clear();
        extract(place, data, &mut pairs);
        assert!(pairs.len() <= MAX_PAIRS);
        for pair in &pairs {
            assert!(pair.value.len() <= MAX_LEN);
            if shape(&pair.value).is_some() {
                assert!(pair.value.is_ascii());
            }
        }
    }
    let mut discovery = Discovery::new(State::default());
    let ctx = Context {
        app: Some("fuzz"),
        host: "a.example",
        flow: 1,
        ts: std::time::UNIX_EPOCH,
    };
    let parts: Vec<(Where, &[u8])> = Where::ALL.iter().map(|&w| (w, data)).collect();
    let _ = discovery.observe(&ctx, &parts);
});
