//! Where records are written and read back: [`JsonLines`], the SQLite store
//! ([`sqlite::Store`]), the output directory of one run ([`OutDir`]), and queries and
//! exports over the store ([`query`]); [`records::RecordDir`] opens the directory so that
//! records are never written through links (owner-only modes). The types themselves are `phonehome-model`'s.

pub mod query;
pub mod records;
pub mod rotating;
pub mod sqlite;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use records::RecordDir;
pub use rotating::RotatingFile;

use phonehome_model::{Discovered, Finding, FlowRecord, Sink};
use serde::Serialize;

/// One JSON object per line. Lines are kept until [`JsonLines::flush`] and written out
/// whole, so the file never ends in part of a line, even if the process is killed.
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    out: W,
    pending: Vec<u8>,
}

impl JsonLines<BufWriter<File>> {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })?;
        Ok(Self::new(BufWriter::new(file)))
    }
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            pending: Vec::new(),
        }
    }

    pub fn write<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        let mark = self.pending.len();
        if let Err(e) = serde_json::to_writer(&mut self.pending, value) {
            self.pending.truncate(mark);
            return Err(e.into());
        }
        self.pending.push(b'\n');
        Ok(())
    }

    /// Bytes of lines kept, not yet written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Writes the lines kept so far: whole lines, about 64 KiB at a time, each piece
    /// followed by a flush of the writer, so that a file that starts over at flushes
    /// ([`RotatingFile`]) can do so within a large batch.
    pub fn flush(&mut self) -> io::Result<()> {
        const PIECE: usize = 64 * 1024;
        let mut done = 0;
        let result = (|| {
            while done < self.pending.len() {
                let rest = &self.pending[done..];
                let window = &rest[..rest.len().min(PIECE)];
                let end = match window.iter().rposition(|&b| b == b'\n') {
                    Some(i) if rest.len() > PIECE => i + 1,
                    // A single line longer than a piece goes out whole.
                    _ if rest.len() > PIECE => rest
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(rest.len(), |i| i + 1),
                    _ => rest.len(),
                };
                self.out.write_all(&rest[..end])?;
                self.out.flush()?;
                done += end;
            }
            self.out.flush()
        })();
        // What went out is not written again, even after an error.
        self.pending.drain(..done);
        result
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

/// The records of one run in a directory: `flows.jsonl`, `findings.jsonl`,
/// `discovered.jsonl` and the SQLite database `phonehome.sqlite`.
pub struct OutDir {
    flows: JsonLines<RotatingFile>,
    findings: JsonLines<RotatingFile>,
    /// Discovered identifiers: a line each time one is discovered or first seen in the
    /// run, and its sums at the end (the last line of a value is its newest).
    discovered: JsonLines<RotatingFile>,
    /// The store's last rowids (flows, findings) when a JSONL file last started over:
    /// rows up to them are in no JSONL file any more once another rotation comes.
    rotated_at: (i64, i64),
    generations: (u64, u64),
    /// Lines kept before they go out anyway: under a quarter of a file's share, so that
    /// a file starts over at most once per flush and the store forgets in step.
    flush_at: usize,
    db: sqlite::Store,
}

impl fmt::Debug for OutDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutDir").finish_non_exhaustive()
    }
}

impl OutDir {
    /// The SQLite database and the files SQLite keeps beside it.
    const DB_FILES: [&'static str; 3] = [
        sqlite::FILE_NAME,
        "phonehome.sqlite-wal",
        "phonehome.sqlite-shm",
    ];

    /// Opens `dir` as a [`RecordDir`] (created 0700 if needed; refused if it is a link,
    /// another user's or writable by others) and creates the files in it.
    pub fn create(dir: &Path) -> io::Result<Self> {
        Self::create_in(&RecordDir::open(dir)?, None)
    }

    /// Creates the files in `dir`, mode 0600; earlier ones are replaced, links refused.
    /// With `rotate_at`, a JSONL file past that size moves to `NAME.1.jsonl` (replacing
    /// the older one), and the store keeps the rows of the two newest generations.
    pub fn create_in(dir: &RecordDir, rotate_at: Option<u64>) -> io::Result<Self> {
        for stale in Self::DB_FILES {
            dir.remove_stale(stale)?;
        }
        // JSON lines have no header: a flush now, before any line, says so.
        let lines = |name: &str, older: &str| -> io::Result<JsonLines<RotatingFile>> {
            let mut file = RotatingFile::create(dir, name, older, rotate_at)?;
            file.flush()?;
            Ok(JsonLines::new(file))
        };
        let flows = lines("flows.jsonl", "flows.1.jsonl")?;
        let findings = lines("findings.jsonl", "findings.1.jsonl")?;
        let discovered = lines("discovered.jsonl", "discovered.1.jsonl")?;
        // Created here, empty and 0600, so SQLite opens it rather than a path of its
        // choosing; its -wal and -shm take the database's mode and SQLite opens them
        // without following links.
        drop(dir.create_new(sqlite::FILE_NAME)?);
        let db_path = dir.path().join(sqlite::FILE_NAME);
        let db = sqlite::Store::open(&db_path, 0)
            .map_err(|e| io::Error::other(format!("cannot open {}: {e}", db_path.display())))?;
        for name in Self::DB_FILES {
            dir.restrict(name)?;
        }
        Ok(Self {
            flows,
            findings,
            discovered,
            rotated_at: (0, 0),
            generations: (0, 0),
            flush_at: rotate_at.map_or(Self::MOST_PENDING, |r| {
                Self::MOST_PENDING.min(usize::try_from(r / 4).unwrap_or(usize::MAX))
            }),
            db,
        })
    }
}

