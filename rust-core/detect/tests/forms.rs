//! Every form an identifier travels in, one test each, with the false positives that
//! must stay away. Digests and base64 here come from independent crates (RustCrypto,
//! `base64`), not from the detector's own encoders.

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha1::Digest as _;

use phonehome_detect::{
    Confidence, Detector, DigestForm, Encoding, Hit, Identifiers, Kind, Options, Where,
};

/// The shared fixture, and a message in Chinese for the non-ASCII forms.
fn ids() -> String {
    format!(
        "{}[[sms]]\ntext = \"明天车站见\"\n",
        include_str!("identifiers.toml")
    )
}
const ALL_VALUES: &[&str] = &[
    "861234567890127",
    "460011234567890",
    "89860012345678901234",
    "8613800138000",
    "13800138000",
    "China Mobile",
    "9774d56d682e549c",
    "38400000-8cf0-11bd-b23e-10b96e40000d",
    "0123456789ABCDEF",
    "02:00:00:44:55:66",
    "someone@example.com",
    "Li Wei",
    "13912345678",
    "li.wei@example.com",
    "13700000000",
    "See you at the station at five",
];

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        Detector::new(
            &Identifiers::from_toml(&ids()).expect("example parses"),
            &Options::default(),
        )
    })
}

fn empty_detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(&Identifiers::default(), &Options::default()))
}

fn scan(text: &str) -> Vec<Hit> {
    scan_bytes(text.as_bytes(), Where::Body)
}

fn scan_bytes(bytes: &[u8], where_: Where) -> Vec<Hit> {
    let hits = detector().scan(bytes, where_);
    for h in &hits {
        for v in ALL_VALUES {
            assert!(
                !h.evidence.contains(v),
                "evidence {:?} shows {v}",
                h.evidence
            );
        }
    }
    hits
}

/// The single hit of `kind` (fails with all hits shown otherwise).
#[track_caller]
fn one(hits: &[Hit], kind: Kind) -> Hit {
    let of_kind: Vec<_> = hits.iter().filter(|h| h.kind == kind).collect();
    assert_eq!(of_kind.len(), 1, "want one {kind} hit, got {hits:#?}");
    of_kind[0].clone()
}

#[track_caller]
fn none(hits: &[Hit]) {
    assert!(hits.is_empty(), "want no hits, got {hits:#?}");
}

