//! `phonehome report DIR`: per company, per destination, which identifiers left, from
//! which apps, in which forms, and when first and last; read from the run's
//! `findings.jsonl`. Identifiers in what servers sent back are not leaks and get a
//! shorter section of their own, per app.
//! Then the identifiers discovery found (`discovered.jsonl`), with a snippet that
//! adds them to the identifiers file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A directory written by `watch --out` or `analyze --out`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not a record: {message}", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Default)]
struct Seen {
    forms: BTreeSet<String>,
    places: BTreeSet<String>,
    apps: BTreeSet<String>,
    first: String,
    last: String,
    count: usize,
}

impl Seen {
    fn add(&mut self, form: String, place: String, app: String, ts: String) {
        self.forms.insert(form);
        self.places.insert(place);
        self.apps.insert(app);
        self.count += 1;
        if self.first.is_empty() || ts < self.first {
            self.first = ts.clone();
        }
        if ts > self.last {
            self.last = ts;
        }
    }
}

/// What was sent to one company: its owners and categories as the records name them, the
/// apps that sent it something, and per destination line, per kind, what was seen.
#[derive(Default)]
struct Company {
    parent: String,
    categories: BTreeSet<String>,
    apps: BTreeSet<String>,
    destinations: BTreeMap<String, BTreeMap<String, Seen>>,
}

/// Findings whose destination the catalog does not name sort last: their key is this
/// followed by the destination's registrable domain, one group per domain.
const UNNAMED: &str = "\u{10ffff}";

/// What an unnamed destination is grouped by: the record's `domain` (the core's
/// registrable domain of its host), for records from before it was kept the same
/// function applied to `host`, and without a name the address, whole.
fn domain(v: &Value, host: &str) -> String {
    match field(v, "domain") {
        d if !d.is_empty() => d,
        _ if field(v, "host").is_empty() => host.to_string(),
        _ => phonehome_catalog::registrable_domain(host).to_ascii_lowercase(),
    }
}

