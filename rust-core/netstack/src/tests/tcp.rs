//! TCP through the stack: the held SYN, refusals, bytes and FINs both ways, credit,
//! resets, timers, idle flows and the flow limit.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use smoltcp::socket::tcp;
use smoltcp::wire::{IpAddress, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket, TcpRepr};

use super::harness::*;
use crate::flows::open_tcp;
use crate::{CloseReason, Config, ConnectError, Event, FlowEnd, Netstack};

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
    let mut link = Link::with_up_window(10_000);
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
    let mut link = Link::with_up_window(16_384);
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

#[test]
fn a_client_gone_after_both_fins_still_has_its_waiting_bytes_delivered() {
    // Regression: the client's data and FIN were acknowledged while the upstream was
    // slow; our FIN then took smoltcp through LAST-ACK to CLOSED, and the flow was
    // reported as reset with the unread bytes dropped.
    let mut link = Link::with_up_window(10_000);
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
    let mut link = Link::with_up_window(10_000);
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
    let segment = link.client_packet().expect("the client's data segment");

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
    let (handles, ids) = link.connect_all(50, 41_000);
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
        let data = up_bytes_of(&events, id);
        assert_eq!(data, format!("client {i}").as_bytes());
    }
}

#[test]
fn flows_that_outlive_a_burst_of_closed_ones_keep_working() {
    let mut link = Link::new(Config::default());
    let (handles, ids) = link.connect_all(300, 42_000);
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
        let up = up_bytes_of(&events, ids[i]);
        assert_eq!(up, format!("up {i}").as_bytes());
        let mut buf = [0u8; 64];
        let n = link.sock(handles[i]).recv_slice(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("down {i}").as_bytes());
    }
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
