//! What the monitor records, as types: finished flows ([`FlowRecord`]), findings
//! ([`Finding`]) and what is known about their destination, and the [`Sink`] they are
//! reported to.
//!
//! Where they are written (JSONL files, the SQLite store the app queries) is the
//! `phonehome-store` crate's business; this crate has no storage, so the netstack and
//! the analyzer can use these types without compiling SQLite.

mod discovered;
mod finding;
mod names;

use std::io;
use std::net::SocketAddr;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

pub use discovered::Discovered;
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

/// What a host is used for, as the catalog says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Ad networks, exchanges and ad verification.
    Advertising,
    /// Install attribution and deep-link measurement (AppsFlyer, Adjust, Branch).
    Attribution,
    /// Product analytics SDKs (Firebase Analytics, Mixpanel, Umeng).
    Analytics,
    /// Crash and error reporting (Crashlytics, Sentry, Bugsnag).
    CrashReporting,
    /// Push and cloud messaging (FCM, Mi Push, MIUI Cloud Messaging, push SDKs).
    CloudMessaging,
    /// In-app messaging and customer engagement (Braze, Intercom).
    Messaging,
    /// A phone maker's or platform's own telemetry collection.
    Telemetry,
    /// Account sign-in and cloud sync.
    Account,
    /// Content delivery and hosting: says who carries the bytes, not who reads them.
    Cdn,
    /// The app's own developer's service (for catalog files that list an app's domains).
    FirstParty,
    /// Any other host of the company, when only its whole domain is known.
    Vendor,
}
wire_names!(Category {
    Advertising => "advertising",
    Attribution => "attribution",
    Analytics => "analytics",
    CrashReporting => "crash-reporting",
    CloudMessaging => "cloud-messaging",
    Messaging => "messaging",
    Telemetry => "telemetry",
    Account => "account",
    Cdn => "cdn",
    FirstParty => "first-party",
    Vendor => "vendor",
});

/// What opt-in TLS interception did with a flow (TCP, or UDP for QUIC).
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
    /// A QUIC flow to a host whose TLS over TCP is intercepted: its datagrams were
    /// dropped so that the client falls back to TCP.
    QuicDropped,
}
wire_names!(TlsMode {
    Intercepted => "intercepted",
    Pinned => "pinned",
    Passthrough => "passthrough",
    UpstreamRejected => "upstream-rejected",
    QuicDropped => "quic-dropped",
});

impl Category {
    /// Whether hosts of this category collect data about the user for someone (the
    /// categories `report` and the app call trackers).
    pub const fn is_tracker(self) -> bool {
        matches!(
            self,
            Category::Advertising
                | Category::Attribution
                | Category::Analytics
                | Category::CrashReporting
                | Category::Telemetry
        )
    }
}

/// Whether a destination belongs to the app's own developer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The app's own domain (its package name reversed) or its own company's.
    First,
    /// Anyone else, including a tracker reached through a CNAME under the app's domain.
    Third,
}
wire_names!(Party { First => "first", Third => "third" });

/// What is known about a flow's destination beyond its address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    pub host: Option<String>,
    pub host_source: Option<HostSource>,
    /// The registrable domain of `host`, lowercase: what one customer of a registry or a
    /// hosting platform holds (`a.b.example.co.uk` -> `example.co.uk`, `my-app.appspot.com`
    /// itself), the host itself when it is an address. Readers group hosts the catalog does
    /// not know by it, so that they need no suffix list of their own.
    pub domain: Option<String>,
    /// From the catalog, when the host (or a name it is an alias of) is in it.
    pub company: Option<String>,
    /// The company's owners, nearest first, joined by ` > ` (`Alphabet`, `ironSource > Unity`).
    pub parent: Option<String>,
    pub category: Option<Category>,
    pub service: Option<String>,
    /// First or third party, when the host is known.
    pub party: Option<Party>,
    /// The CNAME target the company was found by, when the host itself is not listed
    /// (a tracker behind an alias under the app's own domain), or the tracker's host the
    /// catalog knows a cloaked name to be an alias of when DNS did not show the CNAME.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
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
    /// A discovered identifier, when it is first discovered or first seen in a session,
    /// and its sums at the end of a session.
    fn discovered(&mut self, record: &Discovered) -> io::Result<()>;
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
    fn discovered(&mut self, _: &Discovered) -> io::Result<()> {
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
        assert_eq!("crash-reporting".parse(), Ok(Category::CrashReporting));
        assert_eq!("third".parse(), Ok(Party::Third));
        assert_eq!("upstream-rejected".parse(), Ok(TlsMode::UpstreamRejected));
        assert_eq!("quic-dropped".parse(), Ok(TlsMode::QuicDropped));
    }

    #[test]
    fn a_flow_says_tls_only_when_interception_took_it_in_hand() {
        let mut d = Destination::default();
        assert!(serde_json::to_value(&d).unwrap().get("tls").is_none());
        d.tls = Some(TlsMode::Intercepted);
        assert_eq!(serde_json::to_value(&d).unwrap()["tls"], "intercepted");
    }

    #[test]
    fn a_destination_names_its_company_owners_category_and_party() {
        let d = Destination {
            host: Some("metrics.example.com".into()),
            host_source: Some(HostSource::Dns),
            domain: Some("example.com".into()),
            company: Some("Tapjoy".into()),
            parent: Some("ironSource > Unity".into()),
            category: Some(Category::Advertising),
            service: Some("Tapjoy SDK".into()),
            party: Some(Party::Third),
            cname: Some("ws.tapjoyads.com".into()),
            ..Destination::default()
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["company"], "Tapjoy");
        assert_eq!(v["parent"], "ironSource > Unity");
        assert_eq!(v["category"], "advertising");
        assert_eq!(v["party"], "third");
        assert_eq!(v["cname"], "ws.tapjoyads.com");
        assert_eq!(v["domain"], "example.com");
        let v = serde_json::to_value(Destination::default()).unwrap();
        assert!(v["company"].is_null() && v["party"].is_null());
        assert!(
            v.get("domain").is_some_and(|d| d.is_null()),
            "domain is null when no name was seen"
        );
        assert!(
            v.get("cname").is_none(),
            "cname is left out when there is none"
        );
    }

    #[test]
    fn trackers_are_the_data_collecting_categories() {
        assert!(Category::Attribution.is_tracker());
        assert!(!Category::Cdn.is_tracker());
        assert!(!Category::Vendor.is_tracker());
        assert!(!Category::CloudMessaging.is_tracker());
    }
}
