//! Streaming decoders give what the whole-body decoder gives, however the bytes are cut.

use std::io::Write;

use super::*;
use crate::testutil::hex;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Decodes `wire` fed in pieces of `step` bytes.
fn decode(codings: &[&str], wire: &[u8], step: usize, room: usize) -> (Vec<u8>, bool) {
    let codings: Vec<String> = codings.iter().map(|c| c.to_string()).collect();
    let mut d = Decoders::new(&codings).unwrap();
    let mut out = Vec::new();
    for piece in wire.chunks(step.max(1)) {
        let left = room - out.len();
        if d.push(piece, &mut out, left).is_err() {
            return (out, false);
        }
    }
    (out, true)
}

fn text() -> Vec<u8> {
    (0..2000)
        .flat_map(|i| format!("{{\"n\":{i},\"imei\":\"861234567890123\"}}\n").into_bytes())
        .collect()
}

#[test]
fn each_coding_decodes_the_same_in_one_piece_and_byte_by_byte() {
    let plain = text();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gzip", gzip(&plain)),
        ("deflate", zlib(&plain)),
        ("deflate", raw_deflate(&plain)),
        ("zstd", zstd(&plain)),
    ];
    for (coding, wire) in cases {
        for step in [1, 7, 1000, wire.len()] {
            let (out, ok) = decode(&[coding], &wire, step, usize::MAX);
            assert!(ok, "{coding} step {step}");
            assert_eq!(out, plain, "{coding} step {step}");
        }
    }
}

#[test]
fn brotli_decodes_byte_by_byte() {
    // Made with libbrotli 1.0.9 (BrotliEncoderCompress, quality 9).
    let br = hex("0b1180696d65693d383631323334353637383930313233266d6f64656c3d5265646d692b315303");
    for step in [1, 3, br.len()] {
        let (out, ok) = decode(&["br"], &br, step, usize::MAX);
        assert!(ok);
        assert_eq!(out, b"imei=861234567890123&model=Redmi+1S".to_vec());
    }
}

#[test]
fn output_comes_before_the_stream_ends() {
    // A server flushes its compressor after each event: what was flushed decodes now.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"data: {\"imei\":\"8612345").unwrap();
    e.flush().unwrap();
    let first = e.get_ref().clone();
    let mut d = Decoders::new(&["gzip".to_string()]).unwrap();
    let mut out = Vec::new();
    d.push(&first, &mut out, usize::MAX).unwrap();
    assert_eq!(out, b"data: {\"imei\":\"8612345".to_vec());
}

#[test]
fn gzip_members_follow_one_another_and_codings_stack() {
    let wire = [gzip(b"first "), gzip(b"second")].concat();
    assert_eq!(decode(&["gzip"], &wire, 5, usize::MAX).0, b"first second");
    // Transfer-Encoding gzip, then Content-Encoding gzip: undone last first.
    let twice = gzip(&gzip(b"imei=861234567890123"));
    let (out, ok) = decode(&["gzip", "gzip"], &twice, 4, usize::MAX);
    assert!(ok);
    assert_eq!(out, b"imei=861234567890123");
}

#[test]
fn a_bomb_stops_at_the_room_given() {
    let bomb = gzip(&vec![0u8; 20 << 20]);
    let (out, _) = decode(&["gzip"], &bomb, bomb.len(), 100_000);
    assert_eq!(out.len(), 100_000);
    let bomb = zstd(&vec![0u8; 20 << 20]);
    let (out, _) = decode(&["zstd"], &bomb, bomb.len(), 100_000);
    assert!(out.len() <= 100_000);
}

#[test]
fn corrupt_input_is_an_error_after_what_decoded() {
    let mut wire = gzip(b"not a secret");
    // The first deflate block of reserved type 3 (the CRC is not checked: a scanner
    // reads what a corrupt body holds anyway).
    wire[10] = 0x07;
    let (_, ok) = decode(&["gzip"], &wire, 3, usize::MAX);
    assert!(!ok);
    assert!(!decode(&["gzip"], b"plain text here", 4, usize::MAX).1);
    assert!(!decode(&["zstd"], &[0u8; 40], 40, usize::MAX).1);
    assert!(Decoders::new(&["compress".to_string()]).is_none());
}
