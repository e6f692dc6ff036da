//! The matcher: every form of every configured identifier compiled into one
//! Aho-Corasick automaton (ASCII case-insensitive; case-sensitive forms are verified
//! after the match), plus structural scans for what no pattern can list: numbers
//! written with separators, identifiers nobody configured, positions, base64 blobs.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::fmt;

use crate::boundary::{boundary_ok, Boundary};
use crate::classify::{Bits, Class, Classes};
use crate::encode::{self, Algo, JsonStyle};
use crate::hit::{evidence, Found, Hit, PROBABLE};
use crate::ids::Identifiers;
use crate::mask::{mask, mask_head};
use crate::packed::{self, Short};
use crate::phone;
use crate::prefilter::Sampled;
use crate::structure::Structure;
use crate::{Confidence, DigestForm, Encoding, Kind, Where};

/// Tuning; the defaults are what the product uses.
#[derive(Debug, Clone)]
pub struct Options {
    /// Report structurally probable identifiers (Luhn-valid IMEIs, IMSIs with a real
    /// MCC, ICCIDs, MACs, e-mails next to identifier keys).
    pub probable: bool,
    /// Decode runs of base64 text once and scan what they hold.
    pub decode_base64_blobs: bool,
    /// Shortest base64 run worth decoding (at least 15: runs are found by sampling
    /// aligned 8-byte words).
    pub min_base64_blob: usize,
    /// Digest prefixes shorter than this are not looked for (12 hex characters are 48
    /// bits: no accidental matches in practice).
    pub min_digest_prefix: usize,
    /// Values whose base64 form has fewer stable characters than this are not looked
    /// for inside base64 (short values would match by chance).
    pub min_base64_stable: usize,
    /// When contacts and SMS hold more values than this, their phone numbers are not
    /// compiled into the automaton (about 60 patterns each: 100,000 of them took minutes
    /// and gigabytes to build, and saturated the prefilter) but looked up as whole digit
    /// runs in a table; see [`crate::structure`].
    pub bulk_after: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            probable: true,
            decode_base64_blobs: true,
            min_base64_blob: 16,
            min_digest_prefix: 12,
            min_base64_stable: 10,
            bulk_after: 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Meta {
    ident: u32,
    encoding: Encoding,
    form: Option<DigestForm>,
    /// Case-sensitive forms (base64) must equal these bytes.
    exact: Option<Box<[u8]>>,
    boundary: Boundary,
    /// Digests: the whole encoded digest, of which the pattern is a prefix.
    full: Option<Box<[u8]>>,
}

/// The compiled detector: build once per identifiers file, scan many buffers.
pub struct Detector {
    /// Patterns of at least `LONG` bytes, and the rest: sampling works best with a
    /// long minimum length, so a few short names do not slow down all the digests.
    long: Option<Sampled>,
    short: Option<Short>,
    metas: Vec<Vec<Meta>>,
    kinds: Vec<Kind>,
    /// What the structural scans look for.
    structure: Structure,
    opts: Options,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("patterns", &self.metas.len())
            .field("identifiers", &self.kinds.len())
            .field("opts", &self.opts)
            .finish()
    }
}

#[derive(Default)]
struct Builder {
    index: HashMap<Vec<u8>, usize>,
    patterns: Vec<Vec<u8>>,
    metas: Vec<Vec<Meta>>,
    kinds: Vec<Kind>,
    /// Every digit form of every configured number, for numbers written with separators.
    phone_forms: HashMap<Vec<u8>, Vec<(u32, Kind)>>,
    /// Some numbers are left out of the automaton: digit runs are looked up whole.
    bulk: bool,
}

impl Builder {
    fn ident(&mut self, kind: Kind) -> u32 {
        self.kinds.push(kind);
        (self.kinds.len() - 1) as u32
    }

