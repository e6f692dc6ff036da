//! Which app or program a flow belongs to.

use std::net::SocketAddr;

use phonehome_model::Proto;

/// Tells which app or program a flow belongs to. Called on the inspection thread when a
/// flow starts (while the client's socket still exists), so it may take a moment (a
/// binder call, reading `/proc/net`) without slowing the relay.
pub trait Attribute: Send {
    fn app(&mut self, proto: Proto, src: SocketAddr, dst: SocketAddr) -> Option<String>;

    /// The organisation (subject O=) of the certificate `app` is signed with, where the
    /// platform tells it (Android's PackageManager); it makes the company's hosts first party.
    fn signer(&mut self, _app: &str) -> Option<String> {
        None
    }
}

/// Every flow belongs to the same program (Linux `watch`: CMD), or to none known.
#[derive(Debug, Clone, Default)]
pub struct OneApp(pub Option<String>);

impl Attribute for OneApp {
    fn app(&mut self, _: Proto, _: SocketAddr, _: SocketAddr) -> Option<String> {
        self.0.clone()
    }
}
