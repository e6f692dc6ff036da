//! The app's configuration for one session, as the JSON `NativeCore.start` takes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use phonehome_analyzer::{Analyzer, Settings};
use phonehome_catalog::Catalog;
use phonehome_detect::{Detector, Identifiers, Options};
use phonehome_relay::{DnsForward, RelayConfig};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::contract::{MAX_MTU, MIN_MTU};
use crate::error::CoreError;
use crate::intercept::InterceptConfig;

/// Who owns a flow: the app asks Android (API 29+), or the core reads `/proc/net` (below
/// 29, where `getConnectionOwnerUid` does not exist), or nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerLookup {
    Host,
    Proc,
    #[default]
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// Addresses inside the TUN that the app announced as its DNS servers.
    pub listen: Vec<IpAddr>,
    /// The underlying network's resolvers (`LinkProperties.getDnsServers`); the first is used.
    pub upstream: Vec<SocketAddr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreConfig {
    /// The SQLite store and the captures live here; created if missing.
    pub records_dir: PathBuf,
    /// Where discovery keeps what it learned between sessions (`discovery.json`, as
    /// `phonehome watch --state` does); without it each session starts from scratch.
    pub state_dir: Option<PathBuf>,
    /// The identifiers file's structure, kept as written so its errors point into it.
    identifiers: Option<Box<RawValue>>,
    /// More catalog lines (`suffix<TAB>company<TAB>category<TAB>service[<TAB>source<TAB>parent]`), or a whole updated catalog file with its `# version:` line.
    #[serde(default)]
    catalog: String,
    #[serde(default = "default_scan_limit")]
    scan_limit: usize,
    /// Keep the first packets of each flow in a capture file.
    #[serde(default = "yes")]
    pub capture: bool,
    #[serde(default = "default_mtu")]
    pub mtu: usize,
    /// Most flows relayed at once; beyond it new connections are refused.
    max_flows: Option<usize>,
    pub dns: Option<Dns>,
    #[serde(default)]
    pub owner_lookup: OwnerLookup,
    /// TLS interception; off unless present.
    #[serde(default)]
    pub intercept: Option<InterceptConfig>,
}

fn default_scan_limit() -> usize {
    64 * 1024
}

fn default_mtu() -> usize {
    1500
}

fn yes() -> bool {
    true
}

