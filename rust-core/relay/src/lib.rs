//! The IO shell around [`phonehome_netstack`]. (API sketch; implementation in progress.)

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::Arc;

use phonehome_record::FlowSink;
use phonehome_tun::Tun;

/// Lets an outbound socket bypass the VPN before it connects (Android: `VpnService.protect`).
pub trait Protect: Send + Sync + 'static {
    fn protect(&self, fd: RawFd) -> io::Result<()>;
}

/// On Linux the monitor's sockets live in another network namespace than the TUN's
/// routes, so nothing needs protecting.
#[derive(Debug, Default)]
pub struct NoProtect;

impl Protect for NoProtect {
    fn protect(&self, _fd: RawFd) -> io::Result<()> {
        Ok(())
    }
}

/// DNS the watched side sends to `listen` addresses is forwarded to `upstream`.
#[derive(Debug, Clone)]
pub struct DnsForward {
    pub listen: Vec<IpAddr>,
    pub upstream: SocketAddr,
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub stack: phonehome_netstack::Config,
    pub dns: Option<DnsForward>,
}

#[derive(Debug, Default, Clone)]
pub struct RelayStats {}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("TUN device: {0}")]
    Tun(io::Error),
}

/// Relays until `shutdown` completes, then closes every flow and flushes `sink`.
pub async fn run(
    _tun: Tun,
    _config: RelayConfig,
    _protect: Arc<dyn Protect>,
    _sink: Box<dyn FlowSink>,
    _shutdown: impl Future<Output = ()>,
) -> Result<RelayStats, RelayError> {
    todo!("in progress")
}