    fn add(&mut self, pattern: &[u8], meta: Meta) {
        if pattern.is_empty() {
            return;
        }
        let key = pattern.to_ascii_lowercase();
        let i = *self.index.entry(key.clone()).or_insert_with(|| {
            self.patterns.push(key);
            self.metas.push(Vec::new());
            self.patterns.len() - 1
        });
        if !self.metas[i].contains(&meta) {
            self.metas[i].push(meta);
        }
    }

    fn simple(&mut self, pattern: &str, ident: u32, encoding: Encoding, boundary: Boundary) {
        self.add(
            pattern.as_bytes(),
            Meta {
                ident,
                encoding,
                form: None,
                exact: None,
                boundary,
                full: None,
            },
        );
    }

    /// Registers the value's text forms (plain, URL, JSON, hex, base64 at every
    /// alignment) and the digests of `digest_forms`.
    fn value(
        &mut self,
        ident: u32,
        forms: &[String],
        digest_forms: &[String],
        boundary: Boundary,
        opts: &Options,
    ) {
        for f in dedup(forms) {
            self.simple(&f, ident, Encoding::Plain, boundary);
            for u in [
                encode::percent_all(&f, false),
                encode::percent_all(&f, true),
                encode::percent_min(&f),
            ] {
                if u != f {
                    self.simple(&u, ident, Encoding::Url, boundary);
                }
            }
            let mut styles = vec![
                JsonStyle::AsciiOnly,
                JsonStyle::Slashes,
                JsonStyle::UnicodePunct,
            ];
            let mut puncts: Vec<char> = f.chars().filter(char::is_ascii_punctuation).collect();
            puncts.sort_unstable();
            puncts.dedup();
            styles.extend(puncts.into_iter().map(JsonStyle::UnicodeOne));
            for style in styles {
                let j = encode::json_escape(&f, style);
                if j != f {
                    self.simple(&j, ident, Encoding::Json, boundary);
                }
            }
            let h = encode::hex(f.as_bytes());
            if h.len() >= 12 {
                self.simple(&h, ident, Encoding::Hex, Boundary::None);
            }
            for align in 0..3 {
                for url in [false, true] {
                    let st = encode::base64_stable(f.as_bytes(), align, url);
                    if st.len() >= opts.min_base64_stable {
                        self.add(
                            st.as_bytes(),
                            Meta {
                                ident,
                                encoding: Encoding::Base64,
                                form: None,
                                exact: Some(st.as_bytes().into()),
                                boundary: Boundary::None,
                                full: None,
                            },
                        );
                    }
                }
            }
        }
        let prefix = opts.min_digest_prefix.max(4);
        for d in dedup(digest_forms) {
            for (algo, encoding) in [
                (Algo::Md5, Encoding::Md5),
                (Algo::Sha1, Encoding::Sha1),
                (Algo::Sha256, Encoding::Sha256),
            ] {
                let bytes = encode::digest(algo, d.as_bytes());
                let h = encode::hex(&bytes);
                self.add(
                    &h.as_bytes()[..prefix.min(h.len())],
                    Meta {
                        ident,
                        encoding,
                        form: None,
                        exact: None,
                        boundary: Boundary::None,
                        full: Some(h.as_bytes().into()),
                    },
                );
                for (url, form) in [(false, DigestForm::Base64), (true, DigestForm::Base64Url)] {
                    let b = encode::base64(&bytes, url);
                    let p = &b.as_bytes()[..prefix.min(b.len())];
                    self.add(
                        p,
                        Meta {
                            ident,
                            encoding,
                            form: Some(form),
                            exact: Some(p.into()),
                            boundary: Boundary::None,
                            full: Some(b.as_bytes().into()),
                        },
                    );
                }
            }
        }
    }

    fn phone(&mut self, kind: Kind, e164: &str, opts: &Options) {
        self.number(kind, e164, false, opts);
    }

    /// A number, compiled into the automaton or, when `bulk`, only into the tables.
    fn number(&mut self, kind: Kind, e164: &str, bulk: bool, opts: &Options) {
        let Ok(n) = phone::parse(e164, None) else {
            return;
        };
        let id = self.ident(kind);
        let forms = n.forms();
        for f in &forms {
            self.phone_forms
                .entry(f.as_bytes().to_vec())
                .or_default()
                .push((id, kind));
        }
        self.bulk |= bulk;
        if !bulk {
            self.value(id, &forms, &forms, Boundary::Digits, opts);
        }
    }

