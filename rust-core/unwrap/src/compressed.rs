//! Compressed streams: gzip, zlib and zstd recognised by their first bytes, raw deflate
//! and brotli (which have no magic) tried on bytes that came out of a text layer. Every
//! decoder stops at a cap, so a small bomb never becomes a large buffer.

use std::io::Read;

use crate::Layer;

/// What a decoder gave before it stopped.
#[derive(Debug)]
pub(crate) struct Inflated {
    pub bytes: Vec<u8>,
    /// Stopped at the cap with more to come.
    pub capped: bool,
    /// The stream ended where its format says it ends (checksums included).
    pub complete: bool,
    /// Input bytes the decoder used, where it says (raw deflate).
    pub used: Option<usize>,
}

/// The compressed format whose header `b` starts with.
pub(crate) fn sniff(b: &[u8]) -> Option<Layer> {
    match b {
        // gzip: ID1 ID2, CM = 8 (deflate).
        [0x1f, 0x8b, 0x08, ..] => Some(Layer::Gzip),
        // zstd frame magic number, little-endian 0xFD2FB528.
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Layer::Zstd),
        // zlib: CM = 8, a window of at most 32 KiB, the check bits, no preset dictionary.
        [cmf, flg, _, ..]
            if cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0 =>
        {
            Some(Layer::Zlib)
        }
        _ => None,
    }
}

/// Decodes `b` as `layer`, giving at most `cap` bytes. `None` when nothing came out.
pub(crate) fn inflate(layer: Layer, b: &[u8], cap: usize) -> Option<Inflated> {
    // The `bufread` decoders read the slice itself: no buffer of their own to fill.
    let out = match layer {
        Layer::Gzip => read_capped(flate2::bufread::MultiGzDecoder::new(b), cap),
        Layer::Zlib => read_capped(flate2::bufread::ZlibDecoder::new(b), cap),
        Layer::Deflate => {
            let mut decoder = flate2::bufread::DeflateDecoder::new(b);
            let mut out = read_capped(&mut decoder, cap);
            out.used = usize::try_from(decoder.total_in()).ok();
            out
        }
        Layer::Brotli => read_capped(brotli_decompressor::Decompressor::new(b, 4096), cap),
        Layer::Zstd => match ruzstd::decoding::StreamingDecoder::new(b) {
            Ok(decoder) => read_capped(decoder, cap),
            Err(_) => return None,
        },
        _ => return None,
    };
    (!out.bytes.is_empty()).then_some(out)
}

fn read_capped<R: Read>(mut r: R, cap: usize) -> Inflated {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if bytes.len() >= cap {
            // Only more output tells a stream that ends exactly at the cap from a bomb.
            let more = matches!(r.read(&mut chunk[..1]), Ok(n) if n > 0);
            return Inflated {
                bytes,
                capped: more,
                complete: !more,
                used: None,
            };
        }
        let want = (cap - bytes.len()).min(chunk.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => {
                return Inflated {
                    bytes,
                    capped: false,
                    complete: true,
                    used: None,
                }
            }
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                return Inflated {
                    bytes,
                    capped: false,
                    complete: false,
                    used: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_zlib_and_zstd_are_known_by_their_first_bytes_and_text_is_not() {
        assert_eq!(sniff(&gzip(b"x")), Some(Layer::Gzip));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(b"x").unwrap();
        assert_eq!(sniff(&z.finish().unwrap()), Some(Layer::Zlib));
        // RFC 8878: a frame starts with the magic number 0xFD2FB528, little-endian.
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0x20, 0]), Some(Layer::Zstd));
        for text in [&b"{\"imei\":1}"[..], b"hello", b"x y", b"", b"\x1f"] {
            assert_eq!(sniff(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_bomb_stops_at_the_cap_and_says_so() {
        let bomb = gzip(&vec![b'a'; 10 << 20]);
        assert!(bomb.len() < 20_000);
        let out = inflate(Layer::Gzip, &bomb, 4096).unwrap();
        assert_eq!(out.bytes.len(), 4096);
        assert!(out.capped && !out.complete);
    }

    #[test]
    fn a_stream_exactly_as_long_as_the_cap_is_complete_not_capped() {
        let out = inflate(Layer::Gzip, &gzip(&[b'a'; 100]), 100).unwrap();
        assert_eq!(out.bytes.len(), 100);
        assert!(out.complete && !out.capped);
    }

    #[test]
    fn a_truncated_stream_gives_what_it_had_and_is_not_complete() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let whole = gzip(&data);
        let out = inflate(Layer::Gzip, &whole[..whole.len() / 2], 1 << 20).unwrap();
        assert!(!out.complete);
        assert!(!out.bytes.is_empty() && data.starts_with(&out.bytes));
    }
}
