//! What the shell and the stack tell each other: the tunables, the events, the summaries.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;

use phonehome_model::{CloseReason, Proto};

/// Identifies a flow for the lifetime of one stack.
pub type FlowId = u64;

/// Tunables of the stack.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TUN's MTU: the largest packet either way, and the MSS smoltcp advertises.
    pub mtu: usize,
    /// Most flows (TCP + UDP + ICMP) at once; a SYN beyond it is refused with RST.
    pub max_flows: usize,
    /// Per-flow receive buffer. Above 64 KiB so that window scaling is on.
    pub tcp_rx_buffer: usize,
    /// Per-flow send buffer (server bytes waiting for the client's ACK).
    pub tcp_tx_buffer: usize,
    /// Client bytes handed to the shell but not yet written upstream, per flow. Past it
    /// the stack stops reading, the receive window closes, and the client slows down.
    pub tcp_up_window: usize,
    /// A TCP flow with no traffic either way for this long is reset on both sides.
    pub tcp_idle: Duration,
    /// A TCP flow whose client leaves our SYN-ACK unanswered this long is dropped, as a
    /// kernel drops a half-open connection (Linux gives up after about a minute of
    /// retries; a client behind a TUN answers within milliseconds).
    pub tcp_handshake: Duration,
    /// UDP flows to port 53 are forgotten after this long without traffic.
    pub dns_idle: Duration,
    /// Other UDP flows are forgotten after this long without traffic.
    pub udp_idle: Duration,
    /// Echo flows are forgotten after this long without traffic.
    pub icmp_idle: Duration,
    /// The client's own addresses (the TUN's). A packet from any other source is
    /// refused as spoofed; when empty, only martian sources are.
    pub clients: Vec<IpAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mtu: 1500,
            max_flows: 8192,
            tcp_rx_buffer: 256 * 1024,
            tcp_tx_buffer: 256 * 1024,
            tcp_up_window: 256 * 1024,
            tcp_idle: Duration::from_secs(2 * 3600),
            tcp_handshake: Duration::from_secs(10),
            dns_idle: Duration::from_secs(10),
            udp_idle: Duration::from_secs(120),
            icmp_idle: Duration::from_secs(10),
            clients: Vec::new(),
        }
    }
}

/// Why the shell could not connect upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The destination answered with RST.
    Refused,
    /// No route to the network (ENETUNREACH).
    NoRoute,
    /// The host did not answer (EHOSTUNREACH).
    Unreachable,
    /// The shell's connect timeout ran out.
    Timeout,
}

/// What the shell must do upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A client asked for a new TCP connection: connect to `dst`, then call
    /// [`Netstack::tcp_connected`](crate::Netstack::tcp_connected) or
    /// [`Netstack::tcp_connect_failed`](crate::Netstack::tcp_connect_failed).
    TcpConnect {
        id: FlowId,
        src: SocketAddr,
        dst: SocketAddr,
    },
    /// Client bytes, in order, to write upstream; call
    /// [`Netstack::tcp_written`](crate::Netstack::tcp_written) once they are written.
    TcpData { id: FlowId, data: Bytes },
    /// The client finished sending (all `TcpData` came before): shut down the upstream
    /// write side.
    TcpEof { id: FlowId },
    /// The stack took `len` more bytes given with
    /// [`Netstack::tcp_send`](crate::Netstack::tcp_send) into its send buffer: the shell
    /// may read that much more from upstream.
    TcpSent { id: FlowId, len: usize },
    /// A datagram for `dst`; the first of a flow asks the shell to open its socket.
    UdpSend {
        id: FlowId,
        src: SocketAddr,
        dst: SocketAddr,
        data: Bytes,
    },
    /// An echo request for `dst`; answer with
    /// [`Netstack::echo_reply`](crate::Netstack::echo_reply).
    EchoRequest {
        id: FlowId,
        src: IpAddr,
        dst: IpAddr,
        seq: u16,
        data: Bytes,
    },
    /// The flow is gone from the stack: drop its upstream socket. For TCP, reset it
    /// unless `reason` is [`CloseReason::Closed`].
    Closed(FlowEnd),
}

/// The summary of a finished flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEnd {
    pub id: FlowId,
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub start: Instant,
    pub end: Instant,
    pub reason: CloseReason,
}

/// Counters since the stack started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub malformed: u64,
    pub unsupported: u64,
    pub flow_limit: u64,
    pub too_big: u64,
    /// Packets to a martian destination (loopback, link-local, ...), refused.
    pub forbidden: u64,
    /// Packets from a source that is not the client's, refused.
    pub spoofed: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    pub icmp_flows: u64,
    pub open_flows: u64,
}