    /// IMEI, IMSI, ICCID: one form, digits only.
    fn digits(&mut self, kind: Kind, v: &str, opts: &Options) {
        let id = self.ident(kind);
        let forms = [v.to_string()];
        self.value(id, &forms, &forms, Boundary::Digits, opts);
    }

    fn text(&mut self, kind: Kind, v: &str, opts: &Options) {
        let id = self.ident(kind);
        let forms = [v.to_string()];
        let digests = [v.to_string(), v.to_lowercase()];
        self.value(id, &forms, &digests, Boundary::Alnum, opts);
    }

    fn cased(&mut self, kind: Kind, variants: &[String], opts: &Options) {
        let id = self.ident(kind);
        let mut forms = Vec::new();
        for v in variants {
            forms.push(v.clone());
            forms.push(v.to_ascii_lowercase());
            forms.push(v.to_ascii_uppercase());
        }
        self.value(id, &forms, &forms, Boundary::Alnum, opts);
    }

    fn email(&mut self, kind: Kind, v: &str, opts: &Options) {
        let id = self.ident(kind);
        let forms = [v.to_string(), v.to_lowercase()];
        self.value(id, &forms, &forms, Boundary::Alnum, opts);
    }
}

/// How many values the contacts and SMS hold: the lists that can be long.
fn bulk_values(ids: &Identifiers) -> usize {
    let contacts: usize = ids
        .contact
        .iter()
        .map(|c| usize::from(c.name.is_some()) + c.phone.len() + c.email.len())
        .sum();
    let sms: usize = ids
        .sms
        .iter()
        .map(|m| usize::from(m.peer.is_some()) + usize::from(m.text.is_some()))
        .sum();
    contacts + sms
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.iter().filter(|s| seen.insert(*s)).cloned().collect()
}

/// Above this many pattern bytes the DFA would take tens of megabytes; the contiguous
/// NFA is slower but small.
const DFA_PATTERN_BYTES: usize = 200_000;

/// Patterns at least this long go to the sampled automaton with the long stride.
const LONG: usize = 10;

/// The sampler's stride grows with its shortest pattern, so the split moves up to here
/// while the patterns under it still fit the packed search.
const LONG_MAX: usize = 16;

/// Where the long patterns start: the highest length in `LONG..=LONG_MAX` that leaves
/// at most [`packed::MAX_PATTERNS`] shorter ones. With the lab's identifiers most
/// patterns are 12-byte digest prefixes and a few phone forms are 10 or 11: moving
/// those to the packed search lets the sampler step 8 bytes instead of 6.
fn long_from(patterns: &[Vec<u8>]) -> usize {
    (LONG..=LONG_MAX)
        .rev()
        .find(|&l| patterns.iter().filter(|p| p.len() < l).count() <= packed::MAX_PATTERNS)
        .unwrap_or(LONG)
}

