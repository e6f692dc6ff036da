//! Which app a flow belongs to: a uid from Android (API 29+) or from `/proc/net` (below
//! 29), then the app's name for that uid, asked once per uid and session.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use phonehome_inspector::Attribute;
use phonehome_model::Proto;

use crate::config::OwnerLookup;
use crate::host::Host;

/// Names each flow's app through the host, caching names per uid.
pub struct Owners {
    lookup: OwnerLookup,
    host: Arc<dyn Host>,
    proc_net: PathBuf,
    names: HashMap<u32, Option<String>>,
    /// The signing organisation of each app name, asked once per session.
    signers: HashMap<String, Option<String>>,
}

impl std::fmt::Debug for Owners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owners")
            .field("lookup", &self.lookup)
            .finish_non_exhaustive()
    }
}

impl Owners {
    pub fn new(lookup: OwnerLookup, host: Arc<dyn Host>) -> Self {
        Self {
            lookup,
            host,
            proc_net: PathBuf::from("/proc/net"),
            names: HashMap::new(),
            signers: HashMap::new(),
        }
    }

    pub(crate) fn uid(&self, proto: Proto, src: SocketAddr, dst: SocketAddr) -> Option<u32> {
        match self.lookup {
            OwnerLookup::None => None,
            OwnerLookup::Host => self.host.connection_owner_uid(proto, src, dst),
            OwnerLookup::Proc => {
                let files: &[&str] = match proto {
                    Proto::Tcp => &["tcp", "tcp6"],
                    Proto::Udp => &["udp", "udp6"],
                    Proto::Icmp => return None,
                };
                files.iter().find_map(|name| {
                    let table = std::fs::read_to_string(self.proc_net.join(name)).ok()?;
                    owner_in_table(&table, src, dst)
                })
            }
        }
    }
}

impl Attribute for Owners {
    fn app(&mut self, proto: Proto, src: SocketAddr, dst: SocketAddr) -> Option<String> {
        let uid = self.uid(proto, src, dst)?;
        self.name(uid)
    }

    fn signer(&mut self, app: &str) -> Option<String> {
        if let Some(org) = self.signers.get(app) {
            return org.clone();
        }
        // `uid:N` and shared-uid names are no package: nothing to ask.
        let org = if app.starts_with("uid:") || app.contains(':') {
            None
        } else {
            self.host.signer_of_app(app)
        };
        self.signers.insert(app.to_string(), org.clone());
        org
    }
}

impl Owners {
    /// The app's name for `uid` (`uid:N` if the platform has none), asked once per uid.
    pub(crate) fn name(&mut self, uid: u32) -> Option<String> {
        if let Some(name) = self.names.get(&uid) {
            return name.clone();
        }
        let name = self
            .host
            .app_for_uid(uid)
            .or_else(|| Some(format!("uid:{uid}")));
        self.names.insert(uid, name.clone());
        name
    }
}

