//! The stack against a real TCP implementation: a second smoltcp interface plays the
//! client (the kernel side of the TUN), packets move between the two by hand, and the
//! clock is ours.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::{HardwareAddress, IpCidr};

use super::*;
use crate::tcp::open_tcp;
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::wire::{IpAddress, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket, TcpRepr, UdpPacket};

const CLIENT_V4: [u8; 4] = [10, 111, 0, 2];
const SERVER_V4: &str = "203.0.113.7:80";
const CLIENT_V6: &str = "fd70:686f:6e65::2";
const SERVER_V6: &str = "[2001:db8::7]:443";

/// The client side: a plain packet-queue device.
#[derive(Default)]
struct Pipe {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut p = vec![0; len];
        let r = f(&mut p);
        self.0.push_back(p);
        r
    }
}

impl Device for Pipe {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;
    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(Rx, Tx<'_>)> {
        let p = self.rx.pop_front()?;
        Some((Rx(p), Tx(&mut self.tx)))
    }
    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

struct Link {
    stack: Netstack,
    client: Interface,
    pipe: Pipe,
    sockets: SocketSet<'static>,
    t0: Instant,
    now: Instant,
    events: Vec<Event>,
    /// Packets the stack wrote, as the TUN would have seen them.
    seen: Vec<Vec<u8>>,
}

impl Link {
    fn new(config: Config) -> Self {
        let t0 = Instant::now();
        let mut pipe = Pipe::default();
        let mut client = Interface::new(
            IfaceConfig::new(HardwareAddress::Ip),
            &mut pipe,
            smoltcp::time::Instant::ZERO,
        );
        client.update_ip_addrs(|a| {
            a.push(IpCidr::new(Ipv4Addr::from(CLIENT_V4).into(), 0))
                .unwrap();
            a.push(IpCidr::new(
                CLIENT_V6.parse::<Ipv6Addr>().unwrap().into(),
                0,
            ))
            .unwrap();
        });
        Self {
            stack: Netstack::new(config, t0),
            client,
            pipe,
            sockets: SocketSet::new(Vec::new()),
            t0,
            now: t0,
            events: Vec::new(),
            seen: Vec::new(),
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    fn client_now(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros((self.now - self.t0).as_micros() as i64)
    }

    /// Moves packets both ways until neither side has anything to say.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let t = self.client_now();
            self.client.poll(t, &mut self.pipe, &mut self.sockets);
            let mut moved = false;
            while let Some(p) = self.pipe.tx.pop_front() {
                moved = true;
                let _ = self.stack.receive(self.now, &p);
            }
            self.stack.poll(self.now);
            while let Some(p) = self.stack.pop_packet() {
                moved = true;
                self.seen.push(p.clone());
                self.pipe.rx.push_back(p);
            }
            while let Some(e) = self.stack.pop_event() {
                moved = true;
                self.events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("the two stacks never went quiet");
    }

    fn connect(&mut self, dst: SocketAddr, local_port: u16) -> SocketHandle {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 1 << 20]),
            tcp::SocketBuffer::new(vec![0; 1 << 20]),
        );
        s.set_nagle_enabled(false);
        s.connect(self.client.context(), dst, local_port).unwrap();
        self.sockets.add(s)
    }

    fn sock(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn connect_event(&mut self) -> FlowId {
        let events = self.take_events();
        match events.as_slice() {
            [Event::TcpConnect { id, .. }] => *id,
            other => panic!("expected one TcpConnect, got {other:?}"),
        }
    }
}

fn server() -> SocketAddr {
    SERVER_V4.parse().unwrap()
}

fn closed(events: &[Event]) -> Vec<&FlowEnd> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Closed(end) => Some(end),
            _ => None,
        })
        .collect()
}

