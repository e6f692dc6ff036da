//! What discovery remembers about each candidate token, across sessions, and the rule
//! that makes one a discovered identifier ([`Policy`]).
//!
//! A token is discovered when it was seen unchanged over time (over an hour apart, or,
//! under an identifier's key name, in three sessions), in several flows, to several
//! hosts, and to several registrable domains or from several apps. Values that change per request never qualify (they
//! are not seen again, and a key whose value keeps changing marks what it carries as
//! volatile); nor do tokens that only ever go to one host.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::token::Shape;

/// The thresholds of discovery. The defaults are the ones measured by the simulation
/// in `tests/precision.rs`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Distinct flows the token was seen in.
    pub min_flows: u64,
    /// Distinct host names (or addresses) it went to: a token for one host only is an
    /// API key or a session, never a device identifier.
    pub min_hosts: usize,
    /// Registrable domains it went to, when sent under an identifier's key name
    /// (`oaid`, `device_id`, …) or when several apps sent it.
    pub min_domains_named: usize,
    /// Registrable domains it went to, under any other key name, from one app.
    pub min_domains: usize,
    /// Apps that sent it, for the rule "from several apps".
    pub min_apps: usize,
    /// Time between first and last sighting.
    pub min_span_ms: u64,
    /// Or, under an identifier's key name, monitor sessions it was seen in: restarts
    /// stand for time passing. Two are not enough: a token that rotates every half
    /// hour is seen on both sides of a restart now and then (see `tests/precision.rs`).
    pub min_sessions_named: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_flows: 3,
            min_hosts: 2,
            min_domains_named: 2,
            min_domains: 3,
            min_apps: 2,
            min_span_ms: 60 * 60 * 1000,
            min_sessions_named: 3,
        }
    }
}

/// Sets in a token's record hold at most this many entries (the rest are not named).
const MAX_SET: usize = 32;
/// Candidate tokens remembered at most; the least recently seen undiscovered ones are
/// forgotten first.
pub const MAX_TOKENS: usize = 20_000;
/// (app, domain, key) slots followed for volatility at most, per session.
const MAX_SLOTS: usize = 50_000;

/// One candidate token and what is known about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub value: String,
    pub shape: Shape,
    pub keys: BTreeSet<String>,
    /// Sent at least once under an identifier's key name.
    pub named: bool,
    pub first_ms: u64,
    pub last_ms: u64,
    pub sightings: u64,
    pub flows: u64,
    pub sessions: u32,
    pub apps: BTreeSet<String>,
    pub domains: BTreeSet<String>,
    pub hosts: BTreeSet<String>,
    /// Sightings under a key whose value keeps changing.
    pub volatile: u64,
    /// When it first qualified.
    pub discovered_ms: Option<u64>,
    /// The session and flow of the latest sighting, to count flows and sessions.
    last_session: u32,
    last_flow: u64,
}

impl Token {
    /// Whether the token was seen in session `session`.
    pub fn seen_in(&self, session: u32) -> bool {
        self.last_session == session
    }
}

/// What one sighting is about.
#[derive(Debug, Clone, Copy)]
pub struct Sighting<'a> {
    pub app: Option<&'a str>,
    /// The destination's name, or its address when it has none.
    pub host: &'a str,
    /// The registrable domain of `host` (the host itself for addresses).
    pub domain: &'a str,
    /// Unique within the session.
    pub flow: u64,
    pub ts_ms: u64,
}

/// What [`State::see`] says about a sighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not (yet) a discovered identifier.
    Candidate,
    /// A discovered identifier, already reported in this session.
    Known,
    /// A discovered identifier seen for the first time in this session, or discovered
    /// by this very sighting: worth a record.
    Fresh,
}

#[derive(Debug, Default)]
struct Slot {
    last: u64,
    seen: u32,
    changes: u32,
}

/// Every token remembered, and the session counter.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Sessions started so far (the current one included).
    pub session: u32,
    tokens: HashMap<String, Token>,
    #[serde(skip)]
    slots: HashMap<(Option<String>, String, String), Slot>,
    #[serde(skip)]
    policy: Policy,
}

impl State {
    /// Starts a new session: counts it, and forgets the volatility of keys (a new run).
    pub fn begin_session(&mut self) {
        self.session += 1;
        self.slots.clear();
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    pub fn token(&self, value: &str) -> Option<&Token> {
        self.tokens.get(value)
    }

    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        self.tokens.values()
    }

    pub fn discovered(&self) -> impl Iterator<Item = &Token> {
        self.tokens.values().filter(|t| t.discovered_ms.is_some())
    }