impl OutDir {
    /// Lines kept in memory before they are written out with a commit anyway, so a long
    /// `analyze` holds a bounded amount.
    const MOST_PENDING: usize = 1 << 20;

    fn flush_if_large(&mut self) -> io::Result<()> {
        if self.flows.pending() + self.findings.pending() > self.flush_at {
            self.flush()?;
        }
        Ok(())
    }
}

impl Sink for OutDir {
    fn flow(&mut self, record: &FlowRecord) -> io::Result<()> {
        self.flows.write(record)?;
        self.db.insert_flow(record).map_err(io::Error::other)?;
        self.flush_if_large()
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.findings.write(finding)?;
        self.db.insert_finding(finding).map_err(io::Error::other)?;
        self.flush_if_large()
    }

    fn discovered(&mut self, record: &Discovered) -> io::Result<()> {
        self.discovered.write(record)?;
        self.db
            .upsert_discovered(record)
            .map_err(io::Error::other)?;
        self.flush_if_large()
    }

    /// The store commits first, then the JSONL lines go out, so a kill between the two
    /// leaves the files one flush behind the store, never ahead of it.
    fn flush(&mut self) -> io::Result<()> {
        self.db.commit().map_err(io::Error::other)?;
        self.flows.flush()?;
        self.findings.flush()?;
        self.discovered.flush()?;
        let generations = (
            self.flows.get_ref().generation(),
            self.findings.get_ref().generation(),
        );
        if generations != self.generations {
            self.generations = generations;
            self.db
                .forget_through(self.rotated_at)
                .map_err(io::Error::other)?;
            self.rotated_at = self.db.last_rowids().map_err(io::Error::other)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{CloseReason, Destination, HostSource, Proto};
    use std::time::{Duration, SystemTime};

    #[test]
    fn a_flow_is_one_json_line_with_the_documented_fields() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let record = FlowRecord {
            flow: 7,
            proto: Proto::Tcp,
            src: "10.111.0.2:40000".parse().unwrap(),
            dst: "[2001:db8::1]:443".parse().unwrap(),
            bytes_out: 10,
            bytes_in: 20,
            start,
            end: start + Duration::from_millis(1500),
            close: CloseReason::ClientReset,
            app: None,
            destination: Destination {
                host: Some("push.example".into()),
                host_source: Some(HostSource::Sni),
                ..Destination::default()
            },
        };
        let mut sink = JsonLines::new(Vec::new());
        sink.write(&record).unwrap();
        sink.write(&record).unwrap();
        let text = String::from_utf8(sink.into_inner().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["proto"], "tcp");
        assert_eq!(v["src"], "10.111.0.2:40000");
        assert_eq!(v["dst"], "[2001:db8::1]:443");
        assert_eq!(v["bytes_out"], 10);
        assert_eq!(v["bytes_in"], 20);
        assert_eq!(v["start"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["end"], "2023-11-14T22:13:21.623Z");
        assert_eq!(v["close"], "client_reset");
        assert_eq!(v["host"], "push.example");
        assert_eq!(v["host_source"], "sni");
        assert!(v["company"].is_null());
    }

    #[test]
    fn a_capped_record_set_keeps_two_generations_and_the_store_follows() {
        let path =
            std::env::temp_dir().join(format!("phonehome-outdir-cap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        let dir = RecordDir::open(&path).unwrap();
        let mut out = OutDir::create_in(&dir, Some(20_000)).unwrap();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for flow in 0..1_000 {
            let record = FlowRecord {
                flow,
                proto: Proto::Tcp,
                src: "10.111.0.2:40000".parse().unwrap(),
                dst: "203.0.113.1:443".parse().unwrap(),
                bytes_out: 1,
                bytes_in: 2,
                start,
                end: start,
                close: CloseReason::Closed,
                app: None,
                destination: Destination::default(),
            };
            out.flow(&record).unwrap();
        }
        out.flush().unwrap();
        let read = |name: &str| std::fs::read_to_string(path.join(name)).unwrap();
        let (older, newer) = (read("flows.1.jsonl"), read("flows.jsonl"));
        assert!(older.len() <= 20_000 + 5_000 && newer.len() <= 20_000 + 5_000);
        let kept: Vec<u64> = older
            .lines()
            .chain(newer.lines())
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["flow"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(
            kept.len() < 1_000 && kept.windows(2).all(|w| w[0] + 1 == w[1]),
            "{} kept: {:?}",
            kept.len(),
            &kept[..kept.len().min(5)]
        );
        assert_eq!(kept.last(), Some(&999), "the newest are kept");
        let stored: i64 = out
            .db
            .connection()
            .query_row("SELECT COUNT(*) FROM flows", [], |r| r.get(0))
            .unwrap();
        assert!(
            stored as usize >= newer.lines().count() && stored as usize <= kept.len(),
            "{stored} rows for {} lines",
            kept.len()
        );
        std::fs::remove_dir_all(&path).unwrap();
    }
}