fn up_bytes(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TcpData { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// An open connection: client socket handle and the stack's flow id.
fn established(link: &mut Link, dst: SocketAddr) -> (SocketHandle, FlowId) {
    let h = link.connect(dst, 40_000);
    link.pump();
    let id = link.connect_event();
    link.stack.tcp_connected(link.now, id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Established);
    (h, id)
}

#[test]
fn syn_is_held_until_the_upstream_connect_succeeds() {
    let mut link = Link::new(Config::default());
    let h = link.connect(server(), 40_000);
    link.pump();
    let id = link.connect_event();
    assert!(
        link.seen.is_empty(),
        "nothing may answer the SYN before upstream is up"
    );
    assert_eq!(link.sock(h).state(), tcp::State::SynSent);

    // The client retransmits its SYN; the stack still waits and opens no second flow.
    link.advance(Duration::from_secs(2));
    link.pump();
    assert!(link.take_events().is_empty());
    assert!(link.seen.is_empty());

    link.stack.tcp_connected(link.now, id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Established);
    assert_eq!(link.stack.stats().tcp_flows, 1);
}

#[test]
fn syn_ack_advertises_the_mtu_mss_and_window_scaling() {
    let mut link = Link::new(Config {
        mtu: 1400,
        ..Config::default()
    });
    link.connect(server(), 40_000);
    link.pump();
    let id = link.connect_event();
    link.stack.tcp_connected(link.now, id);
    link.pump();
    let syn_ack = link
        .seen
        .iter()
        .find_map(|p| {
            let ip = Ipv4Packet::new_checked(&p[..]).ok()?;
            let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
            let repr = TcpRepr::parse(
                &tcp,
                &IpAddress::from(ip.src_addr()),
                &IpAddress::from(ip.dst_addr()),
                &Default::default(),
            )
            .ok()?;
            (repr.control == smoltcp::wire::TcpControl::Syn)
                .then_some((repr.max_seg_size, repr.window_scale))
        })
        .expect("a SYN-ACK");
    assert_eq!(syn_ack.0, Some(1400 - 40));
    assert!(
        syn_ack.1.is_some_and(|shift| shift > 0),
        "window scaling must be on"
    );
}

#[test]
fn refused_destination_refuses_the_client() {
    let mut link = Link::new(Config::default());
    let h = link.connect(server(), 40_000);
    link.pump();
    let id = link.connect_event();
    link.stack
        .tcp_connect_failed(link.now, id, ConnectError::Refused);
    link.pump();
    // smoltcp's client drops to Closed on a RST answering its SYN.
    assert_eq!(link.sock(h).state(), tcp::State::Closed);
    let events = link.take_events();
    let ends = closed(&events);
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].reason, CloseReason::Refused);
    assert_eq!(link.stack.stats().open_flows, 0);
}

#[test]
fn unreachable_destination_gets_an_icmp_error_quoting_the_syn() {
    for (dst, v6) in [(SERVER_V4, false), (SERVER_V6, true)] {
        let mut link = Link::new(Config::default());
        link.connect(dst.parse().unwrap(), 40_000);
        link.pump();
        let id = link.connect_event();
        link.stack
            .tcp_connect_failed(link.now, id, ConnectError::Unreachable);
        let reply = link.stack.pop_packet().expect("an ICMP error");
        if v6 {
            let ip = Ipv6Packet::new_checked(&reply[..]).unwrap();
            assert_eq!(ip.next_header(), IpProtocol::Icmpv6);
            assert_eq!(ip.dst_addr(), CLIENT_V6.parse::<Ipv6Addr>().unwrap());
            assert_eq!(ip.payload()[0], 1, "destination unreachable");
            assert_eq!(ip.payload()[1], 3, "address unreachable");
        } else {
            let ip = Ipv4Packet::new_checked(&reply[..]).unwrap();
            assert_eq!(ip.next_header(), IpProtocol::Icmp);
            assert_eq!(ip.dst_addr(), Ipv4Addr::from(CLIENT_V4));
            assert_eq!(ip.payload()[0], 3, "destination unreachable");
            assert_eq!(ip.payload()[1], 1, "host unreachable");
            // The quoted header names the original destination.
            let quoted = Ipv4Packet::new_unchecked(&ip.payload()[8..]);
            assert_eq!(
                quoted.dst_addr(),
                "203.0.113.7".parse::<Ipv4Addr>().unwrap()
            );
        }
        let events = link.stack.pop_event();
        assert!(matches!(
            events,
            Some(Event::Closed(FlowEnd {
                reason: CloseReason::Unreachable,
                ..
            }))
        ));
    }
}

