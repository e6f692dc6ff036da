//! pcapng reading: sections in either byte order, interfaces with their link type and
//! timestamp resolution, Enhanced/Simple/obsolete Packet Blocks; other blocks skipped.

use std::io::Read;
use std::time::{Duration, SystemTime};

use crate::bytes::{Endian, Fields};
use crate::error::{CaptureError, ErrorKind};
use crate::packet::{LinkType, Packet, MAX_BLOCK_LEN};
use crate::source::Source;

pub(crate) const SHB: u32 = 0x0A0D_0D0A;
pub(crate) const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
pub(crate) const EPB: u32 = 6;
/// Decryption Secrets Block (pcapng draft, section 4.7).
pub(crate) const DSB: u32 = 0x0A;
/// DSB secrets type: the NSS key log format (SSLKEYLOGFILE).
pub(crate) const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;
pub(crate) const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

pub(crate) const OPT_ENDOFOPT: u16 = 0;
pub(crate) const OPT_COMMENT: u16 = 1;
pub(crate) const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// A bound on per-section interface state, so a file of tiny IDBs cannot grow it forever.
const MAX_INTERFACES: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    /// if_tsresol: bit 7 clear = 10^-n seconds, set = 2^-n seconds.
    tsresol: u8,
    tsoffset: i64,
}

/// Streaming reader of a pcapng file; yields packets until the end or the first error.
#[derive(Debug)]
pub struct PcapngReader<R> {
    src: Source<R>,
    endian: Endian,
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
    in_section: bool,
    done: bool,
}

impl<R: Read> PcapngReader<R> {
    /// Starts reading; the first block must be a Section Header Block (checked on the
    /// first `next`).
    pub fn new(reader: R) -> Self {
        Self::from_source(Source::new(reader))
    }

    pub(crate) fn from_source(src: Source<R>) -> Self {
        PcapngReader {
            src,
            endian: Endian::Little,
            interfaces: Vec::new(),
            buf: Vec::new(),
            in_section: false,
            done: false,
        }
    }

    pub fn into_inner(self) -> R {
        self.src.into_inner()
    }

    /// Reads one whole block into `self.buf` (body only) and returns its type and start
    /// offset, or `None` at a clean end of input.
    fn read_block(&mut self) -> Result<Option<(u32, u64)>, CaptureError> {
        let start = self.src.offset();
        let err = |kind| CaptureError::new(start, kind);
        let mut hdr = [0u8; 8];
        let n = self.src.fill(&mut hdr).map_err(|e| err(ErrorKind::Io(e)))?;
        if n == 0 {
            return Ok(None);
        }
        let truncated = |available: u64, needed: u64| {
            err(ErrorKind::Truncated {
                what: "block",
                needed,
                available,
            })
        };
        if n < 8 {
            return Err(truncated(n as u64, 8));
        }
        let type_bytes = [hdr[0], hdr[1], hdr[2], hdr[3]];
        self.buf.clear();
        let is_shb = u32::from_le_bytes(type_bytes) == SHB;
        if is_shb {
            // The byte order of everything, the block length included, is set by the
            // byte-order magic that follows the length.
            let mut bom = [0u8; 4];
            let n = self.src.fill(&mut bom).map_err(|e| err(ErrorKind::Io(e)))?;
            if n < 4 {
                return Err(truncated(8 + n as u64, 12));
            }
            self.endian = match u32::from_le_bytes(bom) {
                BYTE_ORDER_MAGIC => Endian::Little,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => Endian::Big,
                m => {
                    return Err(CaptureError::new(
                        start + 8,
                        ErrorKind::BadByteOrderMagic(m),
                    ))
                }
            };
            self.buf.extend_from_slice(&bom);
        } else if !self.in_section {
            return Err(err(ErrorKind::NoSectionHeader(u32::from_le_bytes(
                type_bytes,
            ))));
        }
        let f = Fields::new(&hdr, self.endian);
        let btype = f.u32(0).unwrap_or(0);
        let total = f.u32(4).unwrap_or(0);
        let min = if is_shb { 28 } else { 12 };
        if !total.is_multiple_of(4) || total < min {
            return Err(err(ErrorKind::BadBlockLength(total)));
        }
        if total as usize > MAX_BLOCK_LEN {
            return Err(err(ErrorKind::TooLarge {
                what: "block",
                len: total.into(),
                cap: MAX_BLOCK_LEN as u64,
            }));
        }
        let already = 8 + self.buf.len();
        let rest = total as usize - already;
        let got = self
            .src
            .append(rest, &mut self.buf)
            .map_err(|e| err(ErrorKind::Io(e)))?;
        if got < rest {
            return Err(truncated((already + got) as u64, total.into()));
        }
        let body_len = total as usize - 12;
        let trailing = Fields::new(&self.buf, self.endian)
            .u32(body_len)
            .unwrap_or(0);
        if trailing != total {
            return Err(err(ErrorKind::BlockLengthMismatch {
                leading: total,
                trailing,
            }));
        }
        self.buf.truncate(body_len);
        Ok(Some((btype, start)))
    }

