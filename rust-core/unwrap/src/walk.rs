//! The walk: peel every layer a payload shows, then every layer those show, breadth
//! first (so shallow views come before deep ones when a limit stops the walk), skipping
//! what was already found along another path.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::bits::B64Bits;
use crate::compressed::{inflate, sniff};
use crate::text::{
    base64_decode, base64_runs_in, form_fields, has_percent_escape, hex_decode, hex_decode_into,
    is_text, json_strings, percent_decode,
};
use crate::{Budget, Layer, Limits, View};

/// Every view hidden inside `input` (not `input` itself), shallowest first. Decoded
/// bytes are charged to `budget`; the walk stops when it is spent.
pub fn unwrap(input: &[u8], limits: &Limits, budget: &mut Budget) -> Vec<View> {
    walk(input, None, limits, budget)
}

/// [`unwrap`] with the mask of `input`'s base64 characters already computed: bit
/// `i % 64` of word `i / 64` set when byte `i` is a letter, a digit, `+`, `/`, `-` or
/// `_`, and a zero word after the last. The detector computes it in its own pass
/// (`phonehome_detect::Detector::scan_then`); a mask of another shape is ignored and
/// computed again.
pub fn unwrap_with_base64_mask(
    input: &[u8],
    mask: &[u64],
    limits: &Limits,
    budget: &mut Budget,
) -> Vec<View> {
    walk(
        input,
        B64Bits::from_words(mask, input.len()),
        limits,
        budget,
    )
}

fn walk(input: &[u8], bits: Option<B64Bits>, limits: &Limits, budget: &mut Budget) -> Vec<View> {
    let mut walk = Walk {
        limits,
        budget,
        input,
        nodes: Vec::new(),
        seen: HashSet::new(),
        parent: None,
    };
    walk.expand(input, &[], bits);
    let mut next = 0;
    while next < walk.nodes.len() && !walk.full() {
        let node = &mut walk.nodes[next];
        if !node.expanded && node.view.layers.len() < limits.max_depth {
            node.expanded = true;
            let bytes = std::mem::take(&mut node.view.bytes);
            let layers = node.view.layers.clone();
            walk.parent = Some(next);
            walk.expand(&bytes, &layers, None);
            walk.nodes[next].view.bytes = bytes;
        }
        next += 1;
    }
    walk.nodes.into_iter().map(|n| n.view).collect()
}

#[derive(Debug)]
struct Node {
    view: View,
    /// Its own layers were already looked for.
    expanded: bool,
}

struct Walk<'a> {
    limits: &'a Limits,
    budget: &'a mut Budget,
    /// Compared, not hashed: most inputs give no view at all, and hashing 64 KiB cost
    /// more than the rest of such a walk.
    input: &'a [u8],
    nodes: Vec<Node>,
    /// Digests of the views already found.
    seen: HashSet<u64>,
    /// Where what `expand` finds was found.
    parent: Option<usize>,
}

