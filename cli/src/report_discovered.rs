//! The "Discovered identifiers" section of `phonehome report`: what discovery found
//! (`discovered.jsonl`, whose last line for a value is its newest), where it went, and
//! the lines that add it to the identifiers file so that every form of it is looked for.

use std::collections::BTreeMap;

use serde_json::Value;

fn list(v: &Value, key: &str) -> String {
    match v[key].as_array() {
        Some(items) if !items.is_empty() => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".to_owned(),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("-")
}

/// The section for the lines of `discovered.jsonl`; empty if it has none.
pub fn render(jsonl: &str) -> Result<String, (usize, String)> {
    let mut newest: BTreeMap<String, Value> = BTreeMap::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            // A run killed mid-write may leave half a last line.
            if i + 1 == jsonl.lines().count() && !jsonl.ends_with('\n') {
                continue;
            }
            return Err((i + 1, "not JSON".into()));
        };
        let Some(value) = v["value"].as_str() else {
            return Err((i + 1, "no value".into()));
        };
        newest.insert(value.to_owned(), v);
    }
    if newest.is_empty() {
        return Ok(String::new());
    }
    let mut out = String::from(
        "\nDiscovered identifiers (nobody configured them; sent unchanged over time to several destinations)\n",
    );
    for v in newest.values() {
        let keys = match list(v, "keys") {
            k if k == "-" => String::new(),
            k => format!(" under {k}"),
        };
        out.push_str(&format!(
            "  {} ({}){keys}\n       from {} to {}\n       first {}, last {}, {} flows in {} sessions\n",
            text(v, "masked"),
            text(v, "shape"),
            list(v, "apps"),
            list(v, "domains"),
            text(v, "first_seen"),
            text(v, "last_seen"),
            v["flows"],
            v["sessions"],
        ));
    }
    out.push_str(
        "  To look for them in every form (hashes, base64, ...), add to the identifiers file (--ids):\n",
    );
    let values: Vec<String> = newest.keys().map(|k| format!("{k:?}")).collect();
    out.push_str(&format!("    device_id = [{}]\n", values.join(", ")));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_line_of_each_value_is_shown_with_a_snippet_for_the_identifiers_file() {
        let text = r#"{"value":"5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84","shape":"uuid","keys":["oaid"],"apps":["curl"],"domains":["a.test","b.test"],"hosts":["x.a.test","y.b.test"],"first_seen":"2026-01-01T00:00:00.000Z","last_seen":"2026-01-01T00:00:05.000Z","flows":3,"sessions":2,"masked":"5f******************************2e84"}
{"value":"5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84","shape":"uuid","keys":["oaid"],"apps":["curl"],"domains":["a.test","b.test"],"hosts":["x.a.test","y.b.test"],"first_seen":"2026-01-01T00:00:00.000Z","last_seen":"2026-01-01T00:00:09.000Z","flows":5,"sessions":2,"masked":"5f******************************2e84"}
"#;
        let out = render(text).unwrap();
        assert!(out.contains("Discovered identifiers"), "{out}");
        assert!(
            out.contains("5f******************************2e84 (uuid) under oaid"),
            "{out}"
        );
        assert!(out.contains("from curl to a.test, b.test"), "{out}");
        assert!(
            out.contains("last 2026-01-01T00:00:09.000Z, 5 flows in 2 sessions"),
            "{out}"
        );
        assert!(
            out.contains("device_id = [\"5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84\"]"),
            "{out}"
        );
        assert_eq!(out.matches("(uuid)").count(), 1);
    }

    #[test]
    fn no_lines_no_section_and_a_broken_line_is_named() {
        assert_eq!(render("").unwrap(), "");
        assert_eq!(render("{}\n").unwrap_err().0, 1);
        assert!(render("{\"value\":\"x\"}\n{\"val").is_ok());
    }
}
