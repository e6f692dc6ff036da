//! The test bench: a second smoltcp interface plays the client (the kernel side of the
//! TUN), packets move between it and the stack by hand, and the clock is ours; plus
//! builders for the datagrams a client sends.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{ChecksumCapabilities, Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::wire::{
    HardwareAddress, IpAddress, IpCidr, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
    TcpControl, TcpPacket, TcpRepr, TcpSeqNumber,
};

use crate::{packet, Config, Event, FlowEnd, FlowId, Netstack};

pub(super) const CLIENT_V4: [u8; 4] = [10, 111, 0, 2];
pub(super) const SERVER_V4: &str = "203.0.113.7:80";
pub(super) const CLIENT_V6: &str = "fd70:686f:6e65::2";
pub(super) const SERVER_V6: &str = "[2001:db8::7]:443";

/// The client side: a plain packet-queue device.
#[derive(Default)]
pub(super) struct Pipe {
    pub(super) rx: VecDeque<Vec<u8>>,
    pub(super) tx: VecDeque<Vec<u8>>,
}

pub(super) struct Rx(Vec<u8>);
pub(super) struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

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

pub(super) struct Link {
    pub(super) stack: Netstack,
    pub(super) client: Interface,
    pub(super) pipe: Pipe,
    pub(super) sockets: SocketSet<'static>,
    pub(super) t0: Instant,
    pub(super) now: Instant,
    pub(super) events: Vec<Event>,
    /// Packets the stack wrote, as the TUN would have seen them.
    pub(super) seen: Vec<Vec<u8>>,
}

impl Link {
    pub(super) fn new(config: Config) -> Self {
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

    /// A bench whose shell takes at most `credit` client bytes before writing them.
    pub(super) fn with_up_window(credit: usize) -> Self {
        Self::new(Config {
            tcp_up_window: credit,
            ..Config::default()
        })
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    pub(super) fn client_now(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros((self.now - self.t0).as_micros() as i64)
    }

    /// Moves packets both ways until neither side has anything to say.
    pub(super) fn pump(&mut self) {
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

    pub(super) fn connect(&mut self, dst: SocketAddr, local_port: u16) -> SocketHandle {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 1 << 20]),
            tcp::SocketBuffer::new(vec![0; 1 << 20]),
        );
        s.set_nagle_enabled(false);
        s.connect(self.client.context(), dst, local_port).unwrap();
        self.sockets.add(s)
    }

    pub(super) fn sock(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    pub(super) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Opens `n` client connections from consecutive ports and returns their handles and
    /// the stack's flow ids, in the same order; no upstream connect is reported yet.
    pub(super) fn connect_all(
        &mut self,
        n: u16,
        first_port: u16,
    ) -> (Vec<SocketHandle>, Vec<FlowId>) {
        let handles: Vec<_> = (0..n)
            .map(|i| self.connect(server(), first_port + i))
            .collect();
        self.pump();
        let ids = self
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::TcpConnect { id, .. } => Some(id),
                _ => None,
            })
            .collect();
        (handles, ids)
    }

    /// The client's next packet, taken before the stack sees it.
    pub(super) fn client_packet(&mut self) -> Option<Vec<u8>> {
        let t = self.client_now();
        self.client.poll(t, &mut self.pipe, &mut self.sockets);
        self.pipe.tx.pop_front()
    }

    pub(super) fn connect_event(&mut self) -> FlowId {
        let events = self.take_events();
        match events.as_slice() {
            [Event::TcpConnect { id, .. }] => *id,
            other => panic!("expected one TcpConnect, got {other:?}"),
        }
    }
}

pub(super) fn server() -> SocketAddr {
    SERVER_V4.parse().unwrap()
}

pub(super) fn closed(events: &[Event]) -> Vec<&FlowEnd> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Closed(end) => Some(end),
            _ => None,
        })
        .collect()
}

/// Every client byte handed to the shell, in order.
pub(super) fn up_bytes(events: &[Event]) -> Vec<u8> {
    up_bytes_where(events, |_| true)
}

/// The client bytes of flow `id` handed to the shell.
pub(super) fn up_bytes_of(events: &[Event], id: FlowId) -> Vec<u8> {
    up_bytes_where(events, |flow| flow == id)
}

fn up_bytes_where(events: &[Event], mut of: impl FnMut(FlowId) -> bool) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::TcpData { id, data } if of(*id) => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A stack with no client attached, and the time to give it.
pub(super) fn bare_stack() -> (Netstack, Instant) {
    (
        Netstack::new(Config::default(), Instant::now()),
        Instant::now(),
    )
}

/// An open connection: client socket handle and the stack's flow id.
pub(super) fn established(link: &mut Link, dst: SocketAddr) -> (SocketHandle, FlowId) {
    let h = link.connect(dst, 40_000);
    link.pump();
    let id = link.connect_event();
    link.stack.tcp_connected(link.now, id);
    link.pump();
    assert_eq!(link.sock(h).state(), tcp::State::Established);
    (h, id)
}

/// Plays a slow upstream: reports 10,000 bytes written at a time until the flow closes,
/// collecting every event after `events`.
pub(super) fn credit_until_closed(
    link: &mut Link,
    id: FlowId,
    mut events: Vec<Event>,
) -> Vec<Event> {
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

pub(super) fn udp_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    packet::udp(src, dst, payload, 65_535).unwrap()
}

pub(super) fn echo_request(src: IpAddr, dst: IpAddr, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
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

/// A client's SYN from `src` to `dst`, as a kernel would write it to the TUN.
pub(super) fn syn(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        control: TcpControl::Syn,
        seq_number: TcpSeqNumber(1000),
        ack_number: None,
        window_len: 64_240,
        window_scale: None,
        max_seg_size: Some(1460),
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let caps = ChecksumCapabilities::default();
    let (s, d) = (IpAddress::from(src.ip()), IpAddress::from(dst.ip()));
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let ip = Ipv4Repr {
                src_addr: a,
                dst_addr: b,
                next_header: IpProtocol::Tcp,
                payload_len: tcp.buffer_len(),
                hop_limit: 64,
            };
            let mut buf = vec![0; ip.buffer_len() + tcp.buffer_len()];
            let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
            ip.emit(&mut p, &caps);
            tcp.emit(
                &mut TcpPacket::new_unchecked(p.payload_mut()),
                &s,
                &d,
                &caps,
            );
            buf
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let ip = Ipv6Repr {
                src_addr: a,
                dst_addr: b,
                next_header: IpProtocol::Tcp,
                payload_len: tcp.buffer_len(),
                hop_limit: 64,
            };
            let mut buf = vec![0; ip.buffer_len() + tcp.buffer_len()];
            let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
            ip.emit(&mut p);
            tcp.emit(
                &mut TcpPacket::new_unchecked(p.payload_mut()),
                &s,
                &d,
                &caps,
            );
            buf
        }
        _ => unreachable!("one address family"),
    }
}
