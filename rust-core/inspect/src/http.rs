//! HTTP/1.x requests from a client-to-server byte stream (RFC 9112), for finding
//! identifiers in them: request target, headers, cookies and the body, with the body
//! de-chunked, decompressed (gzip, deflate, br, zstd) and split into form fields or multipart
//! parts.
//!
//! [`RequestParser`] is sans-IO and incremental: [`RequestParser::push`] bytes as they
//! arrive, take finished requests with [`RequestParser::next_request`]. Kept-alive
//! connections yield one request after another. Memory stays bounded: a header block
//! over [`Config::max_header_bytes`] is an error, body bytes beyond
//! [`Config::max_body_bytes`] are counted but not kept, and decompression stops at
//! [`Config::max_decoded_bytes`] (zip bombs), with `truncated` set on the body.

use std::collections::VecDeque;
use std::io::Read;

use memchr::{memchr, memmem};

use crate::text;

/// Limits for one connection's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest request line plus header block (also the trailer block).
    pub max_header_bytes: usize,
    /// Most header fields in one block.
    pub max_headers: usize,
    /// Body bytes kept per request as they came off the wire (after de-chunking).
    pub max_body_bytes: usize,
    /// Body bytes kept after content decoding.
    pub max_decoded_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_header_bytes: 64 * 1024,
            max_headers: 256,
            max_body_bytes: 1024 * 1024,
            max_decoded_bytes: 1024 * 1024,
        }
    }
}

/// Why the stream stopped being readable as HTTP/1.x requests. After an error the
/// parser ignores the rest of the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("not an HTTP/1.x request stream")]
    NotHttp1,
    #[error("request header block is larger than the limit")]
    HeaderTooLarge,
    #[error("request has more header fields than the limit")]
    TooManyHeaders,
    #[error("HTTP request is malformed: {0}")]
    Malformed(&'static str),
}

/// A name and a value: a header field, query parameter, cookie or form field. Values
/// are bytes because the wire allows any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: Vec<u8>,
}

impl Field {
    pub(crate) fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Field {
        Field {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The value as text, invalid UTF-8 replaced.
    pub fn value_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
    /// Read from HTTP/2 frames ([`crate::http2`]).
    Http2,
}

/// What happened to the Content-Encoding of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoding {
    /// No content coding: `data` is the body as sent.
    Identity,
    /// All codings removed.
    Decoded,
    /// A coding failed part-way; `data` holds what decoded before the failure.
    Failed(&'static str),
    /// A coding we do not know (e.g. compress); `data` is the body as sent.
    Unsupported(String),
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub headers: Vec<Field>,
    pub data: Vec<u8>,
}

/// The body split by its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyParts {
    /// JSON, text, binary or empty: see `Body::data`.
    Raw,
    /// `application/x-www-form-urlencoded`, names and values percent-decoded.
    Form(Vec<Field>),
    /// `multipart/form-data`.
    Multipart(Vec<Part>),
}

/// A request body after transfer and content decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Body bytes on the wire (after de-chunking), kept or not.
    pub wire_len: u64,
    /// The decoded body, at most `max_decoded_bytes`.
    pub data: Vec<u8>,
    /// A limit cut the body short (wire bytes not kept, decoded output capped, or the
    /// stream ended early).
    pub truncated: bool,
    pub content_type: Option<String>,
    /// Content codings as listed in Content-Encoding (and Transfer-Encoding before
    /// `chunked`), lower-case.
    pub codings: Vec<String>,
    pub decoding: Decoding,
    pub parts: BodyParts,
}

/// One HTTP/1.x request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request-target as sent (origin-form `/path?query`, or absolute-form).
    pub target: String,
    /// Path part of the target, not decoded.
    pub path: String,
    /// Query parameters in order, percent-decoded (`+` as space).
    pub query: Vec<Field>,
    pub version: Version,
    /// Header fields in order, names lower-case, values trimmed.
    pub headers: Vec<Field>,
    /// Host from the Host header (or an absolute-form target), lower-case, port removed.
    pub host: Option<String>,
    /// Cookies from every Cookie header, values as sent.
    pub cookies: Vec<Field>,
    pub body: Body,
    /// Trailer fields after a chunked body.
    pub trailers: Vec<Field>,
}