#[test]
fn bytes_flow_both_ways_in_order_and_a_double_fin_closes_cleanly() {
    for dst in [SERVER_V4, SERVER_V6] {
        let mut link = Link::new(Config::default());
        let (h, id) = established(&mut link, dst.parse().unwrap());
        let upload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut sent = 0;
        let mut got = Vec::new();
        while got.len() < upload.len() {
            sent += link.sock(h).send_slice(&upload[sent..]).unwrap();
            link.pump();
            let events = link.take_events();
            let chunk = up_bytes(&events);
            link.stack.tcp_written(id, chunk.len());
            got.extend(chunk);
        }
        assert_eq!(got, upload);

        let download: Vec<u8> = (0..500_000u32).map(|i| (i * 13 % 241) as u8).collect();
        let mut received = Vec::new();
        let mut given = 0;
        let mut window = 128 * 1024;
        while received.len() < download.len() {
            let n = window.min(download.len() - given);
            if n > 0 {
                link.stack.tcp_send(
                    link.now,
                    id,
                    Bytes::copy_from_slice(&download[given..given + n]),
                );
                given += n;
                window -= n;
            }
            link.pump();
            for e in link.take_events() {
                if let Event::TcpSent { len, .. } = e {
                    window += len;
                }
            }
            let mut buf = vec![0; 1 << 20];
            while let Ok(n) = link.sock(h).recv_slice(&mut buf) {
                if n == 0 {
                    break;
                }
                received.extend_from_slice(&buf[..n]);
            }
        }
        assert_eq!(received, download);

        link.sock(h).close();
        link.pump();
        assert!(link.take_events().contains(&Event::TcpEof { id }));
        link.stack.tcp_server_eof(id);
        link.pump();
        let events = link.take_events();
        let ends = closed(&events);
        assert_eq!(ends.len(), 1, "{events:?}");
        assert_eq!(ends[0].reason, CloseReason::Closed);
        assert_eq!(ends[0].bytes_out, upload.len() as u64);
        assert_eq!(ends[0].bytes_in, download.len() as u64);
        assert!(matches!(
            link.sock(h).state(),
            tcp::State::TimeWait | tcp::State::Closed
        ));
    }
}

#[test]
fn client_half_close_still_receives_the_servers_reply() {
    let mut link = Link::new(Config::default());
    let (h, id) = established(&mut link, server());
    link.sock(h).send_slice(b"request").unwrap();
    link.sock(h).close();
    link.pump();
    let events = link.take_events();
    assert_eq!(up_bytes(&events), b"request");
    let eof_at = events.iter().position(|e| *e == Event::TcpEof { id });
    let data_at = events
        .iter()
        .position(|e| matches!(e, Event::TcpData { .. }));
    assert!(eof_at > data_at, "EOF comes after the data: {events:?}");

    link.stack
        .tcp_send(link.now, id, Bytes::from_static(b"reply after half-close"));
    link.stack.tcp_server_eof(id);
    link.pump();
    let mut buf = [0u8; 64];
    let n = link.sock(h).recv_slice(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"reply after half-close");
    assert!(!link.sock(h).may_recv(), "the server's FIN arrived");
}

#[test]
fn a_slow_upstream_closes_the_clients_window() {
    let mut link = Link::new(Config {
        tcp_up_window: 10_000,
        ..Config::default()
    });
    let (h, id) = established(&mut link, server());
    let data = vec![7u8; 200_000];
    link.sock(h).send_slice(&data).unwrap();
    link.pump();
    let handed = up_bytes(&link.take_events()).len();
    assert_eq!(
        handed, 10_000,
        "no more than the credit before the shell writes"
    );
    link.stack.tcp_written(id, handed);
    link.pump();
    assert_eq!(up_bytes(&link.take_events()).len(), 10_000);
}

#[test]
fn client_reset_reaches_the_shell() {
    let mut link = Link::new(Config::default());
    let (h, _) = established(&mut link, server());
    link.sock(h).abort();
    link.pump();
    let events = link.take_events();
    let ends = closed(&events);
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].reason, CloseReason::ClientReset);
}

#[test]
fn server_reset_resets_the_client() {
    let mut link = Link::new(Config::default());
    let (h, id) = established(&mut link, server());
    link.stack.tcp_server_reset(id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Closed);
    let events = link.take_events();
    assert_eq!(closed(&events)[0].reason, CloseReason::ServerReset);
}

#[test]
fn server_closing_first_is_seen_by_the_client_after_its_data() {
    let mut link = Link::new(Config::default());
    let (h, id) = established(&mut link, server());
    link.stack
        .tcp_send(link.now, id, Bytes::from_static(b"bye"));
    link.stack.tcp_server_eof(id);
    link.pump();
    let mut buf = [0u8; 8];
    assert_eq!(link.sock(h).recv_slice(&mut buf).unwrap(), 3);
    assert_eq!(link.sock(h).state(), tcp::State::CloseWait);
    link.sock(h).close();
    link.pump();
    let events = link.take_events();
    assert!(events.contains(&Event::TcpEof { id }));
    assert_eq!(closed(&events)[0].reason, CloseReason::Closed);
}

