//! Device identifiers nobody configured. Since Android 10 apps cannot read the IMEI,
//! Android IDs differ per app, and vendors add their own ids (OAID, VAID, install ids):
//! the user cannot type in most of what leaks. This crate finds them in traffic: a
//! high-entropy token ([`token`]) that the device sends, unchanged, over time, in
//! several flows to several registrable domains or from several apps ([`state`]),
//! especially under key names such as `oaid` or `device_id` ([`extract`]).
//!
//! Sans-IO: the caller passes the readable parts of each request and the time, and
//! keeps the [`State`] between sessions (it serialises with serde).

pub mod extract;
pub mod state;
pub mod token;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use phonehome_model::{Discovered, Where};
use sha1::Sha1;
use sha2::Sha256;

pub use state::{Outcome, Policy, Sighting, State, Token};
pub use token::Shape;

use extract::{KeyClass, Pair};

/// The flow a request belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub app: Option<&'a str>,
    /// The destination's name, or its address when it has none.
    pub host: &'a str,
    /// Unique within the session.
    pub flow: u64,
    pub ts: SystemTime,
}

/// A discovered identifier seen in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub value: String,
    /// The key it was sent under (normalised), empty if none.
    pub key: String,
    pub place: Where,
    /// Discovered by this request, or first seen in this session: worth a record.
    pub fresh: bool,
}

/// Discovery over one session (see the crate documentation).
#[derive(Debug)]
pub struct Discovery {
    state: State,
}

impl Discovery {
    /// Continues from `state` (a new one, or one kept from earlier sessions) in a new
    /// session.
    pub fn new(mut state: State) -> Self {
        state.begin_session();
        Self { state }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Looks at the readable parts of one request (or one payload) of a flow; returns
    /// the discovered identifiers it carried.
    pub fn observe(&mut self, ctx: &Context<'_>, parts: &[(Where, &[u8])]) -> Vec<Seen> {
        // A digest of a body sent beside it (a signature, `Content-MD5`) is as stable
        // as the body, not as the device.
        let digests: Vec<String> = parts
            .iter()
            .filter(|(place, body)| *place == Where::Body && !body.is_empty())
            .flat_map(|(_, body)| {
                [
                    hex(&Md5::digest(body)),
                    hex(&Sha1::digest(body)),
                    hex(&Sha256::digest(body)),
                ]
            })
            .collect();
        let domain = registrable_domain(ctx.host);
        let sighting = Sighting {
            app: ctx.app,
            host: ctx.host,
            domain: &domain,
            flow: ctx.flow,
            ts_ms: millis(ctx.ts),
        };
        let mut seen = Vec::new();
        let mut pairs = Vec::new();
        for &(place, text) in parts {
            pairs.clear();
            extract::extract(place, text, &mut pairs);
            for Pair { key, value } in pairs.drain(..) {
                let named = match extract::key_class(&key) {
                    KeyClass::Reject => continue,
                    KeyClass::Boost => true,
                    KeyClass::Plain => false,
                };
                let Some(shape) = token::shape(&value) else {
                    continue;
                };
                if digests.iter().any(|d| d.eq_ignore_ascii_case(&value)) {
                    continue;
                }
                let outcome = self.state.see(&value, shape, &key, named, &sighting);
                if outcome != Outcome::Candidate {
                    seen.push(Seen {
                        value,
                        key,
                        place,
                        fresh: outcome == Outcome::Fresh,
                    });
                }
            }
        }
        seen
    }

    /// The record of discovered identifier `value`.
    pub fn record(&self, value: &str) -> Option<Discovered> {
        self.state
            .token(value)
            .filter(|t| t.discovered_ms.is_some())
            .map(record)
    }

    /// Records of every discovered identifier seen in this session (for its end).
    pub fn session_records(&self) -> Vec<Discovered> {
        let mut out: Vec<Discovered> = self
            .state
            .discovered()
            .filter(|t| t.seen_in(self.state.session))
            .map(record)
            .collect();
        out.sort_by(|a, b| a.value.cmp(&b.value));
        out
    }

    pub fn into_state(self) -> State {
        self.state
    }
}

fn record(t: &Token) -> Discovered {
    let time = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    Discovered {
        value: t.value.clone(),
        shape: t.shape.as_str().to_owned(),
        keys: t.keys.iter().filter(|k| !k.is_empty()).cloned().collect(),
        apps: t.apps.iter().cloned().collect(),
        domains: t.domains.iter().cloned().collect(),
        hosts: t.hosts.iter().cloned().collect(),
        first_seen: time(t.first_ms),
        last_seen: time(t.last_ms),
        discovered: time(t.discovered_ms.unwrap_or(t.last_ms)),
        flows: t.flows,
        sessions: t.sessions,
        masked: mask(&t.value),
    }
}

/// The registrable domain of `host`, lowercase (`api.example.co.uk`: `example.co.uk`,
/// `a.herokuapp.com`: itself), by the catalog's own list of public suffixes (the Public
/// Suffix List's MPL-2.0 data may not be used here); the host itself for addresses.
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    phonehome_catalog::registrable_domain(&host).to_owned()
}

