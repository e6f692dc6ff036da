//! Both legs over real loopback sockets: a rustls server with its own test CA upstream,
//! a rustls client in front, the interceptor between them as the relay would run it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use phonehome_model::{Direction, TlsMode};
use phonehome_netstack::FlowId;
use phonehome_relay::{Intercept, InterceptedFlow, TapEvent, TapSink, TlsTap};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::key::EcKey;
use crate::{Ca, Interceptor, Settings};

const HOST: &str = "api.upstream.test";

/// Collects what the interceptor reports.
#[derive(Debug, Default)]
struct Collect(Mutex<Vec<TapEvent>>);

impl TapSink for Collect {
    fn event(&self, _id: FlowId, event: TapEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Collect {
    fn modes(&self) -> Vec<TlsMode> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                TapEvent::Mode(m) => Some(*m),
                _ => None,
            })
            .collect()
    }

    fn plaintext(&self, direction: Direction) -> Vec<u8> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                TapEvent::Plaintext(d, data) if *d == direction => Some(data.to_vec()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn secrets(&self) -> Vec<String> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                TapEvent::Secret(line) => Some(line.clone()),
                _ => None,
            })
            .collect()
    }
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("phonehome-intercept-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls_rustcrypto::provider())
}

/// A TLS server for `cert_name` (certified by `ca`) that answers one HTTP request per
/// connection with `ok`, speaking http/1.1 only.
async fn upstream(ca: &Ca, cert_name: &str) -> SocketAddr {
    let key = EcKey::generate();
    let chain = vec![ca.issue(cert_name, &key).unwrap()];
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_pkcs8_der().unwrap()));
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, der)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// Starts one intercepted flow to `server` and returns the client's end of it.
async fn flow(
    interceptor: &Interceptor,
    server: SocketAddr,
    tap: Arc<Collect>,
) -> tokio::io::DuplexStream {
    flow_from(interceptor, "10.111.0.2:40000", server, tap).await
}

/// [`flow`] from the client's address `src`.
async fn flow_from(
    interceptor: &Interceptor,
    src: &str,
    server: SocketAddr,
    tap: Arc<Collect>,
) -> tokio::io::DuplexStream {
    let (near, far) = tokio::io::duplex(64 * 1024);
    let flow = InterceptedFlow {
        id: 1,
        src: src.parse().unwrap(),
        dst: server,
        client: far,
        server: TcpStream::connect(server).await.unwrap(),
        tap: TlsTap::new(1, tap),
    };
    tokio::spawn(interceptor.run(flow));
    near
}

