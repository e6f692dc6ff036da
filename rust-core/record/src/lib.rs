//! The records' data model and the sinks that write it.
//!
//! The monitor reports each finished flow and each finding to a [`Sink`]; what the sink
//! does with them (JSONL files, the SQLite store the app queries, a UI) is its own
//! business.

pub mod query;
pub mod sqlite;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// How a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Both sides finished with FIN (TCP), or the flow simply went quiet (UDP/ICMP).
    Closed,
    /// The client reset the connection.
    ClientReset,
    /// The server reset the connection or failed mid-stream.
    ServerReset,
    /// The destination refused the connection; the client got a RST.
    Refused,
    /// The destination could not be reached; the client got an ICMP error or RST.
    Unreachable,
    /// Connecting upstream took too long.
    ConnectTimeout,
    /// No traffic for the idle timeout.
    Idle,
    /// Refused because the flow table was full.
    FlowLimit,
    /// The monitor stopped while the flow was open.
    Shutdown,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(s.as_str().unwrap_or("?"))
    }
}

/// How the monitor learned a destination's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostSource {
    /// A DNS answer the same client received for this address.
    Dns,
    /// The TLS ClientHello's server_name.
    Sni,
    /// The server_name inside a QUIC Initial packet.
    Quic,
    /// The HTTP Host header.
    Http,
}

/// Which direction bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the watched program to the server.
    Out,
    /// From the server to the watched program.
    In,
}

/// What is known about a flow's destination beyond its address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    pub host: Option<String>,
    pub host_source: Option<HostSource>,
    /// From the catalog, when the host is in it.
    pub vendor: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// Protocols the client offered in its TLS or QUIC ClientHello (ALPN).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// The ClientHello used Encrypted Client Hello: the name seen is the outer, public one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ech: bool,
}

/// One identifier seen leaving (or reaching) the device, as `findings.jsonl` has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "rfc3339_millis")]
    pub ts: SystemTime,
    pub flow: u64,
    /// The program or app the flow belongs to, when known.
    pub app: Option<String>,
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    #[serde(flatten)]
    pub destination: Destination,
    /// imei, imsi, iccid, phone, carrier, android_id, ad_id, serial, mac, email, contact,
    /// sms, location, or encrypted-flow.
    pub kind: String,
    /// plain, hex, base64, url, json, md5, sha1, sha256, ... (`none` for encrypted-flow).
    pub encoding: String,
    /// For digests: hex, hex_upper, base64 or base64url.
    pub digest_form: Option<String>,
    pub truncated: bool,
    /// url, header, cookie, body, payload, or tls for encrypted-flow.
    #[serde(rename = "where")]
    pub place: String,
    pub direction: Direction,
    /// exact or probable.
    pub confidence: String,
    /// A short context with the value masked; never the value itself.
    pub evidence: String,
    /// For encrypted-flow findings: the flow's bytes and times.
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    #[serde(serialize_with = "opt_rfc3339_millis")]
    pub start: Option<SystemTime>,
    #[serde(serialize_with = "opt_rfc3339_millis")]
    pub end: Option<SystemTime>,
}

/// One finished flow, as `flows.jsonl` has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRecord {
    /// Identifier unique within one monitor run.
    pub flow: u64,
    pub proto: Proto,
    /// The client's address (the watched program's side).
    pub src: SocketAddr,
    /// The destination the client asked for (not a redirected one).
    pub dst: SocketAddr,
    /// Payload bytes from client to server.
    pub bytes_out: u64,
    /// Payload bytes from server to client.
    pub bytes_in: u64,
    #[serde(serialize_with = "rfc3339_millis")]
    pub start: SystemTime,
    #[serde(serialize_with = "rfc3339_millis")]
    pub end: SystemTime,
    pub close: CloseReason,
    /// The program or app the flow belongs to, when known.
    pub app: Option<String>,
    #[serde(flatten)]
    pub destination: Destination,
}

fn rfc3339_millis<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(*t))
}

fn opt_rfc3339_millis<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339_millis(t, s),
        None => s.serialize_none(),
    }
}

/// Receives what the monitor records. Implementations must not block for long.
pub trait Sink: Send {
    fn flow(&mut self, record: &FlowRecord) -> io::Result<()>;
    fn finding(&mut self, finding: &Finding) -> io::Result<()>;
    /// Makes everything written so far durable.
    fn flush(&mut self) -> io::Result<()>;
}

/// Discards everything (for runs without `--out`).
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn flow(&mut self, _: &FlowRecord) -> io::Result<()> {
        Ok(())
    }
    fn finding(&mut self, _: &Finding) -> io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One JSON object per line.
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    out: W,
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
        Self { out }
    }

    pub fn write<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The records of one run in a directory: `flows.jsonl`, `findings.jsonl` and the
/// SQLite database `phonehome.sqlite`.
pub struct OutDir {
    flows: JsonLines<BufWriter<File>>,
    findings: JsonLines<BufWriter<File>>,
    db: sqlite::Store,
}

impl fmt::Debug for OutDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutDir").finish_non_exhaustive()
    }
}

impl OutDir {
    /// Creates `dir` if needed and the files in it (existing ones are replaced).
    pub fn create(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
        })?;
        let db_path = dir.join(sqlite::FILE_NAME);
        for stale in [
            db_path.clone(),
            dir.join("phonehome.sqlite-wal"),
            dir.join("phonehome.sqlite-shm"),
        ] {
            let _ = std::fs::remove_file(stale);
        }
        Ok(Self {
            flows: JsonLines::create(&dir.join("flows.jsonl"))?,
            findings: JsonLines::create(&dir.join("findings.jsonl"))?,
            db: sqlite::Store::open(&db_path, 0).map_err(io::Error::other)?,
        })
    }
}

impl Sink for OutDir {
    fn flow(&mut self, record: &FlowRecord) -> io::Result<()> {
        self.flows.write(record)?;
        self.db.insert_flow(record).map_err(io::Error::other)
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        self.findings.write(finding)?;
        self.db.insert_finding(finding).map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flows.flush()?;
        self.findings.flush()?;
        self.db.commit().map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
        let text = String::from_utf8(sink.into_inner()).unwrap();
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

    #[test]
    fn close_reasons_display_as_in_json() {
        assert_eq!(CloseReason::FlowLimit.to_string(), "flow_limit");
        assert_eq!(CloseReason::Closed.to_string(), "closed");
    }
}
