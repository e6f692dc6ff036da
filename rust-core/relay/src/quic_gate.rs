//! Holds a new UDP flow to port 443 back until its QUIC Initial names the server, so
//! that TLS interception can drop QUIC to a host it intercepts over TCP (the client
//! then falls back to TCP, where interception sees inside).
//!
//! The ClientHello may span several Initial packets (large post-quantum key shares), so
//! the first datagrams are held, a few at most, until the name is known; then they are
//! all sent on, or all dropped. What is not a readable QUIC Initial is let through at
//! once: there is no name to decide on.

use bytes::Bytes;
use phonehome_inspect::quic::QuicInitialAssembler;

/// Datagrams held while the ClientHello is incomplete. Clients send it in one to three
/// Initials; more without a complete hello is not a client worth waiting for.
const MAX_HELD: usize = 4;

/// What to do with a gated flow after one more of its client's datagrams.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The name is not known yet: the datagram is held.
    Hold,
    /// Drop this datagram, those held, and every later one of the flow.
    Drop,
    /// Relay the flow from now on, starting with these (held ones first).
    Pass(Vec<Bytes>),
}

/// What one datagram told about the ClientHello.
#[derive(Debug)]
enum Read {
    /// The hello is complete; the server name it carries, if any.
    Hello(Option<String>),
    /// An Initial, but its hello is not complete yet.
    More,
    /// Not a client Initial that decrypts: not QUIC, or not readable.
    Unreadable,
}

#[derive(Debug)]
pub(crate) struct QuicGate {
    assembler: QuicInitialAssembler,
    held: Vec<Bytes>,
}

impl QuicGate {
    pub(crate) fn new() -> Self {
        Self {
            assembler: QuicInitialAssembler::with_limits(
                1,
                QuicInitialAssembler::DEFAULT_MAX_CRYPTO_BYTES,
            ),
            held: Vec::new(),
        }
    }

    /// Takes the client's next datagram; `drops(host)` says whether QUIC to the server
    /// named `host` is dropped.
    pub(crate) fn push(&mut self, datagram: Bytes, drops: impl FnOnce(&str) -> bool) -> Verdict {
        let read = match self.assembler.push_datagram(&datagram) {
            Ok(Some(found)) => Read::Hello(found.hello.sni),
            Ok(None) => Read::More,
            Err(_) => Read::Unreadable,
        };
        self.step(datagram, read, drops)
    }

    fn step(&mut self, datagram: Bytes, read: Read, drops: impl FnOnce(&str) -> bool) -> Verdict {
        self.held.push(datagram);
        match read {
            Read::Hello(Some(host)) if drops(&host) => {
                self.held.clear();
                Verdict::Drop
            }
            Read::More if self.held.len() < MAX_HELD => Verdict::Hold,
            Read::Hello(_) | Read::More | Read::Unreadable => {
                Verdict::Pass(std::mem::take(&mut self.held))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 appendix A.2: a QUIC v1 client Initial whose ClientHello names
    /// `example.com`.
    fn rfc9001_initial() -> Bytes {
        let text = include_str!("../../inspect/tests/vectors/rfc9001_client_initial.hex");
        let digits: Vec<u8> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::bytes)
            .filter(u8::is_ascii_hexdigit)
            .collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn datagram(n: u8) -> Bytes {
        Bytes::from(vec![n; 4])
    }

    #[test]
    fn an_initial_naming_an_intercepted_host_is_dropped() {
        let mut gate = QuicGate::new();
        let mut asked = None;
        let verdict = gate.push(rfc9001_initial(), |host| {
            asked = Some(host.to_owned());
            true
        });
        assert_eq!(verdict, Verdict::Drop);
        assert_eq!(asked.as_deref(), Some("example.com"));
    }

    #[test]
    fn an_initial_naming_a_host_not_intercepted_passes_untouched() {
        let mut gate = QuicGate::new();
        let verdict = gate.push(rfc9001_initial(), |_| false);
        assert_eq!(verdict, Verdict::Pass(vec![rfc9001_initial()]));
    }

    #[test]
    fn what_is_not_a_quic_initial_passes_at_once() {
        let mut gate = QuicGate::new();
        let dns = Bytes::from_static(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
        let verdict = gate.push(dns.clone(), |_| panic!("there is no name to ask about"));
        assert_eq!(verdict, Verdict::Pass(vec![dns]));
    }

    #[test]
    fn a_hello_split_over_datagrams_is_held_until_its_name_is_known() {
        let mut gate = QuicGate::new();
        assert_eq!(gate.step(datagram(1), Read::More, |_| true), Verdict::Hold);
        let named = Read::Hello(Some("api.example.com".into()));
        assert_eq!(gate.step(datagram(2), named, |_| true), Verdict::Drop);

        let mut gate = QuicGate::new();
        assert_eq!(gate.step(datagram(1), Read::More, |_| true), Verdict::Hold);
        let named = Read::Hello(Some("api.example.com".into()));
        let verdict = gate.step(datagram(2), named, |_| false);
        assert_eq!(verdict, Verdict::Pass(vec![datagram(1), datagram(2)]));
    }

    #[test]
    fn a_hello_that_never_completes_is_let_through_with_what_was_held() {
        let mut gate = QuicGate::new();
        for n in 1..MAX_HELD as u8 {
            assert_eq!(gate.step(datagram(n), Read::More, |_| true), Verdict::Hold);
        }
        let verdict = gate.step(datagram(MAX_HELD as u8), Read::More, |_| true);
        let all = (1..=MAX_HELD as u8).map(datagram).collect();
        assert_eq!(verdict, Verdict::Pass(all));
    }

    #[test]
    fn a_hello_without_a_server_name_passes() {
        let mut gate = QuicGate::new();
        let verdict = gate.step(datagram(1), Read::Hello(None), |_| panic!("no name"));
        assert_eq!(verdict, Verdict::Pass(vec![datagram(1)]));
    }
}
