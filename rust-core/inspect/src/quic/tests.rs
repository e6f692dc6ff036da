use super::*;
use crate::testutil::{hex, mutated};
use proptest::prelude::*;

/// The Destination Connection ID used by the RFC 9001 and RFC 9369 Appendix A vectors.
const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// RFC 9001 Appendix A.2: the client's protected Initial packet (1200 bytes).
fn rfc9001_packet() -> Vec<u8> {
    hex(include_str!(
        "../../tests/vectors/rfc9001_client_initial.hex"
    ))
}

/// RFC 9369 Appendix A.2: the same ClientHello in a QUIC v2 Initial.
fn rfc9369_packet() -> Vec<u8> {
    hex(include_str!(
        "../../tests/vectors/rfc9369_client_initial.hex"
    ))
}

/// RFC 9001 Appendix A.2: the CRYPTO frame inside that packet.
fn rfc9001_crypto_frame() -> Vec<u8> {
    hex(include_str!(
        "../../tests/vectors/rfc9001_client_crypto_frame.hex"
    ))
}

fn unhex(s: &str) -> Vec<u8> {
    hex(s)
}

/// Test-only packet protection, the inverse of `decrypt_client_initial`, so tests can
/// build multi-packet handshakes (and check against the RFC bytes that both directions
/// agree). Uses a 4-byte packet number like the RFC example.
fn protect(version: Version, dcid: &[u8], scid: &[u8], pn: u32, frames: &[u8]) -> Vec<u8> {
    let keys = InitialKeys::client(version, dcid);
    let mut p = vec![0xc0 | version.initial_type() << 4 | 3];
    p.extend_from_slice(&version.to_wire().to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend_from_slice(dcid);
    p.push(scid.len() as u8);
    p.extend_from_slice(scid);
    p.push(0); // no token
    let length = 4 + frames.len() + TAG_LEN;
    p.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = p.len();
    p.extend_from_slice(&pn.to_be_bytes());
    let header = p.clone();
    let mut body = frames.to_vec();
    let aead = Aes128Gcm::new(&keys.key.into());
    let tag = aead
        .encrypt_inout_detached(
            &keys.nonce(u64::from(pn)).into(),
            &header,
            body.as_mut_slice().into(),
        )
        .unwrap();
    p.extend_from_slice(&body);
    p.extend_from_slice(&tag);
    let sample: [u8; 16] = p[pn_offset + 4..pn_offset + 20].try_into().unwrap();
    let mask = keys.mask(&sample);
    p[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        p[pn_offset + i] ^= mask[1 + i];
    }
    p
}

fn crypto(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend_from_slice(&(0x8000_0000 | offset as u32).to_be_bytes());
    f.extend_from_slice(&(0x4000 | data.len() as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// Pads a payload to make the datagram at least 1200 bytes, as clients must.
fn padded(mut frames: Vec<u8>) -> Vec<u8> {
    frames.resize(frames.len().max(1162), 0);
    frames
}

#[test]
fn rfc9001_client_keys() {
    // RFC 9001 Appendix A.1.
    let k = InitialKeys::client(Version::V1, &RFC_DCID);
    assert_eq!(k.key.to_vec(), unhex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(k.iv.to_vec(), unhex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(k.hp.to_vec(), unhex("9f50449e04a0e810283a1e9933adedd2"));
}

#[test]
fn rfc9369_client_keys() {
    // RFC 9369 Appendix A.1.
    let k = InitialKeys::client(Version::V2, &RFC_DCID);
    assert_eq!(k.key.to_vec(), unhex("8b1a0bc121284290a29e0971b5cd045d"));
    assert_eq!(k.iv.to_vec(), unhex("91f73e2351d8fa91660e909f"));
    assert_eq!(k.hp.to_vec(), unhex("45b95e15235d6f45a6b19cbcb0294ba9"));
}

#[test]
fn rfc9001_header_protection_mask() {
    // RFC 9001 Appendix A.2: sample and mask.
    let k = InitialKeys::client(Version::V1, &RFC_DCID);
    let sample: [u8; 16] = unhex("d1b1c98dd7689fb8ec11d242b123dc9b")
        .try_into()
        .unwrap();
    assert_eq!(k.mask(&sample)[..5].to_vec(), unhex("437b9aec36"));
}

#[test]
fn rfc9001_client_initial_decrypts() {
    let datagram = rfc9001_packet();
    assert_eq!(datagram.len(), 1200);
    let (p, used) = decrypt_client_initial(&datagram).unwrap();
    assert_eq!(used, 1200);
    assert_eq!(p.version, Version::V1);
    assert_eq!(p.dcid, RFC_DCID);
    assert!(p.scid.is_empty());
    assert_eq!(p.packet_number, 2);
    assert_eq!(
        p.header,
        unhex("c300000001088394c8f03e5157080000449e00000002")
    );
    assert_eq!(p.frames.len(), 1162);
    let frame = rfc9001_crypto_frame();
    assert_eq!(p.frames[..frame.len()], frame[..]);
    assert!(p.frames[frame.len()..].iter().all(|&b| b == 0));
}

#[test]
fn rfc9001_sni_and_alpn() {
    let q = client_hello(&rfc9001_packet()).unwrap();
    assert_eq!(q.version, Version::V1);
    assert_eq!(q.hello.sni.as_deref(), Some("example.com"));
    assert_eq!(q.hello.alpn, vec!["alpn"]);
    assert_eq!(q.dcid, RFC_DCID);
}

#[test]
fn rfc9369_v2_sni_and_alpn() {
    let (p, _) = decrypt_client_initial(&rfc9369_packet()).unwrap();
    assert_eq!(
        p.header,
        unhex("d36b3343cf088394c8f03e5157080000449e00000002")
    );
    let q = client_hello(&rfc9369_packet()).unwrap();
    assert_eq!(q.version, Version::V2);
    assert_eq!(q.hello.sni.as_deref(), Some("example.com"));
}

#[test]
fn protect_reproduces_rfc9001_bytes() {
    let frames = padded(rfc9001_crypto_frame());
    assert_eq!(
        protect(Version::V1, &RFC_DCID, &[], 2, &frames),
        rfc9001_packet()
    );
    assert_eq!(
        protect(Version::V2, &RFC_DCID, &[], 2, &frames),
        rfc9369_packet()
    );
}

/// A large ClientHello (as with post-quantum key shares) split over two Initial
/// packets in two datagrams, CRYPTO frames out of order and mixed with PING and
/// PADDING the way Chrome scatters them.
#[test]
fn hello_across_two_initials() {
    let hello = crate::testutil::hex(include_str!("../../tests/vectors/openssl_client_hello.hex"));
    let hs = &hello[5..]; // strip the TLS record header: QUIC carries the handshake alone
    let dcid = [0x11; 8];
    let scid = [0x22; 5];
    let (a, b) = hs.split_at(300);
    let (a1, a2) = a.split_at(120);
    let mut first = crypto(120, a2);
    first.extend_from_slice(&[0x01, 0x00, 0x00]);
    first.extend_from_slice(&crypto(0, a1));
    let d1 = protect(Version::V1, &dcid, &scid, 0, &padded(first));
    let d2 = protect(Version::V1, &dcid, &scid, 1, &padded(crypto(300, b)));

    let mut asm = QuicInitialAssembler::new();
    assert_eq!(asm.push_datagram(&d2), Ok(None), "second half first");
    assert_eq!(asm.pending(), 1);
    let q = asm.push_datagram(&d1).unwrap().unwrap();
    assert_eq!(q.hello.sni.as_deref(), Some("api.account.xiaomi.com"));
    assert_eq!(q.hello.alpn, vec!["h2", "http/1.1"]);
    assert_eq!(q.scid, scid);
    assert_eq!(asm.pending(), 0, "a finished connection is forgotten");
    // One datagram alone is not enough.
    assert_eq!(client_hello(&d1), Err(QuicError::Tls(TlsError::NeedMore)));
}

#[test]
fn coalesced_initial_then_garbage() {
    let mut d = rfc9001_packet();
    d.extend_from_slice(&[0x40, 1, 2, 3]); // a short-header packet after it
    assert_eq!(
        client_hello(&d).unwrap().hello.sni.as_deref(),
        Some("example.com")
    );
}

#[test]
fn assembler_evicts_oldest_connection() {
    let hs = crate::testutil::hex(include_str!("../../tests/vectors/openssl_client_hello.hex"));
    let mut asm = QuicInitialAssembler::with_limits(2, 4096);
    for i in 0..5u8 {
        let d = protect(
            Version::V1,
            &[i; 8],
            &[],
            0,
            &padded(crypto(0, &hs[5..100])),
        );
        assert_eq!(asm.push_datagram(&d), Ok(None));
        assert!(asm.pending() <= 2);
    }
}

#[test]
fn crypto_beyond_limit_is_refused() {
    let mut asm = QuicInitialAssembler::with_limits(4, 1000);
    let d = protect(Version::V1, &[7; 8], &[], 0, &padded(crypto(990, &[1; 20])));
    assert_eq!(asm.push_datagram(&d), Err(QuicError::TooLarge));
    assert_eq!(asm.pending(), 0);
}

#[test]
fn every_prefix_is_rejected() {
    let d = rfc9001_packet();
    for n in 0..d.len() {
        assert!(client_hello(&d[..n]).is_err(), "prefix {n}");
    }
}

#[test]
fn flipped_bit_fails_authentication() {
    let mut d = rfc9001_packet();
    d[600] ^= 1;
    assert_eq!(client_hello(&d), Err(QuicError::Decrypt));
}

#[test]
fn other_packets_are_not_initials() {
    assert_eq!(client_hello(&[0x40, 0, 0]), Err(QuicError::NotLongHeader));
    assert_eq!(
        client_hello(&[0xc0, 0xff, 0, 0, 0x1d, 0]),
        Err(QuicError::UnsupportedVersion(0xff00_001d))
    );
    // A v1 Handshake packet (type 2).
    let mut d = rfc9001_packet();
    d[0] = 0xe0;
    assert_eq!(client_hello(&d), Err(QuicError::NotInitial));
    // Version Negotiation.
    assert_eq!(
        client_hello(&[0x80, 0, 0, 0, 0, 0, 0]),
        Err(QuicError::NotInitial)
    );
}

#[test]
fn disallowed_frame_is_an_error() {
    let d = protect(Version::V1, &[3; 8], &[], 0, &padded(vec![0x08, 0, 0]));
    assert!(matches!(client_hello(&d), Err(QuicError::Frame(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let _ = client_hello(&bytes);
        let _ = crypto_frames(&bytes);
    }

    #[test]
    fn mutated_initials_never_panic(bytes in prop_oneof![mutated(rfc9001_packet()), mutated(rfc9369_packet())]) {
        let _ = client_hello(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(bytes in mutated(padded(rfc9001_crypto_frame()))) {
        let _ = crypto_frames(&bytes);
    }

    /// Decrypted payloads of any shape, fed through the assembler in any order.
    #[test]
    fn assembler_survives_any_frames(payloads in proptest::collection::vec(
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            (0u64..2000, proptest::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(o, d)| crypto(o, &d)),
        ], 1..6)) {
        let mut asm = QuicInitialAssembler::with_limits(2, 1500);
        for (i, p) in payloads.iter().enumerate() {
            let d = protect(Version::V1, &[9; 8], &[], i as u32, &padded(p.clone()));
            let _ = asm.push_datagram(&d);
        }
    }
}
