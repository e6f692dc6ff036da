use super::*;
use crate::testutil::{hex, mutated};
use proptest::prelude::*;

/// A real ClientHello written by OpenSSL 3.0 (see the vector file's header).
fn openssl_hello() -> Vec<u8> {
    hex(include_str!("../../tests/vectors/openssl_client_hello.hex"))
}

/// The ClientHello inside the CRYPTO frame of RFC 9001 Appendix A.2 (frame type, offset
/// and length stripped): a QUIC client's hello to example.com with ALPN "alpn".
fn rfc9001_hello() -> Vec<u8> {
    hex(include_str!(
        "../../tests/vectors/rfc9001_client_crypto_frame.hex"
    ))[4..]
        .to_vec()
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn sni_ext(host: &str) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend_from_slice(&(host.len() as u16).to_be_bytes());
    entry.extend_from_slice(host.as_bytes());
    let mut list = (entry.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&entry);
    ext(EXT_SERVER_NAME, &list)
}

fn alpn_ext(protos: &[&str]) -> Vec<u8> {
    let mut l = Vec::new();
    for p in protos {
        l.push(p.len() as u8);
        l.extend_from_slice(p.as_bytes());
    }
    let mut d = (l.len() as u16).to_be_bytes().to_vec();
    d.extend_from_slice(&l);
    ext(EXT_ALPN, &d)
}

/// A handshake message (type 1) with the given extensions, shaped like a browser's.
fn handshake(exts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.push(32);
    body.extend_from_slice(&[0x17; 32]);
    body.extend_from_slice(&[0, 6, 0x1a, 0x1a, 0x13, 0x01, 0x13, 0x02]);
    body.extend_from_slice(&[1, 0]);
    let all: Vec<u8> = exts.concat();
    body.extend_from_slice(&(all.len() as u16).to_be_bytes());
    body.extend_from_slice(&all);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    msg
}

/// Wraps a handshake message into records of at most `frag` payload bytes.
fn records(msg: &[u8], frag: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in msg.chunks(frag) {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(c.len() as u16).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

/// Chrome-like hello with ECH: GREASE first, the public name in SNI.
fn ech_hello() -> Vec<u8> {
    handshake(&[
        ext(0x0a0a, &[]),
        sni_ext("cloudflare-ech.com"),
        alpn_ext(&["h2", "http/1.1"]),
        ext(EXT_SUPPORTED_VERSIONS, &[4, 0x3a, 0x3a, 3, 4]),
        ext(EXT_ECH, &[0, 0, 1, 0, 1, 0x2a, 0, 0x20, 1, 2]),
    ])
}

#[test]
fn openssl_client_hello() {
    let h = parse_client_hello(&openssl_hello()).unwrap();
    assert_eq!(h.sni.as_deref(), Some("api.account.xiaomi.com"));
    assert_eq!(h.alpn, vec!["h2", "http/1.1"]);
    assert_eq!(h.ech, None);
    assert!(!h.sni_is_outer);
    assert!(h.supported_versions.contains(&0x0304));
    assert_eq!(h.extensions.first(), Some(&EXT_SERVER_NAME));
}

#[test]
fn rfc9001_quic_client_hello() {
    let h = parse_handshake(&rfc9001_hello()).unwrap();
    assert_eq!(h.sni.as_deref(), Some("example.com"));
    assert_eq!(h.alpn, vec!["alpn"]);
    assert_eq!(h.supported_versions, vec![0x0304]);
}

#[test]
fn ech_outer_sni_is_flagged() {
    let h = parse_client_hello(&records(&ech_hello(), 1 << 14)).unwrap();
    assert_eq!(h.sni.as_deref(), Some("cloudflare-ech.com"));
    assert_eq!(h.ech, Some(Ech::Outer));
    assert!(h.sni_is_outer);
    assert_eq!(h.supported_versions, vec![0x3a3a, 0x0304]);
}

#[test]
fn hello_split_across_records() {
    let msg = ech_hello();
    for frag in [1, 3, 7, 50, 100] {
        let h = parse_client_hello(&records(&msg, frag)).unwrap();
        assert_eq!(
            h.sni.as_deref(),
            Some("cloudflare-ech.com"),
            "fragment {frag}"
        );
    }
}

#[test]
fn every_prefix_needs_more() {
    let whole = openssl_hello();
    for n in 0..whole.len() {
        assert_eq!(
            parse_client_hello(&whole[..n]),
            Err(TlsError::NeedMore),
            "{n}"
        );
    }
    let split = records(&ech_hello(), 40);
    for n in 0..split.len() {
        assert_eq!(
            parse_client_hello(&split[..n]),
            Err(TlsError::NeedMore),
            "{n}"
        );
    }
    let hs = rfc9001_hello();
    for n in 0..hs.len() {
        assert_eq!(parse_handshake(&hs[..n]), Err(TlsError::NeedMore), "{n}");
    }
}

#[test]
fn other_protocols_are_not_tls() {
    for s in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x17\x03\x03\x00\x10",
    ] {
        assert_eq!(parse_client_hello(s), Err(TlsError::NotTls));
    }
    // A ServerHello (type 2) is TLS but not what we look for.
    assert_eq!(
        parse_client_hello(&[22, 3, 3, 0, 10, 2]),
        Err(TlsError::NotTls)
    );
}

#[test]
fn oversized_hello_is_refused_early() {
    // Header claims a 16 MiB ClientHello: refused without waiting or allocating.
    let s = [22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff];
    assert_eq!(parse_client_hello(&s), Err(TlsError::TooLarge));
}

#[test]
fn alert_record_in_the_middle_is_malformed() {
    let mut s = records(&ech_hello(), 40);
    s.truncate(45);
    s.extend_from_slice(&[21, 3, 3, 0, 2, 2, 40]);
    assert!(matches!(
        parse_client_hello(&s),
        Err(TlsError::Malformed(_))
    ));
}

#[test]
fn hello_without_extensions() {
    let mut body = vec![3, 1];
    body.extend_from_slice(&[0; 32]);
    body.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
    let mut msg = vec![1, 0, 0, body.len() as u8];
    msg.extend_from_slice(&body);
    let h = parse_handshake(&msg).unwrap();
    assert_eq!(h.legacy_version, 0x0301);
    assert_eq!(h.sni, None);
}

#[test]
fn duplicate_extension_is_malformed() {
    let msg = handshake(&[sni_ext("a.example"), sni_ext("b.example")]);
    assert!(matches!(parse_handshake(&msg), Err(TlsError::Malformed(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = parse_client_hello(&bytes);
        let _ = parse_handshake(&bytes);
    }

    #[test]
    fn mutated_hellos_never_panic(bytes in prop_oneof![
        mutated(openssl_hello()),
        mutated(records(&ech_hello(), 33)),
    ]) {
        let _ = parse_client_hello(&bytes);
    }

    #[test]
    fn mutated_handshakes_never_panic(bytes in mutated(rfc9001_hello())) {
        let _ = parse_handshake(&bytes);
    }
}

#[test]
fn thousands_of_extensions_are_refused() {
    let exts: Vec<Vec<u8>> = (0..1000u16).map(|i| ext(0x1000 + i, &[])).collect();
    assert_eq!(
        parse_handshake(&handshake(&exts)),
        Err(TlsError::Malformed("too many extensions"))
    );
}
