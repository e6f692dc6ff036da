use super::*;
use crate::testutil::hex;

fn pairs(list: &HeaderList) -> Vec<(String, String)> {
    list.fields
        .iter()
        .map(|f| {
            (
                String::from_utf8_lossy(&f.name).into_owned(),
                String::from_utf8_lossy(&f.value).into_owned(),
            )
        })
        .collect()
}

fn p(name: &str, value: &str) -> (String, String) {
    (name.into(), value.into())
}

/// RFC 7541 C.3 (plain literals) and C.4 (the same requests Huffman-coded): three
/// requests on one connection, each leaning on the table the one before filled.
#[test]
fn the_rfc_7541_request_examples_decode_with_and_without_huffman() {
    for blocks in [
        [
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ],
        [
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ],
    ] {
        let mut d = Decoder::new(64 * 1024);
        let first = d.decode(&hex(blocks[0]), 64 * 1024).unwrap();
        assert_eq!(
            pairs(&first),
            [
                p(":method", "GET"),
                p(":scheme", "http"),
                p(":path", "/"),
                p(":authority", "www.example.com")
            ]
        );
        assert_eq!(d.table_size(), 57);
        let second = d.decode(&hex(blocks[1]), 64 * 1024).unwrap();
        assert_eq!(second.fields.len(), 5);
        assert_eq!(pairs(&second)[3], p(":authority", "www.example.com"));
        assert_eq!(pairs(&second)[4], p("cache-control", "no-cache"));
        assert_eq!(d.table_size(), 110);
        let third = d.decode(&hex(blocks[2]), 64 * 1024).unwrap();
        assert_eq!(
            pairs(&third),
            [
                p(":method", "GET"),
                p(":scheme", "https"),
                p(":path", "/index.html"),
                p(":authority", "www.example.com"),
                p("custom-key", "custom-value")
            ]
        );
        assert_eq!(d.table_size(), 164);
    }
}

#[test]
fn a_size_update_evicts_the_oldest_entries_and_an_update_over_the_cap_is_an_error() {
    // `:authority: a` (32 + 10 + 1 = 43 bytes) then `x: y` (34 bytes), indexed.
    let mut d = Decoder::new(4096);
    d.decode(b"\x41\x01a\x40\x01x\x01y", 4096).unwrap();
    assert_eq!(d.table_size(), 77);
    // 62 is the newest entry, 63 the one before.
    assert_eq!(
        pairs(&d.decode(b"\xbf", 4096).unwrap()),
        [p(":authority", "a")]
    );
    // Shrink to 40 bytes (0x3f 0x09 = 31 + 9): only `x: y` still fits.
    let list = d.decode(b"\x3f\x09\xbe", 4096).unwrap();
    assert_eq!(pairs(&list), [p("x", "y")]);
    assert_eq!(d.table_size(), 34);
    assert_eq!(d.decode(b"\xbf", 4096), Err(HpackError::BadIndex(63)));
    // 4097 = 31 + 0xe2 + 0x1f << 7.
    assert_eq!(
        d.decode(b"\x3f\xe2\x1f", 4096),
        Err(HpackError::TableTooLarge(4097))
    );
}

#[test]
fn fields_past_the_list_cap_are_decoded_into_the_table_but_not_kept() {
    let mut d = Decoder::new(4096);
    // Two literals with indexing, 34 bytes each as counted; the cap keeps one.
    let list = d.decode(b"\x40\x01a\x01b\x40\x01c\x01d", 40).unwrap();
    assert_eq!(pairs(&list), [p("a", "b")]);
    assert!(list.truncated);
    // The table holds both, so the next block's references still resolve.
    assert_eq!(pairs(&d.decode(b"\xbe", 4096).unwrap()), [p("c", "d")]);
}

#[test]
fn a_block_that_references_one_big_entry_over_and_over_is_refused() {
    let mut d = Decoder::new(64 * 1024);
    // `k` with a 4000-byte value (0x7f then 3873 in two bytes), added to the table.
    let mut block = vec![0x40, 0x01, b'k', 0x7f, 0xa1, 0x1e];
    block.extend(std::iter::repeat_n(b'v', 4000));
    let big = d.decode(&block, 1 << 20);
    assert!(big.is_ok(), "{big:?}");
    // Referenced 20 times: 80 KB decoded, over 4 x 16 KiB.
    let refs = vec![0xbe; 20];
    assert_eq!(d.decode(&refs, 16 * 1024), Err(HpackError::ListTooLarge));
}

#[test]
fn truncated_and_bad_input_are_errors_not_panics() {
    let mut d = Decoder::new(4096);
    assert_eq!(d.decode(b"\x80", 4096), Err(HpackError::BadIndex(0)));
    assert_eq!(d.decode(b"\x41\x05ab", 4096), Err(HpackError::Truncated));
    assert_eq!(d.decode(b"\x7f", 4096), Err(HpackError::Truncated));
    assert_eq!(
        d.decode(b"\xff\xff\xff\xff\xff\xff\x01", 4096),
        Err(HpackError::IntegerOverflow)
    );
    assert_eq!(
        d.decode(b"\x00\x81\x00\x00", 4096),
        Err(HpackError::Huffman(HuffmanError::Padding))
    );
}

proptest::proptest! {
    #[test]
    fn mutated_blocks_never_panic(
        block in crate::testutil::mutated(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf 3f09 be")),
    ) {
        let mut d = Decoder::new(4096);
        let _ = d.decode(&block, 4096);
        let _ = d.decode(&block, 64);
    }
}
