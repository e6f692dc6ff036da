//! One TCP connection that starts as HTTP/1 and may leave it: WebSocket after a 101 to
//! an `Upgrade: websocket` request, a tunnel after a 2xx to CONNECT.
//!
//! Both directions are followed: the client's requests say which one asked to switch,
//! and the server's responses say whether and when it happened. What the responses hold
//! (header fields, and bodies de-chunked and decoded up to the limit, the rest stepped
//! over) is passed on as received. Until the server answers, what the client sends after such a request is
//! held; then it is read as the new protocol, or as HTTP again if the server refused.

use phonehome_detect::Where;
use phonehome_inspect::upgrade::{self, Answer, Received, ResponseParser};
use phonehome_inspect::websocket::{self, Deflate, MessageParser, Opcode, Sender};
use phonehome_model::Direction;

use crate::protocols::{HttpStream, Piece};

/// What following the connection turned up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A piece of a client request.
    Piece(Piece),
    /// A whole WebSocket text or binary message (inflated), at most the limit.
    Message(Direction, Vec<u8>),
    /// A part of a response the server sent: a header field, or (part of) a body.
    Received(Where, Vec<u8>),
    /// The connection became a tunnel (CONNECT): these bytes start a fresh stream each
    /// way. `out` is `None` when the client sent too much before the answer to keep.
    Tunnel {
        out: Option<Vec<u8>>,
        inbound: Vec<u8>,
    },
}

/// How one direction's bytes are read from here on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Split into responses or messages, each scanned up to the limit.
    Parsed,
    /// Scanned as they come, within the flow's scan limit.
    Raw,
    /// Not at all.
    Nothing,
}

