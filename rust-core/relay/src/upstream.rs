//! The real sockets behind each flow, each in its own task.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use phonehome_netstack::{ConnectError, FlowId};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::{Command, Intercept, InterceptedFlow, Protect, TlsTap};

/// Largest read from a server at once.
const CHUNK: usize = 64 * 1024;

enum Up {
    Data(Bytes),
    Eof,
}

/// The stack task's handle on one TCP flow's upstream task.
pub(crate) struct TcpUpstream {
    to_server: mpsc::UnboundedSender<Up>,
    /// Server bytes the task may still read before the stack takes earlier ones.
    window: Arc<Semaphore>,
    /// Ends the task; `true` resets the server connection instead of closing it.
    stop: Option<oneshot::Sender<bool>>,
}

impl TcpUpstream {
    /// `intercept`: once connected, the flow is handed to it (TLS interception) and this
    /// task copies between the client and the interceptor instead of the server.
    pub(crate) fn spawn(
        id: FlowId,
        (src, target): (SocketAddr, SocketAddr),
        intercept: Option<Arc<dyn Intercept>>,
        connect_timeout: Duration,
        protect: Arc<dyn Protect>,
        commands: mpsc::UnboundedSender<Command>,
        window: usize,
    ) -> Self {
        let (to_server, from_stack) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let window = Arc::new(Semaphore::new(window.max(CHUNK)));
        let task_window = window.clone();
        tokio::spawn(async move {
            let connect = connect(target, &*protect);
            let stream = match tokio::time::timeout(connect_timeout, connect).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    log::debug!("flow {id}: connect failed: {e}");
                    let _ = commands.send(Command::ConnectFailed(id, connect_error(&e)));
                    return;
                }
                Err(_) => {
                    let _ = commands.send(Command::ConnectFailed(id, ConnectError::Timeout));
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            let _ = commands.send(Command::Connected(id));
            match intercept {
                None => relay(id, stream, from_stack, task_window, commands, stopped).await,
                Some(intercept) => {
                    let (near, far) = tokio::io::duplex(CHUNK);
                    let flow = InterceptedFlow {
                        id,
                        src,
                        dst: target,
                        client: far,
                        server: stream,
                        tap: TlsTap::new(id, Arc::new(commands.clone())),
                    };
                    tokio::spawn(intercept.run(flow));
                    relay(id, near, from_stack, task_window, commands, stopped).await;
                }
            }
        });
        Self {
            to_server,
            window,
            stop: Some(stop),
        }
    }

    pub(crate) fn send(&self, data: Bytes) {
        let _ = self.to_server.send(Up::Data(data));
    }

    pub(crate) fn finish(&self) {
        let _ = self.to_server.send(Up::Eof);
    }

    pub(crate) fn taken(&self, len: usize) {
        self.window.add_permits(len);
    }

    pub(crate) fn close(mut self, reset: bool) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(reset);
        }
    }
}

impl Drop for TcpUpstream {
    fn drop(&mut self) {
        // A flow dropped without `close` (the relay is going away) resets its server.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

async fn connect(target: SocketAddr, protect: &dyn Protect) -> io::Result<TcpStream> {
    let socket = match target {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    protect.protect(socket.as_raw_fd())?;
    socket.connect(target).await
}

fn connect_error(e: &io::Error) -> ConnectError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::Refused,
        io::ErrorKind::NetworkUnreachable => ConnectError::NoRoute,
        io::ErrorKind::TimedOut => ConnectError::Timeout,
        _ => ConnectError::Unreachable,
    }
}

/// What a flow's copier talks to on the far side: the server's socket, or an
/// interceptor's end of an in-memory pipe.
trait FarSide: Send {
    fn halves(
        &mut self,
    ) -> (
        impl AsyncRead + Unpin + Send + '_,
        impl AsyncWrite + Unpin + Send + '_,
    );
    /// Makes dropping it a reset rather than a close, where that means something.
    fn reset_on_drop(&self);
}

impl FarSide for TcpStream {
    fn halves(
        &mut self,
    ) -> (
        impl AsyncRead + Unpin + Send + '_,
        impl AsyncWrite + Unpin + Send + '_,
    ) {
        self.split()
    }

    fn reset_on_drop(&self) {
        // SO_LINGER 0 makes close() send RST, as the client's reset asked.
        let _ = SockRef::from(self).set_linger(Some(Duration::ZERO));
    }
}

impl FarSide for DuplexStream {
    fn halves(
        &mut self,
    ) -> (
        impl AsyncRead + Unpin + Send + '_,
        impl AsyncWrite + Unpin + Send + '_,
    ) {
        tokio::io::split(self)
    }

