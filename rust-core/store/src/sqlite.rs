//! The SQLite store the app queries: flows and findings of a run, in WAL mode so a
//! reader (the UI, `phonehome report`) never blocks the writer.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags};

use phonehome_model::{
    Category, Discovered, Finding, FlowRecord, HostSource, Party, Sink, TlsMode,
};

/// File name of the store inside an output directory.
pub const FILE_NAME: &str = "phonehome.sqlite";

/// The schema, shared with the Android app (which ships `schema/` as its assets folder).
pub const SCHEMA: &str = include_str!("../schema/phonehome.sql");

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A finding's layers as the JSON list its line has, NULL for a value found unwrapped.
fn layers_column(f: &Finding) -> Option<String> {
    (!f.layers.is_empty()).then(|| json_line(&f.layers))
}

/// Columns added after a table was first shipped: a store made before gets them here
/// (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it is).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("findings", "layers", "TEXT"),
    ("flows", "company", "TEXT"),
    ("flows", "parent", "TEXT"),
    ("flows", "party", "TEXT"),
    ("findings", "company", "TEXT"),
    ("findings", "parent", "TEXT"),
    ("findings", "party", "TEXT"),
    ("flows", "tls", "TEXT"),
    ("findings", "tls", "TEXT"),
    ("flows", "domain", "TEXT"),
    ("findings", "domain", "TEXT"),
];

fn add_missing_columns(db: &Connection) -> rusqlite::Result<()> {
    for (table, column, ty) in ADDED_COLUMNS {
        let present: bool = db.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !present {
            db.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))?;
        }
    }
    Ok(())
}

fn json_line<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A writable store. Rows are batched in a transaction until [`Store::commit`].
///
/// One database may hold many runs (the app keeps its history): each row carries the
/// `session` it was recorded in, and flow ids are unique within a session. Each row also
/// keeps its JSON line exactly as `findings.jsonl` / `flows.jsonl` have it, which is what
/// queries and exports return.
pub struct Store {
    db: Connection,
    session: i64,
    pending: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pending", &self.pending)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the store for one run numbered `session` (0 for `watch`).
    pub fn open(path: &Path, session: i64) -> rusqlite::Result<Self> {
        // Never through a link at `path` (SQLite opens -wal and -shm that way anyway).
        let flags = OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let db = Connection::open_with_flags(path, flags)?;
        // Space of forgotten rows goes back to the file system (see `forget_through`);
        // this takes effect only on a new, empty database, which is what `watch` opens.
        db.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        // A checkpointed WAL is cut back to this size instead of keeping its peak.
        db.pragma_update(None, "journal_size_limit", Self::WAL_KEPT_BYTES)?;
        db.execute_batch(SCHEMA)?;
        add_missing_columns(&db)?;
        Ok(Self {
            db,
            session,
            pending: 0,
        })
    }

    fn begin(&mut self) -> rusqlite::Result<()> {
        if self.pending == 0 {
            self.db.execute_batch("BEGIN")?;
        }
        self.pending += 1;
        Ok(())
    }

