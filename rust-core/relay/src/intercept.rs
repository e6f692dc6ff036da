//! The hook for opt-in TLS interception. The relay stays a copier of bytes: for a flow
//! an [`Intercept`] wants, it hands over the client's byte stream and the connected
//! server socket, and the interceptor (`phonehome-intercept`) runs the two TLS legs
//! between them. What it learns comes back through a [`TlsTap`] into the relay's loop,
//! so the observer sees it in order with the flow's packets.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use phonehome_model::{Direction, TlsMode};
use phonehome_netstack::FlowId;
use tokio::io::DuplexStream;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::Command;

/// Decides which TCP flows are intercepted and runs them. Called on the relay's thread:
/// `wants` must answer at once, and the future `run` returns is spawned beside the
/// flow's copier.
pub trait Intercept: Send + Sync + fmt::Debug + 'static {
    /// Whether the TCP flow from `src` to `dst` is handed over once its server answers.
    fn wants(&self, src: SocketAddr, dst: SocketAddr) -> bool;

    /// Runs one handed-over flow until both sides are done. Dropping `flow.client`
    /// ends the client's side (its last bytes, then FIN).
    fn run(&self, flow: InterceptedFlow) -> Pin<Box<dyn Future<Output = ()> + Send>>;

    /// Whether the QUIC flow from `src` to UDP `dst`, whose Initial names `host`, is
    /// dropped so that its client falls back to TCP (where it is intercepted). Called on
    /// the relay's thread: it must answer at once.
    fn drops_quic(&self, _src: SocketAddr, _dst: SocketAddr, _host: &str) -> bool {
        false
    }
}

/// One flow handed to an [`Intercept`].
#[derive(Debug)]
pub struct InterceptedFlow {
    pub id: FlowId,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// What the client sends arrives here; what is written here reaches the client.
    pub client: DuplexStream,
    /// Connected to the destination the client asked for.
    pub server: TcpStream,
    pub tap: TlsTap,
}

/// What an interceptor reports about one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapEvent {
    /// What became of the flow. After [`TlsMode::Intercepted`] the observer sees the
    /// flow's plaintext instead of its ciphertext.
    Mode(TlsMode),
    /// Decrypted bytes, in order per direction.
    Plaintext(Direction, Bytes),
    /// One line of the SSLKEYLOGFILE format for the TLS session with the client (the
    /// leg the capture holds), reported before the bytes it decrypts reach the client.
    Secret(String),
}

/// Where a [`TlsTap`] sends its events: the relay's loop (or a test's collector).
pub trait TapSink: Send + Sync + fmt::Debug {
    fn event(&self, id: FlowId, event: TapEvent);
}

impl TapSink for mpsc::UnboundedSender<Command> {
    fn event(&self, id: FlowId, event: TapEvent) {
        let _ = self.send(Command::Tap(id, event));
    }
}

/// How an interceptor reports one flow back to the relay's observer.
#[derive(Debug, Clone)]
pub struct TlsTap {
    id: FlowId,
    sink: Arc<dyn TapSink>,
}

impl TlsTap {
    pub fn new(id: FlowId, sink: Arc<dyn TapSink>) -> Self {
        Self { id, sink }
    }

    pub fn mode(&self, mode: TlsMode) {
        self.sink.event(self.id, TapEvent::Mode(mode));
    }

    pub fn plaintext(&self, direction: Direction, data: Bytes) {
        self.sink
            .event(self.id, TapEvent::Plaintext(direction, data));
    }

    pub fn secret(&self, line: String) {
        self.sink.event(self.id, TapEvent::Secret(line));
    }
}