impl Detector {
    /// Precomputes every form of every identifier.
    pub fn new(ids: &Identifiers, opts: &Options) -> Detector {
        let mut b = Builder::default();
        for (kind, values) in [
            (Kind::Imei, &ids.imei),
            (Kind::Imsi, &ids.imsi),
            (Kind::Iccid, &ids.iccid),
        ] {
            for v in values {
                b.digits(kind, v, opts);
            }
        }
        for v in &ids.phone {
            b.phone(Kind::Phone, v, opts);
        }
        for v in &ids.carrier {
            b.text(Kind::Carrier, v, opts);
        }
        for v in &ids.android_id {
            b.cased(Kind::AndroidId, std::slice::from_ref(v), opts);
        }
        for v in &ids.ad_id {
            b.cased(Kind::AdId, &[v.clone(), v.replace('-', "")], opts);
        }
        for v in &ids.serial {
            b.cased(Kind::Serial, std::slice::from_ref(v), opts);
        }
        for v in &ids.device_id {
            // A UUID also travels without its dashes.
            let mut forms = vec![v.clone()];
            if v.contains('-') {
                forms.push(v.replace('-', ""));
            }
            b.cased(Kind::DeviceId, &forms, opts);
        }
        for v in &ids.mac {
            let bare = v.replace(':', "");
            let cisco = format!("{}.{}.{}", &bare[..4], &bare[4..8], &bare[8..]);
            b.cased(
                Kind::Mac,
                &[v.clone(), v.replace(':', "-"), bare, cisco],
                opts,
            );
        }
        for v in &ids.email {
            b.email(Kind::Email, v, opts);
        }
        let bulk = bulk_values(ids) > opts.bulk_after;
        for c in &ids.contact {
            if let Some(n) = &c.name {
                b.text(Kind::Contact, n, opts);
            }
            for p in &c.phone {
                b.number(Kind::Contact, p, bulk, opts);
            }
            for e in &c.email {
                b.email(Kind::Contact, e, opts);
            }
        }
        for m in &ids.sms {
            if let Some(p) = &m.peer {
                b.number(Kind::Sms, p, bulk, opts);
            }
            if let Some(t) = &m.text {
                b.text(Kind::Sms, t, opts);
            }
        }
        let location = ids.location.map(|l| (b.ident(Kind::Location), l));
        let total: usize = b.patterns.iter().map(Vec::len).sum();
        let dfa = total <= DFA_PATTERN_BYTES;
        let long_min = long_from(&b.patterns);
        let (long, short): (Vec<_>, Vec<_>) = b
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.as_slice()))
            .partition(|(_, p)| p.len() >= long_min);
        let long = Sampled::build(&long, dfa);
        let short = Short::build(&short, dfa);
        Detector {
            long,
            short,
            metas: b.metas,
            kinds: b.kinds,
            structure: Structure::new(opts.probable, b.phone_forms, b.bulk, location),
            opts: opts.clone(),
        }
    }

    /// Number of distinct patterns in the automaton.
    pub fn pattern_count(&self) -> usize {
        self.metas.len()
    }

    /// Scans one buffer (a URL, a header value, a decoded body, a payload) and returns
    /// every hit, overlapping forms of the same value reported once.
    pub fn scan(&self, bytes: &[u8], where_: Where) -> Vec<Hit> {
        self.scan_then(bytes, where_, |_| ()).0
    }

    /// [`Detector::scan`], and `then` called with the mask of `bytes`' base64
    /// characters (letters, digits, `+ / - _`) the scan computed: bit `i % 64` of word
    /// `i / 64` is set when byte `i` is one, and a zero word follows the last. A caller
    /// that looks for base64 runs in the same bytes (the unwrap crate) saves a pass.
    pub fn scan_then<R>(
        &self,
        bytes: &[u8],
        where_: Where,
        then: impl FnOnce(&[u64]) -> R,
    ) -> (Vec<Hit>, R) {
        let mut found = Vec::new();
        let classes = Classes::new(bytes);
        self.scan_layer(bytes, &classes, where_, &mut found);
        if self.opts.decode_base64_blobs {
            self.scan_blobs(bytes, &classes, where_, &mut found);
        }
        let then = then(classes.mask(Class::Base64).as_words());
        (finish(found), then)
    }

    /// Scans a body the caller has already decoded (de-chunked, decompressed). The same
    /// as [`Detector::scan`] with `Where::Body`; named for the call sites that decode.
    pub fn scan_decoded_body(&self, body: &[u8]) -> Vec<Hit> {
        self.scan(body, Where::Body)
    }

    fn kind_of(&self, ident: u32) -> Kind {
        self.kinds
            .get(ident as usize)
            .copied()
            .unwrap_or(Kind::Location)
    }

    /// Patterns and structure, no blob decoding; `classes` are `data`'s.
    fn scan_layer(&self, data: &[u8], classes: &Classes, where_: Where, out: &mut Vec<Found>) {
        let mut found = |pattern: usize, s, e| {
            for meta in &self.metas[pattern] {
                if let Some(f) = self.verify(data, s, e, meta, where_) {
                    out.push(f);
                }
            }
        };
        if let Some(long) = &self.long {
            long.for_each(data, &mut found);
        }
        if let Some(short) = &self.short {
            short.for_each(data, &mut found);
        }
        self.structure.scan(data, classes, where_, out);
    }

    fn verify(&self, data: &[u8], s: usize, e: usize, meta: &Meta, where_: Where) -> Option<Found> {
        if let Some(exact) = &meta.exact {
            if data.get(s..e)? != &exact[..] {
                return None;
            }
        }
        if !boundary_ok(data, s, e, meta.boundary) {
            return None;
        }
        let (end, truncated, form) = match &meta.full {
            None => (e, false, meta.form),
            Some(full) => {
                let plen = e - s;
                let rest = &full[plen.min(full.len())..];
                let ci = meta.form.is_none();
                let more = data[e..]
                    .iter()
                    .zip(rest.iter())
                    .take_while(|(a, b)| {
                        if ci {
                            a.eq_ignore_ascii_case(b)
                        } else {
                            a == b
                        }
                    })
                    .count();
                let seen = &data[s..e + more];
                let form = match meta.form {
                    None if seen.iter().any(u8::is_ascii_uppercase) => DigestForm::HexUpper,
                    None => DigestForm::Hex,
                    // Without + / - _ the two alphabets read the same: say what the
                    // context suggests rather than always the first.
                    Some(_) if seen.iter().any(|c| matches!(c, b'-' | b'_')) => {
                        DigestForm::Base64Url
                    }
                    Some(_) if seen.iter().any(|c| matches!(c, b'+' | b'/')) => DigestForm::Base64,
                    Some(_) if where_ == Where::Url => DigestForm::Base64Url,
                    Some(_) => DigestForm::Base64,
                };
                (e + more, more < rest.len(), Some(form))
            }
        };
        let text = String::from_utf8_lossy(&data[s..end]);
        let core = if meta.full.is_some() {
            mask_head(&text, 4)
        } else {
            mask(&text)
        };
        Some(Found {
            ident: meta.ident,
            hit: Hit {
                kind: self.kind_of(meta.ident),
                encoding: meta.encoding,
                digest_form: form,
                inner: None,
                truncated,
                confidence: Confidence::Exact,
                where_,
                offset: s,
                len: end - s,
                evidence: evidence(data, s, end, &core),
            },
        })
    }

    /// One level of base64: runs of base64 text are decoded and scanned; hits carry
    /// `encoding: base64` and their inner form, offsets mapped back approximately.
    fn scan_blobs(&self, data: &[u8], classes: &Classes, where_: Where, out: &mut Vec<Found>) {
        let min = self.opts.min_base64_blob.max(15);
        let mut inner = Vec::new();
        for_each_base64_run(data, classes, min, |s, e| {
            let Some(decoded) = encode::base64_decode(&data[s..e]) else {
                return;
            };
            inner.clear();
            self.scan_layer(&decoded, &Classes::new(&decoded), where_, &mut inner);
            for f in inner.drain(..) {
                let mut hit = f.hit;
                let start = s + hit.offset * 4 / 3;
                let end = (s + (hit.offset + hit.len) * 4).div_ceil(3).min(e);
                hit.inner = Some(hit.encoding);
                hit.encoding = Encoding::Base64;
                hit.offset = start;
                hit.len = end.saturating_sub(start);
                out.push(Found {
                    ident: f.ident,
                    hit,
                });
            }
        });
    }
}

