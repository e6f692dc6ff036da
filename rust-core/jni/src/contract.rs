//! What the core and the app agree on, written once: the codes `CoreException` carries,
//! the reasons `CoreHost.onStopped` gets, and the constants both sides use (the TUN's
//! address plan, MTU limits, finding kinds, close reasons, how records are batched).
//!
//! The app's `org/phonehome/core/Contract.kt` is generated from this file by [`kotlin`];
//! the test `contract_kt_is_current` fails when the committed file is stale, and
//! `PHONEHOME_BLESS=1 cargo test -p phonehome-jni contract` rewrites it.

use phonehome_model::{CloseReason, Destination, Kind, TlsMode};

/// An enum that crosses JNI by its Kotlin constant's name; each variant's doc comment
/// goes into the generated Kotlin too.
macro_rules! wire_enum {
    ($(#[doc = $enum_doc:literal])* $name:ident {
        $($(#[doc = $doc:literal])* $variant:ident = $wire:literal,)*
    }) => {
        $(#[doc = $enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The Kotlin enum constant.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            fn doc(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($($doc),*),)*
                }
            }
        }
    };
}

wire_enum! {
    /// Why a call into the core failed: `CoreException.code`.
    ErrorCode {
        /// The configuration JSON was refused.
        BadConfig = "BAD_CONFIG",
        /// The configuration's identifiers were refused (a start may be retried with fewer).
        BadIdentifiers = "BAD_IDENTIFIERS",
        /// A null where a value is needed, a closed file descriptor.
        BadArgument = "BAD_ARGUMENT",
        /// No session has this handle (never started, or already stopped).
        BadHandle = "BAD_HANDLE",
        /// The TUN file descriptor cannot be used.
        Tun = "TUN",
        /// Files could not be read or written: records directory, captures, an export.
        Io = "IO",
        /// TLS interception could not be set up: its CA (directory, key) or the system's
        /// root certificates.
        Intercept = "INTERCEPT",
        /// The Java side failed (a string conversion, an allocation).
        Jni = "JNI",
        /// A bug in the core: it panicked.
        Panic = "PANIC",
    }
}

wire_enum! {
    /// Why a session ended: `CoreHost.onStopped`.
    StopReason {
        /// `NativeCore.stop` asked for it (or the session was dropped).
        Stopped = "STOPPED",
        /// The VPN interface closed under the core (the system took the VPN away).
        TunClosed = "TUN_CLOSED",
        /// The relay failed (its runtime could not start, the TUN could not be read).
        Failed = "FAILED",
        /// A bug in the core: the relay panicked.
        Panic = "PANIC",
    }
}

/// The TUN's address and prefix, and the DNS address the core answers on, per family.
pub const TUN_V4: &str = "10.111.0.2";
pub const TUN_V4_PREFIX: u8 = 24;
pub const DNS_V4: &str = "10.111.0.1";
pub const TUN_V6: &str = "fd70:686f:6e65::2";
pub const TUN_V6_PREFIX: u8 = 64;
pub const DNS_V6: &str = "fd70:686f:6e65::1";

/// MTU limits of `CoreConfig`: 1280 is IPv6's minimum, and the routes include `::/0`.
pub const MIN_MTU: usize = 1280;
pub const MAX_MTU: usize = 65_535;

/// Records in one `CoreHost.onRecords` batch at most.
pub const MAX_BATCH: usize = 256;
/// How long a record waits at most for its batch to fill, in milliseconds.
pub const BATCH_INTERVAL_MS: u64 = 250;
/// Records waiting for the app at most; newer ones are dropped (stats' `records_dropped`).
pub const MAX_QUEUED_RECORDS: usize = 8192;

/// The kind of the finding an encrypted flow leaves (who was talked to, not what).
pub const ENCRYPTED_FLOW: &str = Kind::EncryptedFlow.as_str();

/// Every finding kind, as findings' `kind` field says it.
pub fn finding_kinds() -> Vec<String> {
    Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect()
}

/// Every close reason, as flows' `close` field says it.
pub fn close_reasons() -> Vec<String> {
    CloseReason::ALL
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect()
}

/// Every TLS interception mark, as records' `tls` field says it.
pub fn tls_modes() -> Vec<String> {
    TlsMode::ALL.iter().map(|m| m.as_str().to_owned()).collect()
}

