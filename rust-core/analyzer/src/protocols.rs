//! The protocol facts the analyzer needs, from the inspect crate's parsers: names from
//! DNS answers, the server name of a TLS or QUIC ClientHello, and the readable parts of
//! HTTP/1 requests. Every function takes untrusted bytes and never panics.

use std::net::IpAddr;

use phonehome_detect::Where;
use phonehome_inspect::http::{Config, Location, Request, RequestParser};
use phonehome_inspect::upgrade::Ask;
use phonehome_inspect::{dns, quic, tls};

/// Addresses a DNS response names, each with the names that led to it: the name asked
/// for first, then the CNAME targets in order. A/AAAA answers and HTTPS/SVCB address
/// hints count.
pub fn dns_names(msg: &[u8]) -> Vec<(IpAddr, Vec<String>)> {
    match dns::parse(msg) {
        Ok(answer) if answer.is_response => answer.address_chains(),
        _ => Vec::new(),
    }
}

/// What a ClientHello tells about the destination.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Hello {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub ech: bool,
}

impl From<tls::ClientHello> for Hello {
    fn from(h: tls::ClientHello) -> Self {
        Self {
            sni: h.sni,
            alpn: h.alpn,
            ech: h.ech.is_some(),
        }
    }
}

/// What a TLS stream's first bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Sni {
    Found(Hello),
    /// Not TLS after all, or a ClientHello that cannot be read.
    None,
    NeedMore,
}

/// The ClientHello at the start of a TLS stream (it may span records).
pub fn client_hello_sni(stream: &[u8]) -> Sni {
    match tls::parse_client_hello(stream) {
        Ok(hello) => Sni::Found(hello.into()),
        Err(tls::TlsError::NeedMore) => Sni::NeedMore,
        Err(_) => Sni::None,
    }
}

/// A QUIC long-header Initial packet of version 1 or 2.
pub fn is_quic_initial(d: &[u8]) -> bool {
    quic::LongHeader::parse(d).is_ok_and(|h| h.is_initial)
}

/// Gathers one flow's QUIC Initial packets until their ClientHello names the server.
#[derive(Debug, Default)]
pub struct QuicSni {
    assembler: quic::QuicInitialAssembler,
}

impl QuicSni {
    pub fn push(&mut self, datagram: &[u8]) -> Option<Hello> {
        match self.assembler.push_datagram(datagram) {
            Ok(Some(found)) => Some(found.hello.into()),
            _ => None,
        }
    }
}

/// A readable part of an HTTP request.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Each request starts with what it asks of the connection (a switch or not).
    Ask(Ask),
    Host(String),
    Text(Where, Vec<u8>),
}

/// An HTTP/1 request stream from client to server; requests come out as pieces, the
/// Host first so that what follows already carries the name.
#[derive(Debug)]
pub struct HttpStream {
    parser: RequestParser,
}

impl HttpStream {
    /// `limit`: body bytes kept per request.
    pub fn new(limit: usize) -> Self {
        Self {
            parser: RequestParser::new(Config {
                max_body_bytes: limit,
                ..Config::default()
            }),
        }
    }

    /// Takes the next bytes of the stream. A stream that stops being HTTP is ignored
    /// from there on.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Piece>) {
        // Requests before an error still come out; after it the parser ignores the rest.
        let _ = self.parser.push(bytes);
        while let Some(request) = self.parser.next_request() {
            request_pieces(&request, out);
        }
    }
}

/// A request's pieces: what it asks of the connection, its Host, then its URL, headers,
/// cookies and body (HTTP/1, and HTTP/2 streams in the same shape).
pub fn request_pieces(request: &Request, out: &mut Vec<Piece>) {
    out.push(Piece::Ask(Ask::of(request)));
    if let Some(host) = &request.host {
        out.push(Piece::Host(host_name(host)));
    }
    for piece in request.pieces() {
        let (place, text) = match (piece.location, piece.name) {
            (Location::Url, _) => (Where::Url, piece.value.to_vec()),
            (Location::Body, _) => (Where::Body, piece.value.to_vec()),
            // The name gives the detector its context (`x-device-id: …`).
            (Location::Header, Some(name)) => (
                Where::Header,
                [name.as_bytes(), b": ", piece.value].concat(),
            ),
            (Location::Cookie, Some(name)) => {
                (Where::Cookie, [name.as_bytes(), b"=", piece.value].concat())
            }
            (Location::Header, None) => (Where::Header, piece.value.to_vec()),
            (Location::Cookie, None) => (Where::Cookie, piece.value.to_vec()),
        };
        out.push(Piece::Text(place, text));
    }
}

impl HttpStream {
    /// After a request that asked to switch protocols: what the client sent since,
    /// taken (`None`: too much to keep, some was dropped).
    pub fn take_held(&mut self) -> Option<Vec<u8>> {
        self.parser.take_held()
    }

    /// The server refused the switch: the stream is read as HTTP again, from what was
    /// held.
    pub fn resume(&mut self, out: &mut Vec<Piece>) {
        if self.parser.resume().is_ok() {
            self.push(&[], out);
        }
    }
}

/// The name in a Host header, without port or IPv6 brackets.
fn host_name(value: &str) -> String {
    let value = value.trim();
    let host = match value.rsplit_once(':') {
        Some((h, port))
            if !h.is_empty() && !h.ends_with(':') && port.chars().all(|c| c.is_ascii_digit()) =>
        {
            h
        }
        _ => value,
    };
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_lose_port_and_brackets() {
        assert_eq!(
            host_name("API.account.xiaomi.com:80"),
            "api.account.xiaomi.com"
        );
        assert_eq!(host_name("[2001:db8::1]:8080"), "2001:db8::1");
        assert_eq!(host_name("example.com"), "example.com");
    }

    #[test]
    fn requests_on_one_connection_give_host_first_then_url_headers_cookies_and_body() {
        let stream = b"GET /pass/user@id?type=MXPH&externalId=13800138000 HTTP/1.1\r\nHost: api.account.xiaomi.com\r\nCookie: deviceId=abc\r\n\r\n\
POST /up HTTP/1.1\r\nHost: api.account.xiaomi.com:80\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        for split in [0, 10, 70, 120, stream.len()] {
            let mut h = HttpStream::new(64 * 1024);
            let mut out = Vec::new();
            h.push(&stream[..split], &mut out);
            h.push(&stream[split..], &mut out);
            assert_eq!(out[0], Piece::Ask(Ask::Plain { head: false }));
            assert_eq!(out[1], Piece::Host("api.account.xiaomi.com".into()));
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
    fn tls_prefixes_need_more_and_other_protocols_have_no_name() {
        assert_eq!(client_hello_sni(&[22, 3, 1]), Sni::NeedMore);
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1\r\n"), Sni::None);
    }

    #[test]
    fn quic_initials_are_told_from_short_headers() {
        assert!(!is_quic_initial(&[0x43, 0, 0, 0, 1, 8, 0]));
        assert!(!is_quic_initial(b"not quic"));
    }
}
