//! Property tests: no input makes the detector panic, and a configured value placed
//! anywhere in random text, in any supported form, is found.

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use sha1::Digest as _;

use phonehome_detect::{Detector, Identifiers, Kind, Options, Where};

const IDS: &str = include_str!("identifiers.toml");
fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        Detector::new(
            &Identifiers::from_toml(IDS).expect("test identifiers parse"),
            &Options::default(),
        )
    })
}

fn empty() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(&Identifiers::default(), &Options::default()))
}

const VALUES: &[(&str, Kind)] = &[
    ("861234567890127", Kind::Imei),
    ("460011234567890", Kind::Imsi),
    ("+8613800138000", Kind::Phone),
    ("13800138000", Kind::Phone),
    ("9774d56d682e549c", Kind::AndroidId),
    ("02:00:00:44:55:66", Kind::Mac),
    ("someone@example.com", Kind::Email),
    ("See you at the station at five", Kind::Sms),
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value in encoding number `enc`; `pre`/`post` are bytes around it inside a
/// base64 blob (so the value starts at every alignment).
fn encode(value: &str, enc: u8, pre: &[u8], post: &[u8]) -> String {
    match enc {
        0 => value.to_string(),
        1 => percent(value),
        2 => value.replace('@', "\\u0040").replace('+', "\\u002b"),
        3 => hex(value.as_bytes()),
        4 => hex(value.as_bytes()).to_uppercase(),
        5 | 6 => {
            let mut blob = pre.to_vec();
            blob.extend_from_slice(value.as_bytes());
            blob.extend_from_slice(post);
            if enc == 5 {
                STANDARD.encode(blob)
            } else {
                URL_SAFE_NO_PAD.encode(blob)
            }
        }
        7 => hex(&md5::Md5::digest(value.as_bytes())),
        8 => URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(value.as_bytes()))[..16].to_string(),
        _ => STANDARD.encode(sha2::Sha256::digest(value.as_bytes())),
    }
}

fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z ,;{}\"=&:]{0,200}").expect("valid regex")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scanning_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = detector().scan(&data, Where::Payload);
        let _ = empty().scan(&data, Where::Payload);
    }

    #[test]
    fn scanning_identifier_like_text_never_panics(
        text in proptest::string::string_regex(r"[0-9a-fA-F+/=_%@.:,\-() \\u]{0,600}").expect("valid regex")
    ) {
        let _ = detector().scan(text.as_bytes(), Where::Body);
        let _ = empty().scan(text.as_bytes(), Where::Body);
    }

    #[test]
    fn a_value_in_random_text_in_any_form_is_found(
        which in 0..VALUES.len(),
        enc in 0u8..10,
        before in filler(),
        after in filler(),
        pre in proptest::collection::vec(any::<u8>(), 0..9),
        post in proptest::collection::vec(any::<u8>(), 0..9),
    ) {
        let (value, kind) = VALUES[which];
        let text = format!("{before} {} {after}", encode(value, enc, &pre, &post));
        let hits = detector().scan(text.as_bytes(), Where::Body);
        prop_assert!(
            hits.iter().any(|h| h.kind == kind),
            "{value} as encoding {enc} not found in {text:?}: {hits:#?}"
        );
        for h in &hits {
            prop_assert!(!h.evidence.contains(value));
        }
    }
}
