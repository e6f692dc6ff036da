//! One intercepted flow, start to end: read the ClientHello, decide, run the server leg
//! then the client leg, and pump plaintext between them.
//!
//! Order matters: the server is verified and its ALPN choice known before the client
//! sees a byte from us, so a server that fails verification fails for the client, and
//! the client is answered with the protocol the server really speaks.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use phonehome_inspect::tls::{parse_client_hello, ClientHello, TlsError};
use phonehome_model::{Direction, Proto, TlsMode};
use phonehome_relay::{InterceptedFlow, TlsTap};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::replay::Replay;
use crate::{Choice, Inner};

/// How long a client may take to send its ClientHello, and either handshake to finish.
/// A client silent that long passes through (a server that speaks first passes through
/// at once, see [`read_hello`]).
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest ClientHello gathered (the inspect parser's own limit is lower).
const MAX_HELLO: usize = 64 * 1024;
/// Plaintext read at once per direction.
const CHUNK: usize = 16 * 1024;

/// What the first bytes of the flow were.
enum Start {
    Hello(Box<ClientHello>),
    /// Not TLS, or a ClientHello that cannot be read: relayed untouched.
    Other,
    /// The client closed or failed before saying anything useful.
    Gone,
}

pub(crate) async fn run(inner: Arc<Inner>, flow: InterceptedFlow) {
    let InterceptedFlow {
        id,
        src,
        dst,
        mut client,
        server,
        tap,
    } = flow;
    let app = match inner.choose.clone() {
        None => inner.app.clone(),
        // The owner lookup may block (it may ask the platform): not on the relay's thread.
        Some(choose) => {
            match tokio::task::spawn_blocking(move || choose.choose(Proto::Tcp, src, dst)).await {
                Ok(Choice::Intercept { app }) => app,
                Ok(Choice::Relay) | Err(_) => return passthrough(Vec::new(), client, server).await,
            }
        }
    };
    let app = app.as_deref();
    let mut head = Vec::new();
    let first = read_hello(&mut client, &server, &mut head);
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, first).await {
        Ok(Start::Hello(hello)) => hello,
        Ok(Start::Gone) => return,
        Ok(Start::Other) | Err(_) => return passthrough(head, client, server).await,
    };
    let Some(name) = hello.sni.as_deref().and_then(server_name) else {
        // Without a name there is nothing to verify the server against.
        tap.mode(TlsMode::Passthrough);
        return passthrough(head, client, server).await;
    };
    let host = hello.sni.clone().unwrap_or_default();
    if lock(&inner.pins).passes(app, &host, SystemTime::now()) {
        tap.mode(TlsMode::Passthrough);
        return passthrough(head, client, server).await;
    }

    // The server leg, verified against the system's roots.
    let config = match inner.client_config(&hello.alpn) {
        Ok(config) => Arc::new(config),
        Err(e) => {
            log::warn!("flow {id}: cannot set up TLS to the server: {e}");
            return;
        }
    };
    let connect = TlsConnector::from(config).connect(name, server);
    let upstream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, connect).await {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(e)) => {
            if let Some(rustls::Error::InvalidCertificate(why)) = rustls_error(&e) {
                log::info!("flow {id}: the server's certificate failed verification ({why:?}); the client is refused too");
                tap.mode(TlsMode::UpstreamRejected);
            } else {
                log::debug!("flow {id}: TLS to the server failed: {e}");
            }
            return;
        }
        Err(_) => return,
    };
    let alpn = upstream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);

    // The client leg, with our leaf for the name it asked for.
    let config = match inner.server_config(&host, alpn, &tap) {
        Ok(config) => Arc::new(config),
        Err(e) => {
            log::warn!("flow {id}: cannot make a certificate for the client: {e}");
            return;
        }
    };
    let accept = TlsAcceptor::from(config).accept(Replay::new(head, client));
    let downstream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(downstream)) => downstream,
        Ok(Err(e)) => {
            if client_refused(&e) {
                log::info!("flow {id}: the client refused our certificate; its app passes through to this host from now on");
                lock(&inner.pins).refused(app, &host, SystemTime::now());
                tap.mode(TlsMode::Pinned);
            } else {
                log::debug!("flow {id}: TLS with the client failed: {e}");
            }
            return;
        }
        Err(_) => return,
    };
    tap.mode(TlsMode::Intercepted);
    pump(downstream, upstream, &tap).await;
}