impl CoreConfig {
    pub fn parse(json: &str) -> Result<Self, CoreError> {
        // The error names the key that was wrong (`dns.upstream[0]: invalid ...`).
        let mut reader = serde_json::Deserializer::from_str(json);
        let config: Self = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                CoreError::Config(format!("configuration JSON: {inner}"))
            } else {
                CoreError::Config(format!("configuration JSON: {path}: {inner}"))
            }
        })?;
        if config.records_dir.as_os_str().is_empty() || !config.records_dir.is_absolute() {
            return Err(CoreError::Config(format!(
                "records_dir must be an absolute path (got {:?})",
                config.records_dir
            )));
        }
        if let Some(dir) = &config.state_dir {
            if !dir.is_absolute() {
                return Err(CoreError::Config(format!(
                    "state_dir must be an absolute path (got {dir:?})"
                )));
            }
        }
        if !(MIN_MTU..=MAX_MTU).contains(&config.mtu) {
            return Err(CoreError::Config(format!(
                "mtu must be {MIN_MTU} to {MAX_MTU} (got {})",
                config.mtu
            )));
        }
        if config.max_flows == Some(0) {
            return Err(CoreError::Config("max_flows must be above 0".into()));
        }
        if config.scan_limit == 0 {
            return Err(CoreError::Config("scan_limit must be above 0".into()));
        }
        if let Some(intercept) = &config.intercept {
            intercept.check(config.owner_lookup)?;
        }
        if let Some(dns) = &config.dns {
            if dns.listen.is_empty() != dns.upstream.is_empty() {
                return Err(CoreError::Config(
                    "dns needs both listen addresses and at least one upstream resolver".into(),
                ));
            }
        }
        Ok(config)
    }

    pub fn identifiers(&self) -> Result<Identifiers, CoreError> {
        match &self.identifiers {
            None => Ok(Identifiers::default()),
            Some(raw) => Identifiers::from_json(raw.get()).map_err(CoreError::Identifiers),
        }
    }

    pub fn analyzer(&self) -> Result<Analyzer, CoreError> {
        let mut catalog = Catalog::builtin();
        if !self.catalog.trim().is_empty() {
            let extra = Catalog::parse(&self.catalog)
                .map_err(|e| CoreError::Config(format!("catalog: {e}")))?;
            catalog.extend(extra);
        }
        let ids = self.identifiers()?;
        let detector = Detector::new(&ids, &Options::default());
        Ok(Analyzer::new(
            detector,
            catalog,
            Settings {
                scan_limit: self.scan_limit,
            },
        )
        .with_configured(&ids))
    }

    pub fn relay(&self) -> RelayConfig {
        let mut relay = RelayConfig {
            connect_timeout: Duration::from_secs(30),
            ..RelayConfig::default()
        };
        relay.stack.mtu = self.mtu;
        if let Some(max_flows) = self.max_flows {
            relay.stack.max_flows = max_flows;
        }
        relay.dns = self.dns.as_ref().and_then(|dns| {
            Some(DnsForward {
                listen: dns.listen.clone(),
                upstream: *dns.upstream.first()?,
            })
        });
        relay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_configuration_takes_the_defaults() {
        let c = CoreConfig::parse(r#"{"records_dir": "/data/records"}"#).unwrap();
        assert_eq!(c.mtu, 1500);
        assert!(c.capture);
        assert_eq!(c.owner_lookup, OwnerLookup::None);
        assert!(c.relay().dns.is_none());
        assert_eq!(c.state_dir, None);
        assert!(c.intercept.is_none(), "interception is off by default");
        c.analyzer().unwrap();
    }

    #[test]
    fn interception_reads_android_s_system_store_unless_told_otherwise() {
        let c = CoreConfig::parse(
            r#"{"records_dir": "/r", "owner_lookup": "host",
                "intercept": {"ca_dir": "/data/files/ca", "apps": [10123, 10456]}}"#,
        )
        .unwrap();
        let i = c.intercept.unwrap();
        assert_eq!(i.ca_dir, PathBuf::from("/data/files/ca"));
        assert_eq!(i.apps, Some(vec![10123, 10456]));
        assert_eq!(
            i.roots,
            [
                PathBuf::from("/apex/com.android.conscrypt/cacerts"),
                PathBuf::from("/system/etc/security/cacerts")
            ]
        );
    }

    #[test]
    fn the_app_configuration_is_understood() {
        let c = CoreConfig::parse(
            r#"{"records_dir": "/data/records", "mtu": 16000, "capture": false,
                "state_dir": "/data/files/discovery",
                "identifiers": {"imei": ["861234567890123"], "region": "CN"},
                "catalog": "example.org\tExample\tcloud-messaging\tpush",
                "dns": {"listen": ["10.111.0.1", "fd70:686f:6e65::1"], "upstream": ["192.0.2.53:53"]},
                "owner_lookup": "proc", "scan_limit": 1000, "max_flows": 2000}"#,
        )
        .unwrap();
        let relay = c.relay();
        assert_eq!(relay.stack.mtu, 16000);
        assert_eq!(relay.stack.max_flows, 2000);
        assert_eq!(
            relay.dns.unwrap().upstream,
            "192.0.2.53:53".parse().unwrap()
        );
        assert_eq!(c.owner_lookup, OwnerLookup::Proc);
        assert_eq!(c.state_dir, Some(PathBuf::from("/data/files/discovery")));
        c.analyzer().unwrap();
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let cases = [
            ("not json", "configuration JSON"),
            ("{}", "records_dir"),
            (r#"{"records_dir": "relative"}"#, "absolute"),
            (
                r#"{"records_dir": "/r", "state_dir": "state"}"#,
                "state_dir must be an absolute path",
            ),
            (r#"{"records_dir": "/r", "mtu": 10}"#, "mtu must be"),
            (
                r#"{"records_dir": "/r", "colour": 1}"#,
                "unknown field `colour`",
            ),
            (
                r#"{"records_dir": "/r", "owner_lookup": "guess"}"#,
                "unknown variant",
            ),
            (
                r#"{"records_dir": "/r", "dns": {"listen": ["10.111.0.1"], "upstream": []}}"#,
                "upstream",
            ),
            (
                r#"{"records_dir": "/r", "intercept": {"ca_dir": "ca"}}"#,
                "intercept.ca_dir must be an absolute path",
            ),
            (
                r#"{"records_dir": "/r", "intercept": {"ca_dir": "/ca", "roots": []}}"#,
                "intercept.roots",
            ),
            (
                r#"{"records_dir": "/r", "intercept": {"ca_dir": "/ca", "apps": [1]}}"#,
                "intercept.apps needs owner_lookup",
            ),
            (
                r#"{"records_dir": "/r", "intercept": {"ca_dir": "/ca", "upstream_ca": "/x"}}"#,
                "unknown field `upstream_ca`",
            ),
        ];
        for (json, expected) in cases {
            let err = CoreConfig::parse(json).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::BadConfig, "{json}");
            let err = err.to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
        let c = CoreConfig::parse(r#"{"records_dir": "/r", "identifiers": {"imei": ["12ab"]}}"#)
            .unwrap();
        let err = c.analyzer().unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::BadIdentifiers);
        let err = err.to_string();
        assert!(err.starts_with("identifiers: "), "{err}");
        assert!(err.contains("imei"), "{err}");
    }
}
