//! What `watch` tells its user on stderr: a live line of counts while CMD runs (on a
//! terminal only), and a short summary when it ends: flows, bytes, what was found where,
//! and where the records are. Identifier values never appear here, only their kinds.
//! What servers sent back is counted apart: a server answering with the user's own
//! e-mail already knew it, so it is not a leak.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use phonehome_model::{Direction, Discovered, Finding, FlowRecord, Sink};

/// Counts shared between the inspection thread (which records) and `watch` (which reports).
#[derive(Debug, Default)]
pub struct Tally {
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Findings in what the device sent: the leaks.
    pub findings: u64,
    /// Findings in what servers sent back.
    pub received: u64,
    /// Destination (host, or address) -> identifier kinds sent there.
    pub sent_to: BTreeMap<String, BTreeSet<&'static str>>,
    /// Destination -> identifier kinds it sent back.
    pub received_from: BTreeMap<String, BTreeSet<&'static str>>,
    /// Refused, never relayed: the flow table was full; a martian destination; a
    /// source not CMD's. Known when the relay ends.
    pub refused_full: u64,
    pub refused_forbidden: u64,
    pub refused_spoofed: u64,
    /// The catalog's version and size, as `2026.12.03, 10011 entries`.
    pub catalog: String,
    /// Identifiers discovery found in this run (masked values).
    pub discovered: BTreeSet<String>,
}

/// A [`Sink`] that counts what passes into the tally, then hands it on.
pub struct Counting {
    inner: Box<dyn Sink>,
    tally: Arc<Mutex<Tally>>,
}

impl Counting {
    pub fn new(inner: Box<dyn Sink>, tally: Arc<Mutex<Tally>>) -> Self {
        Self { inner, tally }
    }
}

