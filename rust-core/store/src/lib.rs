//! Where records are written and read back: [`JsonLines`], the SQLite store
//! ([`sqlite::Store`]), the output directory of one run ([`OutDir`]), and queries and
//! exports over the store ([`query`]); [`records::RecordDir`] opens the directory so that
//! records are never written through links (owner-only modes). The types themselves are `phonehome-model`'s.

pub mod query;
pub mod records;
pub mod sqlite;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use records::RecordDir;

use phonehome_model::{Finding, FlowRecord, Sink};
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

    /// Writes the lines kept so far, in one piece.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
        }
        self.out.flush()
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

/// The records of one run in a directory: `flows.jsonl`, `findings.jsonl` and the
/// SQLite database `phonehome.sqlite`.
pub struct OutDir {
    flows: JsonLines<File>,
    findings: JsonLines<File>,
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
        Self::create_in(&RecordDir::open(dir)?)
    }

    /// Creates the files in `dir`, mode 0600; earlier ones are replaced, links refused.
    pub fn create_in(dir: &RecordDir) -> io::Result<Self> {
        for stale in Self::DB_FILES {
            dir.remove_stale(stale)?;
        }
        let flows = JsonLines::new(dir.create("flows.jsonl")?);
        let findings = JsonLines::new(dir.create("findings.jsonl")?);
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
            db,
        })
    }
}

impl OutDir {
    /// Lines kept in memory before they are written out with a commit anyway, so a long
    /// `analyze` holds a bounded amount.
    const MOST_PENDING: usize = 1 << 20;

    fn flush_if_large(&mut self) -> io::Result<()> {
        if self.flows.pending() + self.findings.pending() > Self::MOST_PENDING {
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

    /// The store commits first, then the JSONL lines go out, so a kill between the two
    /// leaves the files one flush behind the store, never ahead of it.
    fn flush(&mut self) -> io::Result<()> {
        self.db.commit().map_err(io::Error::other)?;
        self.flows.flush()?;
        self.findings.flush()
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
        assert!(v["vendor"].is_null());
    }
}
