//! DNS messages (RFC 1035, SVCB/HTTPS from RFC 9460): the question and the answer
//! records that tell which names an app's addresses belong to.
//!
//! [`Message`] is a checked view of the fixed header; [`DnsAnswer::parse`] reads the
//! question and the answer section. Names follow compression pointers only backwards
//! (as every encoder emits them), which makes pointer loops impossible, and are capped
//! at 255 bytes on the wire.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::read::Reader;
use crate::text;

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire (RFC 1035 section 2.3.4).
const MAX_NAME_WIRE: usize = 255;
/// Record types we read.
pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SVCB: u16 = 64;
pub const TYPE_HTTPS: u16 = 65;
const CLASS_IN: u16 = 1;
/// Longest CNAME chain followed when mapping addresses back to the queried name.
const MAX_CHAIN: usize = 16;
/// Most compression pointers followed in one name; real names need a handful, and the
/// cap keeps a crafted message of pointer chains from costing quadratic time.
const MAX_POINTERS: usize = 32;

/// Why a DNS message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS message is truncated (shorter than its header or counts say)")]
    Truncated,
    #[error("DNS over TCP: the length prefix announces more bytes than were given")]
    NeedMore,
    #[error("DNS message has no question")]
    NoQuestion,
    #[error("DNS name is malformed: {0}")]
    BadName(&'static str),
    #[error("DNS record is malformed: {0}")]
    BadRecord(&'static str),
}

/// A checked view of a DNS message: the header fields are readable without panicking
/// because the constructor checked the length.
#[derive(Debug, Clone, Copy)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    use std::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps `buffer` after checking it holds at least the fixed header.
    pub fn new_checked(buffer: T) -> Result<Self, DnsError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(DnsError::Truncated);
        }
        Ok(Message { buffer })
    }

    fn be16(&self, r: std::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[r];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn id(&self) -> u16 {
        self.be16(field::ID)
    }
    pub fn flags(&self) -> u16 {
        self.be16(field::FLAGS)
    }
    /// QR bit: set in responses.
    pub fn is_response(&self) -> bool {
        self.flags() & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0xf) as u8
    }
    /// TC bit: the server cut the answer short (the client retries over TCP).
    pub fn is_truncated(&self) -> bool {
        self.flags() & 0x0200 != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0xf) as u8
    }
    pub fn question_count(&self) -> u16 {
        self.be16(field::QDCOUNT)
    }
    pub fn answer_count(&self) -> u16 {
        self.be16(field::ANCOUNT)
    }
    pub fn authority_count(&self) -> u16 {
        self.be16(field::NSCOUNT)
    }
    pub fn additional_count(&self) -> u16 {
        self.be16(field::ARCOUNT)
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// SVCB/HTTPS service parameters that name addresses (RFC 9460).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Svcb {
    pub priority: u16,
    /// Target name; `"."` means the owner name itself.
    pub target: String,
    pub alpn: Vec<String>,
    pub ipv4_hints: Vec<Ipv4Addr>,
    pub ipv6_hints: Vec<Ipv6Addr>,
}

/// The data of one answer record we understand; others are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Svcb(Svcb),
    Https(Svcb),
}

/// One answer record: owner name (lower-case, no trailing dot), TTL and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: RecordData,
}

/// What a DNS message says: the first question and the answers we understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    pub id: u16,
    pub is_response: bool,
    pub rcode: u8,
    /// The queried name, lower-case, without trailing dot (`"."` for the root).
    pub query: String,
    pub query_type: u16,
    /// A, AAAA, CNAME, SVCB and HTTPS records of the answer section, in order.
    pub records: Vec<Record>,
}

impl DnsAnswer {
    /// Reads the question and answer section of a checked message.
    pub fn parse<T: AsRef<[u8]>>(msg: &Message<T>) -> Result<DnsAnswer, DnsError> {
        let bytes = msg.as_bytes();
        let mut r = Reader::new(bytes);
        r.take(HEADER_LEN).ok_or(DnsError::Truncated)?;
        if msg.question_count() == 0 {
            return Err(DnsError::NoQuestion);
        }
        let mut query = None;
        for _ in 0..msg.question_count() {
            let name = read_name(bytes, &mut r)?;
            let qtype = r.u16().ok_or(DnsError::Truncated)?;
            r.u16().ok_or(DnsError::Truncated)?;
            query.get_or_insert((name, qtype));
        }
        let (query, query_type) = query.ok_or(DnsError::NoQuestion)?;
        let mut records = Vec::new();
        for _ in 0..msg.answer_count() {
            let name = read_name(bytes, &mut r)?;
            let rtype = r.u16().ok_or(DnsError::Truncated)?;
            let class = r.u16().ok_or(DnsError::Truncated)?;
            let ttl = r.u32().ok_or(DnsError::Truncated)?;
            let rdlen = usize::from(r.u16().ok_or(DnsError::Truncated)?);
            let rdata_start = r.pos();
            let rdata = r.take(rdlen).ok_or(DnsError::Truncated)?;
            if class != CLASS_IN {
                continue;
            }
            let data = match rtype {
                TYPE_A => RecordData::A(Ipv4Addr::from(
                    <[u8; 4]>::try_from(rdata).map_err(|_| DnsError::BadRecord("A length"))?,
                )),
                TYPE_AAAA => RecordData::Aaaa(Ipv6Addr::from(
                    <[u8; 16]>::try_from(rdata).map_err(|_| DnsError::BadRecord("AAAA length"))?,
                )),
                TYPE_CNAME => {
                    RecordData::Cname(rdata_name(bytes, rdata_start, rdlen, "CNAME overruns")?)
                }
                TYPE_SVCB => RecordData::Svcb(parse_svcb(bytes, rdata_start, rdlen)?),
                TYPE_HTTPS => RecordData::Https(parse_svcb(bytes, rdata_start, rdlen)?),
                _ => continue,
            };
            records.push(Record { name, ttl, data });
        }
        Ok(DnsAnswer {
            id: msg.id(),
            is_response: msg.is_response(),
            rcode: msg.rcode(),
            query,
            query_type,
            records,
        })
    }

