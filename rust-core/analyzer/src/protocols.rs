//! The few protocol facts the analyzer needs: names from DNS answers, the server name of
//! a TLS ClientHello, whether a datagram is a QUIC Initial, and the readable parts of
//! HTTP/1 requests. Every function takes untrusted bytes and never panics.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use phonehome_detect::Where;

/// A big-endian reader that fails instead of panicking.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|s| usize::from(s[0]) << 16 | usize::from(s[1]) << 8 | usize::from(s[2]))
    }
}

/// Reads a DNS name at `at` in `msg`, following compression pointers (at most 32).
fn dns_name(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(at)?;
        match len {
            0 => {
                return Some((name.to_ascii_lowercase(), end.unwrap_or(at + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = usize::from(l & 0x3f) << 8 | usize::from(*msg.get(at + 1)?);
                end.get_or_insert(at + 2);
                if ptr >= at {
                    return None; // pointers only go backwards; this also stops loops
                }
                at = ptr;
            }
            l if l < 64 => {
                let label = msg.get(at + 1..at + 1 + usize::from(l))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&String::from_utf8_lossy(label));
                at += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
    None
}

/// Addresses a DNS response names, each with the name that was asked for (CNAME chains
/// lead back to the question). A/AAAA answers and HTTPS/SVCB address hints count.
pub fn dns_names(msg: &[u8]) -> Vec<(IpAddr, String)> {
    let mut out = Vec::new();
    let mut c = Cursor::new(msg);
    let Some(header) = c.take(12) else {
        return out;
    };
    if header[2] & 0x80 == 0 {
        return out; // a query, not a response
    }
    let qd = u16::from_be_bytes([header[4], header[5]]);
    let an = u16::from_be_bytes([header[6], header[7]]);
    let mut at = 12;
    let mut question = None;
    for _ in 0..qd {
        let Some((name, next)) = dns_name(msg, at) else {
            return out;
        };
        question.get_or_insert(name);
        at = next + 4;
    }
    let Some(question) = question else {
        return out;
    };
    for _ in 0..an {
        let Some((_, next)) = dns_name(msg, at) else {
            break;
        };
        let mut c = Cursor { b: msg, at: next };
        let (Some(rtype), Some(_class), Some(_ttl), Some(len)) =
            (c.u16(), c.u16(), c.take(4), c.u16())
        else {
            break;
        };
        let Some(data) = c.take(usize::from(len)) else {
            break;
        };
        match (rtype, data.len()) {
            (1, 4) => out.push((
                IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
                question.clone(),
            )),
            (28, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(data);
                out.push((IpAddr::V6(Ipv6Addr::from(a)), question.clone()));
            }
            (64 | 65, _) => out.extend(
                svcb_hints(data)
                    .into_iter()
                    .map(|ip| (ip, question.clone())),
            ),
            _ => {}
        }
        at = c.at;
    }
    out
}

/// ipv4hint (4) and ipv6hint (6) of an SVCB/HTTPS record's data.
fn svcb_hints(data: &[u8]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let Some((_, after_target)) = dns_name(data, 2) else {
        return out;
    };
    let mut c = Cursor {
        b: data,
        at: after_target,
    };
    while let (Some(key), Some(len)) = (c.u16(), c.u16()) {
        let Some(value) = c.take(usize::from(len)) else {
            break;
        };
        match key {
            4 => out.extend(
                value
                    .chunks_exact(4)
                    .map(|a| IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))),
            ),
            6 => out.extend(value.chunks_exact(16).map(|a| {
                let mut b = [0u8; 16];
                b.copy_from_slice(a);
                IpAddr::V6(Ipv6Addr::from(b))
            })),
            _ => {}
        }
    }
    out
}

/// What a TLS stream's first bytes say about the server name.
#[derive(Debug, PartialEq, Eq)]
pub enum Sni {
    Found(String),
    /// A complete ClientHello without a server name, or not TLS after all.
    None,
    NeedMore,
}

/// The server_name of the ClientHello at the start of a TLS stream (it may span records).
pub fn client_hello_sni(stream: &[u8]) -> Sni {
    // Gather the handshake bytes of the leading handshake records.
    let mut handshake = Vec::new();
    let mut c = Cursor::new(stream);
    while let Some(header) = c.take(5) {
        if header[0] != 22 {
            return if handshake.is_empty() {
                Sni::None
            } else {
                parse_hello(&handshake)
            };
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        match c.take(len) {
            Some(body) => handshake.extend_from_slice(body),
            None => {
                handshake.extend_from_slice(&stream[c.at..]);
                break;
            }
        }
        if let result @ (Sni::Found(_) | Sni::None) = parse_hello(&handshake) {
            return result;
        }
    }
    parse_hello(&handshake)
}

fn parse_hello(h: &[u8]) -> Sni {
    let mut c = Cursor::new(h);
    let (Some(kind), Some(len)) = (c.u8(), c.u24()) else {
        return Sni::NeedMore;
    };
    if kind != 1 {
        return Sni::None;
    }
    let Some(body) = c.take(len) else {
        return Sni::NeedMore;
    };
    let mut c = Cursor::new(body);
    let parsed = (|| {
        c.take(2 + 32)?; // version, random
        let sid = c.u8()?;
        c.take(usize::from(sid))?;
        let suites = c.u16()?;
        c.take(usize::from(suites))?;
        let comp = c.u8()?;
        c.take(usize::from(comp))?;
        let ext_len = c.u16()?;
        let mut e = Cursor::new(c.take(usize::from(ext_len))?);
        while let (Some(t), Some(l)) = (e.u16(), e.u16()) {
            let data = e.take(usize::from(l))?;
            if t == 0 {
                let mut s = Cursor::new(data);
                s.u16()?;
                if s.u8()? == 0 {
                    let n = s.u16()?;
                    let name = s.take(usize::from(n))?;
                    return Some(Some(String::from_utf8_lossy(name).to_ascii_lowercase()));
                }
            }
        }
        Some(None)
    })();
    match parsed {
        Some(Some(name)) => Sni::Found(name),
        _ => Sni::None,
    }
}

/// A QUIC long-header Initial packet of version 1 or 2.
pub fn is_quic_initial(d: &[u8]) -> bool {
    if d.len() < 7 || d[0] & 0xc0 != 0xc0 {
        return false;
    }
    let version = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
    match version {
        1 => d[0] & 0x30 == 0x00,
        0x6b33_43cf => d[0] & 0x30 == 0x10,
        _ => false,
    }
}

/// Collects a connection's QUIC Initial packets to find the server name in them.
/// Decrypting them is not done yet: flows are marked encrypted and named by DNS.
#[derive(Debug, Default)]
pub struct QuicSni;

impl QuicSni {
    pub fn push(&mut self, _datagram: &[u8]) -> Option<String> {
        None
    }
}

/// A readable part of an HTTP request.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Host(String),
    Text(Where, Vec<u8>),
}

/// An HTTP/1 request stream from client to server; requests come out as pieces.
#[derive(Debug)]
pub struct HttpStream {
    buf: Vec<u8>,
    state: State,
    /// Bytes of each request's body kept for scanning.
    limit: usize,
}

#[derive(Debug)]
enum State {
    Head,
    Body(Body),
    /// Not HTTP (any more): nothing more is read.
    Done,
}

#[derive(Debug)]
struct Body {
    remaining: Framing,
    kept: Vec<u8>,
    encoding: Option<String>,
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    /// Chunked: bytes left in the current chunk, or None when a size line is next.
    Chunked(Option<u64>),
}

const MAX_HEAD: usize = 64 * 1024;
/// Decompressed bodies are cut here (zip bombs).
const MAX_DECODED: u64 = 1 << 20;

impl HttpStream {
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            state: State::Head,
            limit,
        }
    }

    /// Takes the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Piece>) {
        self.buf.extend_from_slice(bytes);
        loop {
            match &mut self.state {
                State::Done => {
                    self.buf.clear();
                    return;
                }
                State::Head => {
                    let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                        if self.buf.len() > MAX_HEAD {
                            self.state = State::Done;
                        }
                        return;
                    };
                    let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                    match parse_head(&head, out) {
                        Some(body) => self.state = State::Body(body),
                        None => self.state = State::Done,
                    }
                }
                State::Body(body) => {
                    let complete = body.feed(&mut self.buf, self.limit);
                    if !complete {
                        return;
                    }
                    let State::Body(body) = std::mem::replace(&mut self.state, State::Head) else {
                        return;
                    };
                    body.finish(self.limit, out);
                }
            }
        }
    }
}