/// Calls `f` for each maximal run of base64 characters at least `min` long (trailing
/// `=` excluded), and, for runs holding `/`, for each `/`-separated piece at least
/// `min` long: a URL path is one run of the standard alphabet, but its segments are
/// where a blob would start. `classes` are `data`'s.
pub(crate) fn for_each_base64_run(
    data: &[u8],
    classes: &Classes,
    min: usize,
    mut f: impl FnMut(usize, usize),
) {
    let b64 = classes.mask(Class::Base64);
    let (upper, lower) = (classes.mask(Class::Upper), classes.mask(Class::Lower));
    // Encoded data has both cases; words, numbers and hex strings, the usual long
    // runs in text, lack one, and decoding them would only cost time.
    let mixed = |s: usize, e: usize| upper.any(s, e) && lower.any(s, e);
    // A run of at least `min` (>= 15) characters covers a whole aligned 8-byte word, so
    // only runs through such words are looked at: eight of them tested at once on the
    // mask.
    let mut from = 0;
    let mut a = 0;
    while let Some(word) = next_full_byte(b64, a) {
        let s = b64.run_start(word, from);
        let i = b64.next_clear(word + 8);
        from = i;
        a = i.next_multiple_of(8);
        let run = &data[s..i];
        if run.len() >= min && mixed(s, i) {
            f(s, i);
            if run.contains(&b'/') {
                let mut ps = s;
                for piece in run.split(|&c| c == b'/') {
                    let pe = ps + piece.len();
                    if piece.len() >= min && mixed(ps, pe) && (ps, pe) != (s, i) {
                        f(ps, pe);
                    }
                    ps = pe + 1;
                }
            }
        }
    }
}