/// The first two and last four characters, the rest as `*`.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 2 || i + 4 >= chars.len() {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OAID: &str = "a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn registrable_domains_follow_the_catalogs_suffix_list() {
        assert_eq!(registrable_domain("api.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("a.b.tracker.test"), "tracker.test");
        assert_eq!(registrable_domain("Data.Mistat.Xiaomi.com."), "xiaomi.com");
        assert_eq!(registrable_domain("203.0.113.9"), "203.0.113.9");
        assert_eq!(registrable_domain("2001:db8::1"), "2001:db8::1");
        // Two customers of one hosting platform are two domains.
        assert_eq!(
            registrable_domain("Game-1.Herokuapp.com"),
            "game-1.herokuapp.com"
        );
        assert_eq!(registrable_domain("x.shop.ltd.uk"), "shop.ltd.uk");
    }

    #[test]
    fn an_oaid_sent_to_two_domains_in_three_sessions_is_reported_with_where_it_went() {
        let mut d = Discovery::new(State::default());
        let url = format!("/r?oaid={OAID}&nonce=1f2e3d4c5b6a79880f1e2d3c");
        for (flow, host) in [
            (1, "sdk.ads.example"),
            (2, "log.metrics.example"),
            (3, "sdk.ads.example"),
        ] {
            let ctx = Context {
                app: Some("game"),
                host,
                flow,
                ts: at(flow),
            };
            assert!(d.observe(&ctx, &[(Where::Url, url.as_bytes())]).is_empty());
        }
        let mut d = Discovery::new(d.into_state());
        let ctx = Context {
            app: Some("game"),
            host: "sdk.ads.example",
            flow: 1,
            ts: at(50),
        };
        assert!(d.observe(&ctx, &[(Where::Url, url.as_bytes())]).is_empty());
        let mut d = Discovery::new(d.into_state());
        let ctx = Context {
            app: Some("game"),
            host: "sdk.ads.example",
            flow: 1,
            ts: at(100),
        };
        let seen = d.observe(&ctx, &[(Where::Url, url.as_bytes())]);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(
            (seen[0].value.as_str(), seen[0].key.as_str(), seen[0].fresh),
            (OAID, "oaid", true)
        );
        let r = d.record(OAID).unwrap();
        assert_eq!(r.domains, ["ads.example", "metrics.example"]);
        assert_eq!(r.apps, ["game"]);
        assert_eq!((r.flows, r.sessions), (5, 3));
        assert_eq!(r.masked, "a3******************************4a5b");
        assert_eq!(d.session_records().len(), 1);
        assert!(d.record("1f2e3d4c5b6a79880f1e2d3c").is_none());
    }

    #[test]
    fn a_digest_of_the_body_beside_it_is_not_a_candidate() {
        let body = b"{\"event\":\"open\"}";
        let sign = hex(&Sha256::digest(body));
        let url = format!("/e?did={sign}");
        let mut d = Discovery::new(State::default());
        for session in 0..3 {
            d = Discovery::new(d.into_state());
            for (flow, host) in [(1, "a.one.example"), (2, "b.two.example")] {
                let ctx = Context {
                    app: None,
                    host,
                    flow,
                    ts: at(session * 7200 + flow),
                };
                d.observe(&ctx, &[(Where::Url, url.as_bytes()), (Where::Body, body)]);
            }
        }
        assert!(d.state().token(&sign).is_none());
    }
}
