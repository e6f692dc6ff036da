//! What the monitor records, as types: finished flows ([`FlowRecord`]), findings
//! ([`Finding`]) and what is known about their destination, and the [`Sink`] they are
//! reported to.
//!
//! Where they are written (JSONL files, the SQLite store the app queries) is the
//! `phonehome-store` crate's business; this crate has no storage, so the netstack and
//! the analyzer can use these types without compiling SQLite.

mod finding;
mod names;

use std::io;
use std::net::SocketAddr;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

pub use finding::{Confidence, DigestForm, Encoding, Finding, Kind, Layer, Where};
use names::wire_names;

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}
wire_names!(Proto { Tcp => "tcp", Udp => "udp", Icmp => "icmp" });

/// How a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The client never completed the TCP handshake (its SYN-ACK went unanswered).
    HandshakeTimeout,
    /// Never relayed: the destination was loopback, link-local or otherwise martian.
    Forbidden,
    /// Never relayed: the source was not the client's.
    Spoofed,
    /// The monitor stopped while the flow was open.
    Shutdown,
}
wire_names!(CloseReason {
    Closed => "closed",
    ClientReset => "client_reset",
    ServerReset => "server_reset",
    Refused => "refused",
    Unreachable => "unreachable",
    ConnectTimeout => "connect_timeout",
    Idle => "idle",
    FlowLimit => "flow_limit",
    Shutdown => "shutdown",
    HandshakeTimeout => "handshake_timeout",
    Forbidden => "forbidden",
    Spoofed => "spoofed",
});

/// How the monitor learned a destination's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
wire_names!(HostSource { Dns => "dns", Sni => "sni", Quic => "quic", Http => "http" });

/// Which direction bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the watched program to the server.
    Out,
    /// From the server to the watched program.
    In,
}
wire_names!(Direction { Out => "out", In => "in" });

/// What a host is used for, as the vendor catalog says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Push and cloud messaging (FCM, Mi Push, MIUI Cloud Messaging, push SDKs).
    CloudMessaging,
    /// Analytics, tracking and telemetry collection.
    Telemetry,
    /// Account sign-in and cloud sync.
    Account,
    /// Any other host of the vendor, when only the vendor's whole domain is known.
    Vendor,
}
wire_names!(Category {
    CloudMessaging => "cloud-messaging",
    Telemetry => "telemetry",
    Account => "account",
    Vendor => "vendor",
});

/// What opt-in TLS interception did with a TCP flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// Both TLS legs were ours: the monitor read the plaintext.
    Intercepted,
    /// The client refused our certificate (an alert or a close during the handshake):
    /// its app and host pass through untouched for a while.
    Pinned,
    /// Relayed untouched: the app refused interception for this host before, or the
    /// ClientHello named no server.
    Passthrough,
    /// The server's certificate failed verification, so the client was refused too.
    UpstreamRejected,
}
wire_names!(TlsMode {
    Intercepted => "intercepted",
    Pinned => "pinned",
    Passthrough => "passthrough",
    UpstreamRejected => "upstream-rejected",
});

/// What is known about a flow's destination beyond its address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    pub host: Option<String>,
    pub host_source: Option<HostSource>,
    /// From the catalog, when the host is in it.
    pub vendor: Option<String>,
    pub category: Option<Category>,
    pub service: Option<String>,
    /// Protocols the client offered in its TLS or QUIC ClientHello (ALPN).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// The ClientHello used Encrypted Client Hello: the name seen is the outer, public one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ech: bool,
    /// Set only when TLS interception is on and took this flow in hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsMode>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_display_as_in_json() {
        assert_eq!(CloseReason::FlowLimit.to_string(), "flow_limit");
        assert_eq!(CloseReason::Closed.to_string(), "closed");
        for r in CloseReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    #[test]
    fn names_parse_back() {
        assert_eq!("cloud-messaging".parse(), Ok(Category::CloudMessaging));
        assert_eq!("quic".parse(), Ok(HostSource::Quic));
        assert_eq!("bogus".parse::<Category>(), Err(()));
        assert_eq!("upstream-rejected".parse(), Ok(TlsMode::UpstreamRejected));
    }

    #[test]
    fn a_flow_says_tls_only_when_interception_took_it_in_hand() {
        let mut d = Destination::default();
        assert!(serde_json::to_value(&d).unwrap().get("tls").is_none());
        d.tls = Some(TlsMode::Intercepted);
        assert_eq!(serde_json::to_value(&d).unwrap()["tls"], "intercepted");
    }
}
