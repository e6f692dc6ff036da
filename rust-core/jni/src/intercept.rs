//! TLS interception for the app: the configuration's `intercept` section, the per-app
//! choice (by the flow's owner uid), and the CA's certificate for the export screen.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use phonehome_intercept::{Ca, Choice, Choose, Interceptor, Settings, SystemRoots};
use phonehome_model::Proto;
use serde::Deserialize;

use crate::config::OwnerLookup;
use crate::error::CoreError;
use crate::host::Host;
use crate::owner::Owners;

/// The configuration's `intercept` section; absent, nothing is intercepted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterceptConfig {
    /// The per-install CA, in the app's private files (made there on first use).
    pub ca_dir: PathBuf,
    /// Uids of the apps whose TLS is intercepted; absent: every app's.
    #[serde(default)]
    pub apps: Option<Vec<u32>>,
    /// Android's system CA directories, the first that exists read (tests name their own).
    #[serde(default = "android_cert_dirs")]
    pub roots: Vec<PathBuf>,
}

fn android_cert_dirs() -> Vec<PathBuf> {
    phonehome_intercept::ANDROID_CERT_DIRS
        .iter()
        .map(PathBuf::from)
        .collect()
}

impl InterceptConfig {
    /// Refuses what cannot work, before anything starts.
    pub fn check(&self, owner_lookup: OwnerLookup) -> Result<(), CoreError> {
        if !self.ca_dir.is_absolute() {
            return Err(CoreError::Config(format!(
                "intercept.ca_dir must be an absolute path (got {:?})",
                self.ca_dir
            )));
        }
        if self.roots.is_empty() {
            return Err(CoreError::Config(
                "intercept.roots must name at least one directory".into(),
            ));
        }
        if self.apps.is_some() && owner_lookup == OwnerLookup::None {
            return Err(CoreError::Config(
                "intercept.apps needs owner_lookup \"host\" or \"proc\" to tell apps apart".into(),
            ));
        }
        Ok(())
    }

    /// The interceptor the relay hands port-443 flows to.
    pub fn interceptor(
        &self,
        owner_lookup: OwnerLookup,
        host: Arc<dyn Host>,
    ) -> Result<Interceptor, CoreError> {
        let choose = ByOwner {
            owners: Mutex::new(Owners::new(owner_lookup, host)),
            apps: self.apps.as_ref().map(|a| a.iter().copied().collect()),
        };
        Ok(Interceptor::new(Settings {
            ca_dir: &self.ca_dir,
            extra_roots: None,
            system_roots: SystemRoots::CertDirs(&self.roots),
            app: None,
            keylog: None,
            choose: Some(Arc::new(choose)),
        })?)
    }
}

/// Intercepts the flows of the chosen uids (all, if none were named), keyed by app name
/// in the passthrough table so that one app's pinning never spares another.
struct ByOwner {
    owners: Mutex<Owners>,
    apps: Option<HashSet<u32>>,
}

impl std::fmt::Debug for ByOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByOwner")
            .field("apps", &self.apps)
            .finish_non_exhaustive()
    }
}

impl Choose for ByOwner {
    fn choose(&self, proto: Proto, src: SocketAddr, dst: SocketAddr) -> Choice {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let uid = owners.uid(proto, src, dst);
        if let Some(apps) = &self.apps {
            if !uid.is_some_and(|uid| apps.contains(&uid)) {
                return Choice::Relay;
            }
        }
        Choice::Intercept {
            app: uid.and_then(|uid| owners.name(uid)),
        }
    }
}

/// The CA's certificate as PEM (never its key), making the CA in `ca_dir` if it has none.
pub fn ca_certificate(ca_dir: &Path) -> Result<String, CoreError> {
    if !ca_dir.is_absolute() {
        return Err(CoreError::Argument(format!(
            "caDir must be an absolute path (got {ca_dir:?})"
        )));
    }
    let ca = Ca::open_or_create(ca_dir).map_err(phonehome_intercept::InterceptError::from)?;
    Ok(ca.cert_pem().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Batch;
    use crate::StopReason;
    use std::os::fd::RawFd;

    /// A platform whose sockets all belong to the uid in the client's port.
    struct PortIsUid;

    impl Host for PortIsUid {
        fn protect(&self, _: RawFd) -> bool {
            true
        }
        fn connection_owner_uid(&self, _: Proto, local: SocketAddr, _: SocketAddr) -> Option<u32> {
            Some(u32::from(local.port()))
        }
        fn app_for_uid(&self, uid: u32) -> Option<String> {
            Some(format!("com.example.app{uid}"))
        }
        fn on_records(&self, _: i64, _: &Batch) {}
        fn on_stopped(&self, _: StopReason, _: &str) {}
    }

    fn by_owner(apps: Option<Vec<u32>>) -> ByOwner {
        ByOwner {
            owners: Mutex::new(Owners::new(OwnerLookup::Host, Arc::new(PortIsUid))),
            apps: apps.map(|a| a.into_iter().collect()),
        }
    }

    fn from(port: u16) -> SocketAddr {
        SocketAddr::new("10.111.0.2".parse().unwrap(), port)
    }

    #[test]
    fn only_the_chosen_apps_are_intercepted_under_their_own_names() {
        let dst: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let chosen = by_owner(Some(vec![10123]));
        assert_eq!(
            chosen.choose(Proto::Tcp, from(10123), dst),
            Choice::Intercept {
                app: Some("com.example.app10123".into())
            }
        );
        assert_eq!(chosen.choose(Proto::Tcp, from(10124), dst), Choice::Relay);
        let every = by_owner(None);
        assert_eq!(
            every.choose(Proto::Tcp, from(10124), dst),
            Choice::Intercept {
                app: Some("com.example.app10124".into())
            }
        );
    }

    #[test]
    fn a_flow_whose_owner_is_unknown_is_not_intercepted_for_a_chosen_list() {
        let chosen = ByOwner {
            owners: Mutex::new(Owners::new(OwnerLookup::None, Arc::new(PortIsUid))),
            apps: Some([10123].into_iter().collect()),
        };
        let dst: SocketAddr = "192.0.2.1:443".parse().unwrap();
        assert_eq!(chosen.choose(Proto::Tcp, from(10123), dst), Choice::Relay);
    }

    #[test]
    fn the_ca_certificate_is_made_once_and_never_holds_the_key() {
        let dir = std::env::temp_dir().join(format!("phonehome-jni-ca-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = ca_certificate(&dir.join("ca")).unwrap();
        let again = ca_certificate(&dir.join("ca")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
        assert!(!first.contains("PRIVATE KEY"));
        assert_eq!(first, again);
        let err = ca_certificate(Path::new("relative")).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::BadArgument);
    }
}