/// The first aligned 8-byte word at or after `from` (a multiple of 8) whose bytes are
/// all set in `mask`.
fn next_full_byte(mask: Bits<'_>, from: usize) -> Option<usize> {
    const BYTE_STARTS: u64 = 0x0101_0101_0101_0101;
    let mut w = from / 64;
    let mut skip = from % 64;
    while w < mask.words() {
        let mut t = mask.word(w);
        t &= t >> 1;
        t &= t >> 2;
        t &= t >> 4;
        let full = t & BYTE_STARTS & (!0u64 << skip);
        if full != 0 {
            return Some(w * 64 + full.trailing_zeros() as usize);
        }
        w += 1;
        skip = 0;
    }
    None
}

/// Keeps one hit per value and place (the longest of overlapping forms), drops probable
/// hits where an exact one was found, and orders by offset.
fn finish(mut found: Vec<Found>) -> Vec<Hit> {
    found.sort_by_key(|f| {
        (
            f.ident,
            f.hit.offset,
            Reverse(f.hit.len),
            f.hit.inner.is_some(),
        )
    });
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    let mut cur = None;
    let mut max_end = 0;
    for f in found {
        if cur != Some(f.ident) {
            cur = Some(f.ident);
            max_end = 0;
        } else if f.hit.offset < max_end {
            // A value found both by its stable base64 characters and inside the decoded
            // blob: the decoded one has the readable context.
            if let Some(last) = kept.last_mut() {
                if f.hit.inner.is_some()
                    && last.hit.encoding == Encoding::Base64
                    && last.hit.inner.is_none()
                {
                    *last = f;
                }
            }
            continue;
        }
        max_end = max_end.max(f.hit.offset + f.hit.len);
        kept.push(f);
    }
    let mut exact: Vec<(usize, usize)> = kept
        .iter()
        .filter(|f| f.ident < PROBABLE)
        .map(|f| (f.hit.offset, f.hit.offset + f.hit.len))
        .collect();
    exact.sort_unstable();
    let mut reach = Vec::with_capacity(exact.len());
    let mut m = 0;
    for &(_, e) in &exact {
        m = m.max(e);
        reach.push(m);
    }
    let overlaps_exact = |s: usize, e: usize| {
        let n = exact.partition_point(|&(xs, _)| xs < e);
        n > 0 && reach[n - 1] > s
    };
    let mut hits: Vec<Hit> = kept
        .into_iter()
        .filter(|f| f.ident < PROBABLE || !overlaps_exact(f.hit.offset, f.hit.offset + f.hit.len))
        .map(|f| f.hit)
        .collect();
    hits.sort_by_key(|h| (h.offset, Reverse(h.len), h.kind));
    hits
}
