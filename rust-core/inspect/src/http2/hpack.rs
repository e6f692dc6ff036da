//! HPACK header block decoding (RFC 7541): the static table, one dynamic table per
//! direction of a connection, integer and string literals, Huffman strings and table
//! size updates.
//!
//! A monitor must decode every block in order, even blocks it does not keep, or its
//! dynamic table drifts from the encoder's and later blocks decode wrong. So memory is
//! bounded without skipping: the table never grows past [`Decoder::new`]'s cap (an update
//! beyond it is an error), and fields past the header list cap are decoded but not kept.

use std::collections::VecDeque;

use super::huffman::{self, HuffmanError};

/// Per-entry overhead that RFC 7541 section 4.1 adds to name and value lengths.
const ENTRY_OVERHEAD: usize = 32;

/// The table size every connection starts with (SETTINGS_HEADER_TABLE_SIZE default).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// RFC 7541 Appendix A.
#[rustfmt::skip]
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
];

/// Why a header block cannot be decoded. The connection's dynamic table is then out of
/// step, so later blocks of that direction cannot be trusted either.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    #[error("header block ends inside a field")]
    Truncated,
    #[error("HPACK integer is too large")]
    IntegerOverflow,
    #[error("HPACK index {0} is not in the static or dynamic table")]
    BadIndex(usize),
    #[error("HPACK table size update to {0} bytes is over the limit")]
    TableTooLarge(usize),
    #[error("header block expands to more than the header list limit allows")]
    ListTooLarge,
    #[error(transparent)]
    Huffman(#[from] HuffmanError),
}

/// One decoded field. Names are bytes as sent (HTTP/2 requires lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// What decoding a block gave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeaderList {
    pub fields: Vec<HeaderField>,
    /// Fields were left out because the list went over its cap.
    pub truncated: bool,
}

/// The decoding state of one direction of one connection.
#[derive(Debug)]
pub struct Decoder {
    /// Newest entry first (index 62 is `entries[0]`).
    entries: VecDeque<HeaderField>,
    /// Sum of entry sizes as RFC 7541 counts them.
    size: usize,
    /// The size the encoder last set (starts at the protocol default).
    max_size: usize,
    /// The largest size an update may set.
    cap: usize,
}

impl Decoder {
    /// `cap`: the largest dynamic table this decoder keeps. An encoder may only use
    /// what the decoder's SETTINGS allowed; a monitor does not see those first, so it
    /// allows up to `cap` (browsers announce 64 KiB).
    pub fn new(cap: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE.min(cap),
            cap,
        }
    }

    /// Bytes the dynamic table holds, as RFC 7541 counts them.
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// Decodes one whole header block. Fields whose name and value lengths (plus 32
    /// each, as SETTINGS_MAX_HEADER_LIST_SIZE counts) would pass `max_list` are not kept;
    /// a block that expands to over four times `max_list` is an error (table entries
    /// referenced again and again cost copying even when they are not kept).
    pub fn decode(&mut self, block: &[u8], max_list: usize) -> Result<HeaderList, HpackError> {
        let mut list = HeaderList::default();
        let mut listed = 0usize;
        let mut work = max_list.saturating_mul(4);
        let mut at = block;
        while let Some(&first) = at.first() {
            if first & 0x80 != 0 {
                let index = integer(&mut at, 7)?;
                let (name, value) = self.get(index)?;
                charge(&mut work, name.len() + value.len())?;
                keep(&mut list, &mut listed, max_list, name, value);
            } else if first & 0xe0 == 0x20 {
                let size = integer(&mut at, 5)?;
                if size > self.cap {
                    return Err(HpackError::TableTooLarge(size));
                }
                self.max_size = size;
                self.evict(0);
            } else {
                // Literal: with incremental indexing (01), or without / never (0000, 0001).
                let indexing = first & 0xc0 == 0x40;
                let prefix = if indexing { 6 } else { 4 };
                let index = integer(&mut at, prefix)?;
                let name = if index == 0 {
                    string(&mut at)?
                } else {
                    let (name, _) = self.get(index)?;
                    charge(&mut work, name.len())?;
                    name.to_vec()
                };
                let value = string(&mut at)?;
                keep(&mut list, &mut listed, max_list, &name, &value);
                if indexing {
                    self.insert(HeaderField { name, value });
                }
            }
        }
        Ok(list)
    }

    /// Name and value at `index` (1-based: the static table, then the dynamic one).
    fn get(&self, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
        if let Some((name, value)) = index.checked_sub(1).and_then(|i| STATIC_TABLE.get(i)) {
            return Ok((name.as_bytes(), value.as_bytes()));
        }
        index
            .checked_sub(STATIC_TABLE.len() + 1)
            .and_then(|i| self.entries.get(i))
            .map(|f| (f.name.as_slice(), f.value.as_slice()))
            .ok_or(HpackError::BadIndex(index))
    }

    /// RFC 7541 section 4.4: make room, then add; an entry larger than the table
    /// empties it and is not added.
    fn insert(&mut self, field: HeaderField) {
        let size = field.name.len() + field.value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict(size);
        self.size += size;
        self.entries.push_front(field);
    }

    /// Drops the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some(old) = self.entries.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= old.name.len() + old.value.len() + ENTRY_OVERHEAD;
        }
    }
}

fn keep(list: &mut HeaderList, listed: &mut usize, max: usize, name: &[u8], value: &[u8]) {
    let size = name.len() + value.len() + ENTRY_OVERHEAD;
    if list.truncated || *listed + size > max {
        list.truncated = true;
        return;
    }
    *listed += size;
    list.fields.push(HeaderField {
        name: name.to_vec(),
        value: value.to_vec(),
    });
}

fn charge(work: &mut usize, bytes: usize) -> Result<(), HpackError> {
    *work = work.checked_sub(bytes).ok_or(HpackError::ListTooLarge)?;
    Ok(())
}

/// An integer with an N-bit prefix (RFC 7541 section 5.1), taken off the front of `at`.
pub(crate) fn integer(at: &mut &[u8], prefix: u32) -> Result<usize, HpackError> {
    let (&first, mut rest) = at.split_first().ok_or(HpackError::Truncated)?;
    let mask = (1u8 << prefix) - 1;
    let mut value = usize::from(first & mask);
    if value == usize::from(mask) {
        let mut shift = 0u32;
        loop {
            let (&b, tail) = rest.split_first().ok_or(HpackError::Truncated)?;
            rest = tail;
            // Values this monitor accepts (sizes, indexes, lengths) fit in 28 bits.
            if shift > 21 {
                return Err(HpackError::IntegerOverflow);
            }
            value += usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    *at = rest;
    Ok(value)
}

/// A string literal (RFC 7541 section 5.2), Huffman-coded or not.
fn string(at: &mut &[u8]) -> Result<Vec<u8>, HpackError> {
    let huffman = at.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = integer(at, 7)?;
    if len > at.len() {
        return Err(HpackError::Truncated);
    }
    let (raw, rest) = at.split_at(len);
    *at = rest;
    if huffman {
        let mut out = Vec::with_capacity(len + len / 2);
        huffman::decode(raw, &mut out)?;
        Ok(out)
    } else {
        Ok(raw.to_vec())
    }
}

#[cfg(test)]
mod tests;
