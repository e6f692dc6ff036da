use super::*;
use crate::testutil::{hex, mutated};
use proptest::prelude::*;
use std::io::Write;

fn parse_all(stream: &[u8]) -> (Vec<Request>, Result<(), HttpError>) {
    let mut p = RequestParser::default();
    let r = p.push(stream);
    let mut out = Vec::new();
    while let Some(req) = p.next_request() {
        out.push(req);
    }
    (out, r)
}

fn one(stream: &[u8]) -> Request {
    let (mut reqs, r) = parse_all(stream);
    r.unwrap();
    assert_eq!(reqs.len(), 1, "expected one request");
    reqs.remove(0)
}

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

fn with_body(head: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("{head}Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    v.extend_from_slice(body);
    v
}

fn chunked(head: &str, body: &[u8], chunk: usize, trailer: &str) -> Vec<u8> {
    let mut v = format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    for c in body.chunks(chunk) {
        v.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
        v.extend_from_slice(c);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
    v
}

/// The activation request shape from the seed case: a form POST carrying identifiers,
/// followed on the same connection by a gzip-compressed, chunked JSON upload.
fn keepalive_stream() -> Vec<u8> {
    let form = b"imei=861234567890123&phone=%2B8613800138000&model=Redmi+1S";
    let mut s = with_body(
        "POST /pass/activation?sid=passport&_json=true HTTP/1.1\r\n\
         Host: api.account.xiaomi.com:443\r\n\
         User-Agent: Dalvik/1.6.0 (Linux; U; Android 4.3; HM 1S MIUI/V5)\r\n\
         Cookie: deviceId=9774d56d682e549c; userId=\r\n\
         Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n",
        form,
    );
    let json = br#"{"imsi":"460011234567890","carrier":"China Mobile"}"#;
    s.extend_from_slice(&chunked(
        "POST /api/sync HTTP/1.1\r\nHost: api.micloud.xiaomi.net\r\n\
         Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
        &gzip(json),
        17,
        "X-Checksum: abc\r\n",
    ));
    s.extend_from_slice(b"GET /ping HTTP/1.1\r\nHost: Example.ORG\r\n\r\n");
    s
}

#[test]
fn keepalive_requests_in_order() {
    let (reqs, r) = parse_all(&keepalive_stream());
    r.unwrap();
    assert_eq!(reqs.len(), 3);
    let a = &reqs[0];
    assert_eq!(a.method, "POST");
    assert_eq!(a.path, "/pass/activation");
    assert_eq!(
        a.query,
        vec![Field::new("sid", "passport"), Field::new("_json", "true")]
    );
    assert_eq!(a.host.as_deref(), Some("api.account.xiaomi.com"));
    assert_eq!(
        a.cookies,
        vec![
            Field::new("deviceId", "9774d56d682e549c"),
            Field::new("userId", "")
        ]
    );
    let BodyParts::Form(fields) = &a.body.parts else {
        panic!("not a form: {:?}", a.body.parts)
    };
    assert_eq!(fields[0], Field::new("imei", "861234567890123"));
    assert_eq!(fields[1], Field::new("phone", "+8613800138000"));
    assert_eq!(fields[2], Field::new("model", "Redmi 1S"));
    assert_eq!(a.body.decoding, Decoding::Identity);

    let b = &reqs[1];
    assert_eq!(b.body.codings, vec!["gzip"]);
    assert_eq!(b.body.decoding, Decoding::Decoded);
    assert_eq!(
        b.body.data,
        br#"{"imsi":"460011234567890","carrier":"China Mobile"}"#.to_vec()
    );
    assert_eq!(b.trailers, vec![Field::new("x-checksum", "abc")]);
    assert_eq!(b.body.parts, BodyParts::Raw);
    assert!(!b.body.truncated);

    assert_eq!(reqs[2].host.as_deref(), Some("example.org"));
    assert_eq!(reqs[2].version, Version::Http11);
}

#[test]
fn any_split_gives_the_same_requests() {
    let s = keepalive_stream();
    let (want, _) = parse_all(&s);
    for cut in 0..s.len() {
        let mut p = RequestParser::default();
        p.push(&s[..cut]).unwrap();
        p.push(&s[cut..]).unwrap();
        let got: Vec<Request> = std::iter::from_fn(|| p.next_request()).collect();
        assert_eq!(got, want, "split at {cut}");
    }
    // And one byte at a time.
    let mut p = RequestParser::default();
    for b in &s {
        p.push(std::slice::from_ref(b)).unwrap();
    }
    let got: Vec<Request> = std::iter::from_fn(|| p.next_request()).collect();
    assert_eq!(got, want);
}

#[test]
fn prefixes_never_yield_an_incomplete_request() {
    let s = with_body("POST /a HTTP/1.1\r\nHost: h\r\n", b"imei=861234567890123");
    for n in 0..s.len() {
        let (reqs, r) = parse_all(&s[..n]);
        assert!(r.is_ok(), "prefix {n}: {r:?}");
        assert!(reqs.is_empty(), "prefix {n} gave a request");
    }
    // At end of stream a cut-short body is handed out, marked truncated.
    let mut p = RequestParser::default();
    p.push(&s[..s.len() - 4]).unwrap();
    let req = p.finish().unwrap();
    assert!(req.body.truncated);
    assert_eq!(req.body.data, b"imei=86123456789".to_vec());
}

#[test]
fn pieces_say_where_text_came_from() {
    let (reqs, _) = parse_all(&keepalive_stream());
    let pieces = reqs[0].pieces();
    let find = |loc, name: Option<&str>| {
        pieces
            .iter()
            .find(|p| p.location == loc && p.name == name)
            .map(|p| p.value.to_vec())
    };
    assert_eq!(
        find(Location::Url, None).unwrap(),
        b"/pass/activation?sid=passport&_json=true".to_vec()
    );
    assert_eq!(
        find(Location::Cookie, Some("deviceId")).unwrap(),
        b"9774d56d682e549c".to_vec()
    );
    assert!(
        find(Location::Header, Some("cookie")).is_none(),
        "cookies once"
    );
    assert!(find(Location::Header, Some("user-agent")).is_some());
    assert_eq!(
        find(Location::Body, None).unwrap(),
        b"imei=861234567890123&phone=%2B8613800138000&model=Redmi+1S".to_vec()
    );
    let pieces = reqs[1].pieces();
    assert!(pieces
        .iter()
        .any(|p| p.location == Location::Header && p.name == Some("x-checksum")));
}

#[test]
fn deflate_zlib_and_raw() {
    let body = b"android_id=9774d56d682e549c";
    for enc in [zlib(body), raw_deflate(body)] {
        let r = one(&with_body(
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: deflate\r\n",
            &enc,
        ));
        assert_eq!(r.body.data, body.to_vec());
        assert_eq!(r.body.decoding, Decoding::Decoded);
    }
}

#[test]
fn brotli_body() {
    // Made with libbrotli 1.0.9 (BrotliEncoderCompress, quality 9).
    let br = hex("0b1180696d65693d383631323334353637383930313233266d6f64656c3d5265646d692b315303");
    let r = one(&with_body(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: br\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n",
        &br,
    ));
    assert_eq!(r.body.data, b"imei=861234567890123&model=Redmi+1S".to_vec());
    assert!(matches!(&r.body.parts, BodyParts::Form(f) if f.len() == 2));
}

#[test]
fn gzip_then_chunked_transfer_coding() {
    let body = b"serial=0123456789ABCDEF";
    let mut s = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec();
    let z = gzip(body);
    s.extend_from_slice(format!("{:X}\r\n", z.len()).as_bytes());
    s.extend_from_slice(&z);
    s.extend_from_slice(b"\r\n0\r\n\r\n");
    let r = one(&s);
    assert_eq!(r.body.data, body.to_vec());
}

#[test]
fn gzip_bomb_is_capped() {
    let bomb = gzip(&vec![b'0'; 10 << 20]);
    assert!(bomb.len() < 20_000);
    let r = one(&with_body(
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\n",
        &bomb,
    ));
    assert_eq!(r.body.data.len(), Config::default().max_decoded_bytes);
    assert!(r.body.truncated);
    assert_eq!(r.body.decoding, Decoding::Decoded);
}

#[test]
fn brotli_bomb_is_capped() {
    // 8 MiB of zeros in 14 bytes, made with libbrotli 1.0.9.
    let bomb = hex("9bffff7f002400e2b14072efff00");
    let mut p = RequestParser::new(Config {
        max_decoded_bytes: 100_000,
        ..Config::default()
    });
    p.push(&with_body(
        "POST / HTTP/1.1\r\nContent-Encoding: br\r\n",
        &bomb,
    ))
    .unwrap();
    let r = p.next_request().unwrap();
    assert_eq!(r.body.data.len(), 100_000);
    assert!(r.body.truncated);
}

#[test]
fn corrupt_gzip_keeps_what_decoded() {
    let mut z = gzip(b"imsi=460011234567890");
    let n = z.len();
    z.truncate(n - 8); // drop the trailer
    let r = one(&with_body(
        "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n",
        &z,
    ));
    assert!(matches!(r.body.decoding, Decoding::Failed(_)));
    assert_eq!(r.body.data, b"imsi=460011234567890".to_vec());
}

#[test]
fn unknown_coding_leaves_bytes() {
    let r = one(&with_body(
        "POST / HTTP/1.1\r\nContent-Encoding: compress\r\n",
        b"\x1f\x9d\x90",
    ));
    assert_eq!(r.body.decoding, Decoding::Unsupported("compress".into()));
    assert_eq!(r.body.data, b"\x1f\x9d\x90".to_vec());
}

/// A zstd frame (RFC 8878) holding `data` in one raw block: magic, a single-segment
/// header with a one-byte content size, the block header, the bytes.
pub(crate) fn zstd_raw_frame(data: &[u8]) -> Vec<u8> {
    let len = u8::try_from(data.len()).unwrap();
    let block = (u32::from(len) << 3 | 1).to_le_bytes();
    let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, len];
    f.extend_from_slice(&block[..3]);
    f.extend_from_slice(data);
    f
}

#[test]
fn a_zstd_body_is_decoded() {
    let r = one(&with_body(
        "POST / HTTP/1.1\r\nContent-Encoding: zstd\r\n",
        &zstd_raw_frame(b"imei=861234567890123"),
    ));
    assert_eq!(r.body.decoding, Decoding::Decoded);
    assert_eq!(r.body.data, b"imei=861234567890123".to_vec());
}

#[test]
fn multipart_form_data() {
    let body = b"--XyZ\r\n\
        Content-Disposition: form-data; name=\"imei\"\r\n\r\n\
        861234567890123\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"log\"; filename=\"boot.txt\"\r\n\
        Content-Type: text/plain\r\n\r\n\
        line1\r\nline2\r\n\
        --XyZ--\r\n";
    let r = one(&with_body(
        "POST /upload HTTP/1.1\r\nHost: h\r\n\
         Content-Type: multipart/form-data; boundary=\"XyZ\"\r\n",
        body,
    ));
    let BodyParts::Multipart(parts) = &r.body.parts else {
        panic!("{:?}", r.body.parts)
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].name.as_deref(), Some("imei"));
    assert_eq!(parts[0].data, b"861234567890123".to_vec());
    assert_eq!(parts[1].filename.as_deref(), Some("boot.txt"));
    assert_eq!(parts[1].content_type.as_deref(), Some("text/plain"));
    assert_eq!(parts[1].data, b"line1\r\nline2".to_vec());
    let pieces = r.pieces();
    assert!(pieces
        .iter()
        .any(|p| p.location == Location::Body && p.name == Some("imei")));
}

