//! `phonehome report DIR`: per app, per destination, which identifiers left, in which
//! forms, and when first and last; read from the run's `findings.jsonl`. Identifiers in
//! what servers sent back are not leaks and get a shorter section of their own.

use std::collections::BTreeMap;
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
    #[error("{}:{line}: not a finding: {message}", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Default)]
struct Seen {
    forms: BTreeMap<String, ()>,
    places: BTreeMap<String, ()>,
    first: String,
    last: String,
    count: usize,
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

/// What the device sent (the leaks), and apart from it what servers sent back: a server
/// that answers with the user's own e-mail already knew it.
#[derive(Default)]
struct Findings {
    sent: Tree,
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
        let tag = match (field(v, "vendor"), field(v, "category")) {
            (vendor, _) if vendor.is_empty() => String::new(),
            (vendor, category) => format!(" [{vendor} {category}]"),
        };
        let mut form = field(v, "encoding");
        if v["truncated"] == Value::Bool(true) {
            form.push_str(" (truncated)");
        }
        if field(v, "confidence") == "probable" {
            form.push_str(" (probable)");
        }
        if let Some(layers) = v["layers"].as_array().filter(|l| !l.is_empty()) {
            let names: Vec<&str> = layers.iter().filter_map(Value::as_str).collect();
            form.push_str(&format!(" inside {}", names.join(">")));
        }
        // Records from before the direction was kept were all of what was sent.
        let tree = match field(v, "direction").as_str() {
            "in" => &mut self.received,
            _ => &mut self.sent,
        };
        let ts = field(v, "ts");
        let seen = tree
            .entry(app)
            .or_default()
            .entry(format!("{host}{tag}"))
            .or_default()
            .entry(field(v, "kind"))
            .or_default();
        seen.forms.insert(form, ());
        seen.places.insert(field(v, "where"), ());
        seen.count += 1;
        if seen.first.is_empty() || ts < seen.first {
            seen.first = ts.clone();
        }
        if ts > seen.last {
            seen.last = ts;
        }
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

fn join(m: &BTreeMap<String, ()>) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// The main listing: every kind sent to each destination, its forms and places.
fn sent(out: &mut String, tree: &Tree) {
    for (app, destinations) in tree {
        out.push_str(&format!("{app}\n"));
        for (destination, kinds) in destinations {
            out.push_str(&format!("  -> {destination}\n"));
            for (kind, seen) in kinds {
                out.push_str(&format!(
                    "       {kind:<15} as {} in {} ({}x, first {}, last {})\n",
                    join(&seen.forms),
                    join(&seen.places),
                    seen.count,
                    seen.first,
                    seen.last
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
    fn findings_are_grouped_by_app_destination_and_kind() {
        let text = r#"{"ts":"2026-01-01T00:00:02.000Z","app":null,"dst":"10.0.0.2:80","host":"api.account.xiaomi.com","vendor":"Xiaomi","category":"cloud-messaging","kind":"imei","encoding":"plain","truncated":false,"where":"url","confidence":"exact"}
{"ts":"2026-01-01T00:00:01.000Z","app":null,"dst":"10.0.0.2:80","host":"api.account.xiaomi.com","vendor":"Xiaomi","category":"cloud-messaging","kind":"imei","encoding":"sha1","truncated":true,"where":"url","confidence":"exact"}
{"ts":"2026-01-01T00:00:03.000Z","app":null,"dst":"10.0.0.9:443","host":null,"vendor":null,"category":null,"kind":"mac","encoding":"plain","truncated":false,"where":"payload","confidence":"probable"}
"#;
        let out = render(text).unwrap();
        assert!(out.contains("(unattributed)"));
        assert!(out.contains("-> api.account.xiaomi.com [Xiaomi cloud-messaging]"));
        assert!(out.contains("imei            as plain, sha1 (truncated) in url (2x, first 2026-01-01T00:00:01.000Z, last 2026-01-01T00:00:02.000Z)"), "{out}");
        assert!(out.contains("-> 10.0.0.9:443"));
        assert!(out.contains("plain (probable)"));
        let wrapped = r#"{"ts":"2026-01-01T00:00:04.000Z","app":"sdk","dst":"10.0.0.3:80","kind":"imei","encoding":"plain","truncated":false,"where":"body","confidence":"exact","layers":["hex","gzip"]}"#;
        assert!(
            render(wrapped)
                .unwrap()
                .contains("imei            as plain inside hex>gzip in body"),
            "{}",
            render(wrapped).unwrap()
        );
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
