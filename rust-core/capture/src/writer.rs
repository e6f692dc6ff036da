//! pcapng writing: one section, one interface, an Enhanced Packet Block per packet with
//! an optional comment (the monitor names flow and app there, so Wireshark shows them).

use std::io::{self, Write};
use std::time::SystemTime;

use crate::packet::LinkType;
use crate::pcapng::{
    pad4, BYTE_ORDER_MAGIC, DSB, EPB, IDB, IF_TSRESOL, OPT_COMMENT, OPT_ENDOFOPT,
    SECRETS_TLS_KEY_LOG, SHB,
};

/// `shb_userappl`: the application that wrote the section.
const SHB_USERAPPL: u16 = 4;

/// Timestamp unit written in `if_tsresol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsResolution {
    /// 10^-6 s, the pcapng default every reader understands.
    #[default]
    Microseconds,
    /// 10^-9 s.
    Nanoseconds,
}

/// What the writer puts in the section and interface headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Link type of the single interface; RAW (101) for IP packets from a TUN device.
    pub linktype: LinkType,
    /// Longer packets are cut to this length (their original length is still recorded).
    pub snaplen: u32,
    pub resolution: TsResolution,
    /// Written as `shb_userappl` when set.
    pub application: Option<String>,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            linktype: LinkType::RAW,
            snaplen: 65_535,
            resolution: TsResolution::Microseconds,
            application: Some(concat!("phonehome ", env!("CARGO_PKG_VERSION")).to_string()),
        }
    }
}

/// Writes a pcapng stream. Every block is assembled in memory and written with one
/// `write_all`, so a reader never sees a half-formed block header from us.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    config: WriterConfig,
    block: Vec<u8>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section and interface headers for raw IP packets (LINKTYPE_RAW),
    /// microsecond timestamps, snaplen 65535.
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_config(out, WriterConfig::default())
    }

    /// Writes the section and interface headers described by `config`.
    pub fn with_config(out: W, config: WriterConfig) -> io::Result<Self> {
        let mut w = PcapngWriter {
            out,
            config,
            block: Vec::with_capacity(256),
        };
        w.write_headers()?;
        Ok(w)
    }

    fn write_headers(&mut self) -> io::Result<()> {
        // Section Header Block: byte-order magic, version 1.0, section length unknown.
        let mut body = vec![0u8; 8];
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        if let Some(app) = self.config.application.clone() {
            push_option(&mut body, SHB_USERAPPL, clip_utf8(&app));
            push_option(&mut body, OPT_ENDOFOPT, &[]);
        }
        self.emit(SHB, &mut body)?;

        // Interface Description Block with if_tsresol.
        body.clear();
        body.resize(8, 0);
        body.extend_from_slice(&self.config.linktype.0.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&self.config.snaplen.to_le_bytes());
        let resol = match self.config.resolution {
            TsResolution::Microseconds => 6u8,
            TsResolution::Nanoseconds => 9u8,
        };
        push_option(&mut body, IF_TSRESOL, &[resol]);
        push_option(&mut body, OPT_ENDOFOPT, &[]);
        self.emit(IDB, &mut body)
    }

    /// Appends one packet. `data` longer than the snap length is cut (the original
    /// length is kept); a comment longer than an option can hold (65535 bytes) is cut
    /// at a character boundary. Times before 1970 are written as 1970.
    pub fn write_packet(
        &mut self,
        ts: SystemTime,
        data: &[u8],
        comment: Option<&str>,
    ) -> io::Result<()> {
        let orig_len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB"))?;
        let caplen = orig_len.min(self.config.snaplen);
        let since = ts
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let units = match self.config.resolution {
            TsResolution::Microseconds => since.as_micros(),
            TsResolution::Nanoseconds => since.as_nanos(),
        };
        let units = u64::try_from(units).unwrap_or(u64::MAX);

        let mut body = std::mem::take(&mut self.block);
        body.clear();
        body.resize(8, 0); // block type and length, filled in by emit
        body.extend_from_slice(&0u32.to_le_bytes()); // interface 0
        body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(units as u32).to_le_bytes());
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.to_le_bytes());
        body.extend_from_slice(&data[..caplen as usize]);
        body.resize(pad4(body.len()), 0);
        if let Some(c) = comment {
            push_option(&mut body, OPT_COMMENT, clip_utf8(c));
            push_option(&mut body, OPT_ENDOFOPT, &[]);
        }
        let result = self.emit(EPB, &mut body);
        self.block = body;
        result
    }

    /// Appends a Decryption Secrets Block of TLS key log lines (SSLKEYLOGFILE format):
    /// Wireshark and tshark decrypt the TLS sessions of the packets after it with no key
    /// file of their own.
    pub fn write_tls_key_log(&mut self, lines: &[u8]) -> io::Result<()> {
        let len = u32::try_from(lines.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "secrets over 4 GiB"))?;
        let mut body = std::mem::take(&mut self.block);
        body.clear();
        body.resize(8, 0);
        body.extend_from_slice(&SECRETS_TLS_KEY_LOG.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(lines);
        body.resize(pad4(body.len()), 0);
        let result = self.emit(DSB, &mut body);
        self.block = body;
        result
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// Completes `block` (8 reserved header bytes, then the body padded to 4 bytes) with
    /// its type and lengths and writes it.
    fn emit(&mut self, btype: u32, block: &mut Vec<u8>) -> io::Result<()> {
        let total = u32::try_from(block.len() + 4)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too large"))?;
        block[0..4].copy_from_slice(&btype.to_le_bytes());
        block[4..8].copy_from_slice(&total.to_le_bytes());
        block.extend_from_slice(&total.to_le_bytes());
        self.out.write_all(block)
    }
}

/// Appends an option (code, length, value, zero padding to 4 bytes).
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.resize(pad4(body.len()), 0);
}

/// The longest prefix of `s` that fits an option value, cut on a char boundary.
fn clip_utf8(s: &str) -> &[u8] {
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}
