//! A discovered device identifier, as `discovered.jsonl` and the `discovered` table have
//! it: a value nobody configured that the device sent, unchanged, over time to several
//! registrable domains or from several apps.

use std::time::SystemTime;

use serde::Serialize;

use crate::rfc3339_millis;

/// One discovered identifier and where it went, summed over every session the
/// discovery state remembers. Unlike findings it holds the value itself, so that it can
/// be added to the identifiers file; the records are owner-only like the capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovered {
    /// The token as it was sent.
    pub value: String,
    /// `uuid`, `hex`, `base64` or `digits`.
    pub shape: String,
    /// Key names it was sent under (normalised: `X-Device-Id` is `deviceid`).
    pub keys: Vec<String>,
    /// Apps that sent it (for `watch`, the command).
    pub apps: Vec<String>,
    /// Registrable domains (public suffix list) it went to.
    pub domains: Vec<String>,
    /// Host names (or addresses) it went to.
    pub hosts: Vec<String>,
    #[serde(serialize_with = "rfc3339_millis")]
    pub first_seen: SystemTime,
    #[serde(serialize_with = "rfc3339_millis")]
    pub last_seen: SystemTime,
    #[serde(serialize_with = "rfc3339_millis")]
    pub discovered: SystemTime,
    /// Flows it was seen in, and monitor sessions (runs) it was seen in.
    pub flows: u64,
    pub sessions: u32,
    /// The value masked, for logs and screens that show it before a tap.
    pub masked: String,
}