#[test]
fn body_over_the_kept_limit_is_counted() {
    let mut p = RequestParser::new(Config {
        max_body_bytes: 10,
        ..Config::default()
    });
    let mut s = with_body("POST / HTTP/1.1\r\n", &[b'a'; 100]);
    s.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
    p.push(&s).unwrap();
    let r = p.next_request().unwrap();
    assert_eq!(r.body.wire_len, 100);
    assert_eq!(r.body.data.len(), 10);
    assert!(r.body.truncated);
    assert_eq!(p.next_request().unwrap().path, "/next");
}

#[test]
fn header_block_over_limit_is_an_error() {
    let mut p = RequestParser::default();
    p.push(b"GET / HTTP/1.1\r\n").unwrap();
    let filler = format!("X-Pad: {}\r\n", "a".repeat(1000));
    let mut r = Ok(());
    for _ in 0..70 {
        r = p.push(filler.as_bytes());
        if r.is_err() {
            break;
        }
    }
    assert_eq!(r, Err(HttpError::HeaderTooLarge));
    // The parser stays failed.
    assert_eq!(p.push(b"\r\n"), Err(HttpError::HeaderTooLarge));
}

#[test]
fn not_http() {
    let (_, r) = parse_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    assert_eq!(r, Err(HttpError::NotHttp1));
    let (_, r) = parse_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert_eq!(r, Err(HttpError::NotHttp1));
}

