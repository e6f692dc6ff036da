//! Any bytes as a payload to unwrap, with small limits so that deep and wide walks are
//! reached: never panics, and the limits hold (views, depth, per-layer cap, budget).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_unwrap::{unwrap, Budget, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_depth: 6,
        layer_cap: 16 * 1024,
        max_views: 64,
        min_run: 16,
    };
    let budget_bytes = 64 * 1024;
    let mut budget = Budget::new(budget_bytes);
    let views = unwrap(data, &limits, &mut budget);
    assert!(views.len() <= limits.max_views);
    let mut decoded = 0;
    for (i, v) in views.iter().enumerate() {
        assert!(!v.layers.is_empty() && v.layers.len() <= limits.max_depth);
        assert!(v.bytes.len() <= limits.layer_cap);
        assert!(v.parent.is_none_or(|p| p < i));
        decoded += v.bytes.len();
    }
    assert!(decoded <= budget_bytes);
});