#[test]
fn after_the_server_closes_a_slow_upstream_still_gets_every_client_byte() {
    // Regression: the client's FIN moved smoltcp to TIME-WAIT while bytes still waited
    // for upstream credit, and the flow was retired with them (seen by the e2e suite).
    let mut link = Link::new(Config {
        tcp_up_window: 16_384,
        ..Config::default()
    });
    let (h, id) = established(&mut link, server());
    link.stack.tcp_server_eof(id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::CloseWait);
    let upload: Vec<u8> = (0..400_000u32).map(|i| (i % 253) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..10_000 {
        if sent < upload.len() {
            sent += link.sock(h).send_slice(&upload[sent..]).unwrap();
        } else if link.sock(h).state() == tcp::State::CloseWait {
            link.sock(h).close();
        }
        link.pump();
        let events = link.take_events();
        let chunk = up_bytes(&events);
        ends.extend(closed(&events).into_iter().cloned());
        link.stack.tcp_written(id, chunk.len());
        // Time passes, so segments sent into a closed window are retransmitted.
        link.advance(Duration::from_millis(100));
        got.extend(chunk);
        if !ends.is_empty() {
            break;
        }
    }
    assert_eq!(
        got.len(),
        upload.len(),
        "{ends:?} client {}",
        link.sock(h).state()
    );
    assert_eq!(got, upload);
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].reason, CloseReason::Closed);
}

/// Plays a slow upstream: reports 10,000 bytes written at a time until the flow closes,
/// collecting every event after `events`.
fn credit_until_closed(link: &mut Link, id: FlowId, mut events: Vec<Event>) -> Vec<Event> {
    for _ in 0..100 {
        if !closed(&events).is_empty() {
            break;
        }
        link.stack.tcp_written(id, 10_000);
        link.pump();
        events.extend(link.take_events());
    }
    events
}

#[test]
fn a_client_gone_after_both_fins_still_has_its_waiting_bytes_delivered() {
    // Regression: the client's data and FIN were acknowledged while the upstream was
    // slow; our FIN then took smoltcp through LAST-ACK to CLOSED, and the flow was
    // reported as reset with the unread bytes dropped.
    let mut link = Link::new(Config {
        tcp_up_window: 10_000,
        ..Config::default()
    });
    let (h, id) = established(&mut link, server());
    let upload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(link.sock(h).send_slice(&upload).unwrap(), upload.len());
    link.sock(h).close();
    link.pump();
    let mut got = up_bytes(&link.take_events());
    assert_eq!(
        got.len(),
        10_000,
        "the shell's credit caps what it is handed"
    );

    link.stack.tcp_server_eof(id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::TimeWait);
    assert!(closed(&link.events).is_empty(), "{:?}", link.events);

    let events = credit_until_closed(&mut link, id, Vec::new());
    got.extend(up_bytes(&events));
    assert_eq!(got.len(), upload.len(), "{:?}", closed(&events));
    assert_eq!(got, upload);
    assert!(
        events.contains(&Event::TcpEof { id }),
        "the shell hears the client's FIN"
    );
    assert_eq!(closed(&events).len(), 1);
    assert_eq!(closed(&events)[0].reason, CloseReason::Closed);
}

#[test]
fn bytes_waiting_for_credit_outlive_the_end_of_time_wait() {
    // Regression: smoltcp clears the receive buffer when TIME-WAIT ends; bytes the slow
    // upstream had not yet taken were lost and the flow still reported a clean close.
    let mut link = Link::new(Config {
        tcp_up_window: 10_000,
        ..Config::default()
    });
    let (h, id) = established(&mut link, server());
    link.stack.tcp_server_eof(id);
    link.pump();
    let upload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(link.sock(h).send_slice(&upload).unwrap(), upload.len());
    link.sock(h).close();
    link.pump();
    let state = open_tcp(&mut link.stack.flows, id).map(|open| open.socket().state());
    assert_eq!(state, Some(tcp::State::TimeWait));

    link.advance(Duration::from_secs(60));
    link.pump();
    let events = link.take_events();
    let events = credit_until_closed(&mut link, id, events);
    let got = up_bytes(&events);
    assert_eq!(got.len(), upload.len(), "{:?}", closed(&events));
    assert_eq!(got, upload);
    let eof = events.iter().position(|e| *e == Event::TcpEof { id });
    let last_data = events
        .iter()
        .rposition(|e| matches!(e, Event::TcpData { .. }));
    assert!(
        eof > last_data,
        "the FIN follows the last byte: {eof:?} {last_data:?}"
    );
    assert_eq!(closed(&events).len(), 1);
    assert_eq!(closed(&events)[0].reason, CloseReason::Closed);
}

