//! HTTP/1.1 protocol switches: which requests ask for one (CONNECT, RFC 9110 section
//! 9.3.6; `Upgrade`, section 7.8, as WebSocket's handshake does, RFC 6455 section 4),
//! and the server's answers that turn the rest of the connection into another protocol.
//!
//! [`ResponseParser`] follows the server's side of a connection: it is told each request
//! in order ([`ResponseParser::expect`]), reads response heads and bodies (length,
//! chunked, or to the end), and reports what became of each request that asked to
//! switch. After a switch the bytes that follow are the other protocol's:
//! [`ResponseParser::take_rest`] hands them over and the parser reads no more.
//!
//! What the server sent comes out of [`ResponseParser::next_received`]: each head as it
//! is read, then its body de-chunked and decoded as request bodies are, at most
//! [`Config::max_body_bytes`] of it kept. Past that the body is stepped over: the caller
//! may skip its bytes unread ([`ResponseParser::skippable`]).

use std::collections::VecDeque;

use memchr::memchr;

use crate::http::{
    chunk_size, find_head_end, has_token, list_values, parse_decimal, parse_field, trim_cr,
    trim_ows, Body, Field, HttpError, Request, MAX_CHUNK_LINE,
};

mod kept;
mod streamed;

use kept::Kept;

/// What a request asks of its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// An ordinary request; `head`: a HEAD request, whose response has no body.
    Plain { head: bool },
    /// `CONNECT host:port`: a 2xx answer makes the connection a tunnel.
    Connect { authority: String },
    /// `Upgrade` (with `Connection: upgrade`) to these protocols, lower-case.
    Upgrade { protocols: Vec<String> },
}

impl Ask {
    pub fn of(request: &Request) -> Ask {
        if request.method.eq_ignore_ascii_case("CONNECT") {
            return Ask::Connect {
                authority: request.target.clone(),
            };
        }
        let upgrade = request
            .headers
            .iter()
            .any(|h| h.name == "connection" && has_token(&h.value, "upgrade"));
        let protocols = list_values(&request.headers, "upgrade");
        if upgrade && !protocols.is_empty() {
            return Ask::Upgrade { protocols };
        }
        Ask::Plain {
            head: request.method.eq_ignore_ascii_case("HEAD"),
        }
    }

    /// Whether it asks to leave HTTP.
    pub fn switches(&self) -> bool {
        !matches!(self, Ask::Plain { .. })
    }
}

/// A response's status and header fields (names lower-case, values trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub headers: Vec<Field>,
}

impl ResponseHead {
    /// The values of every header with this (lower-case) name.
    pub fn values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| &h.value[..])
            .collect()
    }
}

/// What the server made of a request that asked to switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 101 Switching Protocols: the rest is `protocol` (lower-case) both ways.
    Switched {
        protocol: String,
        head: ResponseHead,
    },
    /// A 2xx to CONNECT: the rest is a tunnel to `authority`.
    Tunnel {
        authority: String,
        head: ResponseHead,
    },
    /// Any other final answer: the connection stays HTTP.
    Refused { head: ResponseHead },
}

/// What the server sent, in order, for whoever looks inside responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A response head (interim ones too), as soon as it is read.
    Head(ResponseHead),
    /// The body of the latest head: whole, or as much as was kept (`truncated` set).
    Body(Body),
    /// A piece of a streamed body (server-sent events, JSON lines) as soon as it came,
    /// decoded: one event's data or other fields, one line, or a window of a longer
    /// record (windows overlap by [`Config::overlap`]).
    Part(Vec<u8>),
}

/// Default [`Config::overlap`]: three times the longest identifier value accepted (1 KiB,
/// an SMS text), as long as its percent-encoded or hex form can get.
pub const OVERLAP: usize = 3 * 1024 + 1024;

/// Limits for one connection's server side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest status line plus header block.
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// Requests remembered while their answers are awaited.
    pub max_pending: usize,
    /// Body bytes kept per response as sent (after de-chunking); 0 keeps none.
    pub max_body_bytes: usize,
    /// Body bytes kept per response after content decoding (a decompression bomb is
    /// cut here).
    pub max_decoded_bytes: usize,
    /// Bytes by which the windows of a streamed record overlap: at least the longest
    /// form of any value looked for, so that none is cut by every window.
    pub overlap: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_header_bytes: 64 * 1024,
            max_headers: 256,
            max_pending: 1024,
            max_body_bytes: 1024 * 1024,
            max_decoded_bytes: 1024 * 1024,
            overlap: OVERLAP,
        }
    }
}

