//! How often discovery is wrong, on long mixed traffic: a deterministic simulation of
//! 48 hours of six apps talking to their own servers and to shared SDK hosts, with the
//! noise real traffic carries (nonces and request ids in every request, timestamps,
//! signatures of bodies, session tokens, per-app API keys and asset hashes for one host,
//! an SDK "uuid" that rotates every 30 minutes, monitor restarts every 1 to 12 hours)
//! and five real device identifiers. It prints false discoveries per simulated hour and
//! recall, and holds them to the figures README publishes (none false, all five found).

use std::time::{Duration, UNIX_EPOCH};

use phonehome_discover::{Context, Discovery, State};
use phonehome_model::Where;
use sha2::{Digest, Sha256};

const HOURS: u64 = 48;
/// One request per app per step, at most.
const STEP_S: u64 = 20;

/// splitmix64: a fixed seed makes the whole run the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
    fn base64(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|_| char::from(A[self.below(64) as usize]))
            .collect()
    }
}

const ADS: [&str; 2] = ["sdk.adnet.example", "log.adnet.example"];
const METRICS: &str = "collect.metrics.example";
const CRASH: &str = "crash.bugreport.example";
const PUSH: &str = "push.pushco.example";
const ATTRIB: &str = "t.attrib.example";

/// What one app is: its name, its own hosts, the SDK hosts it uses.
struct App {
    name: String,
    own: [String; 2],
    sdks: Vec<&'static str>,
    /// Constant per (app, host): an API key that only that host ever gets.
    api_key: String,
    /// Hash of a bundled asset, sent to the app's CDN only.
    asset_md5: String,
    session_token: String,
    rotating_uuid: String,
}

/// The device identifiers to find: value, key, the apps that send it, where to.
struct TrueId {
    value: String,
    key: &'static str,
    apps: Vec<usize>,
    hosts: Vec<&'static str>,
    /// Sent to the sending app's own API host too.
    own: bool,
}