fn digest(b: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

fn chain(parent: &[Layer], layer: Layer) -> Vec<Layer> {
    let mut layers = parent.to_vec();
    layers.push(layer);
    layers
}

/// What a run of base64 characters looks like as hex: whether it is all hex digits
/// and dashes, and whether it has a dash. One pass without early exits, so the
/// compiler vectorizes it: runs in ordinary JSON (UUIDs, signatures) are mostly hex.
fn hex_shape(run: &[u8]) -> (bool, bool) {
    let mut other = false;
    let mut dash = false;
    for &c in run {
        other |= !crate::bits::is_hex(c) & (c != b'-');
        dash |= c == b'-';
    }
    (!other, dash)
}

/// Raw deflate and brotli are tried only on at least this many bytes: shorter runs are
/// tokens and digests (a SHA-256 is 32 bytes), and short random bytes inflate to
/// something readable too often.
const MIN_TRIAL: usize = 33;

impl Walk<'_> {
    fn full(&self) -> bool {
        self.nodes.len() >= self.limits.max_views || self.budget.left() == 0
    }

    /// What one layer may still decode to.
    fn cap(&self) -> usize {
        self.limits.layer_cap.min(self.budget.left())
    }

    /// Records a view unless it is empty, already known, or the walk is full. Returns
    /// whether it was recorded.
    fn add(&mut self, layers: Vec<Layer>, mut bytes: Vec<u8>, mut capped: bool) -> bool {
        if bytes.is_empty() || self.full() {
            return false;
        }
        let cap = self.cap();
        if bytes.len() > cap {
            bytes.truncate(cap);
            capped = true;
        }
        if bytes[..] == *self.input || !self.seen.insert(digest(&bytes)) {
            return false;
        }
        self.budget.spend(bytes.len());
        self.nodes.push(Node {
            view: View {
                layers,
                bytes,
                parent: self.parent,
                capped,
            },
            expanded: false,
        });
        true
    }

    /// Looks for the layers `bytes` shows; `bits` are its base64 characters, when known.
    fn expand(&mut self, bytes: &[u8], layers: &[Layer], bits: Option<B64Bits>) {
        if self.full() {
            return;
        }
        if let Some(layer) = sniff(bytes) {
            if let Some(out) = inflate(layer, bytes, self.cap()) {
                // A stream cut off by the scan limit still gives its beginning; a false
                // alarm of the sniffer gives garbage, which is dropped.
                if out.complete || out.capped || useful(&out.bytes) {
                    self.add(chain(layers, layer), out.bytes, out.capped);
                    return;
                }
            }
        }
        // Each text layer needs one of these bytes (a form `%` or `+`, a URL `%`, a JSON
        // string `\\`): without them the text test over the whole payload is skipped.
        if memchr::memchr3(b'%', b'+', b'\\', bytes).is_some() && is_text(bytes) {
            if let Some(fields) = form_fields(bytes) {
                self.add(chain(layers, Layer::Form), fields, false);
            } else if has_percent_escape(bytes) {
                self.add(
                    chain(layers, Layer::Url),
                    percent_decode(bytes, false),
                    false,
                );
            }
            if let Some(strings) = json_strings(bytes) {
                self.add(chain(layers, Layer::Json), strings, false);
            }
        }
        let bits = bits.unwrap_or_else(|| B64Bits::new(bytes));
        for (s, e) in base64_runs_in(bytes, &bits, self.limits.min_run) {
            if self.full() {
                return;
            }
            self.decoded_run(&bytes[s..e], layers);
        }
    }

    /// A base64 or hex run: kept when it decodes to text or to a compressed stream.
    fn decoded_run(&mut self, run: &[u8], layers: &[Layer]) {
        let (hex_or_dash, dash) = hex_shape(run);
        // UUIDs and other hex with dashes: base64 only by accident.
        if hex_or_dash && dash {
            return;
        }
        // Base64 that holds only hex digits for 16 characters is a chance of 1 in 10^7.
        if hex_or_dash {
            // Most hex runs are ids and digests, too short for a deflate trial and
            // decoding to neither text nor a stream: judged on the stack first.
            if run.len() < 2 * MIN_TRIAL {
                let mut buf = [0u8; MIN_TRIAL];
                match hex_decode_into(run, &mut buf) {
                    Some(n) if useful(&buf[..n]) => {}
                    _ => return,
                }
            }
            self.try_decoded(Layer::Hex, hex_decode(run), layers);
            return;
        }
        if self.try_decoded(Layer::Base64, base64_decode(run), layers) {
            return;
        }
        // A blob at the end of a path (`/v1/H4sI...`) is misaligned as part of the run.
        if run.contains(&b'/') {
            for part in run.split(|&c| c == b'/') {
                if part.len() >= self.limits.min_run
                    && self.try_decoded(Layer::Base64, base64_decode(part), layers)
                {
                    return;
                }
            }
        }
    }

    fn try_decoded(&mut self, layer: Layer, decoded: Option<Vec<u8>>, layers: &[Layer]) -> bool {
        let Some(decoded) = decoded else {
            return false;
        };
        if useful(&decoded) {
            return self.add(chain(layers, layer), decoded, false);
        }
        if decoded.len() < MIN_TRIAL {
            return false;
        }
        // Raw deflate and brotli have no magic: they count only if they end cleanly
        // and give something readable.
        let cap = self.cap();
        for inner in [Layer::Deflate, Layer::Brotli] {
            let Some(out) = inflate(inner, &decoded, cap) else {
                continue;
            };
            // Compressed text grows back, and a stream that came out of base64 or hex
            // ends where its text did.
            let whole = out.used.is_none_or(|used| used + 1 >= decoded.len());
            let grew = out.bytes.len() >= decoded.len();
            if !((out.complete || out.capped) && whole && grew && useful(&out.bytes)) {
                // The attempt cost work all the same.
                self.budget.spend(out.bytes.len());
                continue;
            }
            {
                let outer = chain(layers, layer);
                let inner_chain = chain(&outer, inner);
                if !self.add(outer, decoded, false) {
                    return false;
                }
                // The decoded bytes are opened here, so the walk does not try again.
                let outer_index = self.nodes.len() - 1;
                self.nodes[outer_index].expanded = true;
                let parent = self.parent.replace(outer_index);
                self.add(inner_chain, out.bytes, out.capped);
                self.parent = parent;
                return true;
            }
        }
        false
    }
}