#[derive(Debug)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunk),
    /// A body without a length: it runs to the end of the connection.
    UntilClose,
    /// The connection left HTTP; bytes from here on are kept for `take_rest`.
    Switched,
    Failed(HttpError),
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// Incremental reader of the server-to-client side of one HTTP/1.1 connection.
#[derive(Debug)]
pub struct ResponseParser {
    config: Config,
    asks: VecDeque<Ask>,
    buf: Vec<u8>,
    state: State,
    answers: VecDeque<Answer>,
    received: VecDeque<Received>,
    /// The current response's body while it is kept (`None`: not kept any more).
    kept: Option<Kept>,
    /// Body bytes of the current response read past what was kept.
    passed: u64,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl ResponseParser {
    pub fn new(config: Config) -> Self {
        ResponseParser {
            config,
            asks: VecDeque::new(),
            buf: Vec::new(),
            state: State::Head,
            answers: VecDeque::new(),
            received: VecDeque::new(),
            kept: None,
            passed: 0,
        }
    }

    /// The client sent a request; responses answer requests in order.
    pub fn expect(&mut self, ask: Ask) {
        if self.asks.len() < self.config.max_pending {
            self.asks.push_back(ask);
        }
    }

    /// Feeds the next bytes from the server.
    pub fn push(&mut self, data: &[u8]) -> Result<(), HttpError> {
        match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::UntilClose => {
                self.body_bytes(data);
                return Ok(());
            }
            _ => {}
        }
        // A head that began in an earlier push is still in `buf`, ahead of `data`. Body
        // bytes are stepped over where they lie: only what is left unfinished is copied.
        let carried = self.buf.len();
        let joined;
        let input: &[u8] = if carried == 0 {
            data
        } else {
            let mut b = std::mem::take(&mut self.buf);
            b.extend_from_slice(data);
            joined = b;
            &joined
        };
        let mut at = 0;
        let result = self.run(input, &mut at);
        // Kept: an unfinished head or chunk line, or after a switch all that follows it.
        self.buf = input[at.min(input.len())..].to_vec();
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// The next answer to a request that asked to switch, oldest first.
    pub fn next_answer(&mut self) -> Option<Answer> {
        self.answers.pop_front()
    }

    /// After a `Switched` or `Tunnel` answer: the server's bytes that followed it.
    pub fn take_rest(&mut self) -> Vec<u8> {
        match self.state {
            State::Switched => std::mem::take(&mut self.buf),
            _ => Vec::new(),
        }
    }

    /// The next head or body the server sent, oldest first.
    pub fn next_received(&mut self) -> Option<Received> {
        self.received.pop_front()
    }

    /// Body bytes of the current response read past what was kept of it: what a body in
    /// small chunks, whose chunk lines must be read, costs beyond its limit.
    pub fn passed_over(&self) -> u64 {
        self.passed
    }

    /// Whether the current response's body is still being kept.
    pub fn keeping(&self) -> bool {
        self.kept.is_some()
    }

    /// Body bytes that come next and need not be given to the parser: what
    /// [`Self::body_left`] says, once the body is no longer kept.
    pub fn skippable(&self) -> u64 {
        match self.kept {
            Some(_) => 0,
            None => self.body_left(),
        }
    }

    /// Body bytes that come next and can be stepped over unseen: the rest of a body of
    /// known length, or of the current chunk; 0 anywhere else (a head, a chunk line, a
    /// body that runs to the close, which has no end to resume at).
    pub fn body_left(&self) -> u64 {
        match self.state {
            State::Length(n) | State::Chunked(Chunk::Data(n)) => n,
            _ => 0,
        }
    }

    /// Steps over the next `n` body bytes without being given them (at most
    /// [`Self::body_left`]); the bytes pushed next are the ones after them.
    pub fn skip(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        // Bytes stepped over cannot be kept: a body still kept ends here, cut.
        self.end_body(true);
        match &mut self.state {
            State::Length(left) => {
                *left -= n.min(*left);
                if *left == 0 {
                    self.state = State::Head;
                }
            }
            State::Chunked(Chunk::Data(left)) => {
                *left -= n.min(*left);
                if *left == 0 {
                    self.state = State::Chunked(Chunk::DataEnd);
                }
            }
            _ => {}
        }
    }

    /// The stream ended: a body still being kept comes out as far as it came.
    pub fn finish(&mut self) {
        self.end_body(true);
    }

    /// Nothing after this can be followed: the server's bytes run to the close in a body
    /// without a length, left HTTP, or broke it.
    pub fn at_end(&self) -> bool {
        matches!(
            self.state,
            State::UntilClose | State::Switched | State::Failed(_)
        )
    }

    /// The bytes broke HTTP (or were lost): nothing more is parsed.
    pub fn failed(&self) -> bool {
        matches!(self.state, State::Failed(_))
    }

    /// Bytes of this direction were lost: no later response can be told apart.
    pub fn cut(&mut self) {
        // What came before the hole is sound: a body being kept comes out as it is.
        self.end_body(true);
        self.state = State::Failed(HttpError::Malformed("bytes of the responses were lost"));
        self.buf = Vec::new();
    }

    /// Body bytes as they come (de-chunked): kept while there is room, counted after.
    fn body_bytes(&mut self, bytes: &[u8]) {
        match &mut self.kept {
            Some(kept) => {
                if let Some(over) = kept.push(bytes, &self.config, &mut self.received) {
                    self.passed += over as u64;
                    self.end_body(true);
                }
            }
            None => self.passed += bytes.len() as u64,
        }
    }

    /// The current body ends (or stops being kept, `cut`): out it comes, decoded.
    fn end_body(&mut self, cut: bool) {
        if let Some(kept) = self.kept.take() {
            kept.finish(cut, self.config.max_decoded_bytes, &mut self.received);
        }
    }

    fn run(&mut self, input: &[u8], at: &mut usize) -> Result<(), HttpError> {
        loop {
            let rest = &input[*at..];
            match &mut self.state {
                State::Failed(_) | State::Switched => return Ok(()),
                State::UntilClose => {
                    self.body_bytes(rest);
                    *at = input.len();
                    return Ok(());
                }
                State::Head => {
                    // A stray CRLF between responses is tolerated, as between requests.
                    let skip = rest
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    *at += skip;
                    let rest = &rest[skip..];
                    if rest.is_empty() {
                        return Ok(());
                    }
                    if !b"HTTP/1.".starts_with(&rest[..rest.len().min(7)]) {
                        return Err(HttpError::Malformed("not an HTTP/1 status line"));
                    }
                    let Some(end) = find_head_end(rest, 0) else {
                        if rest.len() > self.config.max_header_bytes {
                            return Err(HttpError::HeaderTooLarge);
                        }
                        return Ok(());
                    };
                    if end > self.config.max_header_bytes {
                        return Err(HttpError::HeaderTooLarge);
                    }
                    let head = parse_head(&rest[..end], self.config.max_headers)?;
                    *at += end;
                    self.received.push_back(Received::Head(head.clone()));
                    self.passed = 0;
                    self.state = self.answer(head)?;
                    if matches!(self.state, State::Switched) {
                        return Ok(());
                    }
                }
                State::Length(remaining) => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    *remaining -= n as u64;
                    let done = *remaining == 0;
                    self.body_bytes(&rest[..n]);
                    *at += n;
                    if !done {
                        return Ok(());
                    }
                    self.end_body(false);
                    self.state = State::Head;
                }
                State::Chunked(chunk) => match chunk {
                    Chunk::Size | Chunk::Trailers => {
                        let Some(nl) = memchr(b'\n', rest) else {
                            if rest.len() > MAX_CHUNK_LINE {
                                return Err(HttpError::Malformed("chunk line too long"));
                            }
                            return Ok(());
                        };
                        let line = &rest[..nl];
                        *at += nl + 1;
                        let next = match *chunk {
                            Chunk::Size => match chunk_size(line)? {
                                0 => Chunk::Trailers,
                                n => Chunk::Data(n),
                            },
                            // Trailer fields are skipped; an empty line ends them.
                            _ if trim_cr(line).is_empty() => {
                                self.end_body(false);
                                self.state = State::Head;
                                continue;
                            }
                            other => other,
                        };
                        self.state = State::Chunked(next);
                    }
                    Chunk::Data(remaining) => {
                        if rest.is_empty() {
                            return Ok(());
                        }
                        let n = usize::try_from(*remaining)
                            .unwrap_or(usize::MAX)
                            .min(rest.len());
                        *remaining -= n as u64;
                        if *remaining == 0 {
                            *chunk = Chunk::DataEnd;
                        }
                        self.body_bytes(&rest[..n]);
                        *at += n;
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
                },
            }
        }
    }

    /// Pairs a response head with its request and says what comes after the head.
    fn answer(&mut self, head: ResponseHead) -> Result<State, HttpError> {
        let status = head.status;
        if (100..200).contains(&status) && status != 101 {
            // Interim: the final response to the same request follows.
            return Ok(State::Head);
        }
        let ask = self.asks.pop_front().unwrap_or(Ask::Plain { head: false });
        match (&ask, status) {
            (Ask::Upgrade { .. }, 101) => {
                let protocol = list_values(&head.headers, "upgrade")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                self.answers.push_back(Answer::Switched { protocol, head });
                return Ok(State::Switched);
            }
            (_, 101) => return Err(HttpError::Malformed("101 to a request that asked for none")),
            (Ask::Connect { authority }, 200..=299) => {
                self.answers.push_back(Answer::Tunnel {
                    authority: authority.clone(),
                    head,
                });
                return Ok(State::Switched);
            }
            _ => {}
        }
        let framing = framing(&head, matches!(ask, Ask::Plain { head: true }))?;
        let has_body = matches!(
            framing,
            State::Length(_) | State::Chunked(_) | State::UntilClose
        );
        if has_body && self.config.max_body_bytes > 0 {
            let mut transfer = list_values(&head.headers, "transfer-encoding");
            if transfer.last().is_some_and(|c| c == "chunked") {
                transfer.pop();
            }
            self.kept = Some(Kept::new(&head.headers, transfer, &self.config));
        }
        if ask.switches() {
            self.answers.push_back(Answer::Refused { head });
        }
        Ok(framing)
    }
}

/// How the body after a final, non-switching response head is delimited.
fn framing(head: &ResponseHead, to_head_request: bool) -> Result<State, HttpError> {
    if to_head_request || head.status == 204 || head.status == 304 {
        return Ok(State::Head);
    }
    let te = list_values(&head.headers, "transfer-encoding");
    if let Some(last) = te.last() {
        // A response whose last coding is not chunked runs to the end (RFC 9112 6.3).
        return Ok(if last == "chunked" {
            State::Chunked(Chunk::Size)
        } else {
            State::UntilClose
        });
    }
    let mut length = None;
    for h in head.headers.iter().filter(|h| h.name == "content-length") {
        for v in h.value.split(|&b| b == b',') {
            let n = parse_decimal(trim_ows(v)).ok_or(HttpError::Malformed("content-length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("conflicting content-length"));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => State::Head,
        Some(n) => State::Length(n),
        None => State::UntilClose,
    })
}

/// `HTTP/1.x SSS reason` and the header fields.
fn parse_head(head: &[u8], max_headers: usize) -> Result<ResponseHead, HttpError> {
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'0' | b'1', b' ', d @ ..] if d.len() >= 3 => {
            let code = &d[..3];
            if !code.iter().all(u8::is_ascii_digit) || d.get(3).is_some_and(|&b| b != b' ') {
                return Err(HttpError::Malformed("status code"));
            }
            code.iter().fold(0u16, |n, &b| n * 10 + u16::from(b - b'0'))
        }
        _ => return Err(HttpError::Malformed("status line")),
    };
    if !(100..=599).contains(&status) {
        return Err(HttpError::Malformed("status code"));
    }
    let mut headers: Vec<Field> = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if headers.len() >= max_headers {
            return Err(HttpError::TooManyHeaders);
        }
        headers.push(parse_field(line)?);
    }
    Ok(ResponseHead { status, headers })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod body_tests;
