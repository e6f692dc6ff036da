//! QUIC client Initial packets (RFC 9000, RFC 9001; version 2 from RFC 9369).
//!
//! Initial packets are encrypted, but with keys anyone can derive from the Destination
//! Connection ID the client chose, so an observer can read the TLS ClientHello inside
//! them. We parse the long header, remove header protection, decrypt the payload,
//! collect CRYPTO frames by offset (also across several Initial packets, as clients
//! with large post-quantum key shares send) and hand the bytes to the TLS parser.
//!
//! Feed only client-to-server datagrams: server Initials use other keys and fail to
//! decrypt.

use std::collections::{HashMap, VecDeque};

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes_gcm::{AeadInOut, Aes128Gcm};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::read::Reader;
use crate::tls::{self, ClientHello, TlsError};

/// Version field of QUIC v1.
pub const VERSION_1: u32 = 1;
/// Version field of QUIC v2 (RFC 9369 section 3.1).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// Longest connection ID in QUIC v1 and v2.
pub const MAX_CID_LEN: usize = 20;
const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;

/// Why no ClientHello came out of a datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuicError {
    #[error("not a QUIC long-header packet")]
    NotLongHeader,
    #[error("QUIC version {0:#010x} is not supported (v1 and v2 are)")]
    UnsupportedVersion(u32),
    #[error("QUIC packet is not a client Initial")]
    NotInitial,
    #[error("QUIC packet is shorter than its header says")]
    Truncated,
    #[error("QUIC packet is malformed: {0}")]
    Malformed(&'static str),
    #[error("QUIC Initial did not decrypt with the client Initial keys")]
    Decrypt,
    #[error("QUIC frame is malformed: {0}")]
    Frame(&'static str),
    #[error("QUIC CRYPTO data is larger than the assembler keeps")]
    TooLarge,
    #[error("ClientHello in QUIC CRYPTO frames: {0}")]
    Tls(#[from] TlsError),
}

/// The QUIC versions whose Initial keys we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    /// Maps a long-header version field to a version we can decrypt.
    pub fn from_wire(v: u32) -> Option<Version> {
        match v {
            VERSION_1 => Some(Version::V1),
            VERSION_2 => Some(Version::V2),
            _ => None,
        }
    }

    pub fn to_wire(self) -> u32 {
        match self {
            Version::V1 => VERSION_1,
            Version::V2 => VERSION_2,
        }
    }

    fn salt(self) -> [u8; 20] {
        match self {
            // RFC 9001 section 5.2.
            Version::V1 => [
                0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
            ],
            // RFC 9369 section 3.3.1.
            Version::V2 => [
                0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
                0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
            ],
        }
    }

    /// HKDF labels for key, IV and header-protection key.
    fn labels(self) -> [&'static str; 3] {
        match self {
            Version::V1 => ["quic key", "quic iv", "quic hp"],
            Version::V2 => ["quicv2 key", "quicv2 iv", "quicv2 hp"],
        }
    }

    /// The long-header type bits of an Initial packet (v2 renumbered them).
    fn initial_type(self) -> u8 {
        match self {
            Version::V1 => 0,
            Version::V2 => 1,
        }
    }

    fn retry_type(self) -> u8 {
        match self {
            Version::V1 => 3,
            Version::V2 => 0,
        }
    }
}

/// Packet protection keys for a client's Initial packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialKeys {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

impl InitialKeys {
    /// Derives the client Initial keys from the Destination Connection ID of the
    /// client's first Initial (RFC 9001 section 5.2).
    pub fn client(version: Version, dcid: &[u8]) -> InitialKeys {
        let (initial_secret, _) = Hkdf::<Sha256>::extract(Some(&version.salt()), dcid);
        let mut client_secret = [0u8; 32];
        expand_label(&initial_secret, "client in", &mut client_secret);
        let [key_label, iv_label, hp_label] = version.labels();
        let mut keys = InitialKeys {
            key: [0; 16],
            iv: [0; 12],
            hp: [0; 16],
        };
        expand_label(&client_secret, key_label, &mut keys.key);
        expand_label(&client_secret, iv_label, &mut keys.iv);
        expand_label(&client_secret, hp_label, &mut keys.hp);
        keys
    }

    /// The header-protection mask for a 16-byte ciphertext sample.
    fn mask(&self, sample: &[u8; SAMPLE_LEN]) -> [u8; 16] {
        let cipher = aes::Aes128::new(&self.hp.into());
        let mut block = aes::Block::from(*sample);
        cipher.encrypt_block(&mut block);
        block.into()
    }

    fn nonce(&self, packet_number: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(packet_number.to_be_bytes()) {
            *n ^= p;
        }
        nonce
    }
}

/// HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context.
fn expand_label(secret: &[u8], label: &str, out: &mut [u8]) {
    let mut info = Vec::with_capacity(4 + 6 + label.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    // Secrets are SHA-256 outputs and outputs at most 32 bytes: neither call can fail.
    if let Ok(hk) = Hkdf::<Sha256>::from_prk(secret) {
        let _ = hk.expand(&info, out);
    }
}

/// The fields of a long header up to the protected packet number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader<'a> {
    /// First byte, still protected.
    pub first: u8,
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Token (Initial only).
    pub token: &'a [u8],
    /// Offset of the packet number in the packet.
    pub pn_offset: usize,
    /// Bytes of the whole packet (header, packet number and payload); coalesced packets
    /// follow after this many bytes.
    pub packet_len: usize,
    /// Whether this is an Initial packet of a version we know.
    pub is_initial: bool,
}

impl<'a> LongHeader<'a> {
    /// Reads the long header at the start of `packet`.
    pub fn parse(packet: &'a [u8]) -> Result<LongHeader<'a>, QuicError> {
        let mut r = Reader::new(packet);
        let first = r.u8().ok_or(QuicError::Truncated)?;
        if first & 0x80 == 0 {
            return Err(QuicError::NotLongHeader);
        }
        let version = r.u32().ok_or(QuicError::Truncated)?;
        if version == 0 {
            return Err(QuicError::NotInitial); // Version Negotiation, sent by servers
        }
        let v = Version::from_wire(version).ok_or(QuicError::UnsupportedVersion(version))?;
        if first & 0x40 == 0 {
            return Err(QuicError::Malformed("fixed bit is clear"));
        }
        let dcid = r.vec8().ok_or(QuicError::Truncated)?;
        let scid = r.vec8().ok_or(QuicError::Truncated)?;
        if dcid.len() > MAX_CID_LEN || scid.len() > MAX_CID_LEN {
            return Err(QuicError::Malformed("connection ID longer than 20 bytes"));
        }
        let ty = (first >> 4) & 3;
        if ty == v.retry_type() {
            // Retry has no length field; it takes the rest of the datagram.
            return Ok(LongHeader {
                first,
                version,
                dcid,
                scid,
                token: &[],
                pn_offset: r.pos(),
                packet_len: packet.len(),
                is_initial: false,
            });
        }
        let is_initial = ty == v.initial_type();
        let mut token: &[u8] = &[];
        if is_initial {
            let len = r.varint().ok_or(QuicError::Truncated)?;
            let len = usize::try_from(len).map_err(|_| QuicError::Truncated)?;
            token = r.take(len).ok_or(QuicError::Truncated)?;
        }
        let length = r.varint().ok_or(QuicError::Truncated)?;
        let length = usize::try_from(length).map_err(|_| QuicError::Truncated)?;
        let pn_offset = r.pos();
        if length > r.remaining() {
            return Err(QuicError::Truncated);
        }
        Ok(LongHeader {
            first,
            version,
            dcid,
            scid,
            token,
            pn_offset,
            packet_len: pn_offset + length,
            is_initial,
        })
    }
}

/// A decrypted client Initial packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialPacket {
    pub version: Version,
    pub dcid: Vec<u8>,
    pub scid: Vec<u8>,
    pub token_len: usize,
    /// The packet number as sent (truncated encoding; exact for a client's first
    /// packets, which is all we read).
    pub packet_number: u64,
    /// The header with protection removed (the AEAD's associated data).
    pub header: Vec<u8>,
    /// Decrypted frames.
    pub frames: Vec<u8>,
}

/// Decrypts the client Initial packet at the start of `packet` (a datagram or the rest
/// of one). Returns the packet and its length, after which coalesced packets follow.
pub fn decrypt_client_initial(packet: &[u8]) -> Result<(InitialPacket, usize), QuicError> {
    let h = LongHeader::parse(packet)?;
    if !h.is_initial {
        return Err(QuicError::NotInitial);
    }
    let version = Version::from_wire(h.version).ok_or(QuicError::UnsupportedVersion(h.version))?;
    let keys = InitialKeys::client(version, h.dcid);
    let body = &packet[h.pn_offset..h.packet_len];
    // The sample starts 4 bytes after the packet number's start, whatever its length.
    let sample: &[u8; SAMPLE_LEN] = body
        .get(4..4 + SAMPLE_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(QuicError::Truncated)?;
    let mask = keys.mask(sample);
    let first = h.first ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 3) + 1;
    let mut header = packet[..h.pn_offset + pn_len].to_vec();
    header[0] = first;
    let mut packet_number = 0u64;
    for i in 0..pn_len {
        let b = header[h.pn_offset + i] ^ mask[1 + i];
        header[h.pn_offset + i] = b;
        packet_number = packet_number << 8 | u64::from(b);
    }
    let sealed = &body[pn_len..];
    if sealed.len() < TAG_LEN {
        return Err(QuicError::Truncated);
    }
    let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    let mut frames = ciphertext.to_vec();
    let aead = Aes128Gcm::new(&keys.key.into());
    let tag = aes_gcm::Tag::try_from(tag).map_err(|_| QuicError::Truncated)?;
    aead.decrypt_inout_detached(
        &keys.nonce(packet_number).into(),
        &header,
        frames.as_mut_slice().into(),
        &tag,
    )
    .map_err(|_| QuicError::Decrypt)?;
    Ok((
        InitialPacket {
            version,
            dcid: h.dcid.to_vec(),
            scid: h.scid.to_vec(),
            token_len: h.token.len(),
            packet_number,
            header,
            frames,
        },
        h.packet_len,
    ))
}

/// A CRYPTO frame: bytes of the TLS handshake at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoFrame<'a> {
    pub offset: u64,
    pub data: &'a [u8],
}