    fn read_packet(&mut self) -> Result<Option<Packet>, CaptureError> {
        loop {
            let Some((btype, start)) = self.read_block()? else {
                return Ok(None);
            };
            let body = Fields::new(&self.buf, self.endian);
            let too_short = || {
                CaptureError::new(
                    start,
                    ErrorKind::BadBlockLength(body.bytes.len() as u32 + 12),
                )
            };
            match btype {
                SHB => {
                    let major = body.u16(4).ok_or_else(too_short)?;
                    let minor = body.u16(6).ok_or_else(too_short)?;
                    if major != 1 {
                        return Err(CaptureError::new(
                            start,
                            ErrorKind::UnsupportedVersion {
                                format: "pcapng",
                                major,
                                minor,
                            },
                        ));
                    }
                    self.interfaces.clear();
                    self.in_section = true;
                }
                IDB => {
                    let linktype = LinkType(body.u16(0).ok_or_else(too_short)?);
                    let snaplen = body.u32(4).ok_or_else(too_short)?;
                    let mut iface = Interface {
                        linktype,
                        snaplen,
                        tsresol: 6,
                        tsoffset: 0,
                    };
                    for opt in Options::new(body, 8, start) {
                        let (code, value) = opt?;
                        let v = Fields::new(value, self.endian);
                        match code {
                            IF_TSRESOL => iface.tsresol = value.first().copied().unwrap_or(6),
                            IF_TSOFFSET => iface.tsoffset = v.u64(0).unwrap_or(0) as i64,
                            _ => {}
                        }
                    }
                    if self.interfaces.len() >= MAX_INTERFACES {
                        return Err(CaptureError::new(
                            start,
                            ErrorKind::TooManyInterfaces(MAX_INTERFACES),
                        ));
                    }
                    self.interfaces.push(iface);
                }
                EPB | OPB => {
                    // EPB: if_id u32; OPB: if_id u16 + drops u16. Then the same fields.
                    let id = if btype == EPB {
                        body.u32(0).ok_or_else(too_short)?
                    } else {
                        body.u16(0).ok_or_else(too_short)?.into()
                    };
                    let ts_hi = body.u32(4).ok_or_else(too_short)?;
                    let ts_lo = body.u32(8).ok_or_else(too_short)?;
                    let caplen = body.u32(12).ok_or_else(too_short)?;
                    let orig_len = body.u32(16).ok_or_else(too_short)?;
                    let iface = self.interface(id, start)?;
                    let room = body.bytes.len() - 20;
                    if caplen as usize > room {
                        return Err(CaptureError::new(
                            start,
                            ErrorKind::CapturedLengthTooLong { caplen, room },
                        ));
                    }
                    let data = body.bytes[20..20 + caplen as usize].to_vec();
                    let opts_at = 20 + pad4(caplen as usize);
                    let mut comment = None;
                    for opt in Options::new(body, opts_at, start) {
                        let (code, value) = opt?;
                        if code == OPT_COMMENT && comment.is_none() {
                            comment = Some(String::from_utf8_lossy(value).into_owned());
                        }
                    }
                    let units = (u64::from(ts_hi) << 32) | u64::from(ts_lo);
                    let ts = timestamp(units, iface)
                        .ok_or(CaptureError::new(start, ErrorKind::TimestampOutOfRange))?;
                    return Ok(Some(Packet {
                        ts,
                        linktype: iface.linktype,
                        data,
                        orig_len,
                        comment,
                    }));
                }
                SPB => {
                    let orig_len = body.u32(0).ok_or_else(too_short)?;
                    let iface = self.interface(0, start)?;
                    // An SPB has no captured-length field: the data is the original
                    // length cut to the snap length, inside padding to 4 bytes.
                    let mut caplen = orig_len as usize;
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    caplen = caplen.min(body.bytes.len() - 4);
                    return Ok(Some(Packet {
                        // SPBs carry no timestamp.
                        ts: SystemTime::UNIX_EPOCH,
                        linktype: iface.linktype,
                        data: body.bytes[4..4 + caplen].to_vec(),
                        orig_len,
                        comment: None,
                    }));
                }
                _ => {}
            }
        }
    }

