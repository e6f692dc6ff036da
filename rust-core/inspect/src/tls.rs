//! TLS ClientHello (RFC 8446 section 4.1.2) from the first bytes a client sends: the
//! server name, the ALPN list and whether Encrypted Client Hello is in use.
//!
//! The record layer may split one handshake message across several records; we join
//! them up to [`MAX_CLIENT_HELLO`] bytes. A prefix of a valid ClientHello gives
//! [`TlsError::NeedMore`]; bytes that cannot start one give [`TlsError::NotTls`].
use crate::read::Reader;
use crate::text;

/// Largest ClientHello body we assemble. Post-quantum key shares make hellos of a few
/// KiB normal; anything near this is not a browser or an app.
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;
/// TLSPlaintext.length may not exceed 2^14 (RFC 8446 section 5.1); a little slack for
/// old stacks.
const MAX_RECORD: usize = (1 << 14) + 2048;
const CONTENT_HANDSHAKE: u8 = 22;
const MAX_EXTENSIONS: usize = 256;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
pub const EXT_SERVER_NAME: u16 = 0;
pub const EXT_ALPN: u16 = 16;
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// encrypted_client_hello (RFC 9849 / draft-ietf-tls-esni).
pub const EXT_ECH: u16 = 0xfe0d;

/// Why no ClientHello came out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("not a TLS ClientHello")]
    NotTls,
    #[error("ClientHello is incomplete; more bytes are needed")]
    NeedMore,
    #[error("ClientHello is larger than {MAX_CLIENT_HELLO} bytes")]
    TooLarge,
    #[error("ClientHello is malformed: {0}")]
    Malformed(&'static str),
}

/// Which half of an Encrypted Client Hello this is (the `type` byte of the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ech {
    /// The outer hello sent on the wire: its SNI is the provider's public name, and the
    /// real server name is encrypted.
    Outer,
    /// An inner hello (only seen if the caller decrypted one).
    Inner,
}

/// What a ClientHello reveals.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// server_name host name, lower-cased, unusual bytes escaped as `\DDD`.
    pub sni: Option<String>,
    /// ALPN protocol names in the client's order.
    pub alpn: Vec<String>,
    /// Versions from supported_versions, GREASE values included.
    pub supported_versions: Vec<u16>,
    /// Set when the encrypted_client_hello extension is present.
    pub ech: Option<Ech>,
    /// True when `sni` is the ECH public name, not the server actually contacted.
    /// (GREASE ECH looks the same on the wire; then the SNI is in fact the real one.)
    pub sni_is_outer: bool,
    /// Extension types in order, for fingerprinting.
    pub extensions: Vec<u16>,
}

/// A checked view of one TLS record header.
#[derive(Debug, Clone, Copy)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

/// Length of a TLS record header.
pub const RECORD_HEADER_LEN: usize = 5;

impl<T: AsRef<[u8]>> Record<T> {
    /// Wraps `buffer` after checking it holds a record header.
    pub fn new_checked(buffer: T) -> Result<Self, TlsError> {
        if buffer.as_ref().len() < RECORD_HEADER_LEN {
            return Err(TlsError::NeedMore);
        }
        Ok(Record { buffer })
    }
    pub fn content_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    pub fn version(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[1], b[2]])
    }
    pub fn length(&self) -> usize {
        let b = self.buffer.as_ref();
        usize::from(u16::from_be_bytes([b[3], b[4]]))
    }
    /// The payload bytes present (possibly fewer than `length()`).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (RECORD_HEADER_LEN + self.length()).min(b.len());
        &b[RECORD_HEADER_LEN..end]
    }
}

/// Checks that the first bytes present could start a handshake record.
fn plausible_start(stream: &[u8]) -> Result<(), TlsError> {
    if stream.first().is_some_and(|&b| b != CONTENT_HANDSHAKE) {
        return Err(TlsError::NotTls);
    }
    if stream.get(1).is_some_and(|&b| b != 3) {
        return Err(TlsError::NotTls);
    }
    if stream.get(2).is_some_and(|&b| b > 4) {
        return Err(TlsError::NotTls);
    }
    if stream.len() >= RECORD_HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([stream[3], stream[4]]));
        if len == 0 || len > MAX_RECORD {
            return Err(TlsError::NotTls);
        }
    }
    if stream.get(5).is_some_and(|&b| b != HANDSHAKE_CLIENT_HELLO) {
        return Err(TlsError::NotTls);
    }
    Ok(())
}

