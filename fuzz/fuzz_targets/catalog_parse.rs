//! Any text as a catalog file (`watch --catalog FILE`, the app's import): parsing never
//! panics, and a file that parses gives entries whose alias targets are plain names that
//! look up and judge first or third party without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_catalog::{party, Catalog};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(cat) = Catalog::parse(&text) else {
        return;
    };
    for (suffix, entry) in cat.iter().take(64) {
        assert!(!suffix.is_empty() && !suffix.ends_with('.'));
        assert_eq!(cat.lookup(suffix), Some(entry));
        if let Some(target) = entry.alias_of.as_deref() {
            assert!(!target.is_empty() && target != "-");
            assert_eq!(target, target.to_ascii_lowercase());
        }
        let _ = party(&cat, Some("com.example.app"), None, suffix, suffix, Some(entry));
    }
});
