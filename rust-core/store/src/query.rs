//! Reading the SQLite store back: pages of findings and flows for the app's screens, and
//! whole tables as JSON lines for export. Readers open their own connection; in WAL mode
//! they never block the monitor writing.

use std::io::Write;
use std::path::Path;

use rusqlite::{types::Value as Sql, Connection, OpenFlags};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Narrows a query; every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub app: Option<String>,
    pub host: Option<String>,
    /// Findings only: the identifier kind.
    pub kind: Option<String>,
    /// Findings only: `out` for what the device sent (the leaks), `in` for what servers
    /// sent back.
    pub direction: Option<String>,
    pub session: Option<i64>,
    pub flow: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the filter is not valid: {0}")]
    Filter(String),
    #[error(
        "page limit must be 1 to {MAX_PAGE}, offset 0 or more (got offset {offset}, limit {limit})"
    )]
    Page { offset: i64, limit: i64 },
    #[error("no records store at {0} (the monitor has not run yet?)")]
    Missing(String),
    #[error("cannot read the records store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Rows a page may hold at most.
pub const MAX_PAGE: i64 = 10_000;

impl Filter {
    pub fn from_json(text: &str) -> Result<Self, QueryError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| QueryError::Filter(e.to_string()))
    }

    /// `WHERE` clause and its parameters; `kind` and `direction` only apply to findings.
    fn clause(&self, findings: bool) -> (String, Vec<Sql>) {
        let mut terms = Vec::new();
        let mut args = Vec::new();
        let mut add = |column: &str, value: Sql| {
            terms.push(format!("{column} = ?{}", terms.len() + 1));
            args.push(value);
        };
        if let Some(app) = &self.app {
            add("app", Sql::Text(app.clone()));
        }
        if let Some(host) = &self.host {
            add("host", Sql::Text(host.clone()));
        }
        if let (true, Some(kind)) = (findings, &self.kind) {
            add("kind", Sql::Text(kind.clone()));
        }
        if let (true, Some(direction)) = (findings, &self.direction) {
            add("direction", Sql::Text(direction.clone()));
        }
        if let Some(session) = self.session {
            add("session", Sql::Integer(session));
        }
        if let Some(flow) = self.flow {
            add(if findings { "flow" } else { "id" }, Sql::Integer(flow));
        }
        if terms.is_empty() {
            (String::new(), args)
        } else {
            (format!("WHERE {}", terms.join(" AND ")), args)
        }
    }
}

/// A read-only connection to the store at `path`.
pub fn open(path: &Path) -> Result<Connection, QueryError> {
    if !path.exists() {
        return Err(QueryError::Missing(path.display().to_string()));
    }
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    db.busy_timeout(std::time::Duration::from_secs(2))?;
    Ok(db)
}

/// Checks a page request before anything is opened.
pub fn check_page(offset: i64, limit: i64) -> Result<(), QueryError> {
    if offset < 0 || !(1..=MAX_PAGE).contains(&limit) {
        return Err(QueryError::Page { offset, limit });
    }
    Ok(())
}