/// Parses the ClientHello at the start of a client's TCP stream, joining handshake
/// fragments from consecutive records.
pub fn parse_client_hello(stream: &[u8]) -> Result<ClientHello, TlsError> {
    plausible_start(stream)?;
    let mut handshake: Vec<u8> = Vec::new();
    let mut rest = stream;
    loop {
        let record = Record::new_checked(rest)?;
        if record.content_type() != CONTENT_HANDSHAKE || record.version() >> 8 != 3 {
            return Err(TlsError::Malformed(
                "non-handshake record inside ClientHello",
            ));
        }
        if record.length() == 0 || record.length() > MAX_RECORD {
            return Err(TlsError::Malformed("record length"));
        }
        let payload = record.payload();
        let complete = payload.len() == record.length();
        if handshake.is_empty() && complete && rest.len() == stream.len() {
            // Common case: the whole hello in the first record, no copy.
            match parse_handshake(payload) {
                Err(TlsError::NeedMore) => {}
                other => return other,
            }
        }
        if handshake.len() + payload.len() > MAX_CLIENT_HELLO + 4 {
            return Err(TlsError::TooLarge);
        }
        handshake.extend_from_slice(payload);
        match parse_handshake(&handshake) {
            Err(TlsError::NeedMore) if complete => {}
            other => return other,
        }
        rest = &rest[RECORD_HEADER_LEN + record.length()..];
    }
}

/// Parses a handshake message that must be a ClientHello (type, 24-bit length, body),
/// as carried in TLS records or in QUIC CRYPTO frames. Bytes after it are ignored.
pub fn parse_handshake(msg: &[u8]) -> Result<ClientHello, TlsError> {
    let mut r = Reader::new(msg);
    match r.u8() {
        None => return Err(TlsError::NeedMore),
        Some(HANDSHAKE_CLIENT_HELLO) => {}
        Some(_) => return Err(TlsError::NotTls),
    }
    let len = r.u24().ok_or(TlsError::NeedMore)? as usize;
    if len > MAX_CLIENT_HELLO {
        return Err(TlsError::TooLarge);
    }
    let body = r.take(len).ok_or(TlsError::NeedMore)?;
    parse_body(body)
}

/// The ClientHello body once it is complete: every shortfall now is malformation.
fn parse_body(body: &[u8]) -> Result<ClientHello, TlsError> {
    let m = TlsError::Malformed;
    let mut r = Reader::new(body);
    let legacy_version = r.u16().ok_or(m("version"))?;
    if legacy_version >> 8 != 3 {
        return Err(m("version"));
    }
    r.take(32).ok_or(m("random"))?;
    let session_id = r.vec8().ok_or(m("session id"))?;
    if session_id.len() > 32 {
        return Err(m("session id"));
    }
    let suites = r.vec16().ok_or(m("cipher suites"))?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err(m("cipher suites"));
    }
    let compression = r.vec8().ok_or(m("compression methods"))?;
    if compression.is_empty() {
        return Err(m("compression methods"));
    }
    let mut hello = ClientHello {
        legacy_version,
        ..ClientHello::default()
    };
    if r.is_empty() {
        return Ok(hello); // no extensions (SSL 3 style): nothing more to learn
    }
    let exts = r.vec16().ok_or(m("extensions length"))?;
    let mut e = Reader::new(exts);
    while !e.is_empty() {
        let ty = e.u16().ok_or(m("extension header"))?;
        let data = e.vec16().ok_or(m("extension length"))?;
        // Real hellos carry a few dozen; the cap keeps the duplicate check cheap.
        if hello.extensions.len() >= MAX_EXTENSIONS {
            return Err(m("too many extensions"));
        }
        if hello.extensions.contains(&ty) {
            return Err(m("duplicate extension"));
        }
        hello.extensions.push(ty);
        match ty {
            EXT_SERVER_NAME => hello.sni = server_name(data)?,
            EXT_ALPN => hello.alpn = alpn(data)?,
            EXT_SUPPORTED_VERSIONS => {
                let list = Reader::new(data).vec8().ok_or(m("supported_versions"))?;
                hello.supported_versions = list
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
            }
            EXT_ECH => {
                hello.ech = Some(match data.first() {
                    Some(0) => Ech::Outer,
                    Some(1) => Ech::Inner,
                    _ => return Err(m("encrypted_client_hello type")),
                });
            }
            _ => {}
        }
    }
    hello.sni_is_outer = hello.ech == Some(Ech::Outer) && hello.sni.is_some();
    Ok(hello)
}

/// server_name (RFC 6066 section 3): the first host_name entry.
fn server_name(data: &[u8]) -> Result<Option<String>, TlsError> {
    let m = TlsError::Malformed("server_name");
    let list = Reader::new(data).vec16().ok_or(m.clone())?;
    let mut r = Reader::new(list);
    let mut found = None;
    while !r.is_empty() {
        let kind = r.u8().ok_or(m.clone())?;
        let name = r.vec16().ok_or(m.clone())?;
        if kind == 0 && found.is_none() {
            if name.is_empty() {
                return Err(m);
            }
            found = Some(text::host(name));
        }
    }
    Ok(found)
}

/// application_layer_protocol_negotiation (RFC 7301 section 3.1).
fn alpn(data: &[u8]) -> Result<Vec<String>, TlsError> {
    let m = TlsError::Malformed("alpn");
    let list = Reader::new(data).vec16().ok_or(m.clone())?;
    let mut r = Reader::new(list);
    let mut out = Vec::new();
    while !r.is_empty() {
        let p = r.vec8().ok_or(m.clone())?;
        if p.is_empty() {
            return Err(m);
        }
        out.push(text::token(p));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