/// Text, or a compressed stream to open next.
fn useful(b: &[u8]) -> bool {
    sniff(b).is_some() || is_text(b)
}

#[cfg(test)]
mod tests {
    use super::hex_shape;

    /// The two tests as they were before they became one pass.
    fn is_hex_before(run: &[u8]) -> bool {
        run.iter().all(u8::is_ascii_hexdigit)
    }

    fn is_dashed_hex_before(run: &[u8]) -> bool {
        run.contains(&b'-') && run.iter().all(|&c| c == b'-' || c.is_ascii_hexdigit())
    }

    fn same(run: &[u8]) -> bool {
        let (hex_or_dash, dash) = hex_shape(run);
        (hex_or_dash && dash) == is_dashed_hex_before(run)
            && (!is_dashed_hex_before(run) && hex_or_dash) == is_hex_before(run)
    }

    #[test]
    fn every_byte_alone_and_beside_a_dash_is_judged_as_before() {
        for c in 0..=255u8 {
            for run in [vec![c], vec![c, b'-'], vec![b'a', c, b'F']] {
                assert!(same(&run), "{run:?}");
            }
        }
    }

    #[test]
    fn short_hex_is_opened_when_it_holds_text_and_left_when_it_is_a_digest() {
        let text = b"{\"imei\":\"86123456789\"}";
        let hex: String = text.iter().map(|b| format!("{b:02x}")).collect();
        assert!(hex.len() < 2 * super::MIN_TRIAL);
        let body = format!("{{\"d\":\"{hex}\",\"sig\":\"9f86d081884c7d659a2feaa0c55ad015\"}}");
        let limits = crate::Limits::for_scan_limit(65536);
        let views = crate::unwrap(body.as_bytes(), &limits, &mut crate::Budget::new(1 << 20));
        assert_eq!(views.len(), 1, "{views:?}");
        assert_eq!(views[0].layers, [crate::Layer::Hex]);
        assert_eq!(views[0].bytes, text);
    }

    #[test]
    fn each_text_layer_is_opened_when_its_one_sign_is_the_only_one() {
        let limits = crate::Limits::for_scan_limit(65536);
        let open = |body: &[u8]| {
            let views = crate::unwrap(body, &limits, &mut crate::Budget::new(1 << 20));
            views.into_iter().map(|v| v.layers).collect::<Vec<_>>()
        };
        use crate::Layer::{Form, Json, Url};
        assert_eq!(
            open(b"a=1&name=Jane+Doe"),
            [vec![Form]],
            "a form with only `+`"
        );
        assert_eq!(open(b"q=a%40b"), [vec![Form]], "a form with only `%`");
        assert_eq!(open(b"see a%40b"), [vec![Url]], "a URL escape");
        assert_eq!(open(br#"{"u":"a\/b"}"#), [vec![Json]], "a JSON escape");
        assert!(open(br#"{"u":"a/b=c"}"#).is_empty(), "none of the three");
    }

    #[test]
    fn a_mask_of_another_shape_is_computed_again() {
        let hex: String = b"{\"imei\":\"86123456789\"}"
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = format!("{{\"d\":\"{hex}\"}}");
        let body = body.as_bytes();
        let limits = crate::Limits::for_scan_limit(65536);
        let own = crate::unwrap(body, &limits, &mut crate::Budget::new(1 << 20));
        assert_eq!(own.len(), 1);
        let words = body.len().div_ceil(64) + 1;
        let all_set = vec![!0u64; words];
        let mut past_end = vec![0u64; words];
        past_end[words - 2] = 1 << 63;
        for mask in [&[][..], &[0], &all_set, &past_end, &vec![0; words + 1]] {
            assert!(crate::bits::B64Bits::from_words(mask, body.len()).is_none());
            let views = crate::unwrap_with_base64_mask(
                body,
                mask,
                &limits,
                &mut crate::Budget::new(1 << 20),
            );
            assert_eq!(views, own, "{mask:x?}");
        }
        // The right shape is trusted: all clear, the walk sees no run.
        let clear = vec![0u64; words];
        let views =
            crate::unwrap_with_base64_mask(body, &clear, &limits, &mut crate::Budget::new(1 << 20));
        assert!(views.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn runs_are_judged_as_before(
            run in proptest::collection::vec(
                proptest::prop_oneof![
                    20 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                    2 => proptest::sample::select(b"-gGzZ/+_".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                1..80,
            ),
        ) {
            proptest::prop_assert!(same(&run));
        }
    }
}