pub fn run(args: ReportArgs) -> Result<u8, ReportError> {
    let path = args.dir.join("findings.jsonl");
    let mut text = fs::read_to_string(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    if let Some(cut) = cut_final_line(&text) {
        eprintln!(
            "phonehome: warning: {} ends in an incomplete line ({} bytes, a run that was killed?); skipped it",
            path.display(),
            text.len() - cut
        );
        text.truncate(cut);
    }
    print!(
        "{}",
        render(&text).map_err(|(line, message)| ReportError::Bad {
            path,
            line,
            message
        })?
    );
    // Runs from before discovery have no such file.
    let path = args.dir.join("discovered.jsonl");
    match fs::read_to_string(&path) {
        Ok(text) => print!(
            "{}",
            crate::report_discovered::render(&text).map_err(|(line, message)| {
                ReportError::Bad {
                    path,
                    line,
                    message,
                }
            })?
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(ReportError::Read { path, source }),
    }
    Ok(0)
}

/// Where an unfinished last line starts: a file written line by line whose writer was
/// killed may end without its newline. `None` if the text ends with one.
fn cut_final_line(text: &str) -> Option<usize> {
    if text.is_empty() || text.ends_with('\n') {
        return None;
    }
    Some(text.rfind('\n').map_or(0, |i| i + 1))
}

fn field(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// app -> destination -> kind -> what was seen.
type Tree = BTreeMap<String, BTreeMap<String, BTreeMap<String, Seen>>>;

/// What the device sent (the leaks), per company, and apart from it what servers sent
/// back, per app: a server that answers with the user's own e-mail already knew it.
#[derive(Default)]
struct Findings {
    sent: BTreeMap<String, Company>,
    received: Tree,
}

impl Findings {
    fn add(&mut self, v: &Value) {
        let app = match field(v, "app") {
            a if a.is_empty() => "(unattributed)".to_string(),
            a => a,
        };
        let host = match field(v, "host") {
            h if h.is_empty() => field(v, "dst"),
            h => h,
        };
        // Records written before the catalog named companies call it `vendor`.
        let company = match (field(v, "company"), field(v, "vendor")) {
            (c, _) if !c.is_empty() => c,
            (_, old) => old,
        };
        let category = field(v, "category");
        let mut form = field(v, "encoding");
        if v["truncated"] == Value::Bool(true) {
            form.push_str(" (truncated)");
        }
        match field(v, "confidence").as_str() {
            "probable" => form.push_str(" (probable)"),
            "discovered" => form.push_str(" (discovered)"),
            _ => {}
        }
        if let Some(layers) = v["layers"].as_array().filter(|l| !l.is_empty()) {
            let names: Vec<&str> = layers.iter().filter_map(Value::as_str).collect();
            form.push_str(&format!(" inside {}", names.join(">")));
        }
        let (ts, place, kind) = (field(v, "ts"), field(v, "where"), field(v, "kind"));
        // Records from before the direction was kept were all of what was sent.
        if field(v, "direction") == "in" {
            let tag = match company.as_str() {
                "" => String::new(),
                c => format!(" [{c} {category}]"),
            };
            self.received
                .entry(app.clone())
                .or_default()
                .entry(format!("{host}{tag}"))
                .or_default()
                .entry(kind)
                .or_default()
                .add(form, place, app, ts);
            return;
        }
        let mut notes = Vec::new();
        match field(v, "party").as_str() {
            "" => {}
            party => notes.push(format!("{party} party")),
        }
        let cname = field(v, "cname");
        if !cname.is_empty() {
            notes.push(format!("alias of {cname}"));
        }
        let key = if company.is_empty() {
            format!("{UNNAMED}{}", domain(v, &host))
        } else {
            company
        };
        let destination = match notes.is_empty() {
            true => host,
            false => format!("{host} ({})", notes.join(", ")),
        };
        let entry = self.sent.entry(key).or_default();
        let parent = field(v, "parent");
        if !parent.is_empty() {
            entry.parent = parent;
        }
        if !category.is_empty() {
            entry.categories.insert(category);
        }
        entry.apps.insert(app.clone());
        entry
            .destinations
            .entry(destination)
            .or_default()
            .entry(kind)
            .or_default()
            .add(form, place, app, ts);
    }
}

fn render(text: &str) -> Result<String, (usize, String)> {
    let mut findings = Findings::default();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).map_err(|e| (i + 1, e.to_string()))?;
        if !v.is_object() || v["kind"].is_null() {
            return Err((i + 1, "no kind".into()));
        }
        findings.add(&v);
    }
    let mut out = String::new();
    match (findings.sent.is_empty(), findings.received.is_empty()) {
        (true, true) => out.push_str("No findings.\n"),
        (true, false) => out.push_str("Nothing found in what was sent.\n"),
        _ => sent(&mut out, &findings.sent),
    }
    if !findings.received.is_empty() {
        received(&mut out, &findings.received);
    }
    Ok(out)
}

fn join(m: &BTreeSet<String>) -> String {
    m.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The main listing: per company (its categories, owners and the apps that sent to it),
/// every kind sent to each of its destinations, its forms, places and apps.
fn sent(out: &mut String, companies: &BTreeMap<String, Company>) {
    for (company, c) in companies {
        let mut head = match company.strip_prefix(UNNAMED) {
            Some(domain) => format!("{domain} (company not in the catalog)"),
            None => company.clone(),
        };
        if !c.categories.is_empty() {
            head.push_str(&format!(" ({})", join(&c.categories)));
        }
        if !c.parent.is_empty() {
            head.push_str(&format!(", owned by {}", c.parent));
        }
        let apps = match c.apps.len() {
            1 => "1 app".to_string(),
            n => format!("{n} apps"),
        };
        out.push_str(&format!("{head}: from {apps}: {}\n", join(&c.apps)));
        for (destination, kinds) in &c.destinations {
            out.push_str(&format!("  -> {destination}\n"));
            for (kind, seen) in kinds {
                out.push_str(&format!(
                    "       {kind:<15} as {} in {} ({}x, first {}, last {}) from {}\n",
                    join(&seen.forms),
                    join(&seen.places),
                    seen.count,
                    seen.first,
                    seen.last,
                    join(&seen.apps)
                ));
            }
        }
    }
}

/// The quieter section: one line per destination, which kinds it sent back and when.
fn received(out: &mut String, tree: &Tree) {
    out.push_str("\nReceived from servers (not leaks: these servers already know them)\n");
    for (app, destinations) in tree {
        out.push_str(&format!("  {app}\n"));
        for (destination, kinds) in destinations {
            let count: usize = kinds.values().map(|s| s.count).sum();
            let first = kinds.values().map(|s| &s.first).min().cloned();
            let last = kinds.values().map(|s| &s.last).max().cloned();
            let names: Vec<&str> = kinds.keys().map(String::as_str).collect();
            out.push_str(&format!(
                "    <- {destination}: {} ({count}x, first {}, last {})\n",
                names.join(", "),
                first.unwrap_or_default(),
                last.unwrap_or_default()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_grouped_by_company_destination_and_kind() {
        let text = r#"{"ts":"2026-01-01T00:00:02.000Z","app":null,"dst":"10.0.0.2:80","host":"api.account.xiaomi.com","company":"Xiaomi","parent":null,"category":"cloud-messaging","party":"third","kind":"imei","encoding":"plain","truncated":false,"where":"url","confidence":"exact"}
{"ts":"2026-01-01T00:00:01.000Z","app":null,"dst":"10.0.0.2:80","host":"api.account.xiaomi.com","company":"Xiaomi","parent":null,"category":"cloud-messaging","party":"third","kind":"imei","encoding":"sha1","truncated":true,"where":"url","confidence":"exact"}
{"ts":"2026-01-01T00:00:03.000Z","app":null,"dst":"10.0.0.9:443","host":null,"company":null,"category":null,"party":null,"kind":"mac","encoding":"plain","truncated":false,"where":"payload","confidence":"probable"}
"#;
        let out = render(text).unwrap();
        assert!(
            out.contains("Xiaomi (cloud-messaging): from 1 app: (unattributed)\n"),
            "{out}"
        );
        assert!(
            out.contains("-> api.account.xiaomi.com (third party)"),
            "{out}"
        );
        assert!(out.contains("imei            as plain, sha1 (truncated) in url (2x, first 2026-01-01T00:00:01.000Z, last 2026-01-01T00:00:02.000Z) from (unattributed)"), "{out}");
        assert!(
            out.contains("10.0.0.9:443 (company not in the catalog): from 1 app"),
            "{out}"
        );
        assert!(out.contains("-> 10.0.0.9:443\n"));
        assert!(out.contains("plain (probable)"));
        assert!(
            out.find("Xiaomi").unwrap() < out.find("(company not in the catalog)").unwrap(),
            "unnamed destinations come last"
        );
        let wrapped = r#"{"ts":"2026-01-01T00:00:04.000Z","app":"sdk","dst":"10.0.0.3:80","kind":"imei","encoding":"plain","truncated":false,"where":"body","confidence":"exact","layers":["hex","gzip"]}"#;
        assert!(
            render(wrapped)
                .unwrap()
                .contains("imei            as plain inside hex>gzip in body"),
            "{}",
            render(wrapped).unwrap()
        );
    }

    /// Hosts the catalog does not know: one group per registrable domain, as the core
    /// wrote it in `domain`; records from before it was kept get the core's function.
    #[test]
    fn unknown_hosts_are_grouped_by_their_registrable_domain() {
        let line = |host: &str, domain: &str| {
            format!(
                r#"{{"ts":"2026-01-01T00:00:01.000Z","app":"a","dst":"192.0.2.7:443","host":"{host}","domain":{domain},"company":null,"party":"third","kind":"ad_id","encoding":"plain","truncated":false,"where":"body","direction":"out","confidence":"exact"}}"#
            )
        };
        let text = [
            line("a.b.co.uk", r#""b.co.uk""#),
            line("c.co.uk", r#""c.co.uk""#),
            line("api.c.co.uk", r#""c.co.uk""#),
            line("x.appspot.com", "null"),
            line("v2.y.appspot.com", "null"),
        ]
        .join("\n");
        let out = render(&text).unwrap();
        for head in [
            "b.co.uk (company not in the catalog): from 1 app: a\n  -> a.b.co.uk (third party)\n",
            "c.co.uk (company not in the catalog): from 1 app: a\n  -> api.c.co.uk (third party)\n",
            "x.appspot.com (company not in the catalog): from 1 app",
            "y.appspot.com (company not in the catalog): from 1 app",
        ] {
            assert!(out.contains(head), "{head:?} in\n{out}");
        }
        assert_eq!(
            out.matches("(company not in the catalog)").count(),
            4,
            "{out}"
        );
    }

    /// "AppsFlyer (attribution) received your advertising ID from 2 apps", with the
    /// first-party alias it was reached through.
    #[test]
    fn one_company_lists_every_app_that_sent_it_something() {
        let line = |app: &str, host: &str, cname: &str| {
            format!(
                r#"{{"ts":"2026-01-01T00:00:01.000Z","app":"{app}","dst":"192.0.2.7:443","host":"{host}","company":"AppsFlyer","parent":null,"category":"attribution","party":"third","cname":{cname},"kind":"ad_id","encoding":"plain","truncated":false,"where":"body","direction":"out","confidence":"exact"}}"#
            )
        };
        let text = [
            line(
                "com.example.weather",
                "metrics.example.com",
                r#""example.onelink.me""#,
            ),
            line("com.other.game", "t.appsflyer.com", "null"),
        ]
        .join("\n");
        let out = render(&text).unwrap();
        assert!(
            out.starts_with(
                "AppsFlyer (attribution): from 2 apps: com.example.weather, com.other.game\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("-> metrics.example.com (third party, alias of example.onelink.me)"),
            "{out}"
        );
        assert!(out.contains("-> t.appsflyer.com (third party)"), "{out}");
    }

    #[test]
    fn old_records_with_a_vendor_still_name_the_company() {
        let text = r#"{"ts":"2026-01-01T00:00:01.000Z","app":"a","dst":"10.0.0.2:80","host":"x.example","vendor":"Xiaomi","category":"telemetry","kind":"imei","encoding":"plain","truncated":false,"where":"url","confidence":"exact"}"#;
        assert!(render(text)
            .unwrap()
            .starts_with("Xiaomi (telemetry): from 1 app: a\n"));
    }

    #[test]
    fn what_servers_sent_back_is_listed_apart_and_never_as_sent() {
        let text = r#"{"ts":"2026-01-01T00:00:01.000Z","app":"curl","dst":"10.0.0.2:80","host":"api.example","kind":"imei","encoding":"plain","truncated":false,"where":"url","direction":"out","confidence":"exact"}
{"ts":"2026-01-01T00:00:02.000Z","app":"curl","dst":"10.0.0.2:80","host":"api.example","kind":"email","encoding":"plain","truncated":false,"where":"payload","direction":"in","confidence":"exact"}
{"ts":"2026-01-01T00:00:03.000Z","app":"curl","dst":"10.0.0.2:80","host":"api.example","kind":"imei","encoding":"json","truncated":false,"where":"payload","direction":"in","confidence":"exact"}
"#;
        let out = render(text).unwrap();
        let (sent, received) = out
            .split_once("Received from servers (not leaks: these servers already know them)\n")
            .expect(&out);
        assert!(
            sent.contains("imei            as plain in url (1x,"),
            "{out}"
        );
        assert!(!sent.contains("email") && !sent.contains("json"), "{out}");
        assert_eq!(
            received,
            "  curl\n    <- api.example: email, imei (2x, first 2026-01-01T00:00:02.000Z, last 2026-01-01T00:00:03.000Z)\n"
        );
    }

    #[test]
    fn a_run_where_only_servers_named_identifiers_has_no_leak_listed() {
        let text = r#"{"ts":"2026-01-01T00:00:02.000Z","app":null,"dst":"10.0.0.2:80","host":null,"kind":"email","encoding":"plain","truncated":false,"where":"payload","direction":"in","confidence":"exact"}
"#;
        let out = render(text).unwrap();
        assert!(
            out.starts_with("Nothing found in what was sent.\n\nReceived from servers"),
            "{out}"
        );
        assert!(out.contains("    <- 10.0.0.2:80: email (1x,"), "{out}");
    }

    #[test]
    fn a_broken_line_is_named() {
        assert_eq!(render("{}\n").unwrap_err().0, 1);
        assert_eq!(
            render("\n{\"kind\":\"imei\"}\nnot json\n").unwrap_err().0,
            3
        );
    }

    #[test]
    fn only_an_unfinished_last_line_is_cut() {
        assert_eq!(cut_final_line(""), None);
        assert_eq!(cut_final_line("{}\n{}\n"), None);
        assert_eq!(cut_final_line("{\"kind\":\"imei\"}\n{\"ki"), Some(16));
        assert_eq!(cut_final_line("{\"ki"), Some(0));
    }
}
