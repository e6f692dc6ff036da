//! What `watch` tells its user on stderr: a live line of counts while CMD runs (on a
//! terminal only), and a short summary when it ends: flows, bytes, what was found where,
//! and where the records are. Identifier values never appear here, only their kinds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use phonehome_model::{Direction, Finding, FlowRecord, Sink};

/// Counts shared between the inspection thread (which records) and `watch` (which reports).
#[derive(Debug, Default)]
pub struct Tally {
    pub flows: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub findings: u64,
    /// Destination (host, or address) -> identifier kinds sent there.
    pub sent_to: BTreeMap<String, BTreeSet<&'static str>>,
    /// Refused, never relayed: the flow table was full; a martian destination; a
    /// source not CMD's. Known when the relay ends.
    pub refused_full: u64,
    pub refused_forbidden: u64,
    pub refused_spoofed: u64,
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
            t.findings += 1;
            // Only what left the device is a leak worth a line here.
            if finding.direction == Direction::Out {
                let to = finding
                    .destination
                    .host
                    .clone()
                    .unwrap_or_else(|| finding.dst.ip().to_string());
                t.sent_to
                    .entry(to)
                    .or_default()
                    .insert(finding.kind.as_str());
            }
        }
        self.inner.finding(finding)
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

/// The live line: counts so far.
pub fn live_line(t: &Tally) -> String {
    format!(
        "phonehome: {} flows, {} out, {} in, {} findings",
        t.flows,
        amount(t.bytes_out),
        amount(t.bytes_in),
        t.findings
    )
}

/// The summary printed when `watch` ends; `records` is where they were written.
pub fn summary(t: &Tally, records: Option<&std::path::Path>) -> String {
    let mut out = live_line(t);
    out.push('\n');
    const SHOWN: usize = 10;
    for (to, kinds) in t.sent_to.iter().take(SHOWN) {
        let kinds: Vec<&str> = kinds.iter().copied().collect();
        let _ = writeln!(out, "  sent to {to}: {}", kinds.join(", "));
    }
    if t.sent_to.len() > SHOWN {
        let _ = writeln!(
            out,
            "  ... and {} more destinations",
            t.sent_to.len() - SHOWN
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
        let text = summary(&t, Some(std::path::Path::new("run1")));
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
}
