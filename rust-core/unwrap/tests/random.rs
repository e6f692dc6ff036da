//! Random input, and random input wrapped in random layers: `unwrap` never panics and
//! its limits hold. (The cargo-fuzz target `fuzz/fuzz_targets/unwrap.rs` does the same
//! for longer.)

use std::io::Write;

use phonehome_unwrap::{unwrap, Budget, Layer, Limits};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits {
        max_depth: 6,
        layer_cap: 8 * 1024,
        max_views: 32,
        min_run: 16,
    }
}

fn check(input: &[u8]) -> Vec<Vec<Layer>> {
    let limits = limits();
    let mut budget = Budget::new(32 * 1024);
    let views = unwrap(input, &limits, &mut budget);
    assert!(views.len() <= limits.max_views);
    let mut decoded = 0;
    for (i, v) in views.iter().enumerate() {
        assert!(!v.layers.is_empty() && v.layers.len() <= limits.max_depth);
        assert!(v.bytes.len() <= limits.layer_cap);
        assert!(v.parent.is_none_or(|p| p < i));
        decoded += v.bytes.len();
    }
    assert!(decoded <= 32 * 1024);
    views.into_iter().map(|v| v.layers).collect()
}

/// One wrapping, by number: 0 gzip, 1 zlib, 2 zstd, 3 hex, 4 base64, 5 percent, 6 JSON string.
fn wrap(kind: u8, data: &[u8]) -> Vec<u8> {
    match kind % 7 {
        0 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).expect("writes to a Vec");
            e.finish().expect("writes to a Vec")
        }
        1 => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).expect("writes to a Vec");
            e.finish().expect("writes to a Vec")
        }
        2 => ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest),
        3 => data
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect(),
        4 => {
            const T: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            data.chunks(3)
                .flat_map(|c| {
                    let n = c
                        .iter()
                        .enumerate()
                        .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
                    (0..=c.len()).map(move |i| T[(n >> (18 - 6 * i) & 63) as usize])
                })
                .collect()
        }
        5 => data
            .iter()
            .flat_map(|b| format!("%{b:02X}").into_bytes())
            .collect(),
        _ => {
            let mut out = b"{\"v\":\"".to_vec();
            for &b in data {
                if b == b'"' || b == b'\\' {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.extend_from_slice(b"\"}");
            out
        }
    }
}

proptest! {
    #[test]
    fn any_bytes_are_walked_within_the_limits(input in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&input);
    }

    #[test]
    fn any_text_is_walked_within_the_limits(input in "[ -~\\n]{0,2048}") {
        check(input.as_bytes());
    }

    #[test]
    fn random_wrappings_of_text_are_walked_within_the_limits(
        text in "[a-z0-9 :,\"{}]{20,300}",
        kinds in proptest::collection::vec(0u8..7, 1..8),
    ) {
        let mut data = text.into_bytes();
        for k in kinds {
            data = wrap(k, &data);
        }
        check(&data);
    }

    #[test]
    fn wrapped_bytes_cut_anywhere_are_walked_within_the_limits(
        text in "[a-z0-9 ]{20,200}",
        kinds in proptest::collection::vec(0u8..7, 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = text.into_bytes();
        for k in kinds {
            data = wrap(k, &data);
        }
        let at = cut.index(data.len() + 1);
        check(&data[..at]);
    }
}