/// Each row's JSON line with `id` (findings) and `session` added.
fn page(
    db: &Connection,
    sql: &str,
    args: Vec<Sql>,
    extra: &[&str],
) -> Result<Vec<Value>, QueryError> {
    let mut statement = db.prepare(sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(args), |row| {
        let json: String = row.get(0)?;
        let mut fields = Vec::with_capacity(extra.len());
        for i in 0..extra.len() {
            fields.push(row.get::<_, i64>(i + 1)?);
        }
        Ok((json, fields))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (json, fields) = row?;
        // A row written by this code is always an object; anything else is kept as text.
        let mut object = match serde_json::from_str::<Value>(&json) {
            Ok(Value::Object(map)) => map,
            _ => Map::from_iter([("raw".to_owned(), Value::String(json))]),
        };
        for (name, value) in extra.iter().zip(fields) {
            object.insert((*name).to_owned(), Value::from(value));
        }
        out.push(Value::Object(object));
    }
    Ok(out)
}

/// Findings, newest first.
pub fn findings(
    db: &Connection,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Value>, QueryError> {
    check_page(offset, limit)?;
    let (clause, mut args) = filter.clause(true);
    let n = args.len();
    let sql = format!(
        "SELECT json, id, session FROM findings {clause} ORDER BY id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    args.extend([Sql::Integer(limit), Sql::Integer(offset)]);
    page(db, &sql, args, &["id", "session"])
}

/// Finished flows, the latest to end first.
pub fn flows(
    db: &Connection,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Value>, QueryError> {
    check_page(offset, limit)?;
    let (clause, mut args) = filter.clause(false);
    let n = args.len();
    let sql = format!(
        "SELECT json, session FROM flows {clause}
         ORDER BY end_ms DESC, session DESC, id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    args.extend([Sql::Integer(limit), Sql::Integer(offset)]);
    page(db, &sql, args, &["session"])
}

/// Which table an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Findings,
    Flows,
}

/// Writes every row of `table` as one JSON line, oldest first, exactly as the JSONL
/// files of `watch --out` have them. Returns the bytes written.
pub fn export_jsonl(db: &Connection, table: Table, out: &mut dyn Write) -> Result<u64, QueryError> {
    let sql = match table {
        Table::Findings => "SELECT json FROM findings ORDER BY id",
        Table::Flows => "SELECT json FROM flows ORDER BY session, start_ms, id",
    };
    let mut statement = db.prepare(sql)?;
    let mut rows = statement.query([])?;
    let mut written = 0u64;
    while let Some(row) = rows.next()? {
        let json: String = row.get(0)?;
        out.write_all(json.as_bytes())?;
        out.write_all(b"\n")?;
        written += json.len() as u64 + 1;
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::Store;
    use phonehome_model::{
        CloseReason, Confidence, Destination, Direction, Encoding, Finding, FlowRecord, Kind,
        Proto, Where,
    };
    use std::time::{Duration, UNIX_EPOCH};

    fn finding(flow: u64, app: &str, kind: Kind, secs: u64) -> Finding {
        // What com.b gets back is what its server sent.
        let direction = if app == "com.b" {
            Direction::In
        } else {
            Direction::Out
        };
        Finding {
            ts: UNIX_EPOCH + Duration::from_secs(secs),
            flow,
            app: Some(app.into()),
            proto: Proto::Tcp,
            src: "10.111.0.2:4000".parse().unwrap(),
            dst: "10.201.0.2:80".parse().unwrap(),
            destination: Destination {
                host: Some("api.account.xiaomi.com".into()),
                ..Destination::default()
            },
            kind,
            encoding: Encoding::Plain,
            digest_form: None,
            truncated: false,
            place: Where::Url,
            direction,
            confidence: Confidence::Exact,
            evidence: "imei=86**********".into(),
            layers: Vec::new(),
            bytes_out: None,
            bytes_in: None,
            start: None,
            end: None,
        }
    }

    fn flow(id: u64, app: &str, end_secs: u64) -> FlowRecord {
        FlowRecord {
            flow: id,
            proto: Proto::Udp,
            src: "10.111.0.2:5000".parse().unwrap(),
            dst: "10.111.0.1:53".parse().unwrap(),
            bytes_out: 40,
            bytes_in: 80,
            start: UNIX_EPOCH + Duration::from_secs(end_secs - 1),
            end: UNIX_EPOCH + Duration::from_secs(end_secs),
            close: CloseReason::Idle,
            app: Some(app.into()),
            destination: Destination::default(),
        }
    }

    /// A test's folder, removed when the test ends.
    struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Two sessions in one store, as the app keeps them: flow ids repeat across them.
    fn store(name: &str) -> (TempDir, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("phonehome-query-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("phonehome.sqlite");
        for session in [1, 2] {
            let mut s = Store::open(&path, session).unwrap();
            s.insert_finding(&finding(1, "com.a", Kind::Imei, 100 + session as u64))
                .unwrap();
            s.insert_finding(&finding(1, "com.b", Kind::Imsi, 200 + session as u64))
                .unwrap();
            s.insert_flow(&flow(1, "com.a", 300 + session as u64))
                .unwrap();
            s.commit().unwrap();
        }
        (TempDir(dir), path)
    }

    #[test]
    fn pages_come_newest_first_with_their_session_and_id() {
        let (_dir, path) = store("pages");
        let db = open(&path).unwrap();
        let all = findings(&db, &Filter::default(), 0, 100).unwrap();
        assert_eq!(all.len(), 4);
        let ids: Vec<i64> = all.iter().map(|f| f["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [4, 3, 2, 1]);
        assert_eq!(all[0]["session"], 2);
        assert_eq!(all[0]["kind"], "imsi");
        assert_eq!(all[0]["where"], "url");
        let second_page = findings(&db, &Filter::default(), 2, 2).unwrap();
        assert_eq!(second_page, all[2..]);
        let flows = flows(&db, &Filter::default(), 0, 10).unwrap();
        assert_eq!(flows.len(), 2, "flow 1 of each session is kept");
        assert_eq!(flows[0]["session"], 2);
    }

    #[test]
    fn filters_narrow_by_app_kind_direction_session_and_flow() {
        let (_dir, path) = store("filters");
        let db = open(&path).unwrap();
        let f = Filter::from_json(r#"{"app": "com.b", "session": 1}"#).unwrap();
        let rows = findings(&db, &f, 0, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["app"], "com.b");
        let f = Filter::from_json(r#"{"kind": "imei"}"#).unwrap();
        assert_eq!(findings(&db, &f, 0, 10).unwrap().len(), 2);
        let f = Filter::from_json(r#"{"flow": 1, "session": 2}"#).unwrap();
        assert_eq!(flows(&db, &f, 0, 10).unwrap().len(), 1);
        assert_eq!(findings(&db, &f, 0, 10).unwrap().len(), 2);
        let f = Filter::from_json(r#"{"host": "elsewhere.example"}"#).unwrap();
        assert!(findings(&db, &f, 0, 10).unwrap().is_empty());
        let f = Filter::from_json(r#"{"direction": "in"}"#).unwrap();
        let received = findings(&db, &f, 0, 10).unwrap();
        assert_eq!(received.len(), 2);
        assert!(received.iter().all(|r| r["app"] == "com.b"), "{received:?}");
        let f = Filter::from_json(r#"{"direction": "out", "app": "com.b"}"#).unwrap();
        assert!(findings(&db, &f, 0, 10).unwrap().is_empty());
    }

    #[test]
    fn bad_filters_pages_and_paths_are_errors_that_say_why() {
        let err = Filter::from_json(r#"{"colour": "red"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let (_dir, path) = store("bad");
        let db = open(&path).unwrap();
        for (offset, limit) in [(-1, 10), (0, 0), (0, MAX_PAGE + 1)] {
            let err = findings(&db, &Filter::default(), offset, limit).unwrap_err();
            assert!(err.to_string().contains("page limit"), "{err}");
        }
        let err = open(Path::new("/nonexistent/phonehome.sqlite")).unwrap_err();
        assert!(err.to_string().contains("no records store"), "{err}");
    }

    #[test]
    fn an_export_is_every_row_as_its_original_json_line() {
        let (_dir, path) = store("export");
        let db = open(&path).unwrap();
        let mut out = Vec::new();
        let n = export_jsonl(&db, Table::Findings, &mut out).unwrap();
        assert_eq!(n as usize, out.len());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let expected = serde_json::to_string(&finding(1, "com.a", Kind::Imei, 101)).unwrap();
        assert_eq!(lines[0], expected);
        let mut out = Vec::new();
        export_jsonl(&db, Table::Flows, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }
}
