//! Whatever bytes arrive: garbage is counted and dropped, and nothing panics.

use smoltcp::socket::tcp;
use smoltcp::wire::Ipv4Packet;

use super::harness::*;
use crate::{packet, Config, DropReason, Event};

#[test]
fn garbage_is_dropped_and_counted_and_traffic_goes_on() {
    let mut link = Link::new(Config::default());
    let now = link.now;
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x45],
        vec![0x00; 40],
        vec![0x7f; 60],
        vec![
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 111, 0, 2, 1, 2, 3, 4,
        ],
        // IPv4 claiming more bytes than it has.
        vec![
            0x45, 0, 0x05, 0xdc, 0, 0, 0, 0, 64, 17, 0, 0, 10, 111, 0, 2, 1, 2, 3, 4, 0, 53,
        ],
        vec![0x60, 0, 0, 0, 0, 8, 17, 64],
    ];
    for case in &cases {
        assert!(link.stack.receive(now, case).is_err(), "{case:?}");
    }
    assert_eq!(link.stack.stats().malformed, cases.len() as u64);
    let (h, _) = established(&mut link, server());
    assert_eq!(link.sock(h).state(), tcp::State::Established);
}

#[test]
fn fragments_and_extension_headers_are_unsupported_not_malformed() {
    let mut p = udp_packet(
        "10.111.0.2:1000".parse().unwrap(),
        "203.0.113.1:2000".parse().unwrap(),
        b"x",
    );
    let mut ip = Ipv4Packet::new_unchecked(&mut p[..]);
    ip.set_more_frags(true);
    ip.fill_checksum();
    assert_eq!(packet::parse(&p), Err(DropReason::Unsupported));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// The packet entry point takes any bytes without panicking.
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (mut stack, now) = bare_stack();
            let _ = stack.receive(now, &bytes);
            stack.poll(now);
            while stack.pop_packet().is_some() {}
        }

        /// Valid headers with random contents: the cases plain garbage rarely reaches.
        #[test]
        fn mutated_valid_packets(
            seed in prop_oneof![
                Just(udp_packet("10.111.0.2:1000".parse().unwrap(), "203.0.113.1:53".parse().unwrap(), b"query")),
                Just(udp_packet("[fd70::2]:1000".parse().unwrap(), "[2001:db8::1]:53".parse().unwrap(), b"query")),
                Just(echo_request("10.111.0.2".parse().unwrap(), "203.0.113.1".parse().unwrap(), 1, 1, b"abc")),
                Just(echo_request("fd70::2".parse().unwrap(), "2001:db8::1".parse().unwrap(), 1, 1, b"abc")),
                Just(syn_v4()),
            ],
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut p = seed;
            for (at, byte) in flips {
                let i = at.index(p.len());
                p[i] = byte;
            }
            p.truncate(cut.index(p.len() + 1));
            let (mut stack, now) = bare_stack();
            let _ = stack.receive(now, &p);
            while let Some(e) = stack.pop_event() {
                match e {
                    Event::TcpConnect { id, .. } => {
                        stack.tcp_connected(now, id);
                    }
                    Event::UdpSend { id, data, .. } => stack.udp_reply(now, id, &data),
                    Event::EchoRequest { id, seq, data, .. } => stack.echo_reply(now, id, seq, &data),
                    _ => {}
                }
            }
            stack.poll(now);
            while stack.pop_packet().is_some() {}
        }
    }

    fn syn_v4() -> Vec<u8> {
        let mut link = Link::new(Config::default());
        link.connect(server(), 40_000);
        link.client_packet().unwrap()
    }
}