/// Where a piece of a request came from; a detector reports it as `where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    Url,
    Header,
    Cookie,
    Body,
}

/// A piece of request text to scan, with its origin and (when it has one) its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    pub location: Location,
    pub name: Option<&'a str>,
    pub value: &'a [u8],
}

impl Request {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&Field> {
        self.headers.iter().find(|h| h.name == name)
    }

    /// Everything a detector should scan, each piece once, in the form it was sent
    /// (percent- and base64-encodings left for the detector to recognise): the whole
    /// request target, each header value except Cookie, each cookie value, each trailer,
    /// and the decoded body (per part for multipart bodies, whose part headers are not
    /// included).
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        let mut out = vec![Piece {
            location: Location::Url,
            name: None,
            value: self.target.as_bytes(),
        }];
        for h in self.headers.iter().chain(&self.trailers) {
            if h.name != "cookie" {
                out.push(Piece {
                    location: Location::Header,
                    name: Some(&h.name),
                    value: &h.value,
                });
            }
        }
        for c in &self.cookies {
            out.push(Piece {
                location: Location::Cookie,
                name: Some(&c.name),
                value: &c.value,
            });
        }
        out.extend(self.body.texts().into_iter().map(|(name, value)| Piece {
            location: Location::Body,
            name,
            value,
        }));
        out
    }
}

impl Body {
    /// What a detector should scan of the body: each part of a multipart body (its
    /// name beside it, part headers left out), else the decoded bytes; nothing if empty.
    pub fn texts(&self) -> Vec<(Option<&str>, &[u8])> {
        match &self.parts {
            BodyParts::Multipart(parts) => parts
                .iter()
                .map(|p| (p.name.as_deref(), &p.data[..]))
                .collect(),
            _ if !self.data.is_empty() => vec![(None, &self.data[..])],
            _ => Vec::new(),
        }
    }
}

/// Longest chunk-size line (with extensions) we accept.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

#[derive(Debug)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunk),
    /// After CONNECT or an Upgrade: the rest is not HTTP/1.
    Opaque,
    Failed(HttpError),
}

/// A request whose body is still arriving.
#[derive(Debug)]
struct Partial {
    req: Request,
    raw: Vec<u8>,
    trailer_bytes: usize,
    opaque_after: bool,
}