    /// The interceptor sees the pipe close and ends both of its legs.
    fn reset_on_drop(&self) {}
}

/// Copies both ways until both directions are done or the stack says stop.
async fn relay(
    id: FlowId,
    mut stream: impl FarSide,
    mut from_stack: mpsc::UnboundedReceiver<Up>,
    window: Arc<Semaphore>,
    commands: mpsc::UnboundedSender<Command>,
    stopped: oneshot::Receiver<bool>,
) {
    let reset = {
        let (mut reader, mut writer) = stream.halves();
        let up = async {
            while let Some(msg) = from_stack.recv().await {
                match msg {
                    Up::Data(data) => {
                        if let Err(e) = writer.write_all(&data).await {
                            log::debug!("flow {id}: upstream write failed: {e}");
                            let _ = commands.send(Command::DownReset(id));
                            return;
                        }
                        let _ = commands.send(Command::Written(id, data.len()));
                    }
                    Up::Eof => {
                        let _ = writer.shutdown().await;
                        return;
                    }
                }
            }
        };
        let down = async {
            loop {
                let Ok(permit) = window.acquire_many(CHUNK as u32).await else {
                    return;
                };
                let mut buf = BytesMut::with_capacity(CHUNK);
                match reader.read_buf(&mut buf).await {
                    Ok(0) => {
                        let _ = commands.send(Command::DownEof(id));
                        return;
                    }
                    Ok(n) => {
                        // Keep the permits for what was read; the stack returns them.
                        permit.forget();
                        window.add_permits(CHUNK - n);
                        let _ = commands.send(Command::Down(id, buf.freeze()));
                    }
                    Err(e) => {
                        log::debug!("flow {id}: upstream read failed: {e}");
                        let _ = commands.send(Command::DownReset(id));
                        return;
                    }
                }
            }
        };
        let both = async {
            tokio::join!(up, down);
        };
        tokio::pin!(both);
        tokio::select! {
            // Both directions ended on their own: nothing left to reset.
            () = &mut both => false,
            // The stack retired the flow: reset at once (client reset, idle, shutdown),
            // or after the client's last bytes are written (a clean close).
            reset = stopped => match reset {
                Ok(false) => {
                    both.await;
                    false
                }
                _ => true,
            },
        }
    };
    if reset {
        stream.reset_on_drop();
    }
    drop(stream);
}

/// A UDP or ICMP echo flow's socket and its reader task.
pub(crate) struct DatagramUpstream {
    socket: Arc<UdpSocket>,
    kind: DatagramKind,
    reader: JoinHandle<()>,
    /// Set for DNS forwarded from the monitor's own resolver address.
    dns: Option<Arc<DnsPending>>,
}

/// Most queries of one DNS flow waiting for the upstream resolver at once; a client
/// asks one or two at a time, so more are not tracked (they still go out).
const MAX_PENDING_QUERIES: usize = 64;

/// Queries forwarded to the upstream resolver and not answered yet, each with the
/// SERVFAIL the client gets if the resolver cannot be reached or stays silent.
pub(crate) struct DnsPending {
    id: FlowId,
    timeout: Duration,
    queries: Mutex<Vec<PendingQuery>>,
    /// Wakes the reader task to look at a new deadline.
    added: Notify,
    commands: mpsc::UnboundedSender<Command>,
}

struct PendingQuery {
    txid: u16,
    deadline: Instant,
    servfail: Bytes,
}

impl DnsPending {
    pub(crate) fn new(
        id: FlowId,
        timeout: Duration,
        commands: &mpsc::UnboundedSender<Command>,
    ) -> Self {
        Self {
            id,
            timeout,
            queries: Mutex::new(Vec::new()),
            added: Notify::new(),
            commands: commands.clone(),
        }
    }