#[derive(Debug)]
enum Phase {
    Http,
    /// A direction is `None` when it cannot be read (a gap before the switch).
    WebSocket {
        client: Option<Box<MessageParser>>,
        server: Option<Box<MessageParser>>,
    },
    /// Switched to something else (a tunnel handed over, or an upgrade we cannot read).
    Gone,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct HttpFlow {
    requests: HttpStream,
    responses: ResponseParser,
    phase: Phase,
    /// Bytes kept per request body and per WebSocket message.
    limit: usize,
}

impl HttpFlow {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            requests: HttpStream::new(limit),
            responses: ResponseParser::new(upgrade::Config {
                max_body_bytes: limit,
                max_decoded_bytes: limit,
                ..upgrade::Config::default()
            }),
            phase: Phase::Http,
            limit,
        }
    }

    /// Bytes from the client.
    pub(crate) fn push_out(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        match &mut self.phase {
            Phase::Http => {
                let mut pieces = Vec::new();
                self.requests.push(bytes, &mut pieces);
                self.pieces(pieces, events);
            }
            Phase::WebSocket { client, .. } => {
                if let Some(client) = client {
                    messages(client, bytes, Direction::Out, events);
                }
            }
            Phase::Gone => {}
        }
    }

    /// Bytes from the server. Returns how many of the first of them were HTTP
    /// responses (the rest, if any, belong to the protocol switched to).
    pub(crate) fn push_in(&mut self, bytes: &[u8], events: &mut Vec<Event>) -> usize {
        match &mut self.phase {
            Phase::Http => {}
            Phase::WebSocket { server, .. } => {
                if let Some(server) = server {
                    messages(server, bytes, Direction::In, events);
                }
                return 0;
            }
            Phase::Gone => return 0,
        }
        let pushed = self.responses.push(bytes);
        received(&mut self.responses, events);
        if pushed.is_err() {
            // Responses we cannot follow: nothing can be said about a switch.
            return bytes.len();
        }
        let mut http = bytes.len();
        while let Some(answer) = self.responses.next_answer() {
            match answer {
                Answer::Switched { protocol, head } => {
                    let rest = self.responses.take_rest();
                    http = bytes.len().saturating_sub(rest.len());
                    let held = self.requests.take_held();
                    self.phase = Phase::Gone;
                    if protocol != "websocket" {
                        break;
                    }
                    let Ok(deflate) =
                        Deflate::from_response(&head.values("sec-websocket-extensions"))
                    else {
                        break;
                    };
                    // Without what was held, the client's frames have a gap: unreadable.
                    let client = held.map(|held| {
                        let mut client = Box::new(self.parser(Sender::Client, deflate));
                        messages(&mut client, &held, Direction::Out, events);
                        client
                    });
                    let mut server = Box::new(self.parser(Sender::Server, deflate));
                    messages(&mut server, &rest, Direction::In, events);
                    self.phase = Phase::WebSocket {
                        client,
                        server: Some(server),
                    };
                    break;
                }
                Answer::Tunnel { .. } => {
                    let inbound = self.responses.take_rest();
                    http = bytes.len().saturating_sub(inbound.len());
                    let out = self.requests.take_held();
                    self.phase = Phase::Gone;
                    events.push(Event::Tunnel { out, inbound });
                    break;
                }
                Answer::Refused { .. } => {
                    let mut pieces = Vec::new();
                    self.requests.resume(&mut pieces);
                    self.pieces(pieces, events);
                }
            }
        }
        http
    }

    /// Server bytes that come next and need not be read: the rest of a response body
    /// past what is kept of it, or the rest of a WebSocket frame whose message is full.
    pub(crate) fn skippable_in(&self) -> u64 {
        match &self.phase {
            Phase::Http => self.responses.skippable(),
            Phase::WebSocket {
                server: Some(server),
                ..
            } => server.skippable(),
            _ => 0,
        }
    }

    /// Steps over the next `n` server bytes (at most [`Self::skippable_in`]).
    pub(crate) fn skip_in(&mut self, n: u64) {
        match &mut self.phase {
            Phase::Http => self.responses.skip(n),
            Phase::WebSocket {
                server: Some(server),
                ..
            } => {
                let _ = server.skip(n);
            }
            _ => {}
        }
    }

    /// Body bytes of the current response read past what was kept of it.
    pub(crate) fn passed_in(&self) -> u64 {
        match self.phase {
            Phase::Http => self.responses.passed_over(),
            _ => 0,
        }
    }

    /// The connection ended: a response body still arriving comes out as it is.
    pub(crate) fn finish_in(&mut self, events: &mut Vec<Event>) {
        self.responses.finish();
        received(&mut self.responses, events);
    }

    /// How the server bytes from here on are read.
    pub(crate) fn reading_in(&self) -> Reading {
        match &self.phase {
            // A body that runs to the close is read up to the limit; bytes that are not
            // HTTP responses are scanned as they come, within the scan limit.
            Phase::Http if self.responses.keeping() => Reading::Parsed,
            Phase::Http if self.responses.failed() => Reading::Raw,
            Phase::Http if self.responses.at_end() => Reading::Nothing,
            Phase::Http => Reading::Parsed,
            Phase::WebSocket {
                server: Some(server),
                ..
            } if !server.failed() => Reading::Parsed,
            _ => Reading::Nothing,
        }
    }

    /// Server bytes were lost: nothing after the hole is parsed.
    pub(crate) fn cut_in(&mut self) {
        match &mut self.phase {
            Phase::Http => self.responses.cut(),
            Phase::WebSocket { server, .. } => *server = None,
            Phase::Gone => {}
        }
    }

    fn parser(&self, sender: Sender, deflate: Option<Deflate>) -> MessageParser {
        MessageParser::new(
            sender,
            deflate,
            websocket::Config {
                max_message_bytes: self.limit,
                max_inflate_bytes: self.limit.saturating_mul(16),
            },
        )
    }

    /// Passes request pieces on, telling the response side what each request asked.
    fn pieces(&mut self, pieces: Vec<Piece>, events: &mut Vec<Event>) {
        for piece in pieces {
            if let Piece::Ask(ask) = &piece {
                self.responses.expect(ask.clone());
            }
            events.push(Event::Piece(piece));
        }
    }
}

/// Passes on what the server sent: each header field as `name: value` (its name gives
/// the detector context), and each body's decoded text.
fn received(responses: &mut ResponseParser, events: &mut Vec<Event>) {
    while let Some(r) = responses.next_received() {
        match r {
            Received::Head(head) => {
                for f in head.headers {
                    let text = [f.name.as_bytes(), b": ", &f.value].concat();
                    events.push(Event::Received(Where::Header, text));
                }
            }
            Received::Body(body) => {
                for (_, text) in body.texts() {
                    events.push(Event::Received(Where::Body, text.to_vec()));
                }
            }
            // A streamed body's piece, scanned now rather than when the stream ends.
            Received::Part(text) => events.push(Event::Received(Where::Body, text)),
        }
    }
}

/// Feeds one direction's frames and passes on its text and binary messages. A direction
/// that breaks the protocol is ignored from there on (its parser stays failed).
fn messages(parser: &mut MessageParser, bytes: &[u8], dir: Direction, events: &mut Vec<Event>) {
    let _ = parser.push(bytes);
    while let Some(m) = parser.next_message() {
        if matches!(m.opcode, Opcode::Text | Opcode::Binary) && !m.data.is_empty() {
            events.push(Event::Message(dir, m.data));
        }
    }
}

#[cfg(test)]
mod tests;
