//! What `unwrap` finds inside wrapped payloads, as SDKs wrap them, and how its limits
//! hold against bombs and deep nesting.

use std::io::Write;

use phonehome_unwrap::{unwrap, Budget, Layer, Limits, View};

const IMEI: &str = "861234567890127";

fn limits() -> Limits {
    Limits::for_scan_limit(64 * 1024)
}

fn views(input: &[u8]) -> Vec<View> {
    unwrap(input, &limits(), &mut Budget::for_scan_limit(64 * 1024))
}

/// The chain of the first view that holds the IMEI in plain text.
fn chain_to_imei(input: &[u8]) -> Option<Vec<Layer>> {
    views(input)
        .into_iter()
        .find(|v| v.bytes.windows(IMEI.len()).any(|w| w == IMEI.as_bytes()))
        .map(|v| v.layers)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writes to a Vec");
    e.finish().expect("writes to a Vec")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writes to a Vec");
    e.finish().expect("writes to a Vec")
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writes to a Vec");
    e.finish().expect("writes to a Vec")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(data: &[u8], url: bool) -> String {
    let table: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(table[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    if !url {
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
    }
    out
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn payload() -> String {
    // Repetitive, as telemetry is, so that compression leaves no plain text behind.
    let events: Vec<String> = (0..8)
        .map(|i| format!("{{\"name\":\"open\",\"n\":{i}}}"))
        .collect();
    format!("{{\"events\":[{}],\"imei\":\"{IMEI}\"}}", events.join(","))
}

#[test]
fn hex_of_gzip_is_opened_and_named_hex_then_gzip() {
    let body = format!("{{\"d\":\"{}\"}}", hex(&gzip(payload().as_bytes())));
    assert_eq!(
        chain_to_imei(body.as_bytes()),
        Some(vec![Layer::Hex, Layer::Gzip])
    );
    let found = views(body.as_bytes());
    let parents: Vec<_> = found.iter().map(|v| v.parent).collect();
    assert_eq!(
        parents,
        [None, Some(0)],
        "the gzip stream was inside the hex"
    );
}

#[test]
fn base64_of_zlib_of_json_holding_wrapped_base64_goes_four_deep() {
    // Android's Base64.DEFAULT breaks lines every 76 characters; inside a JSON string
    // the breaks are `\n` escapes, which cut the base64 until the string is unescaped.
    let b64 = base64(payload().as_bytes(), false);
    let lines: Vec<&str> = (0..b64.len())
        .step_by(76)
        .map(|i| &b64[i..(i + 76).min(b64.len())])
        .collect();
    assert!(lines.len() > 2 && !b64.contains('/'));
    let inner = format!("{{\"payload\":\"{}\\n\"}}", lines.join("\\n"));
    let body = format!("data={}", base64(&zlib(inner.as_bytes()), false));
    assert_eq!(
        chain_to_imei(body.as_bytes()),
        Some(vec![Layer::Base64, Layer::Zlib, Layer::Json, Layer::Base64])
    );
}

#[test]
fn base64_broken_into_lines_is_one_run() {
    let b64 = base64(payload().as_bytes(), false);
    let wrapped: Vec<&str> = (0..b64.len())
        .step_by(64)
        .map(|i| &b64[i..(i + 64).min(b64.len())])
        .collect();
    let body = format!(
        "-----BEGIN-----\r\n{}\r\n-----END-----",
        wrapped.join("\r\n")
    );
    assert_eq!(chain_to_imei(body.as_bytes()), Some(vec![Layer::Base64]));
}

#[test]
fn a_form_field_holding_url_encoded_json_holding_base64url_is_read() {
    let json = format!("{{\"blob\":\"{}\"}}", base64(payload().as_bytes(), true));
    let body = format!("v=2&data={}&t=1", percent(&json));
    assert_eq!(
        chain_to_imei(body.as_bytes()),
        Some(vec![Layer::Form, Layer::Base64])
    );
}

#[test]
fn compressed_bodies_without_content_encoding_are_sniffed() {
    let p = payload();
    assert_eq!(chain_to_imei(&zstd(p.as_bytes())), Some(vec![Layer::Zstd]));
    assert_eq!(chain_to_imei(&gzip(p.as_bytes())), Some(vec![Layer::Gzip]));
    assert_eq!(chain_to_imei(&zlib(p.as_bytes())), Some(vec![Layer::Zlib]));
}

#[test]
fn raw_deflate_and_brotli_are_tried_inside_base64() {
    let body = format!("x={}", base64(&deflate(payload().as_bytes()), false));
    assert_eq!(
        chain_to_imei(body.as_bytes()),
        Some(vec![Layer::Base64, Layer::Deflate])
    );
    // `brotli -c` of the same JSON with 8 events (Debian's brotli 1.1).
    let brotli = "a1b00700e23cb06301577673332582ca08951c4276447e40db5fc471101448d1973a2c5d01823838\
                  0099e3e9186060144245b91446930f16d6671b605e100fd2999a995b585a1dfa38771f304acd23\
                  abc714b701";
    let bytes: Vec<u8> = (0..brotli.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&brotli[i..i + 2], 16).unwrap())
        .collect();
    let body = format!("{{\"z\":\"{}\"}}", base64(&bytes, true));
    let chain = chain_to_imei(body.as_bytes());
    assert_eq!(chain, Some(vec![Layer::Base64, Layer::Brotli]));
}

#[test]
fn six_layers_in_any_order_are_peeled() {
    // gzip, then base64, then zstd, then hex, then URL-encoding, then base64 again.
    let l1 = gzip(payload().as_bytes());
    let l2 = base64(&l1, false);
    let l3 = zstd(l2.as_bytes());
    let l4 = hex(&l3);
    let l5 = percent(&format!("k={l4}"));
    let l6 = base64(l5.as_bytes(), false);
    assert_eq!(
        chain_to_imei(l6.as_bytes()),
        Some(vec![
            Layer::Base64,
            Layer::Url,
            Layer::Hex,
            Layer::Zstd,
            Layer::Base64,
            Layer::Gzip
        ])
    );
    // One more layer is past the depth limit.
    let l7 = hex(&gzip(l6.as_bytes()));
    assert_eq!(chain_to_imei(l7.as_bytes()), None);
}

#[test]
fn a_decompression_bomb_stops_at_the_layer_cap() {
    let limits = limits();
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let mut budget = Budget::for_scan_limit(64 * 1024);
    let found = unwrap(&bomb, &limits, &mut budget);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].layers, [Layer::Gzip]);
    assert_eq!(found[0].bytes.len(), limits.layer_cap);
    assert!(found[0].capped);
}

#[test]
fn the_budget_bounds_all_layers_of_a_flow_together() {
    let limits = limits();
    let mut budget = Budget::new(300 * 1024);
    // Each body is a bomb of 4 x 64 KiB; the third finds the budget nearly spent.
    let mut sizes = Vec::new();
    for i in 0..4u8 {
        let bomb = gzip(&vec![b".,;:"[usize::from(i)]; 16 << 20]);
        let found = unwrap(&bomb, &limits, &mut budget);
        sizes.push(found.iter().map(|v| v.bytes.len()).sum::<usize>());
    }
    assert_eq!(sizes, [256 * 1024, 44 * 1024, 0, 0]);
    assert_eq!(budget.left(), 0);
}

#[test]
fn at_most_max_views_come_out_of_one_payload() {
    let mut body = String::new();
    for i in 0..400 {
        let line = base64(format!("value number {i:04}!").as_bytes(), false);
        body.push_str(&format!("{line}, "));
    }
    let found = views(body.as_bytes());
    assert_eq!(found.len(), limits().max_views);
    assert!(found.iter().all(|v| v.layers == [Layer::Base64]));
}

#[test]
fn plain_json_tokens_and_digests_hold_no_views() {
    let body = format!(
        "{{\"imei\":\"{IMEI}\",\"uuid\":\"38400000-8cf0-11bd-b23e-10b96e40000d\",\
         \"sha1\":\"356a192b7913b04c54574d18c28d46e6395428ab\",\"token\":\"eyJhbGciOi\",\
         \"path\":\"/api/v1/devices/register_device_now\"}}"
    );
    assert_eq!(views(body.as_bytes()), []);
}

#[test]
fn the_same_bytes_found_along_two_paths_are_one_view() {
    // URL-decoding leaves the base64 run as it was: it is found once, not under `url`.
    let b64 = base64(payload().as_bytes(), false);
    let body = format!("{b64} %7B%7D");
    let found = views(body.as_bytes());
    let chains: Vec<_> = found.iter().map(|v| v.layers.clone()).collect();
    assert_eq!(chains, [vec![Layer::Url], vec![Layer::Base64]]);
}

#[test]
fn hex_signatures_never_inflate_into_a_view() {
    // Found by the analyzer's layered_rate example: 16 random bytes from a hex signature
    // inflated as raw deflate into something readable, a view of garbage.
    for i in 0..3000u64 {
        let sig = format!(
            "{{\"sig\":\"{:016x}{:016x}\",\"id\":\"{:08x}-4f89-11d3-9a0c-0305e82c{:04x}\"}}",
            i.wrapping_mul(0x9e3779b97f4a7c15),
            i.wrapping_mul(0xc2b2ae3d27d4eb4f),
            i.wrapping_mul(2654435761),
            i % 65536,
        );
        assert_eq!(views(sig.as_bytes()), [], "{sig}");
    }
}
