//! Half-open TCP flows (a SYN whose SYN-ACK is never answered, as spoofed SYNs leave
//! them) time out in seconds and give way to new connections when the table is full;
//! established flows never do.

use std::net::SocketAddr;
use std::time::Duration;

use phonehome_model::CloseReason;
use smoltcp::socket::tcp;

use super::harness::*;
use crate::{Config, DropReason, Event, FlowId};

/// `n` SYNs from the client's address whose SYN-ACKs nobody answers (the connect
/// upstream succeeded), as a flood of spoofed SYNs leaves them.
fn half_open(link: &mut Link, n: u16) -> Vec<FlowId> {
    let src = std::net::IpAddr::from(CLIENT_V4);
    (0..n)
        .map(|i| {
            let p = syn(SocketAddr::new(src, 20_000 + i), server());
            link.stack.receive(link.now, &p).expect("admitted");
            let id = connect_request(link);
            link.stack.tcp_connected(link.now, id);
            id
        })
        .collect()
}

/// Every event so far, whether `pump` collected it or it is still in the stack.
fn events(link: &mut Link) -> Vec<Event> {
    let mut all = link.take_events();
    all.extend(std::iter::from_fn(|| link.stack.pop_event()));
    all
}

fn connect_request(link: &mut Link) -> FlowId {
    match events(link).as_slice() {
        [Event::TcpConnect { id, .. }] => *id,
        other => panic!("expected one TcpConnect, got {other:?}"),
    }
}

fn small_table() -> Link {
    Link::new(Config {
        max_flows: 4,
        ..Config::default()
    })
}

#[test]
fn a_half_open_flow_is_dropped_after_the_handshake_timeout_not_the_idle_limit() {
    let mut link = small_table();
    let ids = half_open(&mut link, 3);
    // The SYN-ACKs went to the TUN; nobody answers them.
    while link.stack.pop_packet().is_some() {}
    link.advance(Duration::from_secs(9));
    link.stack.poll(link.now);
    assert!(
        closed(&events(&mut link)).is_empty(),
        "dropped before the timeout"
    );
    link.advance(Duration::from_secs(2));
    link.stack.poll(link.now);
    let events = events(&mut link);
    let ends = closed(&events);
    let mut ended: Vec<FlowId> = ends.iter().map(|e| e.id).collect();
    ended.sort_unstable();
    assert_eq!(ended, ids, "{events:?}");
    assert!(ends
        .iter()
        .all(|e| e.reason == CloseReason::HandshakeTimeout));
    assert_eq!(link.stack.stats().open_flows, 0);
}

#[test]
fn a_full_table_of_half_open_flows_makes_room_for_a_real_client() {
    let mut link = small_table();
    let flood = half_open(&mut link, 4);
    while link.stack.pop_packet().is_some() {}
    // A real client connects: the oldest half-open flow gives way.
    let h = link.connect(server(), 40_000);
    link.pump();
    let events = events(&mut link);
    let id = events
        .iter()
        .find_map(|e| match e {
            Event::TcpConnect { id, .. } => Some(*id),
            _ => None,
        })
        .expect("the new SYN got a place");
    link.stack.tcp_connected(link.now, id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Established);
    let ends = closed(&events);
    assert_eq!(ends.len(), 1, "{events:?}");
    assert_eq!(
        (ends[0].id, ends[0].reason),
        (flood[0], CloseReason::FlowLimit)
    );
}

#[test]
fn a_flood_never_pushes_out_an_established_flow() {
    let mut link = small_table();
    let mut established_flows = Vec::new();
    for port in 0..4u16 {
        let h = link.connect(server(), 41_000 + port);
        link.pump();
        let id = link.connect_event();
        link.stack.tcp_connected(link.now, id);
        link.pump();
        assert_eq!(link.sock(h).state(), tcp::State::Established);
        established_flows.push(id);
    }
    let src = std::net::IpAddr::from(CLIENT_V4);
    for i in 0..200u16 {
        let p = syn(SocketAddr::new(src, 20_000 + i), server());
        assert_eq!(link.stack.receive(link.now, &p), Err(DropReason::FlowLimit));
    }
    let events = events(&mut link);
    assert!(
        !events.iter().any(|e| matches!(e, Event::TcpConnect { .. })),
        "a SYN got a place in a table of established flows"
    );
    assert!(closed(&events)
        .iter()
        .all(|e| !established_flows.contains(&e.id)));
    assert_eq!(link.stack.stats().open_flows, 4);
}

#[test]
fn a_slow_upstream_connect_does_not_eat_into_the_clients_handshake_time() {
    let mut link = small_table();
    let src = std::net::IpAddr::from(CLIENT_V4);
    link.stack
        .receive(link.now, &syn(SocketAddr::new(src, 20_000), server()))
        .unwrap();
    let id = connect_request(&mut link);
    link.advance(Duration::from_secs(25));
    link.stack.tcp_connected(link.now, id);
    link.advance(Duration::from_secs(1));
    link.stack.poll(link.now);
    assert!(closed(&events(&mut link)).is_empty());
}