    /// Records that `value` (of `shape`) was sent under `key` (normalised; `named`: an
    /// identifier's key name) in the sighting `s`.
    pub fn see(
        &mut self,
        value: &str,
        shape: Shape,
        key: &str,
        named: bool,
        s: &Sighting<'_>,
    ) -> Outcome {
        let volatile = self.slot_changes(value, key, s);
        if !self.tokens.contains_key(value) && self.tokens.len() >= MAX_TOKENS {
            self.forget_oldest();
        }
        let session = self.session;
        let token = self
            .tokens
            .entry(value.to_owned())
            .or_insert_with(|| Token {
                value: value.to_owned(),
                shape,
                keys: BTreeSet::new(),
                named: false,
                first_ms: s.ts_ms,
                last_ms: s.ts_ms,
                sightings: 0,
                flows: 0,
                sessions: 0,
                apps: BTreeSet::new(),
                domains: BTreeSet::new(),
                hosts: BTreeSet::new(),
                volatile: 0,
                discovered_ms: None,
                last_session: 0,
                last_flow: 0,
            });
        let fresh_session = token.last_session != session;
        if fresh_session {
            token.sessions += 1;
        }
        if fresh_session || token.last_flow != s.flow {
            token.flows += 1;
        }
        token.last_session = session;
        token.last_flow = s.flow;
        token.sightings += 1;
        token.volatile += u64::from(volatile);
        token.named |= named;
        token.first_ms = token.first_ms.min(s.ts_ms);
        token.last_ms = token.last_ms.max(s.ts_ms);
        insert_bounded(&mut token.keys, key);
        if let Some(app) = s.app {
            insert_bounded(&mut token.apps, app);
        }
        insert_bounded(&mut token.domains, s.domain);
        insert_bounded(&mut token.hosts, s.host);
        if token.discovered_ms.is_some() {
            return if fresh_session {
                Outcome::Fresh
            } else {
                Outcome::Known
            };
        }
        if qualifies(&self.policy, token) {
            token.discovered_ms = Some(s.ts_ms);
            return Outcome::Fresh;
        }
        Outcome::Candidate
    }

    /// Whether this sighting's slot (app, domain, key) keeps changing its value: per
    /// request values (nonces, counters, signatures) do.
    fn slot_changes(&mut self, value: &str, key: &str, s: &Sighting<'_>) -> bool {
        if key.is_empty() {
            return false;
        }
        if self.slots.len() >= MAX_SLOTS {
            self.slots.clear();
        }
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        let hash = h.finish();
        let slot = self
            .slots
            .entry((
                s.app.map(str::to_owned),
                s.domain.to_owned(),
                key.to_owned(),
            ))
            .or_default();
        if slot.seen > 0 && slot.last != hash {
            slot.changes += 1;
        }
        slot.seen += 1;
        slot.last = hash;
        slot.changes >= 2 && slot.changes * 2 >= slot.seen
    }

    /// Forgets the eighth of undiscovered tokens seen longest ago.
    fn forget_oldest(&mut self) {
        let mut ages: Vec<(u64, String)> = self
            .tokens
            .values()
            .filter(|t| t.discovered_ms.is_none())
            .map(|t| (t.last_ms, t.value.clone()))
            .collect();
        ages.sort_unstable();
        for (_, value) in ages.into_iter().take(MAX_TOKENS / 8) {
            self.tokens.remove(&value);
        }
    }
}

fn insert_bounded(set: &mut BTreeSet<String>, value: &str) {
    if set.len() < MAX_SET && !set.contains(value) {
        set.insert(value.to_owned());
    }
}

/// The discovery rule (see the module documentation).
pub fn qualifies(p: &Policy, t: &Token) -> bool {
    let over_time = t.last_ms.saturating_sub(t.first_ms) >= p.min_span_ms
        || (t.named && t.sessions >= p.min_sessions_named);
    let apps = t.apps.len() >= p.min_apps;
    let domains = if t.named || apps {
        p.min_domains_named
    } else {
        p.min_domains
    };
    over_time
        && t.flows >= p.min_flows
        && t.hosts.len() >= p.min_hosts
        && t.domains.len() >= domains
        && t.volatile * 2 <= t.sightings
}

/// A saved state larger than this is refused rather than read.
pub const MAX_STATE_BYTES: u64 = 64 << 20;

impl State {
    /// Reads a state saved as JSON at `path`: `Ok(None)` when there is none yet; an error
    /// (in words) for a link, an unreadable or oversized file, or one that is not a state.
    pub fn read_file(path: &std::path::Path) -> Result<Option<State>, String> {
        use std::io::Read as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut text = Vec::new();
        file.take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| e.to_string())?;
        if text.len() as u64 > MAX_STATE_BYTES {
            return Err(format!("over {MAX_STATE_BYTES} bytes"));
        }
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;

    fn sighting<'a>(app: &'a str, host: &'a str, flow: u64, ts_ms: u64) -> Sighting<'a> {
        Sighting {
            app: Some(app),
            host,
            domain: host.split_once('.').map_or(host, |(_, d)| d),
            flow,
            ts_ms,
        }
    }

    const ID: &str = "a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b";