fn lock(tally: &Mutex<Tally>) -> MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sink for Counting {
    fn flow(&mut self, record: &FlowRecord) -> io::Result<()> {
        {
            let mut t = lock(&self.tally);
            t.flows += 1;
            t.bytes_out += record.bytes_out;
            t.bytes_in += record.bytes_in;
        }
        self.inner.flow(record)
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        {
            let mut t = lock(&self.tally);
            let d = &finding.destination;
            let host = d
                .host
                .clone()
                .unwrap_or_else(|| finding.dst.ip().to_string());
            let peer = match (&d.company, d.category) {
                (Some(company), Some(category)) => format!("{host} ({company}, {category})"),
                _ => host,
            };
            let listing = match finding.direction {
                Direction::Out => {
                    t.findings += 1;
                    &mut t.sent_to
                }
                Direction::In => {
                    t.received += 1;
                    &mut t.received_from
                }
            };
            listing
                .entry(peer)
                .or_default()
                .insert(finding.kind.as_str());
        }
        self.inner.finding(finding)
    }

    fn discovered(&mut self, record: &Discovered) -> io::Result<()> {
        lock(&self.tally).discovered.insert(record.masked.clone());
        self.inner.discovered(record)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Bytes as a person reads them.
fn amount(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The live line: counts so far. Findings are the sent ones; received ones are named
/// only once there are any.
pub fn live_line(t: &Tally) -> String {
    let mut line = format!(
        "phonehome: {} flows, {} out, {} in, {} findings",
        t.flows,
        amount(t.bytes_out),
        amount(t.bytes_in),
        t.findings
    );
    if t.received > 0 {
        let _ = write!(line, ", {} received (not leaks)", t.received);
    }
    line
}

/// One line per destination, the first `SHOWN` of them.
fn listing(out: &mut String, verb: &str, peers: &BTreeMap<String, BTreeSet<&'static str>>) {
    const SHOWN: usize = 10;
    for (peer, kinds) in peers.iter().take(SHOWN) {
        let kinds: Vec<&str> = kinds.iter().copied().collect();
        let _ = writeln!(out, "  {verb} {peer}: {}", kinds.join(", "));
    }
    if peers.len() > SHOWN {
        let _ = writeln!(out, "  ... and {} more destinations", peers.len() - SHOWN);
    }
}

/// The summary printed when `watch` ends; `records` is where they were written.
pub fn summary(t: &Tally, records: Option<&std::path::Path>) -> String {
    let mut out = live_line(t);
    out.push('\n');
    listing(&mut out, "sent to", &t.sent_to);
    // Quieter, after the leaks: these servers already knew what they sent back.
    listing(&mut out, "received from", &t.received_from);
    if !t.discovered.is_empty() {
        let masked: Vec<&str> = t.discovered.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  discovered identifiers (sent unchanged to several destinations): {}",
            masked.join(", ")
        );
    }
    let refused = [
        (t.refused_full, "with the flow table full"),
        (t.refused_forbidden, "to forbidden addresses"),
        (t.refused_spoofed, "from spoofed sources"),
    ];
    if refused.iter().any(|&(n, _)| n > 0) {
        let parts: Vec<String> = refused
            .iter()
            .filter(|&&(n, _)| n > 0)
            .map(|(n, why)| format!("{n} {why}"))
            .collect();
        let _ = writeln!(
            out,
            "  refused packets: {} (the records keep at most 32 refusals a second)",
            parts.join(", ")
        );
    }
    if !t.catalog.is_empty() {
        let _ = writeln!(out, "  companies named by the catalog {}", t.catalog);
    }
    match records {
        Some(dir) => {
            let _ = writeln!(
                out,
                "  records in {} (phonehome report {0} sums them up)",
                dir.display()
            );
        }
        None => out.push_str("  no records kept (pass --out DIR to keep them)\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{Confidence, Destination, Encoding, Kind, NullSink, Proto, Where};

    #[test]
    fn amounts_read_like_a_person_writes_them() {
        assert_eq!(amount(999), "999 B");
        assert_eq!(amount(1_500), "1.5 KB");
        assert_eq!(amount(20_000_000), "20.0 MB");
    }

    #[test]
    fn the_summary_names_kinds_and_destinations_never_values() {
        let mut t = Tally {
            flows: 3,
            bytes_out: 2_000,
            bytes_in: 50_000,
            findings: 2,
            ..Tally::default()
        };
        t.sent_to
            .entry("api.account.xiaomi.com".into())
            .or_default()
            .extend(["imei", "phone"]);
        t.catalog = "2026.12.03, 10011 entries".into();
        let text = summary(&t, Some(std::path::Path::new("run1")));
        assert!(text.contains("  companies named by the catalog 2026.12.03, 10011 entries\n"));
        assert!(text.starts_with("phonehome: 3 flows, 2.0 KB out, 50.0 KB in, 2 findings\n"));
        assert!(text.contains("  sent to api.account.xiaomi.com: imei, phone\n"));
        assert!(text.contains("records in run1"));
        assert!(!text.contains("refused"));
        t.refused_full = 5_000;
        t.refused_spoofed = 3;
        let text = summary(&t, None);
        assert!(text
            .contains("  refused packets: 5000 with the flow table full, 3 from spoofed sources"));
    }

    fn finding(kind: Kind, direction: Direction) -> Finding {
        Finding {
            ts: std::time::UNIX_EPOCH,
            flow: 1,
            app: Some("curl".into()),
            proto: Proto::Tcp,
            src: "10.111.0.2:40000".parse().unwrap(),
            dst: "10.201.0.2:80".parse().unwrap(),
            destination: Destination {
                host: Some("api.example".into()),
                ..Destination::default()
            },
            kind,
            encoding: Encoding::Plain,
            digest_form: None,
            truncated: false,
            place: Where::Payload,
            direction,
            confidence: Confidence::Exact,
            evidence: String::new(),
            layers: Vec::new(),
            bytes_out: None,
            bytes_in: None,
            start: None,
            end: None,
        }
    }

    #[test]
    fn what_a_server_sent_back_is_counted_apart_from_the_leaks() {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let mut sink = Counting::new(Box::new(NullSink), tally.clone());
        sink.finding(&finding(Kind::Imei, Direction::Out)).unwrap();
        sink.finding(&finding(Kind::Email, Direction::In)).unwrap();
        sink.finding(&finding(Kind::Imei, Direction::In)).unwrap();
        let t = lock(&tally);
        assert_eq!((t.findings, t.received), (1, 2));
        let text = summary(&t, None);
        assert!(
            text.starts_with(
                "phonehome: 0 flows, 0 B out, 0 B in, 1 findings, 2 received (not leaks)\n"
            ),
            "{text}"
        );
        assert!(text.contains("  sent to api.example: imei\n"), "{text}");
        assert!(
            text.contains("  received from api.example: email, imei\n"),
            "{text}"
        );
        let sent = text.find("sent to").unwrap();
        assert!(sent < text.find("received from").unwrap(), "{text}");
    }
}