/// A client trusting `root`, offering h2 and http/1.1.
fn client(root: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// GETs `/` over TLS from `stream`; the response, or the handshake's error.
async fn get(
    connector: &TlsConnector,
    stream: tokio::io::DuplexStream,
) -> std::io::Result<(String, Option<Vec<u8>>)> {
    let name = ServerName::try_from(HOST).unwrap();
    let mut tls = connector.connect(name, stream).await?;
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    tls.write_all(b"GET /?imei=861234567890127 HTTP/1.1\r\nHost: api.upstream.test\r\n\r\n")
        .await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok((response, alpn))
}

struct Setup {
    _dir: Scratch,
    upstream_ca: Ca,
    interceptor: Interceptor,
}

fn setup(name: &str) -> Setup {
    setup_choosing(name, None)
}

fn setup_choosing(name: &str, choose: Option<Arc<dyn crate::Choose>>) -> Setup {
    let dir = Scratch::new(name);
    let upstream_ca = Ca::open_or_create(&dir.0.join("upstream-ca")).unwrap();
    let interceptor = Interceptor::new(Settings {
        ca_dir: &dir.0.join("ours"),
        extra_roots: Some(&dir.0.join("upstream-ca").join(crate::CERT_FILE)),
        system_roots: crate::SystemRoots::Native,
        app: Some("test-app".into()),
        keylog: None,
        choose,
    })
    .unwrap();
    Setup {
        _dir: dir,
        upstream_ca,
        interceptor,
    }
}

/// The app's per-app choice as a test sees it: the client's port names its app, and only
/// `chosen` apps are intercepted.
#[derive(Debug)]
struct ByPort {
    chosen: Vec<u16>,
}

impl crate::Choose for ByPort {
    fn choose(
        &self,
        _proto: phonehome_model::Proto,
        src: SocketAddr,
        _dst: SocketAddr,
    ) -> crate::Choice {
        if self.chosen.contains(&src.port()) {
            crate::Choice::Intercept {
                app: Some(format!("app-{}", src.port())),
            }
        } else {
            crate::Choice::Relay
        }
    }
}

#[tokio::test]
async fn an_app_not_chosen_is_relayed_untouched_and_unmarked() {
    let s = setup_choosing("not-chosen", Some(Arc::new(ByPort { chosen: vec![1] })));
    let server = upstream(&s.upstream_ca, HOST).await;
    let tap = Arc::new(Collect::default());
    let stream = flow_from(&s.interceptor, "10.111.0.2:2", server, tap.clone()).await;
    // Only the real server's certificate is accepted: nothing of ours was shown.
    let (response, _) = get(&client(s.upstream_ca.cert_der()), stream)
        .await
        .unwrap();
    assert!(response.ends_with("ok"), "{response}");
    assert!(tap.modes().is_empty(), "{:?}", tap.modes());
    assert!(tap.plaintext(Direction::Out).is_empty());
}

#[tokio::test]
async fn a_chosen_app_is_intercepted_and_its_refusal_holds_for_it_alone() {
    let chosen = Some(Arc::new(ByPort { chosen: vec![1, 2] }) as Arc<dyn crate::Choose>);
    let s = setup_choosing("chosen", chosen);
    let server = upstream(&s.upstream_ca, HOST).await;
    let trusting = client(s.interceptor.ca().cert_der());
    let pinning = client(s.upstream_ca.cert_der());

    let tap = Arc::new(Collect::default());
    let stream = flow_from(&s.interceptor, "10.111.0.2:1", server, tap.clone()).await;
    assert!(get(&pinning, stream).await.is_err());
    for _ in 0..100 {
        if !tap.modes().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(tap.modes(), [TlsMode::Pinned]);

    // Another app to the same host is still intercepted.
    let tap = Arc::new(Collect::default());
    let stream = flow_from(&s.interceptor, "10.111.0.2:2", server, tap.clone()).await;
    let (response, _) = get(&trusting, stream).await.unwrap();
    assert!(response.ends_with("ok"), "{response}");
    assert_eq!(tap.modes(), [TlsMode::Intercepted]);
}

#[test]
fn android_roots_are_read_from_a_cert_directory_and_an_empty_store_is_refused() {
    let dir = Scratch::new("android-roots");
    let store = dir.0.join("cacerts");
    std::fs::create_dir_all(&store).unwrap();
    let dirs = [store.clone()];
    let ours = dir.0.join("ours");
    let settings = |dirs| Settings {
        ca_dir: &ours,
        extra_roots: None,
        system_roots: crate::SystemRoots::CertDirs(dirs),
        app: None,
        keylog: None,
        choose: None,
    };
    let err = Interceptor::new(settings(&dirs)).unwrap_err().to_string();
    assert!(err.contains("no trusted root certificates"), "{err}");
    assert!(err.contains("holds no readable certificate"), "{err}");
    let upstream_ca = Ca::open_or_create(&dir.0.join("upstream-ca")).unwrap();
    std::fs::write(store.join("0badc0de.0"), upstream_ca.cert_pem()).unwrap();
    Interceptor::new(settings(&dirs)).unwrap();
}

#[test]
fn quic_is_dropped_only_for_the_chosen_apps() {
    let s = setup_choosing("quic-chosen", Some(Arc::new(ByPort { chosen: vec![1] })));
    let dst: SocketAddr = "192.0.2.1:443".parse().unwrap();
    assert!(s
        .interceptor
        .drops_quic("10.111.0.2:1".parse().unwrap(), dst, HOST));
    assert!(!s
        .interceptor
        .drops_quic("10.111.0.2:2".parse().unwrap(), dst, HOST));
}

#[tokio::test]
async fn a_client_trusting_our_ca_is_served_the_real_response_and_the_tap_reads_both_ways() {
    let s = setup("intercepted");
    let server = upstream(&s.upstream_ca, HOST).await;
    let tap = Arc::new(Collect::default());
    let stream = flow(&s.interceptor, server, tap.clone()).await;
    let (response, alpn) = get(&client(s.interceptor.ca().cert_der()), stream)
        .await
        .unwrap();
    assert!(response.ends_with("\r\n\r\nok"), "{response}");
    // The client offered h2 and http/1.1; the server only speaks http/1.1.
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(tap.modes(), [TlsMode::Intercepted]);
    let out = String::from_utf8(tap.plaintext(Direction::Out)).unwrap();
    assert!(
        out.starts_with("GET /?imei=861234567890127 HTTP/1.1\r\n"),
        "{out}"
    );
    let back = String::from_utf8(tap.plaintext(Direction::In)).unwrap();
    assert_eq!(back, response);
    let secrets = tap.secrets();
    assert!(
        secrets
            .iter()
            .any(|l| l.starts_with("CLIENT_TRAFFIC_SECRET_0 ")),
        "{secrets:?}"
    );
}

#[tokio::test]
async fn a_client_that_refuses_our_ca_fails_once_then_passes_through() {
    let s = setup("pinned");
    let server = upstream(&s.upstream_ca, HOST).await;
    // This client trusts the real server's CA only, as a pinning app would.
    let pinning = client(s.upstream_ca.cert_der());
    let quic = |i: &Interceptor| i.drops_quic(server, server, HOST);
    assert!(
        quic(&s.interceptor),
        "QUIC to a host intercepted over TCP is dropped"
    );

    let first = Arc::new(Collect::default());
    let stream = flow(&s.interceptor, server, first.clone()).await;
    assert!(get(&pinning, stream).await.is_err());
    // The interceptor notes the refusal as the handshake fails; let it finish.
    for _ in 0..100 {
        if !first.modes().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(first.modes(), [TlsMode::Pinned]);

    let second = Arc::new(Collect::default());
    let stream = flow(&s.interceptor, server, second.clone()).await;
    let (response, _) = get(&pinning, stream).await.unwrap();
    assert!(response.ends_with("ok"));
    assert_eq!(second.modes(), [TlsMode::Passthrough]);
    assert!(second.plaintext(Direction::Out).is_empty());
    assert!(
        !quic(&s.interceptor),
        "a host the app pins keeps its QUIC too"
    );
}

#[test]
fn quic_is_dropped_only_for_names_tls_would_be_intercepted_for() {
    let s = setup("quic-names");
    let any: SocketAddr = "192.0.2.1:443".parse().unwrap();
    assert!(s.interceptor.drops_quic(any, any, "api.example.com"));
    // No certificate can be verified for an IP literal: TCP passes through, so QUIC does.
    assert!(!s.interceptor.drops_quic(any, any, "192.0.2.1"));
    assert!(!s.interceptor.drops_quic(any, any, ""));
}

#[tokio::test]
async fn a_server_whose_certificate_fails_verification_fails_for_the_client_too() {
    let s = setup("rejected");
    // Certified for another name than the one the client asks for.
    let server = upstream(&s.upstream_ca, "elsewhere.test").await;
    let tap = Arc::new(Collect::default());
    let stream = flow(&s.interceptor, server, tap.clone()).await;
    assert!(get(&client(s.interceptor.ca().cert_der()), stream)
        .await
        .is_err());
    assert_eq!(tap.modes(), [TlsMode::UpstreamRejected]);
}

/// A plain TCP server that greets first, then echoes one line back.
async fn greeting_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(b"220 hello\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = socket.read(&mut buf).await.unwrap();
        socket.write_all(&buf[..n]).await.unwrap();
    });
    addr
}

#[tokio::test]
async fn a_server_that_speaks_first_is_relayed_untouched() {
    let s = setup("greeting");
    let tap = Arc::new(Collect::default());
    let mut stream = flow(&s.interceptor, greeting_echo().await, tap.clone()).await;
    let mut banner = [0u8; 11];
    stream.read_exact(&mut banner).await.unwrap();
    assert_eq!(&banner, b"220 hello\r\n");
    stream.write_all(b"EHLO x\r\n").await.unwrap();
    let mut echo = [0u8; 8];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"EHLO x\r\n");
    assert!(tap.modes().is_empty(), "not TLS: no interception mode");
}

#[tokio::test]
async fn a_client_whose_first_bytes_are_not_tls_is_relayed_untouched() {
    let s = setup("not-tls");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        let n = socket.read(&mut buf).await.unwrap();
        socket.write_all(&buf[..n]).await.unwrap();
    });
    let tap = Arc::new(Collect::default());
    let mut stream = flow(&s.interceptor, addr, tap.clone()).await;
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut echo = [0u8; 18];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"GET / HTTP/1.1\r\n\r\n");
    assert!(tap.modes().is_empty());
}

#[test]
fn every_tcp_port_is_handed_over_since_tls_is_told_by_its_first_bytes() {
    let s = setup("ports");
    let src: SocketAddr = "10.111.0.2:40000".parse().unwrap();
    for port in [443, 8443, 5223, 80] {
        let dst = SocketAddr::from(([192, 0, 2, 1], port));
        assert!(s.interceptor.wants(src, dst), "port {port}");
    }
}
