//! Any bytes as a payload to unwrap, with small limits so that deep and wide walks are
//! reached: never panics, and the limits hold (views, depth, per-layer cap, budget).
//! With a base64 mask handed in: the right mask gives the same views, and any other
//! (its bits taken from the input) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_unwrap::{unwrap, unwrap_with_base64_mask, Budget, Limits};

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
    let mut right = vec![0u64; data.len().div_ceil(64) + 1];
    for (i, &c) in data.iter().enumerate() {
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_') {
            right[i / 64] |= 1 << (i % 64);
        }
    }
    let given = unwrap_with_base64_mask(data, &right, &limits, &mut Budget::new(budget_bytes));
    assert_eq!(given, views);
    let wrong: Vec<u64> = data
        .chunks(8)
        .map(|c| c.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)))
        .collect();
    let _ = unwrap_with_base64_mask(data, &wrong, &limits, &mut Budget::new(budget_bytes));
    // The right shape with bits that say nothing true: trusted, and still no panic.
    let mut shaped: Vec<u64> = (0..right.len())
        .map(|w| wrong.get(w).copied().unwrap_or(0))
        .collect();
    let last = shaped.len() - 1;
    shaped[last] = 0;
    if data.len() % 64 != 0 {
        shaped[last - 1] &= (1u64 << (data.len() % 64)) - 1;
    }
    let _ = unwrap_with_base64_mask(data, &shaped, &limits, &mut Budget::new(budget_bytes));
});