/// The uid of the socket in a `/proc/net/{tcp,udp}{,6}` table whose local end is
/// `local` and whose remote end is `remote` (or unconnected: a UDP socket that only
/// bound). IPv4 ends are also found as IPv4-mapped IPv6 in the `6` tables.
pub fn owner_in_table(table: &str, local: SocketAddr, remote: SocketAddr) -> Option<u32> {
    let mut unconnected = None;
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(l), Some(r), Some(uid)) = (fields.get(1), fields.get(2), fields.get(7)) else {
            continue;
        };
        let (Some(l), Some(r), Ok(uid)) = (parse_end(l), parse_end(r), uid.parse::<u32>()) else {
            continue;
        };
        if l.port() != local.port() || !(same_ip(l.ip(), local.ip()) || l.ip().is_unspecified()) {
            continue;
        }
        if r.port() == remote.port() && same_ip(r.ip(), remote.ip()) {
            return Some(uid);
        }
        if r.port() == 0 && r.ip().is_unspecified() {
            unconnected.get_or_insert(uid);
        }
    }
    unconnected
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// `0100007F:0050` (127.0.0.1:80): the address as the kernel's 32-bit words in host
/// byte order, the port in hex.
fn parse_end(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::RawFd;
    use std::sync::Mutex;

    use crate::contract::StopReason;
    use crate::outbox::Batch;

    /// A platform that signs every package with `O=Example Org` and counts the questions.
    #[derive(Default)]
    struct Signing(Mutex<Vec<String>>);

    impl Host for Signing {
        fn protect(&self, _: RawFd) -> bool {
            true
        }
        fn connection_owner_uid(&self, _: Proto, _: SocketAddr, _: SocketAddr) -> Option<u32> {
            None
        }
        fn app_for_uid(&self, _: u32) -> Option<String> {
            None
        }
        fn signer_of_app(&self, app: &str) -> Option<String> {
            self.0.lock().unwrap().push(app.to_string());
            Some("Example Org".into())
        }
        fn on_records(&self, _: i64, _: &Batch) {}
        fn on_stopped(&self, _: StopReason, _: &str) {}
    }

    #[test]
    fn the_signer_of_a_package_is_asked_once_and_never_for_uid_names() {
        let host = Arc::new(Signing::default());
        let mut owners = Owners::new(OwnerLookup::Host, host.clone());
        assert_eq!(
            owners.signer("org.example.app").as_deref(),
            Some("Example Org")
        );
        assert_eq!(
            owners.signer("org.example.app").as_deref(),
            Some("Example Org")
        );
        assert_eq!(owners.signer("uid:10123"), None);
        assert_eq!(owners.signer("android.uid.system:1000"), None);
        assert_eq!(*host.0.lock().unwrap(), ["org.example.app"]);
    }

    fn my_uid() -> u32 {
        // SAFETY: getuid has no preconditions.
        unsafe { libc::getuid() }
    }

    fn table(name: &str) -> String {
        std::fs::read_to_string(format!("/proc/net/{name}")).unwrap()
    }

    #[test]
    fn a_live_tcp_connection_is_found_in_proc_net_by_both_ends() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (local, remote) = (client.local_addr().unwrap(), client.peer_addr().unwrap());
        assert_eq!(owner_in_table(&table("tcp"), local, remote), Some(my_uid()));
        let elsewhere: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(owner_in_table(&table("tcp"), local, elsewhere), None);
    }

    #[test]
    fn an_ipv4_flow_of_a_dual_stack_socket_is_found_in_the_ipv6_table() {
        let Ok(listener) = TcpListener::bind("[::]:0") else {
            return; // no IPv6 on this machine
        };
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        // The accepted socket is AF_INET6 with IPv4-mapped addresses.
        let local = server_side.local_addr().unwrap();
        let remote = server_side.peer_addr().unwrap();
        assert!(matches!(local.ip(), IpAddr::V6(_)), "{local}");
        let v4 = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
        assert_eq!(
            owner_in_table(&table("tcp6"), v4(local), v4(remote)),
            Some(my_uid())
        );
        drop(client);
    }

    #[test]
    fn an_unconnected_udp_socket_owns_datagrams_from_its_port() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let anywhere: SocketAddr = "192.0.2.1:53".parse().unwrap();
        assert_eq!(
            owner_in_table(&table("udp"), local, anywhere),
            Some(my_uid())
        );
    }

    #[test]
    fn malformed_tables_find_nothing_and_never_panic() {
        let local: SocketAddr = "10.111.0.2:40000".parse().unwrap();
        let remote: SocketAddr = "10.201.0.2:80".parse().unwrap();
        for table in [
            "",
            "header only",
            "h\n 0: zz:zz 00000000:0000 0A 0 0 0 1000",
            "h\n 0: 02006F0A:9C40 0200C90A:0050 01 0:0 0:0 0 notanumber",
            "h\n 0: 02006F0A:9C40",
            "h\n 0: 02006F0A9C40 0200C90A:0050 01 0 0 0 10123",
            "h\n 0: \u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}:9C40 0200C90A:0050 01 0 0 0 1",
        ] {
            assert_eq!(owner_in_table(table, local, remote), None, "{table:?}");
        }
        // And the well-formed line for these ends is found (little-endian words).
        if cfg!(target_endian = "little") {
            let good = "h\n 0: 02006F0A:9C40 0200C90A:0050 01 0:0 0:0 0 10123";
            assert_eq!(owner_in_table(good, local, remote), Some(10123));
        }
    }
}
