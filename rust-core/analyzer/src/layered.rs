//! The detector over a piece of traffic and over every view hidden inside it (the
//! unwrap crate's), each hit with the layers it was found under.

use phonehome_detect::{Detector, Hit, Kind, Where};
use phonehome_unwrap::{unwrap_with_base64_mask, Budget, Layer, Limits};

/// A hit and the wrappings around it, outermost first.
#[derive(Debug)]
pub struct LayeredHit {
    pub layers: Vec<Layer>,
    pub hit: Hit,
}

/// Scans `bytes` and what is wrapped inside it, charging decoded bytes to `budget`.
///
/// A kind found in a view is left out when the bytes that view came from (or theirs,
/// up to `bytes`) already showed that kind: peeling a layer that hid nothing new
/// (URL-decoding a body whose IMEI was already readable) reports nothing twice.
pub fn scan(
    detector: &Detector,
    bytes: &[u8],
    place: Where,
    limits: &Limits,
    budget: &mut Budget,
) -> Vec<LayeredHit> {
    // The walk reads the detector's byte classes of `bytes` instead of its own pass.
    let (hits, views) = detector.scan_then(bytes, place, |base64| {
        if budget.left() == 0 {
            Vec::new()
        } else {
            unwrap_with_base64_mask(bytes, base64, limits, budget)
        }
    });
    let mut out: Vec<LayeredHit> = hits
        .into_iter()
        .map(|hit| LayeredHit {
            layers: Vec::new(),
            hit,
        })
        .collect();
    add_views(detector, &views, place, &mut out);
    out
}

/// Adds the hits of each view to `out` (which holds the hits of the bytes themselves),
/// leaving out kinds the bytes above a view already showed.
fn add_views(
    detector: &Detector,
    views: &[phonehome_unwrap::View],
    place: Where,
    out: &mut Vec<LayeredHit>,
) {
    let at_top: Vec<Kind> = out.iter().map(|h| h.hit.kind).collect();
    // Kinds each view showed, by index in `views`.
    let mut shown: Vec<Vec<Kind>> = Vec::with_capacity(views.len());
    for view in views {
        if phonehome_unwrap::is_compressed(&view.bytes) {
            shown.push(Vec::new());
            continue;
        }
        let hits = detector.scan(&view.bytes, place);
        let kinds: Vec<Kind> = hits.iter().map(|h| h.kind).collect();
        for hit in hits {
            if !seen_above(hit.kind, view.parent, views, &shown, &at_top) {
                out.push(LayeredHit {
                    layers: view.layers.clone(),
                    hit,
                });
            }
        }
        shown.push(kinds);
    }
}