    fn queries(&self) -> std::sync::MutexGuard<'_, Vec<PendingQuery>> {
        self.queries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers `query` before it goes out; false for one that cannot be parsed (it
    /// goes out all the same, but is never answered here).
    fn add(&self, query: &[u8]) -> bool {
        let Some(servfail) = phonehome_inspect::dns::servfail(query) else {
            return false;
        };
        let mut queries = self.queries();
        if queries.len() >= MAX_PENDING_QUERIES {
            return false;
        }
        queries.push(PendingQuery {
            txid: u16::from_be_bytes([query[0], query[1]]),
            deadline: Instant::now() + self.timeout,
            servfail: Bytes::from(servfail),
        });
        drop(queries);
        self.added.notify_one();
        true
    }

    /// The resolver answered `reply`: its query no longer waits.
    fn answered(&self, reply: &[u8]) {
        if let [hi, lo, ..] = *reply {
            let txid = u16::from_be_bytes([hi, lo]);
            self.queries().retain(|q| q.txid != txid);
        }
    }

    /// Answers SERVFAIL to every waiting query whose deadline is at or before `by`
    /// (all of them when `by` is `None`: the resolver cannot be reached).
    fn fail(&self, by: Option<Instant>) {
        let failed: Vec<PendingQuery> = {
            let mut queries = self.queries();
            let (failed, waiting) = queries
                .drain(..)
                .partition(|q| by.is_none_or(|by| q.deadline <= by));
            *queries = waiting;
            failed
        };
        for q in failed {
            log::debug!("flow {}: upstream DNS did not answer: SERVFAIL", self.id);
            let _ = self.commands.send(Command::UdpReply(self.id, q.servfail));
        }
    }

    /// Waits until a waiting query's deadline passes (or a new query is added, whose
    /// deadline may come sooner).
    async fn next_deadline(&self) {
        let next = self.queries().iter().map(|q| q.deadline).min();
        match next {
            Some(at) => {
                tokio::select! {
                    () = self.added.notified() => {}
                    () = tokio::time::sleep_until(at.into()) => {}
                }
            }
            None => self.added.notified().await,
        }
    }
}

/// Errors on a connected UDP socket that say its peer cannot be reached (an ICMP error
/// came back, or there is no route), as opposed to a full buffer.
fn unreachable(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | HostUnreachable | NetworkUnreachable
    ) || e.raw_os_error() == Some(libc::EHOSTDOWN)
}

#[derive(Clone, Copy)]
enum DatagramKind {
    Udp,
    /// `ident` tells this flow's replies apart on raw sockets, which see every reply.
    Echo {
        v6: bool,
        raw: bool,
        ident: u16,
    },
}

impl Drop for DatagramUpstream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl DatagramUpstream {
    /// `dns`: the flow carries DNS for the monitor's resolver; its queries are answered
    /// SERVFAIL when the upstream resolver cannot be reached.
    pub(crate) fn udp(
        id: FlowId,
        target: SocketAddr,
        protect: &dyn Protect,
        commands: &mpsc::UnboundedSender<Command>,
        dns: Option<Arc<DnsPending>>,
    ) -> io::Result<Self> {
        let socket = Socket::new(
            Domain::for_address(target),
            Type::DGRAM,
            Some(Protocol::UDP),
        )?;
        protect.protect(socket.as_raw_fd())?;
        socket.set_nonblocking(true)?;
        socket.connect(&target.into())?;
        let socket = Arc::new(UdpSocket::from_std(socket.into())?);
        let reader = tokio::spawn(read_datagrams(
            id,
            socket.clone(),
            DatagramKind::Udp,
            commands.clone(),
            dns.clone(),
        ));
        Ok(Self {
            socket,
            kind: DatagramKind::Udp,
            reader,
            dns,
        })
    }

    /// An ICMP echo socket: an unprivileged ping socket where the system allows it
    /// (Android does; Linux needs `net.ipv4.ping_group_range`), a raw one otherwise.
    pub(crate) fn echo(
        id: FlowId,
        target: IpAddr,
        protect: &dyn Protect,
        commands: &mpsc::UnboundedSender<Command>,
    ) -> io::Result<Self> {
        let (domain, protocol) = match target {
            IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
            IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
        };
        let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(s) => (s, false),
            Err(ping_err) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(s) => (s, true),
                Err(_) => return Err(ping_err),
            },
        };
        protect.protect(socket.as_raw_fd())?;
        socket.set_nonblocking(true)?;
        socket.connect(&SocketAddr::new(target, 0).into())?;
        let kind = DatagramKind::Echo {
            v6: target.is_ipv6(),
            raw,
            ident: id as u16,
        };
        let socket = Arc::new(UdpSocket::from_std(socket.into())?);
        let reader = tokio::spawn(read_datagrams(
            id,
            socket.clone(),
            kind,
            commands.clone(),
            None,
        ));
        Ok(Self {
            socket,
            kind,
            reader,
            dns: None,
        })
    }

    pub(crate) fn send(&self, data: &[u8]) {
        // A DNS query waits for its answer from before it leaves: an ICMP error may come
        // back before this returns, and the reader task must find the query then.
        let tracked = self.dns.as_ref().is_some_and(|dns| dns.add(data));
        // Straight to the kernel: tokio's `try_send` reports WouldBlock on a new socket
        // until the reactor has seen it writable, which would drop every first datagram.
        // UDP may drop; a full socket buffer drops like a full router queue would.
        if let Err(e) = SockRef::from(&*self.socket).send(data) {
            log::debug!("datagram not sent: {e}");
            // A lost DNS query waits for its timeout; one that cannot reach the
            // resolver at all is answered now.
            if let (true, Some(dns)) = (tracked && unreachable(&e), &self.dns) {
                dns.fail(None);
            }
        }
    }

    pub(crate) fn send_echo(&self, seq: u16, data: &[u8]) {
        let DatagramKind::Echo { v6, ident, .. } = self.kind else {
            return;
        };
        let mut msg = Vec::with_capacity(8 + data.len());
        msg.extend_from_slice(&[if v6 { 128 } else { 8 }, 0, 0, 0]);
        // Ping sockets replace the identifier with their own; raw sockets keep it.
        msg.extend_from_slice(&ident.to_be_bytes());
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.extend_from_slice(data);
        if !v6 {
            // The kernel fills ICMPv6 checksums itself; ICMPv4 over raw sockets needs ours.
            let sum = internet_checksum(&msg);
            msg[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        self.send(&msg);
    }
}

thread_local! {
    /// One receive buffer for every datagram socket of the thread: a flow's reader waits
    /// for readiness holding nothing, then reads into this and copies the datagram out.
    /// A buffer per flow (64 KiB, the largest datagram) cost ~48 KB of resident memory
    /// for each of the thousands of DNS and QUIC flows a phone opens.
    static RECV_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 65_536]);
}