/// Incremental parser for one direction (client to server) of one connection.
#[derive(Debug)]
pub struct RequestParser {
    config: Config,
    buf: Vec<u8>,
    /// Where to resume looking for the end of a header block.
    scan_from: usize,
    state: State,
    partial: Option<Partial>,
    done: VecDeque<Request>,
    /// Bytes after a CONNECT or Upgrade request, kept for whoever follows the switch
    /// (at most `max_header_bytes`; `None` once more came).
    held: Option<Vec<u8>>,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl RequestParser {
    pub fn new(config: Config) -> Self {
        RequestParser {
            config,
            buf: Vec::new(),
            scan_from: 0,
            state: State::Head,
            partial: None,
            done: VecDeque::new(),
            held: Some(Vec::new()),
        }
    }

    /// Feeds the next bytes of the stream. Requests completed by them become available
    /// from [`RequestParser::next_request`], also when an error follows them.
    pub fn push(&mut self, data: &[u8]) -> Result<(), HttpError> {
        match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Opaque => {
                self.hold(data);
                return Ok(());
            }
            _ => {}
        }
        self.buf.extend_from_slice(data);
        let mut at = 0;
        let result = self.run(&mut at);
        self.buf.drain(..at.min(self.buf.len()));
        self.scan_from = self.scan_from.saturating_sub(at);
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
            self.buf = Vec::new();
            self.partial = None;
        }
        result
    }

    /// The next complete request, oldest first.
    pub fn next_request(&mut self) -> Option<Request> {
        self.done.pop_front()
    }

    /// The stream ended: a request whose body was still arriving is returned with
    /// `truncated` set. Returns `None` when nothing was pending.
    pub fn finish(&mut self) -> Option<Request> {
        let partial = self.partial.take()?;
        self.state = State::Head;
        let mut req = self.complete(partial);
        req.body.truncated = true;
        Some(req)
    }

    /// True once CONNECT or a protocol upgrade made the rest of the stream opaque.
    pub fn is_opaque(&self) -> bool {
        matches!(self.state, State::Opaque)
    }

    /// The bytes sent after a CONNECT or Upgrade request so far (the start of the other
    /// protocol, once the server agreed), taken; `None` if more than
    /// `max_header_bytes` came and some were dropped.
    pub fn take_held(&mut self) -> Option<Vec<u8>> {
        let held = self.held.replace(Vec::new());
        if held.is_none() {
            self.held = None;
        }
        held
    }

    /// The server refused the switch: what was held, and what comes next, is HTTP again.
    pub fn resume(&mut self) -> Result<(), HttpError> {
        if !self.is_opaque() {
            return Ok(());
        }
        self.state = State::Head;
        match self.held.replace(Vec::new()) {
            Some(held) => self.push(&held),
            None => {
                let e = HttpError::Malformed("too much sent before the server answered");
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn hold(&mut self, data: &[u8]) {
        if let Some(held) = &mut self.held {
            if held.len() + data.len() > self.config.max_header_bytes {
                self.held = None;
            } else {
                held.extend_from_slice(data);
            }
        }
    }

    fn run(&mut self, at: &mut usize) -> Result<(), HttpError> {
        loop {
            let rest = &self.buf[*at..];
            match &mut self.state {
                State::Failed(_) => {
                    *at = self.buf.len();
                    return Ok(());
                }
                State::Opaque => {
                    let rest = std::mem::take(&mut self.buf);
                    self.hold(&rest[*at..]);
                    *at = 0;
                    self.scan_from = 0;
                    return Ok(());
                }
                State::Head => {
                    // Clients may send stray CRLFs between requests (RFC 9112 2.2).
                    let skip = rest
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    if skip > 0 {
                        *at += skip;
                        self.scan_from = self.scan_from.max(*at);
                        continue;
                    }
                    if rest.is_empty() {
                        return Ok(());
                    }
                    let from = self.scan_from.saturating_sub(*at);
                    let Some(end) = find_head_end(rest, from) else {
                        if rest.len() > self.config.max_header_bytes {
                            return Err(HttpError::HeaderTooLarge);
                        }
                        check_request_line_prefix(rest)?;
                        self.scan_from = self.buf.len().saturating_sub(3);
                        return Ok(());
                    };
                    if end > self.config.max_header_bytes {
                        return Err(HttpError::HeaderTooLarge);
                    }
                    let (req, framing) = parse_head(&rest[..end], &self.config)?;
                    *at += end;
                    self.scan_from = *at;
                    let opaque_after = req.method == "CONNECT"
                        || (req.header("upgrade").is_some()
                            && req
                                .header("connection")
                                .is_some_and(|c| has_token(&c.value, "upgrade")));
                    let partial = Partial {
                        req,
                        raw: Vec::new(),
                        trailer_bytes: 0,
                        opaque_after,
                    };
                    self.state = match framing {
                        Framing::Chunked => State::Chunked(Chunk::Size),
                        Framing::Length(0) => {
                            self.finish_request(partial);
                            continue;
                        }
                        Framing::Length(n) => State::Length(n),
                    };
                    self.partial = Some(partial);
                }
                State::Length(remaining) => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    *remaining -= n as u64;
                    let done = *remaining == 0;
                    let max = self.config.max_body_bytes;
                    if let Some(p) = self.partial.as_mut() {
                        keep(p, &rest[..n], max);
                    }
                    *at += n;
                    if !done {
                        return Ok(());
                    }
                    if let Some(p) = self.partial.take() {
                        self.finish_request(p);
                    }
                }
                State::Chunked(chunk) => {
                    let Some(p) = self.partial.as_mut() else {
                        return Err(HttpError::Malformed("chunked body without a request"));
                    };
                    match chunk {
                        Chunk::Size => {
                            let Some(nl) = memchr(b'\n', rest) else {
                                if rest.len() > MAX_CHUNK_LINE {
                                    return Err(HttpError::Malformed("chunk size line too long"));
                                }
                                return Ok(());
                            };
                            if nl > MAX_CHUNK_LINE {
                                return Err(HttpError::Malformed("chunk size line too long"));
                            }
                            let size = chunk_size(&rest[..nl])?;
                            *at += nl + 1;
                            *chunk = if size == 0 {
                                Chunk::Trailers
                            } else {
                                Chunk::Data(size)
                            };
                        }
                        Chunk::Data(remaining) => {
                            if rest.is_empty() {
                                return Ok(());
                            }
                            let n = usize::try_from(*remaining)
                                .unwrap_or(usize::MAX)
                                .min(rest.len());
                            *remaining -= n as u64;
                            keep(p, &rest[..n], self.config.max_body_bytes);
                            *at += n;
                            if *remaining == 0 {
                                *chunk = Chunk::DataEnd;
                            }
                        }
                        Chunk::DataEnd => match rest {
                            [b'\n', ..] => {
                                *at += 1;
                                *chunk = Chunk::Size;
                            }
                            [b'\r', b'\n', ..] => {
                                *at += 2;
                                *chunk = Chunk::Size;
                            }
                            [] | [b'\r'] => return Ok(()),
                            _ => return Err(HttpError::Malformed("chunk not followed by CRLF")),
                        },
                        Chunk::Trailers => {
                            let Some(nl) = memchr(b'\n', rest) else {
                                if p.trailer_bytes + rest.len() > self.config.max_header_bytes {
                                    return Err(HttpError::HeaderTooLarge);
                                }
                                return Ok(());
                            };
                            p.trailer_bytes += nl + 1;
                            if p.trailer_bytes > self.config.max_header_bytes {
                                return Err(HttpError::HeaderTooLarge);
                            }
                            let line = trim_cr(&rest[..nl]);
                            *at += nl + 1;
                            if line.is_empty() {
                                if let Some(p) = self.partial.take() {
                                    self.finish_request(p);
                                }
                                continue;
                            }
                            if p.req.trailers.len() >= self.config.max_headers {
                                return Err(HttpError::TooManyHeaders);
                            }
                            p.req.trailers.push(parse_field(line)?);
                        }
                    }
                }
            }
        }
    }

    fn finish_request(&mut self, partial: Partial) {
        let opaque = partial.opaque_after;
        let req = self.complete(partial);
        self.done.push_back(req);
        self.state = if opaque { State::Opaque } else { State::Head };
    }

    /// Decodes the body and splits it by media type.
    fn complete(&self, partial: Partial) -> Request {
        let Partial { mut req, raw, .. } = partial;
        let body = std::mem::replace(&mut req.body, empty_body(None, Vec::new()));
        req.body = finished_body(
            raw,
            body.wire_len,
            body.truncated,
            body.codings,
            body.content_type,
            self.config.max_decoded_bytes,
        );
        req
    }
}

fn empty_body(content_type: Option<String>, codings: Vec<String>) -> Body {
    Body {
        wire_len: 0,
        data: Vec::new(),
        truncated: false,
        content_type,
        codings,
        decoding: Decoding::Identity,
        parts: BodyParts::Raw,
    }
}

/// A body from its bytes as sent (`raw`, of `wire_len` on the wire): content codings
/// removed (output capped at `cap`) and split by its media type.
pub(crate) fn finished_body(
    raw: Vec<u8>,
    wire_len: u64,
    truncated: bool,
    codings: Vec<String>,
    content_type: Option<String>,
    cap: usize,
) -> Body {
    let (mut data, decoding, capped) = decode_body(raw, &codings, cap);
    if data.len() > cap {
        data.truncate(cap);
    }
    let parts = match content_type.as_deref() {
        Some(ct) if media_type(ct) == "application/x-www-form-urlencoded" => {
            BodyParts::Form(parse_form(&data))
        }
        Some(ct) if media_type(ct) == "multipart/form-data" => match param(ct, "boundary") {
            Some(b) if !b.is_empty() => BodyParts::Multipart(parse_multipart(&data, b.as_bytes())),
            _ => BodyParts::Raw,
        },
        _ => BodyParts::Raw,
    };
    Body {
        wire_len,
        data,
        truncated: truncated || capped,
        content_type,
        codings,
        decoding,
        parts,
    }
}

/// A request from fields already split out (HTTP/2): the host from `authority` (a
/// port removed), the query and cookies parsed as for HTTP/1.
pub(crate) fn request_from_parts(
    method: String,
    target: String,
    version: Version,
    headers: Vec<Field>,
    authority: Option<Vec<u8>>,
    body: Body,
    trailers: Vec<Field>,
) -> Request {
    let (path, query) = split_target(&target);
    let host = authority
        .map(|a| host_without_port(trim_ows(&a)))
        .filter(|h| !h.is_empty());
    let cookies = headers
        .iter()
        .filter(|h| h.name == "cookie")
        .flat_map(|h| parse_cookies(&h.value))
        .collect();
    Request {
        method,
        path: path.to_string(),
        query: query.map(|q| parse_form(q.as_bytes())).unwrap_or_default(),
        target: target.clone(),
        version,
        headers,
        host,
        cookies,
        body,
        trailers,
    }
}

/// Appends body bytes to what is kept, up to `max`.
fn keep(p: &mut Partial, bytes: &[u8], max: usize) {
    p.req.body.wire_len += bytes.len() as u64;
    let room = max.saturating_sub(p.raw.len());
    if bytes.len() > room {
        p.req.body.truncated = true;
    }
    p.raw.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
}

/// Offset just past the empty line ending a header block, if present; `from` is where
/// earlier calls stopped looking.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from.min(buf.len());
    while let Some(off) = memchr(b'\n', &buf[i..]) {
        let nl = i + off;
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return Some(nl + 2),
            Some([b'\r', b'\n', ..]) => return Some(nl + 3),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

pub(crate) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Rejects early a stream that cannot be HTTP/1 (a TLS record, binary data), so callers
/// need not wait for 64 KiB of garbage.
fn check_request_line_prefix(rest: &[u8]) -> Result<(), HttpError> {
    // The method (at most 32 bytes) and its space decide; looking further would make
    // byte-by-byte feeding of a long request line quadratic.
    let start = &rest[..rest.len().min(34)];
    let line = &start[..memchr(b'\n', start).unwrap_or(start.len())];
    let method_len = line.iter().take_while(|&&b| is_tchar(b)).count();
    match line.get(method_len) {
        None if method_len <= 32 => Ok(()),
        Some(b' ') if method_len > 0 && method_len <= 32 => Ok(()),
        _ => Err(HttpError::NotHttp1),
    }
}

fn parse_head(head: &[u8], config: &Config) -> Result<(Request, Framing), HttpError> {
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::NotHttp1);
    };
    if method.is_empty() || method.len() > 32 || !method.iter().all(|&b| is_tchar(b)) {
        return Err(HttpError::NotHttp1);
    }
    let version = match version {
        b"HTTP/1.1" => Version::Http11,
        b"HTTP/1.0" => Version::Http10,
        _ => return Err(HttpError::NotHttp1),
    };
    if target.is_empty() || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(HttpError::Malformed("request target"));
    }
    let target = String::from_utf8_lossy(target).into_owned();
    let mut headers: Vec<Field> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let [b' ' | b'\t', ..] = line {
            // obs-fold: a continuation line joins the previous value with a space.
            let prev = headers
                .last_mut()
                .ok_or(HttpError::Malformed("continuation line before any header"))?;
            prev.value.push(b' ');
            prev.value.extend_from_slice(trim_ows(line));
            continue;
        }
        if headers.len() >= config.max_headers {
            return Err(HttpError::TooManyHeaders);
        }
        headers.push(parse_field(line)?);
    }

    let (path, query) = split_target(&target);
    let host = headers
        .iter()
        .find(|h| h.name == "host")
        .map(|h| host_without_port(trim_ows(&h.value)))
        .or_else(|| absolute_authority(&target).map(|a| host_without_port(a.as_bytes())))
        .filter(|h| !h.is_empty());
    let cookies = headers
        .iter()
        .filter(|h| h.name == "cookie")
        .flat_map(|h| parse_cookies(&h.value))
        .collect();

    let mut codings: Vec<String> = Vec::new();
    let framing = match list_values(&headers, "transfer-encoding") {
        te if te.is_empty() => {
            let mut length = None;
            for h in headers.iter().filter(|h| h.name == "content-length") {
                for v in h.value.split(|&b| b == b',') {
                    let n =
                        parse_decimal(trim_ows(v)).ok_or(HttpError::Malformed("content-length"))?;
                    if length.is_some_and(|l| l != n) {
                        return Err(HttpError::Malformed("conflicting content-length"));
                    }
                    length = Some(n);
                }
            }
            Framing::Length(length.unwrap_or(0))
        }
        mut te => {
            if te.pop().as_deref() != Some("chunked") {
                return Err(HttpError::Malformed(
                    "transfer-encoding does not end in chunked",
                ));
            }
            te.retain(|c| c != "identity");
            codings.extend(te);
            Framing::Chunked
        }
    };
    codings.extend(content_codings(&headers));
    let content_type = content_type(&headers);

    let req = Request {
        method: String::from_utf8_lossy(method).into_owned(),
        path: path.to_string(),
        query: query.map(|q| parse_form(q.as_bytes())).unwrap_or_default(),
        target: target.clone(),
        version,
        host,
        cookies,
        headers,
        body: empty_body(content_type, codings),
        trailers: Vec::new(),
    };
    Ok((req, framing))
}