/// The name in a Host header, without port or IPv6 brackets.
fn host_name(value: &str) -> String {
    let host = match value.rsplit_once(':') {
        Some((h, port))
            if !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') =>
        {
            h
        }
        _ => value,
    };
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Emits the request line and headers; returns how the body is framed.
fn parse_head(head: &[u8], out: &mut Vec<Piece>) -> Option<Body> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request = lines.next()?;
    let mut parts = request.split(' ');
    let (_method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    // The Host header first, so that findings in the URL already carry the name.
    let host = text.split("\r\n").skip(1).find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| host_name(value.trim()))
    });
    if let Some(host) = host {
        out.push(Piece::Host(host));
    }
    out.push(Piece::Text(Where::Url, target.as_bytes().to_vec()));
    let mut framing = Framing::Length(0);
    let mut encoding = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "cookie" => out.push(Piece::Text(Where::Cookie, value.as_bytes().to_vec())),
            "content-length" => framing = Framing::Length(value.parse().ok()?),
            "transfer-encoding" if value.to_ascii_lowercase().contains("chunked") => {
                framing = Framing::Chunked(None)
            }
            "content-encoding" => encoding = Some(value.to_ascii_lowercase()),
            _ => {}
        }
        // Every header value may carry identifiers (User-Agent, custom X- headers).
        if name != "cookie" && name != "host" {
            out.push(Piece::Text(Where::Header, line.as_bytes().to_vec()));
        }
    }
    Some(Body {
        remaining: framing,
        kept: Vec::new(),
        encoding,
    })
}