/// Reads the frames of a decrypted Initial payload and returns its CRYPTO frames. Only
/// the frame types RFC 9000 allows in Initial packets are accepted.
pub fn crypto_frames(frames: &[u8]) -> Result<Vec<CryptoFrame<'_>>, QuicError> {
    let f = QuicError::Frame;
    let mut r = Reader::new(frames);
    let mut out = Vec::new();
    while !r.is_empty() {
        let ty = r.varint().ok_or(f("type"))?;
        match ty {
            0x00 | 0x01 => {} // PADDING, PING
            0x02 | 0x03 => {
                // ACK: largest, delay, range count, first range, ranges, [ECN counts].
                r.varint().ok_or(f("ACK"))?;
                r.varint().ok_or(f("ACK"))?;
                let ranges = r.varint().ok_or(f("ACK"))?;
                r.varint().ok_or(f("ACK"))?;
                // Each range is at least two bytes; stop on the first missing one.
                for _ in 0..ranges {
                    r.varint().ok_or(f("ACK range"))?;
                    r.varint().ok_or(f("ACK range"))?;
                }
                if ty == 0x03 {
                    for _ in 0..3 {
                        r.varint().ok_or(f("ACK ECN"))?;
                    }
                }
            }
            0x06 => {
                let offset = r.varint().ok_or(f("CRYPTO"))?;
                let len = r.varint().ok_or(f("CRYPTO"))?;
                let data = usize::try_from(len)
                    .ok()
                    .and_then(|len| r.take(len))
                    .ok_or(f("CRYPTO data"))?;
                out.push(CryptoFrame { offset, data });
            }
            0x1c => {
                // CONNECTION_CLOSE: error code, frame type, reason phrase.
                r.varint().ok_or(f("CONNECTION_CLOSE"))?;
                r.varint().ok_or(f("CONNECTION_CLOSE"))?;
                let len = r.varint().ok_or(f("CONNECTION_CLOSE"))?;
                usize::try_from(len)
                    .ok()
                    .and_then(|len| r.take(len))
                    .ok_or(f("CONNECTION_CLOSE"))?;
            }
            _ => return Err(f("frame type not allowed in an Initial packet")),
        }
    }
    Ok(out)
}

