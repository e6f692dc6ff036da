//! Any bytes as a pcap file (and through format detection): never panics, errors name an
//! offset inside the input, and every packet's IP extraction is total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_capture::{ip_payload, read_all, PcapReader};

fuzz_target!(|data: &[u8]| {
    if let Ok(reader) = PcapReader::new(data) {
        for item in reader {
            match item {
                Ok(p) => {
                    let _ = ip_payload(&p);
                }
                Err(e) => assert!(e.offset <= data.len() as u64),
            }
        }
    }
    let (_, err) = read_all(data);
    if let Some(e) = err {
        assert!(e.offset <= data.len() as u64);
    }
});