    /// Each address in the answer with the name the app asked for: an address reached
    /// through a CNAME chain from the query is attributed to the queried name; one whose
    /// owner is not on such a chain keeps its owner name. SVCB/HTTPS address hints count
    /// as addresses of their owner.
    pub fn address_names(&self) -> Vec<(IpAddr, String)> {
        self.address_chains()
            .into_iter()
            .map(|(ip, mut chain)| (ip, chain.swap_remove(0)))
            .collect()
    }

    /// Each address with the names that led to it: the queried name, then every CNAME
    /// target in order down to the address record's owner (`[query]` without aliases).
    /// An owner that no chain from the query reaches stands alone (`[owner]`). Chains
    /// longer than 16 aliases, or looping, are cut there and treated as not reaching.
    pub fn address_chains(&self) -> Vec<(IpAddr, Vec<String>)> {
        // alias target -> owner, so a chain can be walked back to the query.
        let mut back: HashMap<&str, &str> = HashMap::new();
        for rec in &self.records {
            if let RecordData::Cname(target) = &rec.data {
                back.entry(target.as_str()).or_insert(rec.name.as_str());
            }
        }
        let chain_to = |owner: &str| -> Vec<String> {
            let mut names = vec![owner];
            for _ in 0..=MAX_CHAIN {
                let at = names[names.len() - 1];
                if at == self.query {
                    return names.iter().rev().map(|n| n.to_string()).collect();
                }
                match back.get(at) {
                    Some(prev) => names.push(prev),
                    None => break,
                }
            }
            vec![owner.to_string()]
        };
        let mut out = Vec::new();
        for rec in &self.records {
            match &rec.data {
                RecordData::A(a) => out.push((IpAddr::V4(*a), chain_to(&rec.name))),
                RecordData::Aaaa(a) => out.push((IpAddr::V6(*a), chain_to(&rec.name))),
                RecordData::Svcb(s) | RecordData::Https(s) => {
                    let chain = chain_to(&rec.name);
                    out.extend(s.ipv4_hints.iter().map(|a| (IpAddr::V4(*a), chain.clone())));
                    out.extend(s.ipv6_hints.iter().map(|a| (IpAddr::V6(*a), chain.clone())));
                }
                RecordData::Cname(_) => {}
            }
        }
        out
    }
}

/// Parses a DNS message carried in one UDP payload.
pub fn parse(udp_payload: &[u8]) -> Result<DnsAnswer, DnsError> {
    DnsAnswer::parse(&Message::new_checked(udp_payload)?)
}

/// Parses the first DNS message of a TCP stream (RFC 1035 section 4.2.2: a two-byte
/// length before each message). Returns the answer and the bytes consumed, or
/// [`DnsError::NeedMore`] while the message is incomplete.
pub fn parse_tcp(stream: &[u8]) -> Result<(DnsAnswer, usize), DnsError> {
    let mut r = Reader::new(stream);
    let len = usize::from(r.u16().ok_or(DnsError::NeedMore)?);
    let msg = r.take(len).ok_or(DnsError::NeedMore)?;
    Ok((parse(msg)?, 2 + len))
}

/// RCODE 2: the server could not answer (RFC 1035 section 4.1.1).
pub const RCODE_SERVFAIL: u8 = 2;

