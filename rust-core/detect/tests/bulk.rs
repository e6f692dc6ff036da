//! A large address book: contacts' and SMS peers' numbers beyond `Options::bulk_after`
//! stay out of the automaton and are looked up as whole digit runs. They are found in
//! the same digit forms, and the automaton does not grow with the address book.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use phonehome_detect::{Detector, Encoding, Hit, Identifiers, Kind, Options, Where};

const IDS: &str = include_str!("identifiers.toml");

fn detector(bulk_after: usize) -> Detector {
    Detector::new(
        &Identifiers::from_toml(IDS).expect("the fixture parses"),
        &Options {
            bulk_after,
            ..Options::default()
        },
    )
}

fn forms(hits: &[Hit], kind: Kind) -> Vec<(Encoding, Option<Encoding>)> {
    let mut v: Vec<_> = hits
        .iter()
        .filter(|h| h.kind == kind)
        .map(|h| (h.encoding, h.inner))
        .collect();
    v.sort_by_key(|f| format!("{f:?}"));
    v
}

/// The fixture's contact is +86 139 1234 5678, its SMS peer +86 137 0000 0000.
const TEXTS: &[(&str, Kind, Encoding)] = &[
    ("tel=+8613912345678&x=1", Kind::Contact, Encoding::Plain),
    ("tel=8613912345678;", Kind::Contact, Encoding::Plain),
    (
        "{\"to\":\"008613912345678\"}",
        Kind::Contact,
        Encoding::Plain,
    ),
    ("n=13912345678", Kind::Contact, Encoding::Plain),
    ("n=013912345678", Kind::Contact, Encoding::Plain),
    ("q=%2B8613912345678", Kind::Contact, Encoding::Url),
    ("q=call%2013912345678", Kind::Contact, Encoding::Plain),
    (
        "{\"p\":\"\\u002b8613912345678\"}",
        Kind::Contact,
        Encoding::Json,
    ),
    ("h=3133393132333435363738", Kind::Contact, Encoding::Hex),
    (
        "h=2b38363133393132333435363738",
        Kind::Contact,
        Encoding::Hex,
    ),
    ("tel: 139-1234-5678.", Kind::Contact, Encoding::Plain),
    ("to=+86 137 0000 0000", Kind::Sms, Encoding::Plain),
    ("to=13700000000", Kind::Sms, Encoding::Plain),
];

#[test]
fn a_bulk_number_is_found_in_every_digit_form_the_automaton_finds() {
    let (full, bulk) = (detector(usize::MAX), detector(0));
    for &(text, kind, encoding) in TEXTS {
        let want = full.scan(text.as_bytes(), Where::Body);
        let got = bulk.scan(text.as_bytes(), Where::Body);
        assert_eq!(forms(&want, kind), [(encoding, None)], "{text}: {want:#?}");
        assert_eq!(forms(&got, kind), forms(&want, kind), "{text}: {got:#?}");
        for h in &got {
            assert!(!h.evidence.contains("12345678"), "{text}: {h:?}");
        }
    }
}

#[test]
fn a_bulk_number_inside_a_base64_blob_is_found_by_decoding_it() {
    let blob = STANDARD.encode(br#"{"contact":"+8613912345678","v":2}"#);
    let hits = detector(0).scan(format!("d={blob}").as_bytes(), Where::Body);
    assert_eq!(
        forms(&hits, Kind::Contact),
        [(Encoding::Base64, Some(Encoding::Plain))],
        "{hits:#?}"
    );
}

#[test]
fn a_bulk_number_inside_a_longer_number_or_other_digits_is_not_the_number() {
    let bulk = detector(0);
    for text in [
        "n=913912345678",
        "n=139123456789",
        "ts=1712345678901",
        "h=31333931323334353637",
        "h=3133393132333435363739",
    ] {
        let hits = bulk.scan(text.as_bytes(), Where::Body);
        assert!(forms(&hits, Kind::Contact).is_empty(), "{text}: {hits:#?}");
    }
}

#[test]
fn the_automaton_does_not_grow_with_the_address_book() {
    let own = Identifiers::from_toml(IDS).expect("the fixture parses");
    let mut book = own.clone();
    for i in 0..2_000u64 {
        book.contact.push(phonehome_detect::Contact {
            phone: vec![format!("+86{}", 13_000_000_000 + i * 7_919)],
            ..Default::default()
        });
    }
    let opts = Options::default();
    let without = Detector::new(&own, &opts).pattern_count();
    // The fixture's own contact and SMS peer leave the automaton too.
    let with = Detector::new(&book, &opts).pattern_count();
    assert!(
        with <= without,
        "{with} patterns, {without} without the book"
    );
    let hits = Detector::new(&book, &opts).scan(b"tel=+8613000007919&", Where::Url);
    assert_eq!(
        forms(&hits, Kind::Contact),
        [(Encoding::Plain, None)],
        "{hits:#?}"
    );
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Digit runs, escapes and separators in any order: the whole-run lookups never
        /// panic and every hit lies inside the scanned bytes.
        #[test]
        fn digit_heavy_input_never_panics(parts in proptest::collection::vec(
            prop_oneof![
                Just("%2B"), Just("%20"), Just("\\u002b"), Just("\\u"), Just("+"), Just("-"),
                Just("3"), Just("13912345678"), Just("86"), Just("0"), Just("2b"), Just("%"),
            ],
            0..24,
        )) {
            let text = parts.concat();
            static BULK: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
            let bulk = BULK.get_or_init(|| detector(0));
            for h in bulk.scan(text.as_bytes(), Where::Body) {
                prop_assert!(h.offset + h.len <= text.len(), "{h:?} in {text}");
            }
        }
    }
}