    pub fn insert_flow(&mut self, r: &FlowRecord) -> rusqlite::Result<()> {
        self.begin()?;
        let d = &r.destination;
        self.db.execute(
            "INSERT OR REPLACE INTO flows (session, id, proto, src, dst, app, host, host_source,
                vendor, category, service, bytes_out, bytes_in, start_ms, end_ms, close, json,
                company, parent, party, tls, domain)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,
                ?22)",
            params![
                self.session,
                r.flow as i64,
                r.proto.as_str(),
                r.src.to_string(),
                r.dst.to_string(),
                r.app,
                d.host,
                d.host_source.map(HostSource::as_str),
                d.company,
                d.category.map(Category::as_str),
                d.service,
                r.bytes_out as i64,
                r.bytes_in as i64,
                millis(r.start),
                millis(r.end),
                r.close.as_str(),
                json_line(r),
                d.company,
                d.parent,
                d.party.map(Party::as_str),
                d.tls.map(TlsMode::as_str),
                d.domain,
            ],
        )?;
        self.commit_if_large()
    }

    pub fn insert_finding(&mut self, f: &Finding) -> rusqlite::Result<()> {
        self.begin()?;
        let d = &f.destination;
        self.db.execute(
            "INSERT INTO findings (session, ts_ms, flow, app, proto, dst, host, host_source, vendor,
                category, kind, encoding, digest_form, truncated, place, direction, confidence,
                evidence, bytes_out, bytes_in, json, layers, company, parent, party, tls, domain)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,
                ?23,?24,?25,?26,?27)",
            params![
                self.session,
                millis(f.ts),
                f.flow as i64,
                f.app,
                f.proto.as_str(),
                f.dst.to_string(),
                d.host,
                d.host_source.map(HostSource::as_str),
                d.company,
                d.category.map(Category::as_str),
                f.kind.as_str(),
                f.encoding.as_str(),
                f.digest_form.map(|d| d.as_str()),
                f.truncated,
                f.place.as_str(),
                f.direction.as_str(),
                f.confidence.as_str(),
                f.evidence,
                f.bytes_out.map(|b| b as i64),
                f.bytes_in.map(|b| b as i64),
                json_line(f),
                layers_column(f),
                d.company,
                d.parent,
                d.party.map(Party::as_str),
                d.tls.map(TlsMode::as_str),
                d.domain,
            ],
        )?;
        self.commit_if_large()
    }

    /// A discovered identifier: its row is replaced by the newest sums.
    pub fn upsert_discovered(&mut self, d: &Discovered) -> rusqlite::Result<()> {
        self.begin()?;
        self.db.execute(
            "INSERT OR REPLACE INTO discovered (value, shape, keys, apps, domains, first_ms,
                last_ms, flows, sessions, json)
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            params![
                d.value,
                d.shape,
                d.keys.join(","),
                d.apps.join(","),
                d.domains.join(","),
                millis(d.first_seen),
                millis(d.last_seen),
                d.flows as i64,
                d.sessions,
                json_line(d),
            ],
        )?;
        self.commit_if_large()
    }

    fn commit_if_large(&mut self) -> rusqlite::Result<()> {
        if self.pending >= 256 {
            self.commit()?;
        }
        Ok(())
    }

    /// Ends the current batch.
    pub fn commit(&mut self) -> rusqlite::Result<()> {
        if self.pending > 0 {
            self.pending = 0;
            self.db.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// The newest rowids of flows and findings (0 when empty).
    pub fn last_rowids(&self) -> rusqlite::Result<(i64, i64)> {
        let last = |table: &str| {
            self.db.query_row(
                &format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"),
                [],
                |row| row.get(0),
            )
        };
        Ok((last("flows")?, last("findings")?))
    }

    /// WAL bytes kept after a checkpoint.
    const WAL_KEPT_BYTES: i64 = 1 << 20;

    /// Deletes the flows and findings up to these rowids and gives their pages back, so
    /// the file shrinks with the JSONL files it mirrors. A reader in the middle of a
    /// query only delays the shrinking to the next time.
    pub fn forget_through(&mut self, (flows, findings): (i64, i64)) -> rusqlite::Result<()> {
        self.commit()?;
        self.db
            .execute("DELETE FROM flows WHERE rowid <= ?1", params![flows])?;
        self.db
            .execute("DELETE FROM findings WHERE rowid <= ?1", params![findings])?;
        // Each step of this pragma frees one page: it has to be run to its end.
        let mut vacuum = self.db.prepare("PRAGMA incremental_vacuum")?;
        let mut steps = vacuum.query([])?;
        while steps.next()?.is_some() {}
        // The main file is cut at a checkpoint; a busy reader makes this a no-op.
        self.db
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn connection(&self) -> &Connection {
        &self.db
    }
}

impl Sink for Store {
    fn flow(&mut self, record: &FlowRecord) -> std::io::Result<()> {
        self.insert_flow(record).map_err(std::io::Error::other)
    }

    fn finding(&mut self, finding: &Finding) -> std::io::Result<()> {
        self.insert_finding(finding).map_err(std::io::Error::other)
    }

    fn discovered(&mut self, record: &Discovered) -> std::io::Result<()> {
        self.upsert_discovered(record)
            .map_err(std::io::Error::other)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.commit().map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{
        CloseReason, Confidence, Destination, DigestForm, Direction, Encoding, Kind, Proto, Where,
    };
    use std::time::Duration;

    fn finding(kind: Kind) -> Finding {
        Finding {
            ts: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            flow: 3,
            app: Some("com.example".into()),
            proto: Proto::Tcp,
            src: "10.111.0.2:4000".parse().unwrap(),
            dst: "10.201.0.2:80".parse().unwrap(),
            destination: Destination {
                host: Some("api.account.xiaomi.com".into()),
                domain: Some("xiaomi.com".into()),
                company: Some("Xiaomi".into()),
                parent: Some("Owner > Group".into()),
                party: Some(Party::Third),
                ..Destination::default()
            },
            kind,
            encoding: Encoding::Sha1,
            digest_form: Some(DigestForm::Base64Url),
            truncated: true,
            place: Where::Url,
            direction: Direction::Out,
            confidence: Confidence::Exact,
            evidence: "activate/dev/Ab**********".into(),
            layers: Vec::new(),
            bytes_out: None,
            bytes_in: None,
            start: None,
            end: None,
        }
    }

    #[test]
    fn flows_and_findings_land_in_a_wal_database_a_reader_can_query() {
        let dir = std::env::temp_dir().join(format!("phonehome-sqlite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open(&path, 0).unwrap();
        store.insert_finding(&finding(Kind::Imei)).unwrap();
        store.insert_finding(&finding(Kind::Imsi)).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        store
            .insert_flow(&FlowRecord {
                flow: 3,
                proto: Proto::Tcp,
                src: "10.111.0.2:4000".parse().unwrap(),
                dst: "10.201.0.2:80".parse().unwrap(),
                bytes_out: 1,
                bytes_in: 2,
                start: t,
                end: t,
                close: CloseReason::Closed,
                app: None,
                destination: Destination::default(),
            })
            .unwrap();
        store.commit().unwrap();

        // A second connection, as the app's UI would open.
        let reader = Connection::open(&path).unwrap();
        let mode: String = reader
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let kinds: Vec<String> = reader
            .prepare("SELECT kind FROM findings WHERE company = 'Xiaomi' ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds, ["imei", "imsi"]);
        let (vendor, parent, party): (String, String, String) = reader
            .query_row(
                "SELECT vendor, parent, party FROM findings LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (vendor.as_str(), parent.as_str(), party.as_str()),
            ("Xiaomi", "Owner > Group", "third")
        );
        let domain: String = reader
            .query_row("SELECT domain FROM findings LIMIT 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(domain, "xiaomi.com");
        let close: String = reader
            .query_row("SELECT close FROM flows WHERE id = 3", [], |r| r.get(0))
            .unwrap();
        assert_eq!(close, "closed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The schema as first shipped: without the columns added since (ADDED_COLUMNS).
    fn first_shipped_schema() -> String {
        let added = |line: &str| {
            let column = line.trim().trim_end_matches(',');
            ADDED_COLUMNS
                .iter()
                .any(|(_, name, ty)| column == format!("{name} {ty}"))
        };
        let mut lines: Vec<String> = SCHEMA
            .lines()
            .filter(|l| !added(l))
            .map(String::from)
            .collect();
        // A column list cannot end in a comma: drop the one before each closing `);`.
        for i in 0..lines.len() {
            if lines[i] == ");" {
                let last = (0..i)
                    .rev()
                    .find(|&j| !lines[j].trim_start().starts_with("--"))
                    .unwrap();
                lines[last] = lines[last].trim_end_matches(',').to_string();
            }
        }
        lines.join("\n")
    }

    #[test]
    fn a_store_made_before_layers_companies_tls_and_domains_existed_gets_the_columns_and_keeps_its_rows(
    ) {
        let dir = std::env::temp_dir().join(format!("phonehome-upgrade-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        let _ = std::fs::remove_file(&path);
        {
            let old = first_shipped_schema();
            assert!(!old.contains("layers TEXT") && !old.contains("party TEXT"));
            let db = Connection::open(&path).unwrap();
            db.execute_batch(&old).unwrap();
            db.execute_batch(
                "INSERT INTO findings (session, ts_ms, flow, proto, dst, kind, encoding, truncated,
                    place, direction, confidence, evidence, json)
                 VALUES (0, 1, 1, 'tcp', '10.201.0.2:80', 'imei', 'plain', 0, 'url', 'out',
                    'exact', 'imei=86**', '{}')",
            )
            .unwrap();
        }
        let mut store = Store::open(&path, 1).unwrap();
        let mut wrapped = finding(Kind::Imei);
        wrapped.layers = vec![phonehome_model::Layer::Hex, phonehome_model::Layer::Gzip];
        wrapped.destination.tls = Some(TlsMode::Intercepted);
        store.insert_finding(&wrapped).unwrap();
        store.commit().unwrap();
        type Row = (i64, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = store
            .connection()
            .prepare("SELECT session, layers, company, party FROM findings ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (0, None, None, None),
                (
                    1,
                    Some(r#"["hex","gzip"]"#.into()),
                    Some("Xiaomi".into()),
                    Some("third".into())
                )
            ]
        );
        let tls: Vec<Option<String>> = store
            .connection()
            .prepare("SELECT tls FROM findings ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tls, [None, Some("intercepted".into())]);
        let domains: Vec<Option<String>> = store
            .connection()
            .prepare("SELECT domain FROM findings ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(domains, [None, Some("xiaomi.com".into())]);
        // Upgraded and new stores have their columns in the same order.
        let columns = |db: &Connection, table: &str| -> Vec<String> {
            db.prepare(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        let fresh = Connection::open_in_memory().unwrap();
        fresh.execute_batch(SCHEMA).unwrap();
        for table in ["flows", "findings"] {
            assert_eq!(
                columns(store.connection(), table),
                columns(&fresh, table),
                "{table}"
            );
        }
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn forgotten_rows_give_their_space_back_to_the_file_system() {
        let dir = std::env::temp_dir().join(format!("phonehome-shrink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open(&path, 0).unwrap();
        let mut big = finding(Kind::Imei);
        big.evidence = "x".repeat(2_000);
        for _ in 0..2_000 {
            store.insert_finding(&big).unwrap();
        }
        store.commit().unwrap();
        let files = || {
            ["", "-wal"]
                .iter()
                .filter_map(|ext| std::fs::metadata(format!("{}{ext}", path.display())).ok())
                .map(|m| m.len())
                .sum::<u64>()
        };
        let full = files();
        assert!(full > 4_000_000, "{full} bytes for 2,000 rows of 4 KB");
        let last = store.last_rowids().unwrap();
        store.insert_finding(&finding(Kind::Imsi)).unwrap();
        store.forget_through(last).unwrap();
        let kept: i64 = store
            .connection()
            .query_row("SELECT COUNT(*) FROM findings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "the newest row is kept");
        let after = files();
        assert!(after < full / 10, "{after} bytes left of {full}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
