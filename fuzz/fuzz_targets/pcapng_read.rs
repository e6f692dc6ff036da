//! Any bytes as a pcapng file: never panics, errors name an offset inside the input, and
//! a valid file written by our writer with the input's bytes as packets reads back equal.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use phonehome_capture::{ip_payload, read_all, PcapngReader, PcapngWriter};

fuzz_target!(|data: &[u8]| {
    for item in PcapngReader::new(data) {
        match item {
            Ok(p) => {
                let _ = ip_payload(&p);
            }
            Err(e) => assert!(e.offset <= data.len() as u64),
        }
    }

    // Round trip: packets split at 0xff, comment from the first chunk.
    let mut chunks = data.split(|&b| b == 0xff);
    let comment = chunks.next().map(String::from_utf8_lossy);
    let mut w = PcapngWriter::new(Vec::new()).expect("vec write");
    let mut sent = vec![];
    for (i, chunk) in chunks.enumerate() {
        let ts = SystemTime::UNIX_EPOCH + Duration::from_micros(i as u64 * 1_000_003);
        w.write_packet(ts, chunk, comment.as_deref())
            .expect("vec write");
        sent.push(chunk);
    }
    let file = w.into_inner().expect("vec flush");
    let (read, err) = read_all(&file[..]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(read.len(), sent.len());
    for (p, s) in read.iter().zip(sent) {
        assert_eq!(p.data, s);
        assert_eq!(p.comment.as_deref(), comment.as_deref());
    }
});