/// The fields of a flow's or finding's JSON line that say where it went, as the core
/// writes them (those left out when empty included): the app's records reader takes
/// each of them or says it leaves it out.
pub fn destination_fields() -> Vec<String> {
    let full = Destination {
        cname: Some(String::new()),
        alpn: vec![String::new()],
        ech: true,
        tls: Some(TlsMode::Intercepted),
        ..Destination::default()
    };
    match serde_json::to_value(full) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The Kotlin side of the contract, `Contract.kt`.
pub fn kotlin() -> String {
    use std::fmt::Write;
    let mut k = String::new();
    let mut enum_class = |name: &str, doc: &str, values: Vec<(&str, &str)>| {
        let _ = writeln!(k, "/** {doc} */\nenum class {name} {{");
        for (wire, doc) in values {
            let _ = writeln!(k, "    /** {} */\n    {wire},", doc.trim());
        }
        k.push_str("}\n\n");
    };
    enum_class(
        "ErrorCode",
        "Why a call into the core failed: [CoreException.code].",
        ErrorCode::ALL.iter().map(|c| (c.name(), c.doc())).collect(),
    );
    enum_class(
        "StopReason",
        "Why a session ended: [CoreHost.onStopped].",
        StopReason::ALL
            .iter()
            .map(|r| (r.name(), r.doc()))
            .collect(),
    );
    let list = |items: Vec<String>| {
        let quoted: Vec<String> = items.iter().map(|s| format!("        \"{s}\",")).collect();
        format!("listOf(\n{}\n    )", quoted.join("\n"))
    };
    let _ = write!(
        k,
        r#"/** Constants the core and the app share. */
object Contract {{
    /** The TUN's IPv4 address and prefix, and the DNS address the core answers on. */
    const val TUN_V4 = "{TUN_V4}"
    const val TUN_V4_PREFIX = {TUN_V4_PREFIX}
    const val DNS_V4 = "{DNS_V4}"

    /** The same for IPv6. */
    const val TUN_V6 = "{TUN_V6}"
    const val TUN_V6_PREFIX = {TUN_V6_PREFIX}
    const val DNS_V6 = "{DNS_V6}"

    /** The MTUs the core takes: 1280 is IPv6's minimum. */
    const val MIN_MTU = {MIN_MTU}
    const val MAX_MTU = {MAX_MTU}

    /** The radius of a location without one, in metres. */
    const val DEFAULT_RADIUS_M = {radius}

    /** Records in one [CoreHost.onRecords] batch at most. */
    const val MAX_BATCH = {MAX_BATCH}

    /** How long a record waits at most for its batch to fill, in milliseconds. */
    const val BATCH_INTERVAL_MS = {BATCH_INTERVAL_MS}L

    /** Records waiting for the app at most; newer ones are dropped (stats' `records_dropped`). */
    const val MAX_QUEUED_RECORDS = {MAX_QUEUED_RECORDS}

    /** The kind of the finding an encrypted flow leaves. */
    const val ENCRYPTED_FLOW = "{ENCRYPTED_FLOW}"

    /** Every finding kind, as findings' `kind` says it. */
    val FINDING_KINDS = {kinds}

    /** Every close reason, as flows' `close` says it. */
    val CLOSE_REASONS = {reasons}

    /** What TLS interception did with a flow, as records' `tls` says it (absent: not in its hands). */
    val TLS_MODES = {tls}

    /**
     * The fields of a record's JSON line that say where it went (`domain`: the registrable
     * domain of `host`, computed by the core).
     */
    val DESTINATION_FIELDS = {destination}
}}
"#,
        radius = phonehome_detect::DEFAULT_RADIUS_M as i64,
        kinds = list(finding_kinds()),
        reasons = list(close_reasons()),
        tls = list(tls_modes()),
        destination = list(destination_fields()),
    );
    format!(
        "// Generated by rust-core/jni/src/contract.rs: do not edit.\n\
         // Regenerate with `PHONEHOME_BLESS=1 cargo test -p phonehome-jni contract`.\n\
         package org.phonehome.core\n\n{k}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn contract_kt() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../android-app/src/main/java/org/phonehome/core/Contract.kt")
    }

    #[test]
    fn contract_kt_is_current() {
        let want = kotlin();
        if std::env::var_os("PHONEHOME_BLESS").is_some() {
            std::fs::write(contract_kt(), &want).unwrap();
        }
        let have = std::fs::read_to_string(contract_kt()).unwrap_or_default();
        assert!(
            have == want,
            "Contract.kt is stale: run PHONEHOME_BLESS=1 cargo test -p phonehome-jni contract"
        );
    }

    #[test]
    fn wire_names_are_distinct_kotlin_constants() {
        for names in [
            ErrorCode::ALL.iter().map(|c| c.name()).collect::<Vec<_>>(),
            StopReason::ALL.iter().map(|r| r.name()).collect(),
        ] {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len());
            for n in names {
                assert!(
                    n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                    "{n}"
                );
            }
        }
    }

    #[test]
    fn destination_fields_name_the_domain_beside_the_host() {
        let fields = destination_fields();
        for want in [
            "host", "domain", "company", "parent", "category", "party", "tls",
        ] {
            assert!(fields.contains(&want.to_owned()), "{want} in {fields:?}");
        }
    }

    #[test]
    fn kinds_and_reasons_are_the_records_own_words() {
        let kinds = finding_kinds();
        assert_eq!(kinds.first().map(String::as_str), Some("imei"));
        assert!(kinds.contains(&"android_id".to_owned()));
        assert!(kinds.contains(&ENCRYPTED_FLOW.to_owned()));
        assert_eq!(
            close_reasons(),
            [
                "closed",
                "client_reset",
                "server_reset",
                "refused",
                "unreachable",
                "connect_timeout",
                "idle",
                "flow_limit",
                "shutdown",
                "handshake_timeout",
                "forbidden",
                "spoofed"
            ]
        );
    }
}
