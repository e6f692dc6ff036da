//! Loss on the TUN between the stack and the app (issue 15, defect 4): what the stack
//! writes is dropped now and then, and it must repair that at the pace of a link whose
//! round trip is microseconds, not on the Internet's 1 s timeouts. The clock stands still
//! unless a test moves it, so "repaired without advancing the clock" means "by duplicate
//! or partial ACKs, with no timeout at all".

use std::time::Duration;

use bytes::Bytes;
use smoltcp::iface::SocketHandle;

use super::harness::*;
use crate::{Config, FlowId};

/// An established flow whose congestion window has grown past `warm` bytes of slow start,
/// so that a test's burst leaves the stack as many segments at once.
fn warm_flow(link: &mut Link, warm: usize) -> (SocketHandle, FlowId) {
    let (h, id) = established(link, server());
    link.stack
        .tcp_send(link.now, id, Bytes::from(vec![7u8; warm]));
    link.pump();
    assert_eq!(drain(link, h).len(), warm);
    (h, id)
}

/// Everything the client has received so far.
fn drain(link: &mut Link, h: SocketHandle) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while let Ok(n) = link.sock(h).recv_slice(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Gives the stack `data` for the client and returns the segments it writes at once.
fn burst(link: &mut Link, id: FlowId, data: &[u8]) -> Vec<Vec<u8>> {
    link.stack
        .tcp_send(link.now, id, Bytes::copy_from_slice(data));
    link.stack.poll(link.now);
    std::iter::from_fn(|| link.stack.pop_packet()).collect()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_lost_segment_with_nothing_after_it_is_resent_within_20_ms_not_a_second() {
    let mut link = Link::new(Config::default());
    let (h, id) = warm_flow(&mut link, 10_000);
    let lost = burst(&mut link, id, b"lost once");
    assert_eq!(lost.len(), 1);

    let due = link
        .stack
        .poll_at(link.now)
        .expect("a retransmission timer");
    assert!(
        due - link.now <= Duration::from_millis(20),
        "RTO {:?}: a microsecond link needs no second-long floor",
        due - link.now
    );
    link.now = due;
    link.pump();
    assert_eq!(drain(&mut link, h), b"lost once");
}

#[test]
fn the_first_data_segment_lost_is_resent_within_the_100_ms_initial_rto() {
    let mut link = Link::new(Config::default());
    let (h, id) = established(&mut link, server());
    let lost = burst(&mut link, id, b"first words");
    assert_eq!(lost.len(), 1);
    let due = link
        .stack
        .poll_at(link.now)
        .expect("a retransmission timer");
    assert!(
        due - link.now <= Duration::from_millis(100),
        "{:?}",
        due - link.now
    );
    link.now = due;
    link.pump();
    assert_eq!(drain(&mut link, h), b"first words");
}

#[test]
fn a_lost_segment_is_resent_on_three_duplicate_acks_without_any_timeout() {
    let mut link = Link::new(Config::default());
    let (h, id) = warm_flow(&mut link, 200_000);
    let data = pattern(20_000);
    let mut segments = burst(&mut link, id, &data);
    assert!(segments.len() >= 5, "{} segments", segments.len());
    segments.remove(0);
    link.pipe.rx.extend(segments);
    // The clock stands still: only the duplicate ACKs can bring the first segment back.
    link.pump();
    assert_eq!(drain(&mut link, h), data);
}

#[test]
fn two_losses_in_one_window_are_both_repaired_without_any_timeout() {
    let mut link = Link::new(Config::default());
    let (h, id) = warm_flow(&mut link, 200_000);
    let data = pattern(20_000);
    let segments = burst(&mut link, id, &data);
    assert!(segments.len() >= 8, "{} segments", segments.len());
    // The first and the fifth are lost. Three duplicate ACKs bring back the first; the ACK
    // for it stops short of the fifth (a partial ACK), which must bring that one back at
    // once: there is nothing more to send that could draw three more duplicates.
    let kept = segments
        .into_iter()
        .enumerate()
        .filter(|&(i, _)| i != 0 && i != 4)
        .map(|(_, s)| s);
    link.pipe.rx.extend(kept);
    link.pump();
    assert_eq!(drain(&mut link, h), data);
}

/// Sequence numbers of the TCP segments with data among `packets` (IPv4).
fn data_seqs(packets: &[Vec<u8>]) -> Vec<u32> {
    use smoltcp::wire::{Ipv4Packet, TcpPacket};
    packets
        .iter()
        .filter_map(|p| {
            let ip = Ipv4Packet::new_checked(&p[..]).ok()?;
            let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
            (!tcp.payload().is_empty()).then(|| tcp.seq_number().0 as u32)
        })
        .collect()
}

#[test]
fn several_holes_in_one_window_are_all_resent_in_one_round_trip_from_the_sack_blocks() {
    let mut link = Link::new(Config::default());
    let (h, id) = warm_flow(&mut link, 400_000);
    let data = pattern(40_000);
    let segments = burst(&mut link, id, &data);
    assert!(segments.len() >= 20, "{} segments", segments.len());
    let lost = [0, 4, 8, 12];
    let lost_seqs = data_seqs(&lost.map(|i| segments[i].clone()));
    let kept = segments
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .map(|(_, s)| s.clone());
    link.pipe.rx.extend(kept);

    // One round trip: the client answers everything that arrived (duplicate ACKs with
    // SACK blocks), and the stack answers all of those at once.
    let t = link.client_now();
    link.client.poll(t, &mut link.pipe, &mut link.sockets);
    let acks: Vec<Vec<u8>> = link.pipe.tx.drain(..).collect();
    assert!(acks.len() >= 10, "{} ACKs", acks.len());
    for ack in &acks {
        let _ = link.stack.receive(link.now, ack);
    }
    link.stack.poll(link.now);
    let answer: Vec<Vec<u8>> = std::iter::from_fn(|| link.stack.pop_packet()).collect();
    let resent = data_seqs(&answer);
    for (i, seq) in lost_seqs.iter().enumerate() {
        assert!(
            resent.contains(seq),
            "hole {} of {} not resent in the first round trip: {:?} sent, {:?} lost, {} segments",
            i + 1,
            lost.len(),
            resent,
            lost_seqs,
            segments.len()
        );
    }
    let sent_before = data_seqs(&segments);
    let again: Vec<&u32> = resent
        .iter()
        .filter(|s| sent_before.contains(s) && !lost_seqs.contains(s))
        .collect();
    assert!(again.is_empty(), "resent what the client holds: {again:?}");
    link.pipe.rx.extend(answer);
    link.pump();
    assert_eq!(drain(&mut link, h), data);
}