/// The ClientHello of a QUIC connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicClientHello {
    pub version: Version,
    /// The Destination Connection ID of the client's first Initial.
    pub dcid: Vec<u8>,
    pub scid: Vec<u8>,
    pub hello: ClientHello,
}

/// CRYPTO bytes of one connection so far.
#[derive(Debug)]
struct Pending {
    version: Version,
    scid: Vec<u8>,
    buf: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
}

/// Most separate byte ranges kept per connection before giving up on it.
const MAX_RANGES: usize = 64;

impl Pending {
    fn insert(&mut self, offset: u64, data: &[u8], max: usize) -> Result<(), QuicError> {
        let start = usize::try_from(offset).map_err(|_| QuicError::TooLarge)?;
        let end = start.checked_add(data.len()).ok_or(QuicError::TooLarge)?;
        if end > max {
            return Err(QuicError::TooLarge);
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.buf[start..end].copy_from_slice(data);
        self.ranges.push((start, end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        if merged.len() > MAX_RANGES {
            return Err(QuicError::TooLarge);
        }
        self.ranges = merged;
        Ok(())
    }

    /// The bytes received without a gap from offset 0.
    fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => &self.buf[..end],
            _ => &[],
        }
    }
}

/// Collects CRYPTO frames of client Initial packets per connection (keyed by the
/// Destination Connection ID) until the ClientHello is complete. Memory is bounded:
/// at most `max_connections` connections (the oldest is dropped first) of at most
/// `max_crypto_bytes` each.
#[derive(Debug)]
pub struct QuicInitialAssembler {
    pending: HashMap<Vec<u8>, Pending>,
    order: VecDeque<Vec<u8>>,
    max_connections: usize,
    max_crypto_bytes: usize,
}

impl Default for QuicInitialAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl QuicInitialAssembler {
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
    pub const DEFAULT_MAX_CRYPTO_BYTES: usize = tls::MAX_CLIENT_HELLO + 4;

