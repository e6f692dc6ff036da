//! UDP and ICMP echo through the NAT table.

use std::net::{IpAddr, SocketAddr};

use smoltcp::wire::{IpAddress, Ipv4Packet, Ipv6Packet, UdpPacket};

use super::harness::*;
use crate::{packet, CloseReason, Config, DropReason, Event};

#[test]
fn udp_datagrams_share_a_nat_entry_and_replies_come_back_addressed_to_the_client() {
    let (mut stack, now) = bare_stack();
    let client: SocketAddr = "10.111.0.2:5353".parse().unwrap();
    let dns: SocketAddr = "10.111.0.1:53".parse().unwrap();
    let payload = vec![0xab; 1400];
    stack
        .receive(now, &udp_packet(client, dns, &payload))
        .unwrap();
    stack
        .receive(now, &udp_packet(client, dns, b"again"))
        .unwrap();
    let Some(Event::UdpSend { id, dst, data, .. }) = stack.pop_event() else {
        panic!("expected a datagram");
    };
    assert_eq!((dst, &data[..]), (dns, &payload[..]));
    assert!(matches!(stack.pop_event(), Some(Event::UdpSend { id: same, .. }) if same == id));

    stack.udp_reply(now, id, b"answer");
    let reply = stack.pop_packet().unwrap();
    let ip = Ipv4Packet::new_checked(&reply[..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!(ip.src_addr().to_string(), "10.111.0.1");
    assert_eq!(ip.dst_addr().to_string(), "10.111.0.2");
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(udp.verify_checksum(
        &IpAddress::from(ip.src_addr()),
        &IpAddress::from(ip.dst_addr())
    ));
    assert_eq!((udp.src_port(), udp.dst_port()), (53, 5353));
    assert_eq!(udp.payload(), b"answer");

    // DNS flows are short-lived; the stack wakes up exactly when one is due.
    assert_eq!(stack.poll_at(now), Some(now + Config::default().dns_idle));
    stack.poll(now + Config::default().dns_idle);
    let Some(Event::Closed(end)) = stack.pop_event() else {
        panic!("expected the flow to idle out");
    };
    assert_eq!(
        (end.reason, end.bytes_out, end.bytes_in),
        (CloseReason::Idle, 1405, 6)
    );
    assert_eq!(stack.poll_at(now), None, "no flows, no wake-ups");
}

#[test]
fn udp_replies_larger_than_the_mtu_are_dropped_and_counted() {
    let (mut stack, now) = bare_stack();
    let client: SocketAddr = "[fd70:686f:6e65::2]:4000".parse().unwrap();
    let server: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
    stack
        .receive(now, &udp_packet(client, server, b"x"))
        .unwrap();
    let Some(Event::UdpSend { id, .. }) = stack.pop_event() else {
        panic!()
    };
    stack.udp_reply(now, id, &[0; 1500 - 40 - 8]);
    assert!(stack.pop_packet().is_some(), "exactly the MTU fits");
    stack.udp_reply(now, id, &[0; 1500 - 40 - 7]);
    assert!(stack.pop_packet().is_none());
    assert_eq!(stack.stats().too_big, 1);
}

#[test]
fn echo_requests_are_forwarded_and_replies_keep_the_clients_identifier() {
    for (client, target) in [
        ("10.111.0.2", "203.0.113.9"),
        ("fd70:686f:6e65::2", "2001:db8::9"),
    ] {
        let (mut stack, now) = bare_stack();
        let (c, t): (IpAddr, IpAddr) = (client.parse().unwrap(), target.parse().unwrap());
        let request = echo_request(c, t, 0x1234, 7, b"ping data");
        stack.receive(now, &request).unwrap();
        let Some(Event::EchoRequest {
            id, dst, seq, data, ..
        }) = stack.pop_event()
        else {
            panic!()
        };
        assert_eq!((dst, seq, &data[..]), (t, 7, &b"ping data"[..]));
        stack.echo_reply(now, id, 7, b"ping data");
        let reply = stack.pop_packet().unwrap();
        match packet::parse(&reply) {
            // Parsing our own reply as a request must fail: it is a reply.
            Err(DropReason::Unsupported) => {}
            other => panic!("{other:?}"),
        }
        let (ident, seq) = if c.is_ipv4() {
            let ip = Ipv4Packet::new_checked(&reply[..]).unwrap();
            let icmp = smoltcp::wire::Icmpv4Packet::new_checked(ip.payload()).unwrap();
            assert!(icmp.verify_checksum());
            (icmp.echo_ident(), icmp.echo_seq_no())
        } else {
            let ip = Ipv6Packet::new_checked(&reply[..]).unwrap();
            let icmp = smoltcp::wire::Icmpv6Packet::new_checked(ip.payload()).unwrap();
            assert!(icmp.verify_checksum(&ip.src_addr(), &ip.dst_addr()));
            (icmp.echo_ident(), icmp.echo_seq_no())
        };
        assert_eq!((ident, seq), (0x1234, 7));
    }
}

#[test]
fn multicast_and_broadcast_are_readable_in_captures_but_never_relayed() {
    let (mut stack, now) = bare_stack();
    let client: SocketAddr = "10.111.0.2:5353".parse().unwrap();
    for dst in ["224.0.0.251:5353", "255.255.255.255:67", "[ff02::fb]:5353"] {
        let dst: SocketAddr = dst.parse().unwrap();
        let src = if dst.is_ipv6() {
            "[fd70:686f:6e65::2]:5353".parse().unwrap()
        } else {
            client
        };
        let p = udp_packet(src, dst, b"mdns query");
        let seen = packet::segment(&p).expect("a capture reader sees it");
        assert_eq!((seen.dst, seen.payload), (dst, &b"mdns query"[..]));
        assert_eq!(stack.receive(now, &p), Err(DropReason::Unsupported));
    }
    assert!(stack.pop_event().is_none());
}
