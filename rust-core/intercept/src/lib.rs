//! Opt-in TLS interception for the monitor.
//!
//! For a TCP flow the relay hands over (see [`phonehome_relay::Intercept`]; every TCP
//! flow, whatever its port), [`Interceptor`] reads the client's first bytes; if they
//! are not a ClientHello, or the server speaks first, the flow is relayed untouched.
//! Otherwise it reads the client's ClientHello, completes a verified TLS handshake
//! with the real server (offering the client's ALPN list and server name), then answers
//! the client with a certificate for that name from the per-install [`Ca`] and the
//! server's ALPN choice. The plaintext both ways goes to the observer, which feeds the
//! same analyzer as plain HTTP does; the client leg's secrets go to the capture.
//!
//! What it never does: weaken the server's verification (a server that fails it fails
//! for the client too, recorded `upstream-rejected`), or break an app twice for a host
//! (a refused handshake sends that app and host to passthrough, see [`pinning`]).
//!
//! All cryptography is pure Rust (`rustls-rustcrypto`, `p256`): no C is compiled, so
//! the crate builds for Android without the NDK.

mod ca;
mod key;
pub mod keylog;
mod legs;
pub mod pinning;
mod replay;
pub mod roots;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use phonehome_model::Proto;
use phonehome_relay::{Intercept, InterceptedFlow, TlsTap};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub use ca::{Ca, CaError, CERT_FILE, EXPORT_DER, EXPORT_PEM, KEY_FILE};
use key::EcKey;
use pinning::Pins;
pub use roots::{SystemRoots, ANDROID_CERT_DIRS};

/// Server names with leaf certificates kept at most; past it the cache starts over.
const MAX_LEAVES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum InterceptError {
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error("no trusted root certificates: the system store is empty or unreadable{0}")]
    NoRoots(String),
    #[error("{path}: {why}")]
    ExtraRoots { path: String, why: String },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    KeyLog(#[from] keylog::KeyLogError),
}

/// What interception needs from its front end.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    /// Where the per-install CA lives (made there on first use).
    pub ca_dir: &'a Path,
    /// More roots to trust for servers, besides the system's (a PEM file): a private
    /// CA, or a test's.
    pub extra_roots: Option<&'a Path>,
    /// Where the system's roots are read from.
    pub system_roots: SystemRoots<'a>,
    /// The app every flow belongs to (`watch`: CMD), for the passthrough table, when
    /// `choose` is `None`.
    pub app: Option<String>,
    /// Where to append the client sessions' keys as SSLKEYLOGFILE lines, if anywhere.
    pub keylog: Option<&'a Path>,
    /// Which flows are intercepted and whose they are; `None`: every flow, `app`'s.
    pub choose: Option<Arc<dyn Choose>>,
}

/// What becomes of one TCP flow to port 443.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Relayed untouched, and not marked: interception is not on for its app.
    Relay,
    /// Intercepted; `app` keys the passthrough table (see [`pinning`]).
    Intercept { app: Option<String> },
}

/// Picks the flows to intercept (the app's per-app choice) by their owner. Called once per
/// TCP flow on a thread that may block (an owner lookup may ask the platform), and once per
/// new QUIC flow on the relay's (see [`Interceptor`]'s `drops_quic`).
pub trait Choose: Send + Sync + std::fmt::Debug + 'static {
    fn choose(&self, proto: Proto, src: SocketAddr, dst: SocketAddr) -> Choice;
}

/// See the crate documentation. Cheap to clone: the relay holds it as an
/// `Arc<dyn Intercept>`.
#[derive(Clone)]
pub struct Interceptor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor").finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    ca: Ca,
    /// One key for every leaf of this run: minting a leaf is then one signature.
    leaf_key: EcKey,
    leaf_signer: Arc<dyn rustls::sign::SigningKey>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    pub(crate) pins: Mutex<Pins>,
    pub(crate) app: Option<String>,
    keylog: Option<Arc<keylog::KeyLogFile>>,
    pub(crate) choose: Option<Arc<dyn Choose>>,
}

impl Interceptor {
    pub fn new(settings: Settings<'_>) -> Result<Self, InterceptError> {
        let provider = Arc::new(rustls_rustcrypto::provider());
        let ca = Ca::open_or_create(settings.ca_dir)?;
        let leaf_key = EcKey::generate();
        let der = leaf_key
            .to_pkcs8_der()
            .ok_or_else(|| rustls::Error::General("cannot encode the leaf key".into()))?;
        let leaf_signer = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)))?;
        let keylog = match settings.keylog {
            Some(path) => Some(Arc::new(keylog::KeyLogFile::open(path)?)),
            None => None,
        };
        let roots = Arc::new(roots(settings.system_roots, settings.extra_roots)?);
        Ok(Self {
            inner: Arc::new(Inner {
                ca,
                leaf_key,
                leaf_signer,
                leaves: Mutex::new(HashMap::new()),
                roots,
                provider,
                pins: Mutex::new(Pins::kept_in(settings.ca_dir, SystemTime::now())),
                app: settings.app,
                keylog,
                choose: settings.choose,
            }),
        })
    }

    pub fn ca(&self) -> &Ca {
        &self.inner.ca
    }
}

