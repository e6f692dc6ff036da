//! Any bytes as a sequence of HPACK header blocks on one connection (the first byte picks
//! the table cap and the list cap, a 0xff byte ends a block): never panics, the dynamic
//! table stays within its cap, and no kept list is over its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::http2::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let cap = 64usize << (knobs & 0x0f).min(10);
    let max_list = 32usize << (knobs >> 4);
    let mut decoder = Decoder::new(cap);
    for block in rest.split(|&b| b == 0xff) {
        if let Ok(list) = decoder.decode(block, max_list) {
            let listed: usize = list
                .fields
                .iter()
                .map(|f| f.name.len() + f.value.len() + 32)
                .sum();
            assert!(listed <= max_list);
        }
        assert!(decoder.table_size() <= cap);
    }
});