#[test]
fn conflicting_lengths_are_rejected() {
    let (_, r) =
        parse_all(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    assert_eq!(r, Err(HttpError::Malformed("conflicting content-length")));
    let (_, r) = parse_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert!(matches!(r, Err(HttpError::Malformed(_))));
}

#[test]
fn requests_before_an_error_are_kept() {
    let (reqs, r) = parse_all(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nbad header\r\n\r\n");
    assert_eq!(reqs.len(), 1);
    assert!(r.is_err());
}

#[test]
fn connect_makes_the_rest_opaque() {
    let mut p = RequestParser::default();
    p.push(
        b"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n\x16\x03\x01",
    )
    .unwrap();
    assert_eq!(
        p.next_request().unwrap().host.as_deref(),
        Some("api.example.com")
    );
    assert!(p.is_opaque());
    p.push(b"\x00\x01garbage").unwrap();
    assert!(p.next_request().is_none());
    assert_eq!(
        p.take_held().as_deref(),
        Some(&b"\x16\x03\x01\x00\x01garbage"[..]),
        "the tunnel's first bytes are kept for whoever reads the tunnel"
    );
}

#[test]
fn a_refused_upgrade_goes_back_to_http_with_what_was_held() {
    let mut p = RequestParser::default();
    p.push(b"GET /chat HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /next?imei=1 HTTP/1.1\r\n")
        .unwrap();
    assert_eq!(p.next_request().unwrap().path, "/chat");
    assert!(p.is_opaque());
    p.resume().unwrap();
    p.push(b"Host: a.example\r\n\r\n").unwrap();
    assert_eq!(p.next_request().unwrap().target, "/next?imei=1");
}

#[test]
fn bytes_held_past_the_header_limit_are_given_up() {
    let mut p = RequestParser::new(Config {
        max_header_bytes: 100,
        ..Config::default()
    });
    p.push(b"CONNECT a.example:443 HTTP/1.1\r\n\r\n").unwrap();
    p.push(&[0u8; 101]).unwrap();
    assert_eq!(p.take_held(), None);
    assert!(p.resume().is_err());
}

#[test]
fn absolute_form_target_and_folded_header() {
    let r = one(b"GET http://User@Proxy.Example:8080/p/q?a=1&b=%E4%BD%A0 HTTP/1.0\r\nX-Long: one\r\n two\r\n\r\n");
    assert_eq!(r.host.as_deref(), Some("proxy.example"));
    assert_eq!(r.path, "/p/q");
    assert_eq!(r.query[1], Field::new("b", "你".as_bytes()));
    assert_eq!(r.header("x-long").unwrap().value, b"one two".to_vec());
    assert_eq!(r.version, Version::Http10);
}

#[test]
fn bare_lf_line_endings_and_stray_crlf() {
    let (reqs, r) = parse_all(b"GET /a HTTP/1.1\nHost: x\n\n\r\nGET /b HTTP/1.1\r\n\r\n");
    r.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, "/b");
}

#[test]
fn percent_decoding_keeps_bad_escapes() {
    assert_eq!(percent_decode(b"a%2"), b"a%2".to_vec());
    assert_eq!(percent_decode(b"%zz%41+"), b"%zzA ".to_vec());
}

fn arb_stream() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        mutated(keepalive_stream()),
        mutated(with_body(
            "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n",
            &gzip(b"imei=861234567890123&x=1")
        )),
        mutated(chunked(
            "POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n",
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--",
            5,
            ""
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let mut p = RequestParser::default();
        let _ = p.push(&bytes);
        while let Some(r) = p.next_request() {
            let _ = r.pieces();
        }
        let _ = p.finish();
    }

    #[test]
    fn mutated_streams_never_panic(bytes in arb_stream(), cut in 0usize..2000) {
        let mut p = RequestParser::default();
        let cut = cut.min(bytes.len());
        let _ = p.push(&bytes[..cut]);
        let _ = p.push(&bytes[cut..]);
        while let Some(r) = p.next_request() {
            let _ = r.pieces();
        }
        let _ = p.finish();
    }

    #[test]
    fn chunking_does_not_change_the_result(cuts in proptest::collection::vec(0usize..1000, 0..8)) {
        let s = keepalive_stream();
        let (want, _) = parse_all(&s);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(s.len())).collect();
        cuts.push(0);
        cuts.push(s.len());
        cuts.sort_unstable();
        let mut p = RequestParser::default();
        for w in cuts.windows(2) {
            p.push(&s[w[0]..w[1]]).unwrap();
        }
        let got: Vec<Request> = std::iter::from_fn(|| p.next_request()).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn long_request_line_fed_bytewise_is_linear() {
    // 60 KiB of target one byte at a time: must finish quickly (no rescans from the
    // start of the line on every byte).
    let mut s = b"GET /".to_vec();
    s.extend(std::iter::repeat_n(b'a', 60 * 1024));
    s.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let mut p = RequestParser::default();
    for b in &s {
        p.push(std::slice::from_ref(b)).unwrap();
    }
    assert_eq!(p.next_request().unwrap().path.len(), 60 * 1024 + 1);
}