#[test]
fn a_segment_of_no_flow_is_answered_with_rst_and_no_flow_is_made() {
    // A data segment of a connection this stack never saw (e.g. from before a restart).
    let mut link = Link::new(Config::default());
    let (h, _) = established(&mut link, server());
    link.sock(h).send_slice(b"late").unwrap();
    let t = link.client_now();
    link.client.poll(t, &mut link.pipe, &mut link.sockets);
    let segment = link.pipe.tx.pop_front().expect("the client's data segment");

    let mut fresh = Netstack::new(Config::default(), link.now);
    fresh.receive(link.now, &segment).unwrap();
    fresh.poll(link.now);
    let reply = fresh.pop_packet().expect("an answer");
    let ip = Ipv4Packet::new_checked(&reply[..]).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert!(tcp.rst(), "RST expected");
    assert_eq!((tcp.src_port(), tcp.dst_port()), (80, 40_000));
    assert_eq!(fresh.pop_event(), None);
    assert_eq!(fresh.stats().open_flows, 0);
    assert_eq!(fresh.poll_at(link.now), None, "nothing left to do");
}

#[test]
fn a_lost_segment_is_sent_again_when_the_flows_timer_is_due() {
    let mut link = Link::new(Config::default());
    let (h, id) = established(&mut link, server());
    link.stack
        .tcp_send(link.now, id, Bytes::from_static(b"lost once"));
    link.stack.poll(link.now);
    let lost = link.stack.pop_packet().expect("the data segment");
    assert!(lost.ends_with(b"lost once"));
    assert_eq!(link.stack.pop_packet(), None);

    let due = link
        .stack
        .poll_at(link.now)
        .expect("a retransmission timer");
    assert!(due > link.now);
    link.stack.poll(due - Duration::from_millis(1));
    assert_eq!(link.stack.pop_packet(), None, "not before the timer");
    link.now = due;
    link.pump();
    let mut buf = [0u8; 64];
    let n = link.sock(h).recv_slice(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"lost once");
}

#[test]
fn a_full_flow_table_refuses_new_connections_with_rst() {
    let mut link = Link::new(Config {
        max_flows: 1,
        ..Config::default()
    });
    let (_first, _) = established(&mut link, server());
    let second = link.connect(server(), 40_001);
    link.pump();
    assert_eq!(link.sock(second).state(), tcp::State::Closed);
    let events = link.take_events();
    assert_eq!(closed(&events)[0].reason, CloseReason::FlowLimit);
    assert_eq!(link.stack.stats().flow_limit, 1);
}

#[test]
fn idle_tcp_flows_are_reset_and_reported() {
    let mut link = Link::new(Config {
        tcp_idle: Duration::from_secs(60),
        ..Config::default()
    });
    let (h, _) = established(&mut link, server());
    let due = link.stack.poll_at(link.now).expect("an idle deadline");
    assert!(due <= link.now + Duration::from_secs(60));
    link.advance(Duration::from_secs(61));
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Closed);
    assert_eq!(closed(&link.take_events())[0].reason, CloseReason::Idle);
}