fn keep(kept: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let room = limit.saturating_sub(kept.len());
    kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

impl Body {
    /// Consumes body bytes from `buf`; true when the body is complete.
    fn feed(&mut self, buf: &mut Vec<u8>, limit: usize) -> bool {
        loop {
            match &mut self.remaining {
                Framing::Length(0) => return true,
                Framing::Length(n) => {
                    let take = (*n).min(buf.len() as u64) as usize;
                    keep(&mut self.kept, &buf[..take], limit);
                    buf.drain(..take);
                    *n -= take as u64;
                    return *n == 0;
                }
                Framing::Chunked(None) => {
                    let Some(end) = find(buf, b"\r\n") else {
                        return false;
                    };
                    let line = String::from_utf8_lossy(&buf[..end]).to_string();
                    buf.drain(..end + 2);
                    let size = line.split(';').next().unwrap_or("").trim();
                    let Ok(size) = u64::from_str_radix(size, 16) else {
                        return true; // broken framing: stop here
                    };
                    if size == 0 {
                        // Trailers end with an empty line.
                        if let Some(end) = find(buf, b"\r\n") {
                            buf.drain(..end + 2);
                        }
                        return true;
                    }
                    self.remaining = Framing::Chunked(Some(size));
                }
                Framing::Chunked(Some(n)) => {
                    let take = (*n).min(buf.len() as u64) as usize;
                    keep(&mut self.kept, &buf[..take], limit);
                    buf.drain(..take);
                    *n -= take as u64;
                    if *n > 0 {
                        return false;
                    }
                    if buf.len() < 2 {
                        return false;
                    }
                    buf.drain(..2);
                    self.remaining = Framing::Chunked(None);
                }
            }
        }
    }

    fn finish(self, limit: usize, out: &mut Vec<Piece>) {
        let mut body = self.kept;
        if let Some(encoding) = &self.encoding {
            let mut decoded = Vec::new();
            let ok = match encoding.as_str() {
                "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&body[..])
                    .take(MAX_DECODED)
                    .read_to_end(&mut decoded)
                    .is_ok(),
                "deflate" => {
                    flate2::read::ZlibDecoder::new(&body[..])
                        .take(MAX_DECODED)
                        .read_to_end(&mut decoded)
                        .is_ok()
                        || {
                            decoded.clear();
                            flate2::read::DeflateDecoder::new(&body[..])
                                .take(MAX_DECODED)
                                .read_to_end(&mut decoded)
                                .is_ok()
                        }
                }
                "br" => brotli_decompressor::Decompressor::new(&body[..], 4096)
                    .take(MAX_DECODED)
                    .read_to_end(&mut decoded)
                    .is_ok(),
                _ => false,
            };
            // A cut-off body decodes partly; what came out is still worth scanning.
            if ok || !decoded.is_empty() {
                body = decoded;
            }
        }
        body.truncate(limit);
        if !body.is_empty() {
            out.push(Piece::Text(Where::Body, body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns_response() -> Vec<u8> {
        // Response for api.account.xiaomi.com: CNAME to a.b, then A 10.201.0.2.
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        for label in ["api", "account", "xiaomi", "com"] {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        // CNAME, name = pointer to the question (offset 12)
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 5, 1, b'a', 1, b'b', 0]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 201, 0, 2]);
        m
    }

    #[test]
    fn dns_answers_name_addresses_after_the_question() {
        let names = dns_names(&dns_response());
        assert_eq!(
            names,
            vec![(
                "10.201.0.2".parse().unwrap(),
                "api.account.xiaomi.com".to_string()
            )]
        );
    }

    #[test]
    fn every_prefix_of_a_dns_response_is_survived() {
        let full = dns_response();
        for n in 0..full.len() {
            let _ = dns_names(&full[..n]);
        }
    }

    #[test]
    fn a_compression_loop_ends() {
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(dns_names(&m).is_empty());
    }

    fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let name = sni.as_bytes();
        let list_len = 3 + name.len();
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn the_server_name_comes_out_of_a_client_hello_and_prefixes_need_more() {
        let hello = client_hello("API.account.xiaomi.com");
        assert_eq!(
            client_hello_sni(&hello),
            Sni::Found("api.account.xiaomi.com".into())
        );
        for n in 0..hello.len() {
            assert_eq!(client_hello_sni(&hello[..n]), Sni::NeedMore, "prefix {n}");
        }
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1\r\n"), Sni::None);
    }

    fn pieces(stream: &[u8], split: usize) -> Vec<Piece> {
        let mut h = HttpStream::new(64 * 1024);
        let mut out = Vec::new();
        h.push(&stream[..split], &mut out);
        h.push(&stream[split..], &mut out);
        out
    }

    #[test]
    fn http_requests_on_one_connection_yield_url_headers_cookies_and_bodies() {
        let stream = b"GET /pass/user@id?type=MXPH&externalId=13800138000 HTTP/1.1\r\nHost: api.account.xiaomi.com\r\nCookie: deviceId=abc\r\n\r\n\
POST /up HTTP/1.1\r\nHost: api.account.xiaomi.com:80\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        for split in [0, 10, 70, 120, stream.len()] {
            let out = pieces(stream, split);
            assert!(out.contains(&Piece::Host("api.account.xiaomi.com".into())));
            assert!(out.contains(&Piece::Text(
                Where::Url,
                b"/pass/user@id?type=MXPH&externalId=13800138000".to_vec()
            )));
            assert!(out.contains(&Piece::Text(Where::Cookie, b"deviceId=abc".to_vec())));
            assert!(
                out.contains(&Piece::Text(Where::Body, b"hello world".to_vec())),
                "{out:?}"
            );
        }
    }

    #[test]
    fn gzip_bodies_are_decoded() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"imei\":\"861234567890123\"}").unwrap();
        let body = gz.finish().unwrap();
        let mut stream = format!(
            "POST /track HTTP/1.1\r\nHost: t.example\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        stream.extend_from_slice(&body);
        let out = pieces(&stream, 30);
        assert!(out.contains(&Piece::Text(
            Where::Body,
            b"{\"imei\":\"861234567890123\"}".to_vec()
        )));
    }

    #[test]
    fn quic_initials_are_told_from_short_headers() {
        assert!(is_quic_initial(&[0xc3, 0, 0, 0, 1, 8, 0]));
        assert!(!is_quic_initial(&[0x43, 0, 0, 0, 1, 8, 0]));
        assert!(
            !is_quic_initial(&[0xe3, 0, 0, 0, 1, 8, 0]),
            "a handshake packet"
        );
    }
}
