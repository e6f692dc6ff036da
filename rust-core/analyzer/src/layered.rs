//! The detector over a piece of traffic and over every view hidden inside it (the
//! unwrap crate's), each hit with the layers it was found under.

use phonehome_detect::{Detector, Hit, Kind, Where};
use phonehome_unwrap::{unwrap, Budget, Layer, Limits};

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
    let at_top: Vec<Kind> = out.iter().map(|h| h.hit.kind).collect();
    let views = unwrap(bytes, limits, budget);
    // Kinds each view showed, by index in `views`.
    let mut shown: Vec<Vec<Kind>> = Vec::with_capacity(views.len());
    for view in &views {
        if phonehome_unwrap::is_compressed(&view.bytes) {
            shown.push(Vec::new());
            continue;
        }
        let hits = detector.scan(&view.bytes, place);
        let kinds: Vec<Kind> = hits.iter().map(|h| h.kind).collect();
        for hit in hits {
            if !seen_above(hit.kind, view.parent, &views, &shown, &at_top) {
                out.push(LayeredHit {
                    layers: view.layers.clone(),
                    hit,
                });
            }
        }
        shown.push(kinds);
    }
    out
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