    fn interface(&self, id: u32, start: u64) -> Result<Interface, CaptureError> {
        self.interfaces
            .get(id as usize)
            .copied()
            .ok_or(CaptureError::new(
                start,
                ErrorKind::UnknownInterface {
                    id,
                    count: self.interfaces.len(),
                },
            ))
    }
}

impl<R: Read> Iterator for PcapngReader<R> {
    type Item = Result<Packet, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_packet() {
            Ok(Some(p)) => Some(Ok(p)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

pub(crate) fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// Converts a timestamp in interface units to wall-clock time; `None` if it does not fit.
fn timestamp(units: u64, iface: Interface) -> Option<SystemTime> {
    let nanos: u128 = if iface.tsresol & 0x80 == 0 {
        let exp = u32::from(iface.tsresol);
        // Resolutions finer than 10^-38 s cannot be represented; they round to zero.
        match 10u128.checked_pow(exp) {
            Some(div) => u128::from(units) * 1_000_000_000 / div,
            None => 0,
        }
    } else {
        (u128::from(units) * 1_000_000_000) >> u32::from(iface.tsresol & 0x7f)
    };
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    let d = Duration::new(secs, (nanos % 1_000_000_000) as u32);
    let base = if iface.tsoffset >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(iface.tsoffset as u64))?
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(iface.tsoffset.unsigned_abs()))?
    };
    base.checked_add(d)
}

/// Iterates `(code, value)` over a block's options, stopping at opt_endofopt or the end
/// of the body; an option running past the body is an error at its offset.
struct Options<'a> {
    body: Fields<'a>,
    pos: usize,
    block_start: u64,
    done: bool,
}

impl<'a> Options<'a> {
    fn new(body: Fields<'a>, pos: usize, block_start: u64) -> Self {
        Options {
            body,
            pos,
            block_start,
            done: false,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u16, &'a [u8]), CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Fewer than 4 bytes left: no (more) options; writers may omit opt_endofopt.
        let (Some(code), Some(len)) = (self.body.u16(self.pos), self.body.u16(self.pos + 2)) else {
            self.done = true;
            return None;
        };
        if code == OPT_ENDOFOPT {
            self.done = true;
            return None;
        }
        let at = self.pos + 4;
        let Some(value) = self.body.bytes.get(at..at + len as usize) else {
            self.done = true;
            return Some(Err(CaptureError::new(
                self.block_start + 8 + self.pos as u64,
                ErrorKind::BadOption { code, len },
            )));
        };
        self.pos = at + pad4(len as usize);
        Some(Ok((code, value)))
    }
}