    pub fn new() -> Self {
        Self::with_limits(
            Self::DEFAULT_MAX_CONNECTIONS,
            Self::DEFAULT_MAX_CRYPTO_BYTES,
        )
    }

    pub fn with_limits(max_connections: usize, max_crypto_bytes: usize) -> Self {
        QuicInitialAssembler {
            pending: HashMap::new(),
            order: VecDeque::new(),
            max_connections: max_connections.max(1),
            max_crypto_bytes,
        }
    }

    /// Connections with an incomplete ClientHello.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Drops what was collected for a connection (e.g. when its flow ends).
    pub fn forget(&mut self, dcid: &[u8]) {
        if self.pending.remove(dcid).is_some() {
            self.order.retain(|k| k.as_slice() != dcid);
        }
    }

    /// Takes one client-to-server UDP datagram. Returns the ClientHello once its last
    /// piece arrives, `Ok(None)` while pieces are missing, and an error for datagrams
    /// that are not decryptable client Initials (the caller may then stop looking at
    /// the flow).
    pub fn push_datagram(&mut self, datagram: &[u8]) -> Result<Option<QuicClientHello>, QuicError> {
        let mut rest = datagram;
        let mut touched: Option<Vec<u8>> = None;
        let mut first = true;
        while !rest.is_empty() {
            let h = match LongHeader::parse(rest) {
                Ok(h) => h,
                // Short-header packets or padding may follow coalesced long ones.
                Err(_) if !first => break,
                Err(e) => return Err(e),
            };
            if !h.is_initial {
                if first {
                    return Err(QuicError::NotInitial);
                }
                rest = &rest[h.packet_len..];
                continue;
            }
            let (packet, used) = match decrypt_client_initial(rest) {
                Ok(p) => p,
                Err(_) if !first => break,
                Err(e) => return Err(e),
            };
            first = false;
            rest = &rest[used..];
            let frames = crypto_frames(&packet.frames)?;
            if frames.is_empty() {
                continue;
            }
            let max = self.max_crypto_bytes;
            let entry = self.entry(&packet);
            let inserted = frames
                .iter()
                .try_for_each(|f| entry.insert(f.offset, f.data, max));
            if let Err(e) = inserted {
                self.forget(&packet.dcid);
                return Err(e);
            }
            touched = Some(packet.dcid);
        }
        let Some(dcid) = touched else {
            return Ok(None);
        };
        let Some(p) = self.pending.get(&dcid) else {
            return Ok(None);
        };
        match tls::parse_handshake(p.contiguous()) {
            Err(TlsError::NeedMore) => Ok(None),
            result => {
                let (version, scid) = (p.version, p.scid.clone());
                self.forget(&dcid);
                Ok(Some(QuicClientHello {
                    version,
                    dcid,
                    scid,
                    hello: result?,
                }))
            }
        }
    }

    fn entry(&mut self, packet: &InitialPacket) -> &mut Pending {
        if !self.pending.contains_key(&packet.dcid) {
            while self.pending.len() >= self.max_connections {
                match self.order.pop_front() {
                    Some(old) => {
                        self.pending.remove(&old);
                    }
                    None => break,
                }
            }
            self.order.push_back(packet.dcid.clone());
        }
        self.pending
            .entry(packet.dcid.clone())
            .or_insert_with(|| Pending {
                version: packet.version,
                scid: packet.scid.clone(),
                buf: Vec::new(),
                ranges: Vec::new(),
            })
    }
}

/// The ClientHello of a connection whose whole hello fits in one datagram.
pub fn client_hello(datagram: &[u8]) -> Result<QuicClientHello, QuicError> {
    QuicInitialAssembler::with_limits(1, QuicInitialAssembler::DEFAULT_MAX_CRYPTO_BYTES)
        .push_datagram(datagram)?
        .ok_or(QuicError::Tls(TlsError::NeedMore))
}

#[cfg(test)]
mod tests;