#[test]
fn many_concurrent_connections_to_one_endpoint_each_get_their_own_flow() {
    let mut link = Link::new(Config::default());
    let handles: Vec<_> = (0..50)
        .map(|i| link.connect(server(), 41_000 + i))
        .collect();
    link.pump();
    let ids: Vec<FlowId> = link
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TcpConnect { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 50);
    // Upstream connects complete in reverse order.
    for &id in ids.iter().rev() {
        link.stack.tcp_connected(link.now, id);
    }
    link.pump();
    for (i, &h) in handles.iter().enumerate() {
        assert_eq!(link.sock(h).state(), tcp::State::Established);
        link.sock(h)
            .send_slice(format!("client {i}").as_bytes())
            .unwrap();
    }
    link.pump();
    let events = link.take_events();
    for (i, &id) in ids.iter().enumerate() {
        let data: Vec<u8> = events
            .iter()
            .filter_map(|e| match e {
                Event::TcpData { id: d, data } if *d == id => Some(data.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(data, format!("client {i}").as_bytes());
    }
}

#[test]
fn flows_that_outlive_a_burst_of_closed_ones_keep_working() {
    let mut link = Link::new(Config::default());
    let handles: Vec<_> = (0..300)
        .map(|i| link.connect(server(), 42_000 + i))
        .collect();
    link.pump();
    let ids: Vec<FlowId> = link
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TcpConnect { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    for &id in &ids {
        link.stack.tcp_connected(link.now, id);
    }
    link.pump();
    // All but every 37th go away.
    let survivors: Vec<usize> = (0..300).filter(|i| i % 37 == 0).collect();
    for i in (0..300).filter(|i| !survivors.contains(i)) {
        link.sock(handles[i]).abort();
    }
    link.pump();
    assert_eq!(closed(&link.take_events()).len(), 300 - survivors.len());

    for &i in &survivors {
        link.sock(handles[i])
            .send_slice(format!("up {i}").as_bytes())
            .unwrap();
        link.stack
            .tcp_send(link.now, ids[i], Bytes::from(format!("down {i}")));
    }
    link.pump();
    let events = link.take_events();
    for &i in &survivors {
        let up: Vec<u8> = events
            .iter()
            .filter_map(|e| match e {
                Event::TcpData { id, data } if *id == ids[i] => Some(data.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(up, format!("up {i}").as_bytes());
        let mut buf = [0u8; 64];
        let n = link.sock(handles[i]).recv_slice(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("down {i}").as_bytes());
    }
}

fn udp_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    packet::udp(src, dst, payload, 65_535).unwrap()
}

#[test]
fn udp_datagrams_share_a_nat_entry_and_replies_come_back_addressed_to_the_client() {
    let mut stack = Netstack::new(Config::default(), Instant::now());
    let now = Instant::now();
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
    let mut stack = Netstack::new(Config::default(), Instant::now());
    let now = Instant::now();
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
        let mut stack = Netstack::new(Config::default(), Instant::now());
        let now = Instant::now();
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

fn echo_request(src: IpAddr, dst: IpAddr, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    // An echo reply built backwards, then turned into a request: type 8 (v4) / 128 (v6).
    let mut p = packet::echo_reply(src, dst, ident, seq, data, 65_535).unwrap();
    if src.is_ipv4() {
        let mut ip = Ipv4Packet::new_unchecked(&mut p[..]);
        let mut icmp = smoltcp::wire::Icmpv4Packet::new_unchecked(ip.payload_mut());
        icmp.set_msg_type(smoltcp::wire::Icmpv4Message::EchoRequest);
        icmp.fill_checksum();
    } else {
        let (s, d) = match (src, dst) {
            (IpAddr::V6(s), IpAddr::V6(d)) => (s, d),
            _ => unreachable!(),
        };
        let mut ip = Ipv6Packet::new_unchecked(&mut p[..]);
        let mut icmp = smoltcp::wire::Icmpv6Packet::new_unchecked(ip.payload_mut());
        icmp.set_msg_type(smoltcp::wire::Icmpv6Message::EchoRequest);
        icmp.fill_checksum(&s, &d);
    }
    p
}

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

#[test]
fn shutdown_resets_clients_and_reports_every_flow() {
    let mut link = Link::new(Config::default());
    let (h, _) = established(&mut link, server());
    let client: SocketAddr = "10.111.0.2:5000".parse().unwrap();
    link.stack
        .receive(
            link.now,
            &udp_packet(client, "203.0.113.1:9".parse().unwrap(), b"x"),
        )
        .unwrap();
    link.stack.shutdown(link.now);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Closed);
    let events = link.take_events();
    let ends = closed(&events);
    assert_eq!(ends.len(), 2);
    assert!(ends.iter().all(|e| e.reason == CloseReason::Shutdown));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// The packet entry point takes any bytes without panicking.
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut stack = Netstack::new(Config::default(), Instant::now());
            let now = Instant::now();
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
            let mut stack = Netstack::new(Config::default(), Instant::now());
            let now = Instant::now();
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
        let t = link.client_now();
        link.client.poll(t, &mut link.pipe, &mut link.sockets);
        link.pipe.tx.pop_front().unwrap()
    }
}