/// The system's trust store (see [`SystemRoots`]), plus `extra`.
fn roots(system: SystemRoots<'_>, extra: Option<&Path>) -> Result<RootCertStore, InterceptError> {
    let mut store = RootCertStore::empty();
    let (certs, first_error) = match system {
        SystemRoots::Native => {
            let native = rustls_native_certs::load_native_certs();
            let first_error = native.errors.first().map(|e| format!(" ({e})"));
            (native.certs, first_error)
        }
        SystemRoots::CertDirs(dirs) => {
            let found = roots::read_cert_dirs(dirs);
            let why = match &found.dir {
                None => format!(" (none of {dirs:?} exists)"),
                Some(dir) => format!(" ({} holds no readable certificate)", dir.display()),
            };
            if found.unreadable > 0 {
                log::warn!(
                    "TLS interception: {} system CA files could not be read",
                    found.unreadable
                );
            }
            (found.certs, Some(why))
        }
    };
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if let Some(path) = extra {
        let bad = |why: String| InterceptError::ExtraRoots {
            path: path.display().to_string(),
            why,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        for cert in certs {
            store.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    if store.is_empty() {
        return Err(InterceptError::NoRoots(first_error.unwrap_or_default()));
    }
    log::debug!("TLS interception trusts {added} system roots");
    Ok(store)
}

impl Inner {
    /// The upstream leg's configuration: the system's roots, the client's ALPN list.
    pub(crate) fn client_config(&self, alpn: &[String]) -> Result<ClientConfig, rustls::Error> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(config)
    }

    /// The client leg's configuration: a leaf for `name`, the server's ALPN choice, and
    /// the session's secrets to `tap`.
    pub(crate) fn server_config(
        &self,
        name: &str,
        alpn: Option<Vec<u8>>,
        tap: &TlsTap,
    ) -> Result<ServerConfig, InterceptError> {
        let leaf = self.leaf(name)?;
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneLeaf(leaf)));
        config.alpn_protocols = alpn.into_iter().collect();
        config.key_log = Arc::new(keylog::TapKeyLog(tap.clone(), self.keylog.clone()));
        Ok(config)
    }

    /// The cached leaf for `name`, minted on first use.
    fn leaf(&self, name: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(leaf) = leaves.get(name) {
            return Ok(leaf.clone());
        }
        let cert = self.ca.issue(name, &self.leaf_key)?;
        let chain = vec![cert, self.ca.cert_der().clone()];
        let leaf = Arc::new(CertifiedKey::new(chain, self.leaf_signer.clone()));
        if leaves.len() >= MAX_LEAVES {
            leaves.clear();
        }
        leaves.insert(name.to_owned(), leaf.clone());
        Ok(leaf)
    }
}

/// Always the one leaf minted for the flow's server name.
#[derive(Debug)]
struct OneLeaf(Arc<CertifiedKey>);

impl ResolvesServerCert for OneLeaf {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl Intercept for Interceptor {
    /// Every TCP flow: TLS is told by the client's first bytes, not by the port (apps
    /// use 8443, 5223, 993 ...). What is not TLS costs one extra copy through the pipe.
    fn wants(&self, _src: SocketAddr, _dst: SocketAddr) -> bool {
        true
    }

    fn run(&self, flow: InterceptedFlow) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(legs::run(self.inner.clone(), flow))
    }

    /// QUIC is dropped exactly where TLS over TCP to the same host would be intercepted:
    /// an app chosen for interception, a name interception can verify, and an app that has
    /// not refused us for it. With a chooser this asks for the flow's owner on the relay's
    /// thread: once per new QUIC flow, and only while interception is on.
    fn drops_quic(&self, src: SocketAddr, dst: SocketAddr, host: &str) -> bool {
        let app = match &self.inner.choose {
            None => self.inner.app.clone(),
            Some(choose) => match choose.choose(Proto::Udp, src, dst) {
                Choice::Intercept { app } => app,
                Choice::Relay => return false,
            },
        };
        legs::intercepts(&self.inner, app.as_deref(), host, SystemTime::now())
    }
}

#[cfg(test)]
mod tests;