#[test]
fn on_48_hours_of_mixed_traffic_discovery_finds_every_device_id_and_nothing_else() {
    let mut rng = Rng(0x5eed_d15c_0e5e);
    let start = UNIX_EPOCH + Duration::from_secs(1_764_720_000);
    let sdk_sets: [&[&str]; 6] = [
        &[ADS[0], ADS[1], METRICS],
        &[ADS[0], ADS[1], PUSH, METRICS],
        &[ADS[0], METRICS, CRASH],
        &[METRICS, PUSH],
        &[CRASH, ATTRIB],
        &[ATTRIB, PUSH],
    ];
    let mut apps: Vec<App> = sdk_sets
        .iter()
        .enumerate()
        .map(|(i, sdks)| App {
            name: format!("com.example.app{i}"),
            own: [format!("api.app{i}.example"), format!("cdn.app{i}.example")],
            sdks: sdks.to_vec(),
            api_key: rng.hex(32),
            asset_md5: rng.hex(32),
            session_token: rng.base64(24),
            rotating_uuid: rng.uuid(),
        })
        .collect();
    let truth = [
        TrueId {
            value: rng.uuid(),
            key: "oaid",
            apps: vec![0, 1, 2],
            hosts: vec![ADS[0], METRICS],
            own: false,
        },
        TrueId {
            value: rng.hex(16),
            key: "android_id",
            apps: vec![3],
            hosts: vec![METRICS],
            own: true,
        },
        TrueId {
            value: rng.uuid(),
            key: "install_id",
            apps: vec![4],
            hosts: vec![CRASH],
            own: true,
        },
        TrueId {
            value: rng.hex(64),
            key: "vaid",
            apps: vec![1],
            hosts: vec![ADS[1], PUSH],
            own: false,
        },
        // Unnamed and numeric: needs three registrable domains.
        TrueId {
            value: format!(
                "8{}",
                100_000_000_000_000_000 + rng.below(800_000_000_000_000_000)
            ),
            key: "u",
            apps: vec![5],
            hosts: vec![ATTRIB, PUSH],
            own: true,
        },
    ];

    let mut discovery = Discovery::new(State::default());
    let mut next_restart = 3600 + rng.below(11 * 3600);
    let mut flow = 0u64;
    let mut requests = 0u64;
    let mut discovered: Vec<String> = Vec::new();
    for step in 0..(HOURS * 3600 / STEP_S) {
        let now_s = step * STEP_S;
        if now_s >= next_restart {
            discovery = Discovery::new(discovery.into_state());
            next_restart = now_s + 3600 + rng.below(11 * 3600);
            flow = 0;
        }
        for (i, app) in apps.iter_mut().enumerate() {
            if now_s.is_multiple_of(1800) {
                app.session_token = rng.base64(24);
                app.rotating_uuid = rng.uuid();
            }
            // Each app is busy about a third of the time.
            if rng.below(3) != 0 {
                continue;
            }
            let own = rng.below(3) == 0;
            let host: String = if own {
                app.own[rng.below(2) as usize].clone()
            } else {
                app.sdks[rng.below(app.sdks.len() as u64) as usize].to_owned()
            };
            let ts_ms = now_s * 1000 + 1_764_720_000_000 + rng.below(1000);
            let mut query = format!("nonce={}&rid={}&ts={ts_ms}", rng.hex(32), rng.uuid());
            if own {
                query += &format!("&st={}", app.session_token);
                if host.starts_with("cdn.") {
                    query += &format!("&v={}", app.asset_md5);
                }
            } else {
                // Each SDK vendor issues the app its own key.
                let key = Sha256::digest(format!("{}{host}", app.api_key).as_bytes());
                let key: String = key[..16].iter().map(|b| format!("{b:02x}")).collect();
                query += &format!("&k={key}");
            }
            if host == ADS[0] || host == METRICS {
                query += &format!("&uuid={}", app.rotating_uuid);
            }
            let mut body = format!(
                r#"{{"event":"e{}","seq":{},"n":"{}","payload_id":"{}","time":{ts_ms}"#,
                rng.below(40),
                requests,
                rng.uuid(),
                rng.base64(22)
            );
            for id in &truth {
                let to_host = id.hosts.contains(&host.as_str()) || (id.own && own);
                if id.apps.contains(&i) && to_host {
                    body += &format!(r#","{}":"{}""#, id.key, id.value);
                }
            }
            body.push('}');
            let signature: String = Sha256::digest(body.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let url = format!("/v1/e?{query}&x={signature}");
            let header = format!("X-Trace: {}", rng.hex(24));
            flow += 1;
            requests += 1;
            let ctx = Context {
                app: Some(&app.name),
                host: &host,
                flow,
                ts: start + Duration::from_millis(ts_ms - 1_764_720_000_000),
            };
            let parts = [
                (Where::Url, url.as_bytes()),
                (Where::Header, header.as_bytes()),
                (Where::Body, body.as_bytes()),
            ];
            for seen in discovery.observe(&ctx, &parts) {
                if seen.fresh && !discovered.contains(&seen.value) {
                    discovered.push(seen.value);
                }
            }
        }
    }
    let is_true = |v: &String| truth.iter().any(|t| &t.value == v);
    let found = truth
        .iter()
        .filter(|t| discovered.contains(&t.value))
        .count();
    let false_ones: Vec<&String> = discovered.iter().filter(|v| !is_true(v)).collect();
    let candidates = discovery.state().tokens().count();
    println!(
        "discovery on {HOURS} simulated hours, {requests} requests, {candidates} candidates kept: recall {found}/{}, {} false discoveries ({:.3} per hour)",
        truth.len(),
        false_ones.len(),
        false_ones.len() as f64 / HOURS as f64
    );
    assert_eq!(found, truth.len(), "recall");
    assert!(false_ones.is_empty(), "false discoveries: {false_ones:?}");
}