    #[test]
    fn a_named_token_sent_to_two_domains_in_three_sessions_is_discovered() {
        let mut s = State::default();
        s.begin_session();
        let see = |s: &mut State, host, flow, ts| {
            s.see(
                ID,
                Shape::Uuid,
                "oaid",
                true,
                &sighting("app", host, flow, ts),
            )
        };
        assert_eq!(see(&mut s, "a.one.example", 1, 0), Outcome::Candidate);
        assert_eq!(see(&mut s, "b.two.example", 2, 1000), Outcome::Candidate);
        assert_eq!(see(&mut s, "a.one.example", 3, 2000), Outcome::Candidate);
        s.begin_session();
        assert_eq!(see(&mut s, "a.one.example", 1, 5000), Outcome::Candidate);
        s.begin_session();
        assert_eq!(see(&mut s, "a.one.example", 1, 9000), Outcome::Fresh);
        assert_eq!(see(&mut s, "b.two.example", 2, 9500), Outcome::Known);
        s.begin_session();
        assert_eq!(see(&mut s, "b.two.example", 1, 12000), Outcome::Fresh);
        let t = s.token(ID).unwrap();
        assert_eq!((t.flows, t.sessions, t.domains.len()), (7, 4, 2));
    }

    #[test]
    fn an_unnamed_token_is_not_discovered_by_restarts_alone() {
        let mut s = State::default();
        for (session, host) in [
            (0, "x.one.example"),
            (1, "x.two.example"),
            (2, "x.three.example"),
            (3, "x.one.example"),
        ] {
            s.begin_session();
            let hit = sighting("app", host, 1, session * 1000);
            assert_eq!(s.see(ID, Shape::Uuid, "k", false, &hit), Outcome::Candidate);
        }
    }

    #[test]
    fn one_session_needs_an_hour_between_first_and_last_sighting() {
        let mut s = State::default();
        s.begin_session();
        for (flow, host) in [
            (1, "a.one.example"),
            (2, "b.two.example"),
            (3, "a.one.example"),
        ] {
            assert_eq!(
                s.see(
                    ID,
                    Shape::Uuid,
                    "did",
                    true,
                    &sighting("app", host, flow, flow)
                ),
                Outcome::Candidate
            );
        }
        let late = sighting("app", "b.two.example", 4, HOUR + 1);
        assert_eq!(s.see(ID, Shape::Uuid, "did", true, &late), Outcome::Fresh);
    }

    #[test]
    fn a_token_for_one_host_never_qualifies_however_often_and_from_however_many_apps() {
        let mut s = State::default();
        for session in 0..5u64 {
            s.begin_session();
            for flow in 0..20 {
                let app = if flow % 2 == 0 { "a" } else { "b" };
                let hit = sighting(app, "api.one.example", flow, session * HOUR + flow);
                assert_eq!(
                    s.see(ID, Shape::Uuid, "key", false, &hit),
                    Outcome::Candidate
                );
            }
        }
    }

    #[test]
    fn an_unnamed_token_from_one_app_needs_three_domains() {
        let mut s = State::default();
        for (session, host) in [
            (1, "x.one.example"),
            (2, "x.two.example"),
            (3, "x.one.example"),
        ] {
            s.begin_session();
            let hit = sighting("app", host, 1, session * HOUR);
            assert_eq!(s.see(ID, Shape::Uuid, "k", false, &hit), Outcome::Candidate);
        }
        s.begin_session();
        let hit = sighting("app", "x.three.example", 1, 9 * HOUR);
        assert_eq!(s.see(ID, Shape::Uuid, "k", false, &hit), Outcome::Fresh);
    }

    #[test]
    fn a_value_under_a_key_that_changes_per_request_never_qualifies() {
        // A small pool of "random" values reused under one key: each value comes back,
        // but the key's value changes at nearly every request.
        let pool = [
            ID,
            "b3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b",
            "c3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b",
        ];
        let mut s = State::default();
        for session in 0..4u64 {
            s.begin_session();
            for flow in 0..30u64 {
                let host = ["a.one.example", "b.two.example"][flow as usize % 2];
                let hit = sighting("app", host, flow, session * HOUR + flow);
                let v = pool[(flow / 2) as usize % 3];
                assert_eq!(s.see(v, Shape::Uuid, "n", false, &hit), Outcome::Candidate);
            }
        }
    }

    #[test]
    fn the_state_survives_a_round_trip_and_stays_bounded() {
        let mut s = State::default();
        s.begin_session();
        for i in 0..(MAX_TOKENS as u64 + 10) {
            let v = format!("{i:016x}");
            s.see(
                &v,
                Shape::Hex,
                "k",
                false,
                &sighting("app", "a.one.example", i, i),
            );
        }
        assert!(s.tokens.len() <= MAX_TOKENS);
        assert!(
            s.token("0000000000000000").is_none(),
            "the oldest went first"
        );
        let json = serde_json::to_string(&s).unwrap();
        let back: State = serde_json::from_str(&json).unwrap();
        assert_eq!(back.session, 1);
        assert_eq!(back.tokens.len(), s.tokens.len());
    }
}