/// `name: value` with the name lower-cased and the value trimmed.
pub(crate) fn parse_field(line: &[u8]) -> Result<Field, HttpError> {
    let colon = memchr(b':', line).ok_or(HttpError::Malformed("header line without colon"))?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(HttpError::Malformed("header name"));
    }
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    Ok(Field::new(name, trim_ows(&line[colon + 1..])))
}

/// The content codings of a message (Content-Encoding, `identity` left out), in the
/// order they were applied.
pub(crate) fn content_codings(headers: &[Field]) -> Vec<String> {
    let mut codings = list_values(headers, "content-encoding");
    codings.retain(|c| c != "identity");
    codings
}

/// The Content-Type header's value, as text.
pub(crate) fn content_type(headers: &[Field]) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name == "content-type")
        .map(|h| h.value_str().into_owned())
}

/// Comma-separated tokens of every header with this name, lower-case.
pub(crate) fn list_values(headers: &[Field], name: &str) -> Vec<String> {
    headers
        .iter()
        .filter(|h| h.name == name)
        .flat_map(|h| h.value.split(|&b| b == b','))
        .map(|v| String::from_utf8_lossy(trim_ows(v)).to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|v| trim_ows(v).eq_ignore_ascii_case(token.as_bytes()))
}

pub(crate) fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

