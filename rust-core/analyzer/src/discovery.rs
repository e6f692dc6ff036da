//! The analyzer's side of discovery (`phonehome-discover`): hands it the readable parts
//! of each outgoing request or payload, and turns what it says into findings
//! (`device_id`, confidence `discovered`) and [`Discovered`] records.
//!
//! The discovery state is shared ([`SharedDiscovery`]) so that the shell that runs the
//! analyzer on another thread can save it when the session ends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use phonehome_discover::{mask, Context, Discovery, Seen};
use phonehome_model::{Discovered, Where};

/// Discovery over one session, shared with whoever keeps its state between sessions.
pub type SharedDiscovery = Arc<Mutex<Discovery>>;

/// The configured values discovery leaves to the detector (whose findings of them are
/// exact): the identifiers that look like tokens, in the form [`configured_key`] gives.
pub fn configured_tokens(ids: &phonehome_detect::Identifiers) -> Vec<String> {
    [
        &ids.imei,
        &ids.imsi,
        &ids.iccid,
        &ids.android_id,
        &ids.ad_id,
        &ids.serial,
        &ids.device_id,
    ]
    .into_iter()
    .flatten()
    .map(|v| configured_key(v))
    .collect()
}

/// Case and dashes aside, a token is the same identifier (the detector finds all those forms).
pub(crate) fn configured_key(value: &str) -> String {
    value
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A new session continuing from `state`, ready to give to [`crate::Analyzer::discover`].
pub fn shared(state: phonehome_discover::State) -> SharedDiscovery {
    Arc::new(Mutex::new(Discovery::new(state)))
}

#[derive(Debug)]
pub(crate) struct Discovering {
    shared: SharedDiscovery,
    pub(crate) records: VecDeque<Discovered>,
}

/// A discovered identifier seen in one request, ready to become a finding.
#[derive(Debug)]
pub(crate) struct Sighted {
    pub place: Where,
    /// `key=masked value` (or the masked value alone when it had no key).
    pub evidence: String,
}

impl Discovering {
    pub(crate) fn new(shared: SharedDiscovery) -> Self {
        Self {
            shared,
            records: VecDeque::new(),
        }
    }

    /// Looks at the parts of one request (or payload) of a flow.
    pub(crate) fn observe(
        &mut self,
        app: Option<&str>,
        host: &str,
        flow: u64,
        ts: SystemTime,
        parts: &[(Where, &[u8])],
        configured: &std::collections::HashSet<String>,
    ) -> Vec<Sighted> {
        let ctx = Context {
            app,
            host,
            flow,
            ts,
        };
        let mut discovery = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let seen = discovery.observe(&ctx, parts);
        let mut out = Vec::with_capacity(seen.len());
        for Seen {
            value,
            key,
            place,
            fresh,
        } in seen
        {
            if configured.contains(&configured_key(&value)) {
                continue;
            }
            if fresh {
                self.records.extend(discovery.record(&value));
            }
            let masked = mask(&value);
            out.push(Sighted {
                place,
                evidence: if key.is_empty() {
                    masked
                } else {
                    format!("{key}={masked}")
                },
            });
        }
        out
    }

    /// The session ends: the sums of every identifier discovered and seen in it.
    pub(crate) fn finish(&mut self, configured: &std::collections::HashSet<String>) {
        let discovery = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        self.records.extend(
            discovery
                .session_records()
                .into_iter()
                .filter(|d| !configured.contains(&configured_key(&d.value))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analyzer, Settings};
    use phonehome_catalog::Catalog;
    use phonehome_detect::{Detector, Identifiers, Options};
    use phonehome_model::{
        CloseReason, Confidence, Destination, Direction, FlowRecord, Kind, Proto,
    };
    use std::time::{Duration, UNIX_EPOCH};

    const OAID: &str = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84";

    fn session(state: phonehome_discover::State, hosts: &[&str]) -> (Analyzer, SharedDiscovery) {
        session_with(&Identifiers::default(), state, hosts)
    }

    fn session_with(
        ids: &Identifiers,
        state: phonehome_discover::State,
        hosts: &[&str],
    ) -> (Analyzer, SharedDiscovery) {
        let shared = shared(state);
        let mut a = Analyzer::new(
            Detector::new(ids, &Options::default()),
            Catalog::builtin(),
            Settings::default(),
        )
        .with_configured(ids)
        .with_discovery(shared.clone());
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (i, host) in hosts.iter().enumerate() {
            let id = i as u64 + 1;
            a.flow_start(
                id,
                Proto::Tcp,
                "10.111.0.2:40000".parse().unwrap(),
                "10.201.0.2:80".parse().unwrap(),
                Some("sdkdemo".into()),
            );
            let request = format!(
                "POST /collect?oaid={OAID}&nonce={id:032x} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{{}}"
            );
            a.data(id, Direction::Out, request.as_bytes(), t);
            a.flow_end(FlowRecord {
                flow: id,
                proto: Proto::Tcp,
                src: "10.111.0.2:40000".parse().unwrap(),
                dst: "10.201.0.2:80".parse().unwrap(),
                bytes_out: 1,
                bytes_in: 1,
                start: t,
                end: t,
                close: CloseReason::Closed,
                app: None,
                destination: Destination::default(),
            });
        }
        a.finish();
        (a, shared)
    }

    fn take(shared: SharedDiscovery) -> phonehome_discover::State {
        Arc::try_unwrap(shared)
            .unwrap()
            .into_inner()
            .unwrap()
            .into_state()
    }

    #[test]
    fn a_stable_oaid_sent_to_two_domains_in_a_third_session_is_a_discovered_device_id() {
        let hosts = [
            "sdk.ads-one.example",
            "log.metrics-two.example",
            "sdk.ads-one.example",
        ];
        let (mut first, shared) = session(phonehome_discover::State::default(), &hosts);
        assert!(
            first.pop_finding().is_none(),
            "one session is not over time"
        );
        assert!(first.pop_discovered().is_none());
        drop(first);
        let (mut second, shared) = session(take(shared), &hosts[..1]);
        assert!(second.pop_finding().is_none(), "nor are two");
        drop(second);
        let (mut second, _) = session(take(shared), &hosts[..1]);
        let f = second.pop_finding().expect("a discovered finding");
        assert_eq!(
            (f.kind, f.confidence),
            (Kind::DeviceId, Confidence::Discovered)
        );
        assert_eq!(f.place, Where::Url);
        assert_eq!(f.evidence, "oaid=5f******************************2e84");
        assert!(second.pop_finding().is_none(), "nonces are not identifiers");
        let fresh = second.pop_discovered().expect("a record when discovered");
        assert_eq!(fresh.value, OAID);
        assert_eq!(fresh.domains, ["ads-one.example", "metrics-two.example"]);
        let sums = second.pop_discovered().expect("the session's sums");
        assert_eq!((sums.flows, sums.sessions), (5, 3));
        assert!(second.pop_discovered().is_none());
    }

    #[test]
    fn once_the_user_adds_a_discovered_id_its_findings_are_exact_not_discovered() {
        let hosts = [
            "sdk.ads-one.example",
            "log.metrics-two.example",
            "sdk.ads-one.example",
        ];
        let mut state = phonehome_discover::State::default();
        for _ in 0..3 {
            let (a, shared) = session(state, &hosts);
            drop(a);
            state = take(shared);
        }
        assert!(state.discovered().any(|t| t.value == OAID));
        // Added as the app adds it: typed in capitals does not matter.
        let ids =
            Identifiers::from_json(&format!(r#"{{"device_id": ["{}"]}}"#, OAID.to_uppercase()))
                .unwrap();
        let (mut fourth, _) = session_with(&ids, state, &hosts);
        let mut findings = Vec::new();
        while let Some(f) = fourth.pop_finding() {
            findings.push((f.kind, f.confidence));
        }
        assert!(!findings.is_empty());
        assert!(
            findings
                .iter()
                .all(|f| *f == (Kind::DeviceId, Confidence::Exact)),
            "{findings:?}"
        );
        assert!(fourth.pop_discovered().is_none());
    }
}