/// The next datagram waiting on `socket`, or WouldBlock if another reader got there first.
fn take_datagram(socket: &UdpSocket) -> io::Result<Bytes> {
    RECV_BUF.with_borrow_mut(|buf| {
        let n = socket.try_recv(buf)?;
        Ok(Bytes::copy_from_slice(&buf[..n]))
    })
}

async fn read_datagrams(
    id: FlowId,
    socket: Arc<UdpSocket>,
    kind: DatagramKind,
    commands: mpsc::UnboundedSender<Command>,
    dns: Option<Arc<DnsPending>>,
) {
    loop {
        let ready = match &dns {
            None => socket.readable().await,
            Some(dns) => tokio::select! {
                ready = socket.readable() => ready,
                () = dns.next_deadline() => {
                    dns.fail(Some(Instant::now()));
                    continue;
                }
            },
        };
        let received = ready.and_then(|()| take_datagram(&socket));
        let msg = match received {
            Ok(msg) => msg,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            // A previous datagram drew an ICMP error; UDP goes on. DNS queries waiting
            // for that resolver get SERVFAIL instead of the client's own timeout.
            Err(e) if dns.is_some() && unreachable(&e) => {
                log::debug!("flow {id}: upstream DNS unreachable: {e}");
                if let Some(dns) = &dns {
                    dns.fail(None);
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
            Err(e) => {
                log::debug!("flow {id}: datagram socket failed: {e}");
                if let Some(dns) = &dns {
                    dns.fail(None);
                }
                let _ = commands.send(Command::DatagramFailed(id));
                return;
            }
        };
        if let Some(dns) = &dns {
            dns.answered(&msg);
        }
        let command = match kind {
            DatagramKind::Udp => Command::UdpReply(id, msg),
            DatagramKind::Echo { v6, raw, ident } => {
                // Raw IPv4 sockets deliver the IP header too.
                let ihl = if raw && !v6 {
                    usize::from(msg.first().map_or(0, |b| b & 0x0f)) * 4
                } else {
                    0
                };
                let icmp = msg.slice(ihl.min(msg.len())..);
                let reply_type = if v6 { 129 } else { 0 };
                if icmp.len() < 8 || icmp[0] != reply_type {
                    continue;
                }
                if raw && u16::from_be_bytes([icmp[4], icmp[5]]) != ident {
                    continue;
                }
                let seq = u16::from_be_bytes([icmp[6], icmp[7]]);
                Command::EchoReply(id, seq, icmp.slice(8..))
            }
        };
        if commands.send(command).is_err() {
            return;
        }
    }
}

fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request_matches_rfc_1071_arithmetic() {
        // Type 8, code 0, id 0x7068, seq 1, data "abc": verifying yields zero.
        let mut msg = vec![8, 0, 0, 0, 0x70, 0x68, 0, 1, b'a', b'b', b'c'];
        let sum = internet_checksum(&msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(internet_checksum(&msg), 0);
    }

    #[test]
    fn connect_errors_map_to_what_the_client_should_see() {
        use io::ErrorKind::*;
        assert_eq!(
            connect_error(&ConnectionRefused.into()),
            ConnectError::Refused
        );
        assert_eq!(
            connect_error(&NetworkUnreachable.into()),
            ConnectError::NoRoute
        );
        assert_eq!(
            connect_error(&HostUnreachable.into()),
            ConnectError::Unreachable
        );
        assert_eq!(connect_error(&TimedOut.into()), ConnectError::Timeout);
    }
}