pub(crate) fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let line = trim_cr(line);
    let digits = &line[..memchr(b';', line).unwrap_or(line.len())];
    let digits = trim_ows(digits);
    if digits.is_empty() || digits.len() > 15 {
        return Err(HttpError::Malformed("chunk size"));
    }
    let mut n = 0u64;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(HttpError::Malformed("chunk size")),
        };
        n = n << 4 | u64::from(v);
    }
    Ok(n)
}

/// Path and query of a request target (origin-form or absolute-form).
fn split_target(target: &str) -> (&str, Option<&str>) {
    let target = target.split('#').next().unwrap_or(target);
    let after_authority = match target.find("://") {
        Some(i) => {
            let rest = &target[i + 3..];
            &rest[rest.find(['/', '?']).unwrap_or(rest.len())..]
        }
        None => target,
    };
    match after_authority.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after_authority, None),
    }
}

fn absolute_authority(target: &str) -> Option<&str> {
    let rest = &target[target.find("://")? + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    Some(authority.rsplit('@').next().unwrap_or(authority))
}

/// `Example.com:8080` -> `example.com`; `[::1]:80` -> `[::1]`.
fn host_without_port(v: &[u8]) -> String {
    let host = if v.first() == Some(&b'[') {
        match memchr(b']', v) {
            Some(i) => &v[..=i],
            None => v,
        }
    } else {
        match memchr(b':', v) {
            Some(i) => &v[..i],
            None => v,
        }
    };
    if host.first() == Some(&b'[') {
        String::from_utf8_lossy(host).to_ascii_lowercase()
    } else {
        text::host(host)
    }
}

/// `a=1; b=2` into fields; values as sent.
fn parse_cookies(v: &[u8]) -> Vec<Field> {
    v.split(|&b| b == b';')
        .map(trim_ows)
        .filter(|c| !c.is_empty())
        .map(|c| match memchr(b'=', c) {
            Some(i) => Field::new(
                String::from_utf8_lossy(trim_ows(&c[..i])).into_owned(),
                trim_ows(&c[i + 1..]),
            ),
            None => Field::new(String::new(), c),
        })
        .collect()
}

/// `application/x-www-form-urlencoded` (also a URL query): `&`-separated, percent- and
/// plus-decoded.
pub fn parse_form(data: &[u8]) -> Vec<Field> {
    data.split(|&b| b == b'&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = match memchr(b'=', kv) {
                Some(i) => (&kv[..i], &kv[i + 1..]),
                None => (kv, &b""[..]),
            };
            Field::new(
                String::from_utf8_lossy(&percent_decode(k)).into_owned(),
                percent_decode(v),
            )
        })
        .collect()
}