fn b64_forms(bytes: &[u8]) -> [String; 4] {
    [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

// ---- plain --------------------------------------------------------------------------

#[test]
fn finds_a_plain_imei_in_a_query_with_masked_evidence() {
    let hits = scan_bytes(b"GET /x?imei=861234567890127&v=2", Where::Url);
    let h = one(&hits, Kind::Imei);
    assert_eq!(
        (h.encoding, h.confidence, h.where_),
        (Encoding::Plain, Confidence::Exact, Where::Url)
    );
    assert_eq!((h.offset, h.len), (12, 15));
    assert_eq!(h.evidence, "imei=86*********0127");
    assert!(!h.truncated);
}

#[test]
fn an_imei_inside_a_longer_digit_run_is_not_the_imei() {
    none(&scan(
        "id=98612345678901274 t=8612345678901274 x=1861234567890127",
    ));
}

#[test]
fn finds_each_kind_in_plain_text() {
    let hits = scan(
        "imsi=460011234567890 iccid=89860012345678901234 op=China Mobile aid=9774d56d682e549c \
         gaid=38400000-8cf0-11bd-b23e-10b96e40000d sn=0123456789ABCDEF mail=someone@example.com",
    );
    for k in [
        Kind::Imsi,
        Kind::Iccid,
        Kind::Carrier,
        Kind::AndroidId,
        Kind::AdId,
        Kind::Serial,
        Kind::Email,
    ] {
        assert_eq!(one(&hits, k).encoding, Encoding::Plain);
    }
}

#[test]
fn contacts_and_sms_peers_are_reported_as_contact_and_sms() {
    let hits = scan_bytes(
        b"GET /pass/user@id?type=MXPH&externalId=+8613912345678 HTTP/1.1",
        Where::Url,
    );
    one(&hits, Kind::Contact);
    let hits = scan("{\"to\":\"+8613700000000\",\"body\":\"See you at the station at five\"}");
    let sms: Vec<_> = hits.iter().filter(|h| h.kind == Kind::Sms).collect();
    assert_eq!(sms.len(), 2, "{hits:#?}");
    one(&scan("name=Li Wei;"), Kind::Contact);
    none(&scan("name=Li Weixin;"));
}

// ---- case ---------------------------------------------------------------------------

#[test]
fn hex_like_ids_match_in_either_case() {
    one(&scan("a=9774D56D682E549C"), Kind::AndroidId);
    one(&scan("a=38400000-8CF0-11BD-B23E-10B96E40000D"), Kind::AdId);
    one(&scan("a=384000008cf011bdb23e10b96e40000d"), Kind::AdId);
    one(&scan("s=0123456789abcdef"), Kind::Serial);
    one(&scan("to: SomeOne@Example.COM"), Kind::Email);
}

#[test]
fn a_hex_id_inside_a_longer_hex_string_is_not_the_id() {
    none(&scan("h=a9774d56d682e549c0 sn=00123456789ABCDEF"));
}

// ---- phone numbers ------------------------------------------------------------------

#[test]
fn finds_the_own_number_in_every_digit_form() {
    for form in [
        "+8613800138000",
        "8613800138000",
        "008613800138000",
        "13800138000",
        "013800138000",
    ] {
        let hits = scan(&format!("tel={form}&x=1"));
        let h = one(&hits, Kind::Phone);
        assert_eq!(h.len, form.len(), "{form}: {hits:#?}");
    }
}

#[test]
fn finds_the_own_number_written_with_separators() {
    for form in [
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "138 0013 8000",
        "(138) 0013-8000",
        "0086 138.0013.8000",
        "138/0013/8000",
    ] {
        let hits = scan(&format!("call me at {form}, thanks"));
        let h = one(&hits, Kind::Phone);
        assert_eq!(h.len, form.len(), "{form}: {hits:#?}");
    }
}

#[test]
fn finds_the_own_number_with_url_encoded_separators() {
    // As Android's Uri.Builder (%20) and Java's URLEncoder (+) write a stored number.
    for form in [
        "138%200013%208000",
        "138+0013+8000",
        "%2B86%20138%200013%208000",
        "%2b86+138+0013+8000",
        "138%2D0013%2D8000",
    ] {
        let hits = scan(&format!("externalId={form}&type=MXPH"));
        let h = one(&hits, Kind::Phone);
        assert_eq!(h.encoding, Encoding::Url, "{form}");
        assert_eq!(h.len, form.len(), "{form}: {hits:#?}");
    }
    none(&scan("externalId=138%200013%208001&a=138+0013+8009"));
}

#[test]
fn national_forms_follow_the_region_trunk_prefix() {
    let ids = Identifiers::from_toml("region = \"DE\"\nphone = [\"030 1234567\"]").unwrap();
    let d = Detector::new(&ids, &Options::default());
    for form in [
        "+49301234567",
        "0301234567",
        "030 1234567",
        "(030) 123-4567",
        "0049 30 1234567",
    ] {
        assert_eq!(d.scan(form.as_bytes(), Where::Body).len(), 1, "{form}");
    }
    let ids = Identifiers::from_toml("region = \"GB\"\nphone = [\"+44 20 7946 0018\"]").unwrap();
    let d = Detector::new(&ids, &Options::default());
    assert_eq!(d.scan(b"tel: 020 7946 0018", Where::Body).len(), 1);
}

#[test]
fn other_phone_numbers_and_longer_digit_runs_are_not_the_number() {
    none(&scan(
        "+8613800138001 13800138009 138001380001 2138001380005 +86 138 0013 8001 \
         tel:+1-555-123-4567 call 138 0013 80001",
    ));
}

// ---- MAC ----------------------------------------------------------------------------

#[test]
fn finds_the_mac_in_every_notation_and_case() {
    for form in [
        "02:00:00:44:55:66",
        "02-00-00-44-55-66",
        "0200.0044.5566",
        "020000445566",
        "02:00:00:44:55:66".to_uppercase().as_str(),
        "020000445566".to_uppercase().as_str(),
    ] {
        let hits = scan(&format!("bssid={form};"));
        assert_eq!(one(&hits, Kind::Mac).len, form.len(), "{form}");
    }
}

#[test]
fn a_mac_inside_a_longer_hex_string_is_not_the_mac() {
    none(&scan("x=a020000445566f"));
}

// ---- URL and JSON escapes -----------------------------------------------------------

#[test]
fn finds_percent_encoded_values() {
    let h = one(&scan("to=%2B8613800138000&a=1"), Kind::Phone);
    assert_eq!(h.len, "%2B8613800138000".len());
    assert_eq!(
        one(&scan("u=someone%40example.com"), Kind::Email).encoding,
        Encoding::Url
    );
    assert_eq!(
        one(&scan("u=someone%40EXAMPLE.com"), Kind::Email).encoding,
        Encoding::Url
    );
    assert_eq!(
        one(&scan("m=02%3A00%3A00%3A44%3A55%3A66"), Kind::Mac).encoding,
        Encoding::Url
    );
    let hits =
        scan("t=See+you+at+the+station+at+five&u=See%20you%20at%20the%20station%20at%20five");
    let sms: Vec<_> = hits.iter().filter(|h| h.kind == Kind::Sms).collect();
    assert_eq!(sms.len(), 2, "{hits:#?}");
    assert!(sms.iter().all(|h| h.encoding == Encoding::Url));
}

#[test]
fn a_number_right_after_a_percent_escape_is_still_bounded() {
    one(&scan("q=%2013800138000"), Kind::Phone);
}

#[test]
fn finds_json_escaped_values() {
    assert_eq!(
        one(&scan(r#"{"e":"someone\u0040example.com"}"#), Kind::Email).encoding,
        Encoding::Json
    );
    assert_eq!(
        one(&scan(r#"{"p":"\u002b8613800138000"}"#), Kind::Phone).encoding,
        Encoding::Json
    );
    let h = one(
        &scan(r#"{"m":"\u660e\u5929\u8f66\u7ad9\u89c1"}"#),
        Kind::Sms,
    );
    assert_eq!(h.encoding, Encoding::Json);
    // Upper-case hex digits in the escapes too.
    one(
        &scan(r#"{"m":"\u660E\u5929\u8F66\u7AD9\u89C1"}"#),
        Kind::Sms,
    );
}

#[test]
fn finds_non_ascii_sms_text_as_utf8() {
    one(&scan("{\"m\":\"明天车站见\"}"), Kind::Sms);
}

// ---- hex of the text ----------------------------------------------------------------

#[test]
fn finds_hex_of_the_value_text_in_either_case() {
    let h = hex_lower(b"861234567890127");
    assert_eq!(
        one(&scan(&format!("d={h}")), Kind::Imei).encoding,
        Encoding::Hex
    );
    assert_eq!(
        one(&scan(&format!("d={}", h.to_uppercase())), Kind::Imei).encoding,
        Encoding::Hex
    );
    let e = hex_lower(b"someone@example.com").to_uppercase();
    assert_eq!(
        one(&scan(&format!("d={e}")), Kind::Email).encoding,
        Encoding::Hex
    );
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- base64 -------------------------------------------------------------------------

#[test]
fn finds_base64_of_the_value_alone_in_both_alphabets_padded_or_not() {
    for enc in b64_forms(b"+8613800138000") {
        let hits = scan(&format!("p={enc}&"));
        assert_eq!(one(&hits, Kind::Phone).encoding, Encoding::Base64, "{enc}");
    }
}

#[test]
fn finds_base64_of_the_value_at_every_alignment_inside_larger_base64() {
    for value in [
        "861234567890127",
        "someone@example.com",
        "9774d56d682e549c",
        "China Mobile",
    ] {
        for prefix in 0..6 {
            let plain = format!(
                "{}{value}\x00\x7f tail",
                "k=v;".repeat(prefix).get(..prefix * 3).unwrap()
            );
            for enc in b64_forms(plain.as_bytes()) {
                let hits = scan(&format!("blob=\"{enc}\""));
                assert!(
                    hits.iter().any(|h| h.encoding == Encoding::Base64),
                    "{value} at {prefix} in {enc}: {hits:#?}"
                );
            }
        }
    }
}

#[test]
fn decodes_a_base64_blob_of_json_and_finds_what_is_inside() {
    let json = br#"{"event":"boot","imei":"861234567890127","mac":"02:00:00:44:55:66"}"#;
    let hits = scan(&format!("data={}", STANDARD.encode(json)));
    let h = one(&hits, Kind::Imei);
    assert_eq!(h.encoding, Encoding::Base64);
    assert!(h.evidence.contains("imei"), "{h:?}");
    let m = one(&hits, Kind::Mac);
    assert_eq!(
        (m.encoding, m.inner),
        (Encoding::Base64, Some(Encoding::Plain))
    );
}

#[test]
fn finds_a_digest_inside_a_base64_blob() {
    let inner = format!(
        "{{\"imei_md5\":\"{}\"}}",
        hex_lower(&md5::Md5::digest(b"861234567890127"))
    );
    let hits = scan(&URL_SAFE_NO_PAD.encode(inner));
    let h = one(&hits, Kind::Imei);
    assert_eq!(
        (h.encoding, h.inner),
        (Encoding::Base64, Some(Encoding::Md5))
    );
}

#[test]
fn base64_of_unrelated_data_gives_no_hits() {
    let mut blob = Vec::new();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        blob.push(x as u8);
    }
    for enc in b64_forms(&blob) {
        none(&scan(&enc));
    }
    none(&scan(&STANDARD.encode(
        b"{\"event\":\"open\",\"ts\":1712345678901,\"price\":12.99}",
    )));
}

// ---- digests ------------------------------------------------------------------------

#[test]
fn finds_md5_sha1_sha256_of_the_imei_as_hex_and_base64() {
    let v = b"861234567890127";
    let digests: [(Encoding, Vec<u8>); 3] = [
        (Encoding::Md5, md5::Md5::digest(v).to_vec()),
        (Encoding::Sha1, sha1::Sha1::digest(v).to_vec()),
        (Encoding::Sha256, sha2::Sha256::digest(v).to_vec()),
    ];
    for (enc, d) in &digests {
        let forms = [
            (hex_lower(d), DigestForm::Hex),
            (hex_lower(d).to_uppercase(), DigestForm::HexUpper),
            (STANDARD.encode(d), DigestForm::Base64),
            (URL_SAFE_NO_PAD.encode(d), DigestForm::Base64Url),
        ];
        for (text, form) in forms {
            let hits = scan(&format!("{{\"h\":\"{text}\"}}"));
            let h = one(&hits, Kind::Imei);
            assert_eq!(h.encoding, *enc, "{text}");
            assert!(!h.truncated, "{text}: {h:?}");
            // A digest without + / - _ reads the same in both alphabets.
            if !(matches!(form, DigestForm::Base64 | DigestForm::Base64Url))
                || text.contains(['+', '/', '-', '_'])
            {
                assert_eq!(h.digest_form, Some(form), "{text}");
            }
            assert!(!h.evidence.contains(&text[..text.len().min(20)]), "{h:?}");
        }
    }
}

#[test]
fn finds_the_first_16_chars_of_base64url_sha1_of_the_imei() {
    // The Redmi 1S activation request: H(x) = first 16 chars of base64url(SHA-1(x)).
    let h_imei = &URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(b"861234567890127"))[..16];
    let h_imsi = &URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(b"460011234567890"))[..16];
    let url = format!("GET http://api.account.xiaomi.com/pass/activate/dev/{h_imei}/activating?imsi={h_imsi} HTTP/1.1");
    let hits = scan_bytes(url.as_bytes(), Where::Url);
    for k in [Kind::Imei, Kind::Imsi] {
        let h = one(&hits, k);
        assert_eq!(
            (h.encoding, h.truncated, h.len),
            (Encoding::Sha1, true, 16),
            "{h:?}"
        );
        assert!(
            matches!(h.digest_form, Some(DigestForm::Base64Url)),
            "{h:?}"
        );
    }
    let ev = one(&hits, Kind::Imei).evidence;
    assert!(ev.contains("activate/dev/") && !ev.contains(h_imei), "{ev}");
}

#[test]
fn finds_digests_of_common_variants() {
    let cases: [(&[u8], Kind); 7] = [
        (b"+8613800138000", Kind::Phone),
        (b"8613800138000", Kind::Phone),
        (b"13800138000", Kind::Phone),
        (b"020000445566", Kind::Mac),
        (b"02:00:00:44:55:66", Kind::Mac),
        (b"9774D56D682E549C", Kind::AndroidId),
        (b"li.wei@example.com", Kind::Contact),
    ];
    for (v, kind) in cases {
        let hits = scan(&format!(
            "sig={}",
            hex_lower(&md5::Md5::digest(v)).to_uppercase()
        ));
        assert_eq!(
            one(&hits, kind).encoding,
            Encoding::Md5,
            "{}",
            String::from_utf8_lossy(v)
        );
        let hits = scan(&format!(
            "h={}",
            URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v))
        ));
        assert_eq!(one(&hits, kind).encoding, Encoding::Sha256);
    }
    // E-mails are hashed lower-cased.
    let ids = Identifiers::from_toml("email = [\"Someone@Example.com\"]").unwrap();
    let d = Detector::new(&ids, &Options::default());
    let h = hex_lower(&sha2::Sha256::digest(b"someone@example.com"));
    assert_eq!(d.scan(h.as_bytes(), Where::Body).len(), 1);
}

#[test]
fn a_digest_cut_to_twelve_characters_is_found_and_marked_truncated() {
    let h = hex_lower(&md5::Md5::digest(b"861234567890127"));
    let hit = one(&scan(&format!("x={}&", &h[..12])), Kind::Imei);
    assert!(hit.truncated);
    assert_eq!(hit.len, 12);
    none(&scan(&format!("x={}&", &h[..11])));
}

#[test]
fn digests_of_other_values_give_no_hits() {
    for v in ["861234567890124", "+8613800138001", "02:00:00:44:55:67"] {
        let text = format!(
            "{} {} {}",
            hex_lower(&md5::Md5::digest(v.as_bytes())),
            STANDARD.encode(sha1::Sha1::digest(v.as_bytes())),
            URL_SAFE.encode(sha2::Sha256::digest(v.as_bytes()))
        );
        none(&scan(&text));
    }
}

// ---- probable identifiers -----------------------------------------------------------

#[test]
fn reports_a_luhn_valid_imei_nobody_configured_as_probable() {
    let hits = empty_detector().scan(b"{\"deviceId\":\"490154203237518\"}", Where::Body);
    let h = one(&hits, Kind::Imei);
    assert_eq!(h.confidence, Confidence::Probable);
    assert_eq!(h.evidence, "\"deviceId\":\"49*********7518\"");
    // Wrong check digit, implausible TAC, one repeated digit: not IMEIs.
    for s in ["490154203237519", "111111111111111", "770154203237510"] {
        let hits = empty_detector().scan(s.as_bytes(), Where::Body);
        assert!(hits.iter().all(|h| h.kind != Kind::Imei), "{s}: {hits:#?}");
    }
}

#[test]
fn reports_an_imsi_with_a_real_mcc_as_probable() {
    let h = one(
        &empty_detector().scan(b"imsi=310150123456789", Where::Url),
        Kind::Imsi,
    );
    assert_eq!(h.confidence, Confidence::Probable);
    none(&empty_detector().scan(b"n=999150123456789 order=202401151234567", Where::Url));
}

#[test]
fn reports_an_iccid_starting_with_89_and_luhn_valid_as_probable() {
    let h = one(
        &empty_detector().scan(b"iccid=8944500102198304826", Where::Url),
        Kind::Iccid,
    );
    assert_eq!(h.confidence, Confidence::Probable);
    none(&empty_detector().scan(b"iccid=8944500102198304827", Where::Url));
}

#[test]
fn reports_mac_addresses_but_not_broadcast_zero_or_android_placeholder() {
    let hits = empty_detector().scan(b"bssid=a4:5e:60:c2:11:3b&x=AA-BB-CC-DD-EE-01", Where::Url);
    assert_eq!(
        hits.iter().filter(|h| h.kind == Kind::Mac).count(),
        2,
        "{hits:#?}"
    );
    none(&empty_detector().scan(
        b"ff:ff:ff:ff:ff:ff 00:00:00:00:00:00 02:00:00:00:00:00 12:30:45 fe80::1 2001:db8:0:0:1:2:3:4",
        Where::Body,
    ));
}

#[test]
fn reports_emails_next_to_identifier_keys_only() {
    let hits = empty_detector().scan(
        b"{\"device_id\":\"ab@cd.org\",\"contact\":\"x@y.com\"}",
        Where::Body,
    );
    assert_eq!(one(&hits, Kind::Email).confidence, Confidence::Probable);
    let hits = empty_detector().scan(b"gaid=someone@example.net", Where::Url);
    one(&hits, Kind::Email);
    none(&empty_detector().scan(b"Contact support@example.com for help", Where::Body));
}

#[test]
fn an_exact_hit_is_not_reported_again_as_probable() {
    let ids = Identifiers::from_toml("imei = [\"490154203237518\"]").unwrap();
    let d = Detector::new(&ids, &Options::default());
    let hits = d.scan(b"imei=490154203237518", Where::Url);
    assert_eq!(one(&hits, Kind::Imei).confidence, Confidence::Exact);
}

// ---- location -----------------------------------------------------------------------

#[test]
fn finds_a_position_within_the_radius_as_a_pair_or_under_keys() {
    for text in [
        "ll=39.9050,116.4080&z=3",
        "{\"coordinates\":[116.40800,39.90500]}",
        "{\"lat\":39.90512,\"accuracy\":20,\"ts\":1712345678,\"name\":\"x\",\"lng\":116.40812}",
        "latitude=39.905&foo=bar&longitude=116.408",
    ] {
        let hits = scan(text);
        let h = one(&hits, Kind::Location);
        assert_eq!(h.confidence, Confidence::Exact);
        assert!(
            !h.evidence.contains("9050") && !h.evidence.contains("4080"),
            "{h:?}"
        );
    }
}

#[test]
fn positions_outside_the_radius_and_other_decimals_are_not_the_location() {
    none(&scan(
        "ll=39.9500,116.4080 price=39.990 total=116.407 ver=39.904.2 lat=31.2304&lon=121.4737",
    ));
}

// ---- false positives ----------------------------------------------------------------

#[test]
fn ordinary_traffic_gives_no_hits() {
    let benign = concat!(
        "POST /api/v2/events?ts=1712345678&ms=1712345678901&nonce=4fd1c2a3b4e5f607 HTTP/1.1\r\n",
        "Host: example.org\r\nUser-Agent: Mozilla/5.0 (Linux; Android 14; Pixel 8)\r\n",
        "X-Request-Id: 3f2504e0-4f89-11d3-9a0c-0305e82c3301\r\n",
        "Cookie: sid=Zm9vYmFyYmF6cXV4cXV1eA; theme=dark\r\n\r\n",
        "{\"price\":12.99,\"total\":1234.5,\"qty\":3,\"uuid\":\"123e4567-e89b-12d3-a456-426614174000\",",
        "\"date\":\"2024-04-05T12:34:56.789Z\",\"phone\":\"+1 555 010 9999\",\"id\":1234567890123456789,",
        "\"sha\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\",\"ip\":\"192.168.1.20\"}"
    );
    none(&scan(benign));
    none(&empty_detector().scan(benign.as_bytes(), Where::Body));
}

#[test]
fn random_bytes_give_no_hits() {
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut data = vec![0u8; 1 << 20];
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    none(&scan_bytes(&data, Where::Payload));
}

#[test]
fn kinds_and_encodings_serialise_in_snake_case() {
    let h = one(&scan("aid=9774d56d682e549c"), Kind::AndroidId);
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["kind"], "android_id");
    assert_eq!(json["encoding"], "plain");
    assert_eq!(json["where"], "body");
    assert_eq!(json["confidence"], "exact");
    assert_eq!(Kind::AdId.to_string(), "ad_id");
    assert_eq!(DigestForm::Base64Url.to_string(), "base64url");
}
