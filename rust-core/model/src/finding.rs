//! A finding and the typed names it carries. The detector reports hits in these same
//! types, so a finding is a hit plus where it was seen.

use std::net::SocketAddr;
use std::time::SystemTime;

use serde::Serialize;

use crate::names::wire_names;
use crate::{opt_rfc3339_millis, rfc3339_millis, Destination, Direction, Proto};

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Imei,
    Imsi,
    Iccid,
    Phone,
    Carrier,
    AndroidId,
    AdId,
    Serial,
    Mac,
    Email,
    /// A contact's name, number or e-mail.
    Contact,
    /// An SMS peer's number or the text of a message.
    Sms,
    Location,
    /// A device, install or advertising id: configured as `device_id`, or found by
    /// discovery (a stable token sent to several destinations; see `phonehome-discover`).
    DeviceId,
    /// Not an identifier: an encrypted flow to a messaging, telemetry or account host,
    /// which is all a monitor without TLS interception can say about it. Never a hit.
    EncryptedFlow,
}
wire_names!(Kind {
    Imei => "imei",
    Imsi => "imsi",
    Iccid => "iccid",
    Phone => "phone",
    Carrier => "carrier",
    AndroidId => "android_id",
    AdId => "ad_id",
    Serial => "serial",
    Mac => "mac",
    Email => "email",
    Contact => "contact",
    Sms => "sms",
    Location => "location",
    DeviceId => "device_id",
    EncryptedFlow => "encrypted-flow",
});

/// The form the value travelled in. Digests say which digest; [`DigestForm`] says how
/// the digest itself was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Plain,
    /// Hex of the value's text.
    Hex,
    Base64,
    /// Percent-encoded.
    Url,
    /// JSON string escapes (`\u0040`, `\/`, `\uXXXX` for non-ASCII).
    Json,
    Md5,
    Sha1,
    Sha256,
    /// Encrypted flows only: TLS over TCP.
    Tls,
    /// Encrypted flows only: QUIC.
    Quic,
}
wire_names!(Encoding {
    Plain => "plain",
    Hex => "hex",
    Base64 => "base64",
    Url => "url",
    Json => "json",
    Md5 => "md5",
    Sha1 => "sha1",
    Sha256 => "sha256",
    Tls => "tls",
    Quic => "quic",
});

/// One wrapping a value was found inside, peeled off before it was matched: a finding
/// lists them outermost first (`["hex", "gzip"]`: hex text of a gzip stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Gzip,
    Zlib,
    /// Deflate without a header (tried only on bytes that came out of base64 or hex).
    Deflate,
    Brotli,
    Zstd,
    /// Base64, standard or URL-safe, padded or not.
    Base64,
    Hex,
    /// Percent-encoded text.
    Url,
    /// A JSON string literal, unescaped.
    Json,
    /// `name=value&...` fields, each value percent-decoded.
    Form,
}
wire_names!(Layer {
    Gzip => "gzip",
    Zlib => "zlib",
    Deflate => "deflate",
    Brotli => "brotli",
    Zstd => "zstd",
    Base64 => "base64",
    Hex => "hex",
    Url => "url",
    Json => "json",
    Form => "form",
});

impl Layer {
    /// Whether this layer is a compressed stream (not a text encoding).
    pub const fn is_compression(self) -> bool {
        matches!(
            self,
            Layer::Gzip | Layer::Zlib | Layer::Deflate | Layer::Brotli | Layer::Zstd
        )
    }
}

/// How a digest was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestForm {
    Hex,
    HexUpper,
    Base64,
    Base64Url,
}
wire_names!(DigestForm {
    Hex => "hex",
    HexUpper => "hex_upper",
    Base64 => "base64",
    Base64Url => "base64url",
});

/// `Exact`: one of the configured values (or a configured location); `Probable`: looks
/// like an identifier of that kind by its structure alone; `Discovered`: nobody
/// configured it, but the device sent it unchanged over time to several destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confidence {
    Exact,
    Probable,
    Discovered,
}
wire_names!(Confidence { Exact => "exact", Probable => "probable", Discovered => "discovered" });

/// Which part of the traffic the scanned bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Where {
    Url,
    Header,
    Cookie,
    Body,
    /// A non-HTTP payload; also the place of every encrypted-flow finding.
    Payload,
    /// A WebSocket message (text or binary, inflated if it was compressed).
    Websocket,
}
wire_names!(Where {
    Url => "url",
    Header => "header",
    Cookie => "cookie",
    Body => "body",
    Payload => "payload",
    Websocket => "websocket",
});

/// One identifier seen leaving (or reaching) the device, as `findings.jsonl` has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "rfc3339_millis")]
    pub ts: SystemTime,
    pub flow: u64,
    /// The program or app the flow belongs to, when known.
    pub app: Option<String>,
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    #[serde(flatten)]
    pub destination: Destination,
    pub kind: Kind,
    /// For encrypted-flow findings, `tls` or `quic`.
    pub encoding: Encoding,
    /// For digests only.
    pub digest_form: Option<DigestForm>,
    pub truncated: bool,
    /// `payload` for encrypted-flow findings.
    #[serde(rename = "where")]
    pub place: Where,
    /// `out` for encrypted-flow findings.
    pub direction: Direction,
    /// `exact` for encrypted-flow findings.
    pub confidence: Confidence,
    /// A short context with the value masked; never the value itself. For encrypted-flow
    /// findings, the flow's byte counts.
    pub evidence: String,
    /// The wrappings the value was found inside, outermost first; empty when it was
    /// found in the bytes as they travelled.
    pub layers: Vec<Layer>,
    /// Encrypted-flow findings only: the flow's bytes and times.
    pub bytes_out: Option<u64>,
    pub bytes_in: Option<u64>,
    #[serde(serialize_with = "opt_rfc3339_millis")]
    pub start: Option<SystemTime>,
    #[serde(serialize_with = "opt_rfc3339_millis")]
    pub end: Option<SystemTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_finding_serializes_its_names_as_the_records_have_them() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let f = Finding {
            ts: t,
            flow: 3,
            app: None,
            proto: Proto::Udp,
            src: "10.111.0.2:4000".parse().unwrap(),
            dst: "10.201.0.2:443".parse().unwrap(),
            destination: Destination {
                category: Some(crate::Category::CloudMessaging),
                ..Destination::default()
            },
            kind: Kind::EncryptedFlow,
            encoding: Encoding::Quic,
            digest_form: Some(DigestForm::Base64Url),
            truncated: false,
            place: Where::Payload,
            direction: Direction::Out,
            confidence: Confidence::Exact,
            evidence: "1 bytes out, 2 bytes in, encrypted".into(),
            layers: vec![Layer::Hex, Layer::Gzip],
            bytes_out: Some(1),
            bytes_in: Some(2),
            start: Some(t),
            end: None,
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["kind"], "encrypted-flow");
        assert_eq!(v["encoding"], "quic");
        assert_eq!(v["digest_form"], "base64url");
        assert_eq!(v["where"], "payload");
        assert_eq!(v["confidence"], "exact");
        assert_eq!(v["category"], "cloud-messaging");
        assert_eq!(v["start"], "2023-11-14T22:13:20.123Z");
        assert!(v["end"].is_null());
        assert_eq!(v["layers"], serde_json::json!(["hex", "gzip"]));
        assert_eq!(Kind::AndroidId.to_string(), "android_id");
        assert_eq!(DigestForm::HexUpper.as_str(), "hex_upper");
    }
}