/// The SERVFAIL answer to a query, for a resolver that cannot reach its upstream: the
/// query's ID, QR set, its opcode and the RD and CD bits kept, RA set, RCODE 2, and its
/// one question echoed; no records (an EDNS query gets no OPT back, which RFC 6891
/// allows). `None` for anything that is not a well-formed single-question query, which
/// is then left unanswered.
pub fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    const QR: u16 = 0x8000;
    const OPCODE: u16 = 0x7800;
    const RD: u16 = 0x0100;
    const RA: u16 = 0x0080;
    const CD: u16 = 0x0010;
    let msg = Message::new_checked(query).ok()?;
    if msg.is_response() || msg.question_count() != 1 {
        return None;
    }
    // The first name of a message has nothing before it to point back to: plain labels
    // only, so the echoed question reads the same behind the new header.
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*query.get(at)?);
        if len & 0xc0 != 0 || at + 1 + len - HEADER_LEN > MAX_NAME_WIRE {
            return None;
        }
        at += 1 + len;
        if len == 0 {
            break;
        }
    }
    let question = query.get(HEADER_LEN..at + 4)?;
    let flags = QR | (msg.flags() & (OPCODE | RD | CD)) | RA | u16::from(RCODE_SERVFAIL);
    let mut out = Vec::with_capacity(HEADER_LEN + question.len());
    for field in [msg.id(), flags, 1, 0, 0, 0] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out.extend_from_slice(question);
    Some(out)
}

/// Reads a name at the reader's position (advancing past it) in message `msg`.
fn read_name(msg: &[u8], r: &mut Reader<'_>) -> Result<String, DnsError> {
    let (name, end) = name_at(msg, r.pos())?;
    r.take(end - r.pos()).ok_or(DnsError::Truncated)?;
    Ok(name)
}

/// Reads a name inside RDATA, which must not run past the record.
fn rdata_name(
    msg: &[u8],
    start: usize,
    rdlen: usize,
    what: &'static str,
) -> Result<String, DnsError> {
    let (name, end) = name_at(msg, start)?;
    if end > start + rdlen {
        return Err(DnsError::BadRecord(what));
    }
    Ok(name)
}

/// Reads the name starting at `start`; returns it and the offset just after it in place
/// (after the first pointer, if any).
fn name_at(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut at = start;
    // Lowest offset visited: a pointer must go strictly below it, so no loops.
    let mut floor = start;
    let mut end = None;
    let mut wire = 0usize;
    let mut hops = 0usize;
    loop {
        let len = *msg.get(at).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                if name.is_empty() {
                    name.push('.');
                }
                return Ok((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = msg
                    .get(at + 1..at + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated)?;
                wire += 1 + label.len();
                if wire + 1 > MAX_NAME_WIRE {
                    return Err(DnsError::BadName("longer than 255 bytes"));
                }
                if !name.is_empty() {
                    name.push('.');
                }
                text::push_host(&mut name, label, false);
                at += 1 + label.len();
            }
            0xc0 => {
                let lo = *msg.get(at + 1).ok_or(DnsError::Truncated)?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                end.get_or_insert(at + 2);
                hops += 1;
                if hops > MAX_POINTERS {
                    return Err(DnsError::BadName("too many compression pointers"));
                }
                if target >= floor {
                    return Err(DnsError::BadName("compression pointer does not point back"));
                }
                floor = target;
                at = target;
            }
            _ => return Err(DnsError::BadName("reserved label type")),
        }
    }
}

/// SVCB/HTTPS RDATA: priority, target, then key/length/value parameters.
fn parse_svcb(msg: &[u8], start: usize, rdlen: usize) -> Result<Svcb, DnsError> {
    const KEY_ALPN: u16 = 1;
    const KEY_IPV4HINT: u16 = 4;
    const KEY_IPV6HINT: u16 = 6;
    let bad = DnsError::BadRecord("SVCB/HTTPS data");
    let rdata = msg.get(start..start + rdlen).ok_or(DnsError::Truncated)?;
    let mut r = Reader::new(rdata);
    let priority = r.u16().ok_or(bad.clone())?;
    let (target, end) = name_at(msg, start + 2)?;
    if end > start + rdlen {
        return Err(bad);
    }
    r.take(end - start - 2).ok_or(bad.clone())?;
    let mut svcb = Svcb {
        priority,
        target,
        ..Svcb::default()
    };
    while !r.is_empty() {
        let key = r.u16().ok_or(bad.clone())?;
        let value = r.vec16().ok_or(bad.clone())?;
        match key {
            KEY_ALPN => {
                let mut v = Reader::new(value);
                while !v.is_empty() {
                    svcb.alpn.push(text::token(v.vec8().ok_or(bad.clone())?));
                }
            }
            KEY_IPV4HINT => {
                if value.len() % 4 != 0 {
                    return Err(bad);
                }
                svcb.ipv4_hints.extend(
                    value
                        .chunks_exact(4)
                        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3])),
                );
            }
            KEY_IPV6HINT => {
                if value.len() % 16 != 0 {
                    return Err(bad);
                }
                for c in value.chunks_exact(16) {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(c);
                    svcb.ipv6_hints.push(Ipv6Addr::from(a));
                }
            }
            _ => {}
        }
    }
    Ok(svcb)
}

#[cfg(test)]
mod tests;