/// Whether a TLS flow to `host` is intercepted rather than passed through: the name is
/// one a certificate can be verified for, and the app has not refused us for it.
pub(crate) fn intercepts(inner: &Inner, app: Option<&str>, host: &str, now: SystemTime) -> bool {
    server_name(host).is_some() && !lock(&inner.pins).passes(app, host, now)
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A ClientHello's server name as rustls takes it; `None` for names it cannot verify a
/// certificate against (escaped bytes, IP literals in SNI are not allowed either).
fn server_name(sni: &str) -> Option<ServerName<'static>> {
    match ServerName::try_from(sni.to_owned()) {
        Ok(name @ ServerName::DnsName(_)) => Some(name),
        _ => None,
    }
}

/// Reads until `head` holds a whole ClientHello (or clearly none). Every TCP port is
/// handed over, so this is also where other protocols are told apart: a TLS client
/// speaks first, so a server that sends (or closes) before the hello is complete means
/// another protocol (SMTP, SSH, FTP greet first), relayed untouched at once.
async fn read_hello(
    client: &mut (impl AsyncRead + Unpin),
    server: &tokio::net::TcpStream,
    head: &mut Vec<u8>,
) -> Start {
    let mut buf = [0u8; 4096];
    loop {
        match parse_client_hello(head) {
            Ok(hello) => return Start::Hello(Box::new(hello)),
            Err(TlsError::NeedMore) if head.len() < MAX_HELLO => {}
            Err(_) => return Start::Other,
        }
        // `read` on the pipe is cancel-safe: bytes are never lost to the other branch.
        tokio::select! {
            read = client.read(&mut buf) => match read {
                Ok(0) if head.is_empty() => return Start::Gone,
                Ok(0) => return Start::Other,
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(_) => return Start::Gone,
            },
            _ = server.readable() => return Start::Other,
        }
    }
}

/// Relays the flow untouched: what was read of it first, then both ways.
async fn passthrough(
    head: Vec<u8>,
    mut client: tokio::io::DuplexStream,
    mut server: tokio::net::TcpStream,
) {
    if server.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// The rustls error inside an IO error from tokio-rustls, if that is what it is.
fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref())
}

/// Whether a failed handshake with the client means it refused us: it sent an alert
/// (unknown CA, bad certificate) or hung up mid-handshake, as pinning clients do.
fn client_refused(e: &io::Error) -> bool {
    match rustls_error(e) {
        Some(rustls::Error::AlertReceived(_)) => true,
        Some(_) => false,
        None => matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
        ),
    }
}

/// Plaintext both ways, each copy shown to the tap, until both sides are done. A clean
/// end of one direction (close_notify or FIN) is passed on as one; an error ends both.
async fn pump(
    downstream: impl AsyncRead + AsyncWrite + Unpin,
    upstream: impl AsyncRead + AsyncWrite + Unpin,
    tap: &TlsTap,
) {
    let (mut client_reads, mut client_writes) = tokio::io::split(downstream);
    let (mut server_reads, mut server_writes) = tokio::io::split(upstream);
    let out = copy(&mut client_reads, &mut server_writes, Direction::Out, tap);
    let back = copy(&mut server_reads, &mut client_writes, Direction::In, tap);
    let _ = tokio::try_join!(out, back);
}

async fn copy(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    direction: Direction,
    tap: &TlsTap,
) -> io::Result<()> {
    loop {
        let mut buf = BytesMut::with_capacity(CHUNK);
        match from.read_buf(&mut buf).await {
            Ok(0) => break,
            Ok(_) => {
                let data = buf.freeze();
                tap.plaintext(direction, data.clone());
                to.write_all(&data).await?;
                to.flush().await?;
            }
            // A peer that closes without close_notify (many do) has still finished.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    to.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_names_are_intercepted() {
        assert!(server_name("api.example.com").is_some());
        assert!(server_name("192.0.2.1").is_none());
        assert!(server_name("bad\\000name").is_none());
        assert!(server_name("").is_none());
    }

    #[test]
    fn an_alert_or_a_hang_up_during_the_handshake_counts_as_refusal() {
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA),
        );
        assert!(client_refused(&alert));
        assert!(client_refused(&io::ErrorKind::UnexpectedEof.into()));
        assert!(client_refused(&io::ErrorKind::ConnectionReset.into()));
        let garbage = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        assert!(!client_refused(&garbage));
    }
}
