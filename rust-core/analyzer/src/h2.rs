//! One HTTP/2 connection (decrypted by interception, or cleartext with prior
//! knowledge): both directions read with the inspect crate's HTTP/2 reader, requests
//! turned into the same pieces HTTP/1 requests give, responses into what was received.

use phonehome_detect::Where;
use phonehome_inspect::http2::{Config, Message, Reader, Side};

use crate::protocols::{request_pieces, Piece};
use crate::switch::Event;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct H2Flow {
    client: Reader,
    server: Reader,
}

impl H2Flow {
    /// `limit`: body bytes kept per stream, as sent and after decoding.
    pub(crate) fn new(limit: usize) -> Self {
        let config = Config {
            max_body_bytes: limit,
            // Four streams' worth at once: more waits its turn (ends early, read as is).
            max_open_bytes: limit.saturating_mul(4),
            max_decoded_bytes: limit,
            ..Config::default()
        };
        Self {
            client: Reader::new(Side::Client, config.clone()),
            server: Reader::new(Side::Server, config),
        }
    }

    /// Bytes from the client: each finished request's pieces.
    pub(crate) fn push_out(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        // A broken stream still gives what finished before the break.
        let _ = self.client.push(bytes);
        requests(&mut self.client, events);
    }

    /// Bytes from the server: each finished response's header fields and body.
    pub(crate) fn push_in(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        let _ = self.server.push(bytes);
        responses(&mut self.server, events);
    }

    /// Server bytes that need not be read: the rest of a DATA frame past its stream's
    /// limit (header blocks are always read, for HPACK).
    pub(crate) fn skippable_in(&self) -> u64 {
        self.server.skippable()
    }

    /// Steps over the next `n` server bytes (at most [`Self::skippable_in`]); a
    /// response that ends in them comes out.
    pub(crate) fn skip_in(&mut self, n: u64, events: &mut Vec<Event>) {
        self.server.skip(n);
        responses(&mut self.server, events);
    }

    /// Whether the server's bytes can still be read.
    pub(crate) fn reads_in(&self) -> bool {
        !self.server.is_failed()
    }

    /// The server's bytes cannot be followed from here on (missed, or cut): its open
    /// streams come out at [`Self::finish`].
    pub(crate) fn cut_in(&mut self) {
        self.server.finish();
    }

    /// The connection ended: streams still open come out as they are.
    pub(crate) fn finish(&mut self, events: &mut Vec<Event>) {
        self.client.finish();
        requests(&mut self.client, events);
        self.server.finish();
        responses(&mut self.server, events);
    }
}

fn requests(reader: &mut Reader, events: &mut Vec<Event>) {
    while let Some(message) = reader.next_message() {
        let Some(request) = message.request() else {
            continue;
        };
        let mut pieces = Vec::new();
        request_pieces(&request, &mut pieces);
        events.extend(
            pieces
                .into_iter()
                .filter(|p| !matches!(p, Piece::Ask(_)))
                .map(Event::Piece),
        );
    }
}

fn responses(reader: &mut Reader, events: &mut Vec<Event>) {
    while let Some(message) = reader.next_message() {
        response(message, events);
    }
}

fn response(message: Message, events: &mut Vec<Event>) {
    for f in message.fields.iter().chain(&message.trailers) {
        let text = [f.name.as_bytes(), b": ", &f.value].concat();
        events.push(Event::Received(Where::Header, text));
    }
    if !message.body.data.is_empty() {
        events.push(Event::Received(Where::Body, message.body.data));
    }
}
