//! What the relay refuses to forward: martian destinations (the monitor's own host) and
//! sources that are not the client's. Each refusal is answered the way an unreachable
//! host would answer (or not at all, for a spoofed source) and recorded.

use std::net::SocketAddr;

use phonehome_model::{CloseReason, Proto};

use super::harness::*;
use crate::{packet, Config, DropReason, Event, Netstack};

fn stack_for(clients: &[&str]) -> (Netstack, std::time::Instant) {
    let config = Config {
        clients: clients.iter().map(|a| a.parse().unwrap()).collect(),
        ..Config::default()
    };
    let now = std::time::Instant::now();
    (Netstack::new(config, now), now)
}

fn events(stack: &mut Netstack) -> Vec<Event> {
    std::iter::from_fn(|| stack.pop_event()).collect()
}

fn packets(stack: &mut Netstack) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| stack.pop_packet()).collect()
}

const CLIENTS: [&str; 2] = ["10.111.0.2", "fd70:686f:6e65::2"];

#[test]
fn a_connection_to_the_monitors_own_host_is_refused_with_rst_and_recorded() {
    for dst in [
        "127.0.0.1:22",
        "127.8.9.10:631",
        "0.0.0.0:80",
        "169.254.169.254:80",
        "[::1]:22",
        "[::ffff:127.0.0.1]:22",
        "[::ffff:10.0.0.1]:22",
        "[::7f00:1]:22",
        "[fe80::1]:22",
    ] {
        let dst: SocketAddr = dst.parse().unwrap();
        let src: SocketAddr = if dst.is_ipv4() {
            "10.111.0.2:40000".parse().unwrap()
        } else {
            "[fd70:686f:6e65::2]:40000".parse().unwrap()
        };
        let (mut stack, now) = stack_for(&CLIENTS);
        assert_eq!(
            stack.receive(now, &syn(src, dst)),
            Err(DropReason::Forbidden),
            "{dst}"
        );
        stack.poll(now);
        let events = events(&mut stack);
        assert!(
            !events.iter().any(|e| matches!(e, Event::TcpConnect { .. })),
            "{dst}: the shell was asked to connect: {events:?}"
        );
        let ends = closed(&events);
        assert_eq!(ends.len(), 1, "{dst}: {events:?}");
        assert_eq!(
            (ends[0].proto, ends[0].src, ends[0].dst),
            (Proto::Tcp, src, dst)
        );
        assert_eq!(ends[0].reason, CloseReason::Forbidden);
        let answers = packets(&mut stack);
        assert_eq!(answers.len(), 1, "{dst}: the client gets one RST");
        match packet::parse(&answers[0]) {
            Ok(packet::Parsed::Tcp {
                src: from,
                dst: to,
                rst,
                ..
            }) => {
                assert!(rst, "{dst}");
                assert_eq!((from, to), (dst, src));
            }
            other => panic!("{dst}: expected a RST, got {other:?}"),
        }
        assert_eq!(stack.stats().forbidden, 1);
    }
}

#[test]
fn datagrams_and_pings_to_loopback_get_an_icmp_error_and_never_reach_the_shell() {
    let (mut stack, now) = stack_for(&CLIENTS);
    let dns = udp_packet(
        "10.111.0.2:5000".parse().unwrap(),
        "127.0.0.53:53".parse().unwrap(),
        b"query",
    );
    let ping = echo_request(
        "fd70:686f:6e65::2".parse().unwrap(),
        "::1".parse().unwrap(),
        7,
        1,
        b"ping",
    );
    assert_eq!(stack.receive(now, &dns), Err(DropReason::Forbidden));
    assert_eq!(stack.receive(now, &ping), Err(DropReason::Forbidden));
    let events = events(&mut stack);
    assert!(
        events.iter().all(|e| matches!(e, Event::Closed(_))),
        "{events:?}"
    );
    let reasons: Vec<_> = closed(&events)
        .iter()
        .map(|e| (e.proto, e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (Proto::Udp, CloseReason::Forbidden),
            (Proto::Icmp, CloseReason::Forbidden)
        ]
    );
    let answers = packets(&mut stack);
    assert_eq!(answers.len(), 2);
    // ICMPv4 type 3 and ICMPv6 type 1: destination unreachable.
    assert_eq!((answers[0][9], answers[0][20]), (1, 3));
    assert_eq!((answers[1][6], answers[1][40]), (58, 1));
}

#[test]
fn a_source_that_is_not_the_clients_is_refused_silently_and_recorded() {
    let (mut stack, now) = stack_for(&CLIENTS);
    let server: SocketAddr = "203.0.113.7:80".parse().unwrap();
    for src in ["10.111.0.3:40000", "127.0.0.1:40000", "192.0.2.1:40000"] {
        let src: SocketAddr = src.parse().unwrap();
        assert_eq!(
            stack.receive(now, &syn(src, server)),
            Err(DropReason::Spoofed),
            "{src}"
        );
    }
    let v6 = udp_packet(
        "[fd70:686f:6e65::99]:5000".parse().unwrap(),
        "[2001:db8::1]:53".parse().unwrap(),
        b"q",
    );
    assert_eq!(stack.receive(now, &v6), Err(DropReason::Spoofed));
    stack.poll(now);
    assert!(
        packets(&mut stack).is_empty(),
        "nothing is sent to an impersonated address"
    );
    let events = events(&mut stack);
    let ends = closed(&events);
    assert_eq!(ends.len(), 4, "{events:?}");
    assert!(ends.iter().all(|e| e.reason == CloseReason::Spoofed));
    assert_eq!(stack.stats().spoofed, 4);
    // The client's own addresses still go through.
    let ok: SocketAddr = "10.111.0.2:40000".parse().unwrap();
    assert_eq!(stack.receive(now, &syn(ok, server)), Ok(()));
    assert!(matches!(stack.pop_event(), Some(Event::TcpConnect { .. })));
}

#[test]
fn without_known_client_addresses_only_martian_sources_are_refused() {
    let (mut stack, now) = bare_stack();
    let server: SocketAddr = "203.0.113.7:80".parse().unwrap();
    let lo: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    assert_eq!(
        stack.receive(now, &syn(lo, server)),
        Err(DropReason::Spoofed)
    );
    let any: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    assert_eq!(stack.receive(now, &syn(any, server)), Ok(()));
}

#[test]
fn a_flood_of_refused_packets_costs_counters_not_records() {
    let (mut stack, now) = stack_for(&CLIENTS);
    let lo: SocketAddr = "127.0.0.1:22".parse().unwrap();
    for port in 0..1_000u16 {
        let src = SocketAddr::new("10.111.0.2".parse().unwrap(), 10_000 + port);
        let _ = stack.receive(now, &syn(src, lo));
    }
    assert_eq!(stack.stats().forbidden, 1_000);
    let recorded = closed(&events(&mut stack)).len();
    assert!(
        (1..=32).contains(&recorded),
        "{recorded} records in one second"
    );
    // A second later the budget is back.
    let later = now + std::time::Duration::from_millis(1_001);
    let src: SocketAddr = "10.111.0.2:9999".parse().unwrap();
    let _ = stack.receive(later, &syn(src, lo));
    assert_eq!(closed(&events(&mut stack)).len(), 1);
}
