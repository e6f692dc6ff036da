//! The records' data model and the sinks that write it.
//!
//! The relay reports each finished flow to a [`FlowSink`]; what the sink does with it
//! (a JSONL file, later SQLite or the app's UI) is its own business.

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
}

fn rfc3339_millis<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(*t))
}

/// Receives finished flows. Implementations must not block for long: the relay calls
/// them from its packet loop.
pub trait FlowSink: Send {
    fn flow_finished(&mut self, record: &FlowRecord) -> io::Result<()>;
    /// Makes everything written so far durable.
    fn flush(&mut self) -> io::Result<()>;
}

/// Discards everything (for runs without `--out`).
#[derive(Debug, Default)]
pub struct NullSink;

impl FlowSink for NullSink {
    fn flow_finished(&mut self, _: &FlowRecord) -> io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes one JSON object per line.
#[derive(Debug)]
pub struct JsonlSink<W: Write> {
    out: W,
}

impl JsonlSink<BufWriter<File>> {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })?;
        Ok(Self::new(BufWriter::new(file)))
    }
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> FlowSink for JsonlSink<W> {
    fn flow_finished(&mut self, record: &FlowRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
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
        };
        let mut sink = JsonlSink::new(Vec::new());
        sink.flow_finished(&record).unwrap();
        sink.flow_finished(&record).unwrap();
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
    }

    #[test]
    fn close_reasons_display_as_in_json() {
        assert_eq!(CloseReason::FlowLimit.to_string(), "flow_limit");
        assert_eq!(CloseReason::Closed.to_string(), "closed");
    }
}