/// Whether `kind` was shown by view `parent` or any view (or the input) above it.
fn seen_above(
    kind: Kind,
    mut parent: Option<usize>,
    views: &[phonehome_unwrap::View],
    shown: &[Vec<Kind>],
    at_top: &[Kind],
) -> bool {
    // Parents come before their children, so each step goes up the list.
    while let Some(p) = parent {
        if shown.get(p).is_some_and(|k| k.contains(&kind)) {
            return true;
        }
        parent = views.get(p).and_then(|v| v.parent).filter(|&q| q < p);
    }
    at_top.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_detect::{Identifiers, Options};
    use std::io::Write;

    fn detector() -> Detector {
        let ids = Identifiers::from_toml("imei = [\"861234567890127\"]\n").unwrap();
        Detector::new(&ids, &Options::default())
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn hex(data: &[u8]) -> String {
        data.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn scan_all(bytes: &[u8]) -> Vec<(Vec<Layer>, &'static str)> {
        let limits = Limits::for_scan_limit(64 * 1024);
        let mut budget = Budget::for_scan_limit(64 * 1024);
        scan(&detector(), bytes, Where::Body, &limits, &mut budget)
            .into_iter()
            .map(|h| (h.layers, h.hit.encoding.as_str()))
            .collect()
    }

    #[test]
    fn an_imei_inside_hex_of_gzip_is_found_with_both_layers() {
        let body = format!(
            "{{\"d\":\"{}\"}}",
            hex(&gzip(b"{\"imei\":\"861234567890127\"}"))
        );
        assert_eq!(
            scan_all(body.as_bytes()),
            [(vec![Layer::Hex, Layer::Gzip], "plain")]
        );
    }

    #[test]
    fn a_layer_that_hides_nothing_new_reports_nothing_twice() {
        // The IMEI is readable as it travels; URL-decoding the body finds it again.
        assert_eq!(
            scan_all(b"a=1&imei=861234567890127&b=%7B%7D"),
            [(vec![], "plain")]
        );
    }

    /// `scan` as it was before the walk read the detector's classes: the detector,
    /// then the walk over its own.
    fn scan_before(
        detector: &Detector,
        bytes: &[u8],
        place: Where,
        limits: &Limits,
        budget: &mut Budget,
    ) -> Vec<LayeredHit> {
        let mut out: Vec<LayeredHit> = detector
            .scan(bytes, place)
            .into_iter()
            .map(|hit| LayeredHit {
                layers: Vec::new(),
                hit,
            })
            .collect();
        if budget.left() == 0 {
            return out;
        }
        let views = phonehome_unwrap::unwrap(bytes, limits, budget);
        add_views(detector, &views, place, &mut out);
        out
    }

    fn base64(data: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        data.chunks(3)
            .flat_map(|c| {
                let n = c
                    .iter()
                    .enumerate()
                    .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
                (0..=c.len()).map(move |i| T[(n >> (18 - 6 * i) & 63) as usize] as char)
            })
            .collect()
    }

    /// Pieces of a payload: plain or wrapped IMEIs, digests, escapes, noise.
    fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let imei = b"{\"imei\":\"861234567890127\"}".to_vec();
        prop_oneof![
            Just(imei.clone()),
            Just(base64(&imei).into_bytes()),
            Just(hex(&imei).into_bytes()),
            Just(hex(&gzip(&imei)).into_bytes()),
            Just(base64(&gzip(&imei)).into_bytes()),
            Just(b"a=1&d=%7B%22imei%22%3A%22861234567890127%22%7D".to_vec()),
            Just(b"\"u\":\"https:\\/\\/x.org\\/p\"".to_vec()),
            Just(b"9f86d081884c7d659a2feaa0c55ad015".to_vec()),
            Just(b"d3b07384-d9a0-4c9b-8f8e-1c2f3a4b5c6d".to_vec()),
            proptest::collection::vec(
                proptest::sample::select(b"Aa0+/-_=\"{}:,. \n%\\".to_vec()),
                0..80
            ),
            proptest::collection::vec(any::<u8>(), 0..80),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        #[test]
        fn the_walk_on_the_detectors_classes_finds_what_it_found_on_its_own(
            pieces in proptest::collection::vec(piece(), 0..12),
            cap in proptest::sample::select(vec![0usize, 300, 1 << 20]),
        ) {
            let bytes = pieces.concat();
            let det = detector();
            let limits = Limits::for_scan_limit(64 * 1024);
            let (mut new, mut old) = (Budget::new(cap), Budget::new(cap));
            let hits = scan(&det, &bytes, Where::Body, &limits, &mut new);
            let before = scan_before(&det, &bytes, Where::Body, &limits, &mut old);
            proptest::prop_assert_eq!(format!("{hits:?}"), format!("{before:?}"));
            proptest::prop_assert_eq!(new, old);
            let (_, views) = det.scan_then(&bytes, Where::Body, |mask| {
                phonehome_unwrap::unwrap_with_base64_mask(&bytes, mask, &limits, &mut Budget::new(cap))
            });
            let own = phonehome_unwrap::unwrap(&bytes, &limits, &mut Budget::new(cap));
            proptest::prop_assert_eq!(views, own);
        }
    }

    #[test]
    fn without_budget_only_the_bytes_as_they_travelled_are_scanned() {
        let body = format!(
            "{{\"d\":\"{}\"}}",
            hex(&gzip(b"{\"imei\":\"861234567890127\"}"))
        );
        let limits = Limits::for_scan_limit(64 * 1024);
        let hits = scan(
            &detector(),
            body.as_bytes(),
            Where::Body,
            &limits,
            &mut Budget::new(0),
        );
        assert!(hits.is_empty());
    }
}