/// Percent-decoding with `+` as space; invalid escapes are kept as they are.
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(h), Some(l)) = (
                    s.get(i + 1).copied().and_then(hex),
                    s.get(i + 2).copied().and_then(hex),
                ) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The media type of a Content-Type value, lower-case, parameters dropped.
pub(crate) fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A parameter of a header value such as `multipart/form-data; boundary="x"`.
fn param(value: &str, name: &str) -> Option<String> {
    for p in value.split(';').skip(1) {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            return Some(v.to_string());
        }
    }
    None
}

/// Splits a `multipart/form-data` body (RFC 7578, RFC 2046 section 5.1). A body cut
/// short keeps its last part's bytes so far.
fn parse_multipart(data: &[u8], boundary: &[u8]) -> Vec<Part> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let finder = memmem::Finder::new(&delim);
    let mut parts = Vec::new();
    // The first delimiter may start the body or follow a preamble line.
    let Some(first) = finder.find(data) else {
        return parts;
    };
    let mut at = first + delim.len();
    loop {
        let rest = &data[at..];
        if rest.starts_with(b"--") || rest.is_empty() {
            break; // closing delimiter
        }
        // Transport padding, then the line break ending the delimiter line.
        let Some(nl) = memchr(b'\n', rest) else {
            break;
        };
        let part_start = at + nl + 1;
        let body = &data[part_start..];
        let (headers, content_start) = match find_head_end_at_start(body) {
            Some((h, c)) => (h, part_start + c),
            None => break,
        };
        let next = finder
            .find(&data[content_start..])
            .map(|i| content_start + i);
        let content_end = match next {
            Some(n) => {
                // The CRLF before the delimiter belongs to the delimiter.
                let mut e = n;
                if e > content_start && data[e - 1] == b'\n' {
                    e -= 1;
                    if e > content_start && data[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                e
            }
            None => data.len(),
        };
        let mut part = Part {
            name: None,
            filename: None,
            content_type: None,
            headers,
            data: data[content_start..content_end].to_vec(),
        };
        for h in &part.headers {
            let v = String::from_utf8_lossy(&h.value);
            match h.name.as_str() {
                "content-disposition" => {
                    part.name = param(&v, "name");
                    part.filename = param(&v, "filename");
                }
                "content-type" => part.content_type = Some(v.into_owned()),
                _ => {}
            }
        }
        parts.push(part);
        match next {
            Some(n) => at = n + delim.len(),
            None => break,
        }
    }
    parts
}

/// Part headers at the start of `body`: the fields and the offset of the content.
fn find_head_end_at_start(body: &[u8]) -> Option<(Vec<Field>, usize)> {
    if body.starts_with(b"\r\n") {
        return Some((Vec::new(), 2));
    }
    if body.first() == Some(&b'\n') {
        return Some((Vec::new(), 1));
    }
    let end = find_head_end(body, 0)?;
    let headers = body[..end]
        .split(|&b| b == b'\n')
        .map(trim_cr)
        .filter(|l| !l.is_empty())
        .filter_map(|l| parse_field(l).ok())
        .collect();
    Some((headers, end))
}

/// Removes content codings (last applied first). Returns the data, what happened, and
/// whether the output cap was hit.
fn decode_body(raw: Vec<u8>, codings: &[String], cap: usize) -> (Vec<u8>, Decoding, bool) {
    if codings.is_empty() {
        let capped = raw.len() > cap;
        return (raw, Decoding::Identity, capped);
    }
    let mut data = raw;
    let mut capped = false;
    for coding in codings.iter().rev() {
        let (out, failed) = match coding.as_str() {
            "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(&data[..]), cap),
            "deflate" => {
                // RFC 9110 says zlib; some servers and clients send raw deflate.
                let zlib = data.len() >= 2
                    && data[0] & 0x0f == 8
                    && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
                if zlib {
                    read_capped(flate2::read::ZlibDecoder::new(&data[..]), cap)
                } else {
                    read_capped(flate2::read::DeflateDecoder::new(&data[..]), cap)
                }
            }
            "br" => read_capped(brotli_decompressor::Decompressor::new(&data[..], 4096), cap),
            "zstd" => match ruzstd::decoding::StreamingDecoder::new(&data[..]) {
                Ok(decoder) => read_capped(decoder, cap),
                Err(_) => ((Vec::new(), false), Some("zstd frame header is invalid")),
            },
            other => return (data, Decoding::Unsupported(other.to_string()), capped),
        };
        data = out.0;
        capped |= out.1;
        if let Some(what) = failed {
            return (data, Decoding::Failed(what), capped);
        }
    }
    (data, Decoding::Decoded, capped)
}

type Capped = (Vec<u8>, bool);

/// Reads a decoder to its end or `cap` bytes, whichever comes first.
fn read_capped<R: Read>(reader: R, cap: usize) -> (Capped, Option<&'static str>) {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let result = reader.take(limit).read_to_end(&mut out);
    let capped = out.len() > cap;
    out.truncate(cap);
    let failed = match result {
        Ok(_) => None,
        // Output before the error is kept; `read_to_end` leaves it in `out`.
        Err(_) => Some("content decoding failed (corrupt or cut short)"),
    };
    ((out, capped), failed)
}

#[cfg(test)]
pub(crate) mod tests;
