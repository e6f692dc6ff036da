//! The tap: what the relay's packet loop calls. It copies the first bytes of each flow
//! and the first packets for the capture, and hands them to the inspection thread
//! without ever waiting for it.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::SystemTime;

use bytes::Bytes;
use phonehome_analyzer::Analyzer;
use phonehome_model::{Direction, FlowRecord, Proto, Sink, TlsMode};
use phonehome_netstack::packet::segment;
use phonehome_netstack::FlowId;
use phonehome_relay::Observer;

use crate::wanted::Wanted;
use crate::worker::{survive, Message, Worker};
use crate::{Attribute, Capture};

/// How much the tap copies per flow and direction, and how far the thread may lag.
#[derive(Debug, Clone)]
pub struct TapLimits {
    /// Bytes copied per flow and direction (the first ones) unless the analyzer follows
    /// the direction (HTTP: every request, response and WebSocket message is read, and
    /// the analyzer says which bytes it will skip). Larger than the scan limit so that a
    /// protocol is recognised late.
    pub per_direction: usize,
    /// Bytes copied per flow and direction (the first ones) while the analyzer has not
    /// yet decided what the direction is: its thread runs behind the relay, and a
    /// stream it turns out to follow must not have been cut at `per_direction` before
    /// it said so (a pipelined burst, an answer decrypted as fast as it is relayed).
    pub undecided: usize,
    /// Packet bytes per flow (both ways) kept in the capture file.
    pub capture_per_flow: usize,
    /// Bytes queued for the thread at most; past it, data is dropped.
    pub backlog: usize,
    /// Packets kept in the capture file that belong to no TCP/UDP flow (ICMP, garbage).
    pub stray_packets: usize,
}

impl Default for TapLimits {
    fn default() -> Self {
        Self {
            per_direction: 256 << 10,
            undecided: 8 << 20,
            capture_per_flow: 128 << 10,
            backlog: 32 << 20,
            stray_packets: 10_000,
        }
    }
}

/// The [`Observer`] that runs an [`Analyzer`] on its own thread and writes what it finds
/// to a [`Sink`].
pub struct Inspector {
    tx: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    queued: Arc<AtomicUsize>,
    /// What has been copied of each open flow.
    copied: HashMap<FlowId, Tapped>,
    /// Flows by (client, server, protocol), to tell which flow a packet is in.
    keys: HashMap<(SocketAddr, SocketAddr, Proto), FlowId>,
    /// Packet bytes captured so far per flow (both ways), and stray packets.
    captured: HashMap<FlowId, usize>,
    strays: usize,
    capturing: bool,
    /// Packets read from the TUN before the stack announced their flow (a SYN, a first
    /// datagram): held until `flow_start` names it, or the next packet.
    unmatched: Vec<Vec<u8>>,
    limits: TapLimits,
    /// Names each flow's app, on this (the relay's) thread as the flow starts: the
    /// client's socket surely exists then. Asked on the inspection thread, which may be
    /// behind, a short connection (a DNS query, a quick request) was often gone by then,
    /// and its flow named no app.
    attribute: Box<dyn Attribute>,
    /// Data dropped because the thread lagged.
    pub dropped: u64,
    /// Payload bytes the relay handed the tap (every flow, both directions; an
    /// intercepted flow's plaintext), and those of them copied to the inspection thread.
    pub relayed: u64,
    pub to_inspection: u64,
}

/// The tap's state of one flow.
#[derive(Default)]
struct Tapped {
    /// Bytes relayed so far, copied or not: (out, in), each direction's stream offset.
    seen: (u64, u64),
    /// Set by the inspection thread: which bytes of each direction it will read.
    wanted: Arc<Wanted>,
    /// A direction whose data had to be dropped is not copied any more.
    gapped: (bool, bool),
    /// Which stream `seen` counts: one more each time the flow is intercepted and its
    /// plaintext starts from 0 (the thread's words about another epoch are not read).
    epoch: u32,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("dropped", &self.dropped)
            .field("relayed", &self.relayed)
            .field("to_inspection", &self.to_inspection)
            .finish_non_exhaustive()
    }
}

impl Inspector {
    /// `capture`, when given, receives the first packets of each flow (up to
    /// `capture_per_flow` bytes), each with a comment naming its flow and app.
    /// `attribute` names each flow's app.
    pub fn spawn(
        analyzer: Analyzer,
        sink: Box<dyn Sink>,
        capture: Option<Capture>,
        limits: TapLimits,
        attribute: Box<dyn Attribute>,
    ) -> io::Result<Self> {
        let capturing = capture.is_some();
        let (tx, inbox) = mpsc::channel::<Message>();
        let queued = Arc::new(AtomicUsize::new(0));
        let thread = Worker::new(analyzer, sink, capture, queued.clone()).spawn(inbox)?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            queued,
            copied: HashMap::new(),
            keys: HashMap::new(),
            captured: HashMap::new(),
            strays: 0,
            capturing,
            unmatched: Vec::new(),
            limits,
            attribute,
            dropped: 0,
            relayed: 0,
            to_inspection: 0,
        })
    }

    fn send(&self, message: Message) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(message);
        }
    }

    /// The flow a packet read from (`Out`) or written to (`In`) the TUN belongs to.
    fn flow_of(&self, direction: Direction, packet: &[u8]) -> Option<FlowId> {
        let seg = segment(packet)?;
        let key = match direction {
            Direction::Out => (seg.src, seg.dst, seg.proto),
            Direction::In => (seg.dst, seg.src, seg.proto),
        };
        self.keys.get(&key).copied()
    }

    /// Queues a packet for the capture file, within the flow's (or the strays') budget.
    fn capture(&mut self, packet: &[u8], flow: Option<FlowId>) {
        match flow {
            Some(id) => {
                let Some(so_far) = self.captured.get_mut(&id) else {
                    return;
                };
                if *so_far >= self.limits.capture_per_flow {
                    return;
                }
                *so_far += packet.len();
            }
            None => {
                if self.strays >= self.limits.stray_packets {
                    return;
                }
                self.strays += 1;
            }
        }
        if self.queued.load(Ordering::Relaxed) > self.limits.backlog {
            self.dropped += 1;
            return;
        }
        self.queued.fetch_add(packet.len(), Ordering::Relaxed);
        self.send(Message::Packet(SystemTime::now(), packet.to_vec(), flow));
    }
}

impl Observer for Inspector {
    fn flow_start(&mut self, id: FlowId, proto: Proto, src: SocketAddr, dst: SocketAddr) {
        let tapped = Tapped::default();
        let app = survive(|| self.attribute.app(proto, src, dst)).flatten();
        let signer = app
            .as_deref()
            .and_then(|a| survive(|| self.attribute.signer(a)).flatten());
        self.send(Message::Start(
            id,
            proto,
            src,
            dst,
            app,
            signer,
            tapped.wanted.clone(),
        ));
        self.copied.insert(id, tapped);
        if self.capturing && proto != Proto::Icmp {
            self.keys.insert((src, dst, proto), id);
            self.captured.insert(id, 0);
            for packet in std::mem::take(&mut self.unmatched) {
                let flow = self.flow_of(Direction::Out, &packet);
                match flow {
                    Some(_) => self.capture(&packet, flow),
                    None => self.unmatched.push(packet),
                }
            }
        }
    }

    fn data(&mut self, id: FlowId, direction: Direction, data: &Bytes) {
        let Some(tapped) = self.copied.get_mut(&id) else {
            return;
        };
        let (seen, gapped) = match direction {
            Direction::Out => (&mut tapped.seen.0, &mut tapped.gapped.0),
            Direction::In => (&mut tapped.seen.1, &mut tapped.gapped.1),
        };
        let start = *seen;
        let end = start + data.len() as u64;
        *seen = end;
        self.relayed += data.len() as u64;
        if *gapped || data.is_empty() {
            return;
        }
        // Only the bytes the analyzer will read: from where it wants them, and past the
        // first `per_direction` only if it follows the direction. Until it has decided
        // what the direction is, the cap is `undecided`: the relay runs ahead of the
        // thread, and bytes past `per_direction` may be ones it turns out to follow.
        let word = tapped.wanted.load(direction, tapped.epoch);
        let cap = match (word.want.follow, word.decided) {
            (true, _) => u64::MAX,
            (false, true) => self.limits.per_direction as u64,
            (false, false) => self.limits.undecided.max(self.limits.per_direction) as u64,
        };
        let (from, to) = (start.max(word.want.from), end.min(cap));
        if from >= to {
            return;
        }
        if self.queued.load(Ordering::Relaxed) > self.limits.backlog {
            // Dropping makes a hole in the stream; the analyzer must not parse across it.
            self.dropped += 1;
            *gapped = true;
            self.send(Message::Gap(id, direction));
            return;
        }
        let data = data.slice((from - start) as usize..(to - start) as usize);
        self.to_inspection += data.len() as u64;
        self.queued.fetch_add(data.len(), Ordering::Relaxed);
        self.send(Message::Data(id, direction, from, data, SystemTime::now()));
    }

    fn packet(&mut self, direction: Direction, packet: &[u8]) {
        if !self.capturing {
            return;
        }
        let flow = self.flow_of(direction, packet);
        if flow.is_none() && direction == Direction::Out && self.unmatched.len() < 64 {
            // Likely the first packet of a flow the stack is about to announce.
            self.unmatched.push(packet.to_vec());
            return;
        }
        self.capture(packet, flow);
    }

    fn tls_mode(&mut self, id: FlowId, mode: TlsMode) {
        if let Some(tapped) = self.copied.get_mut(&id) {
            if mode == TlsMode::Intercepted {
                // The plaintext starts afresh; the ciphertext copied so far was not it.
                tapped.seen = (0, 0);
                tapped.epoch = tapped.epoch.wrapping_add(1);
            }
            self.send(Message::Tls(id, mode));
        }
    }

    fn tls_secret(&mut self, _id: FlowId, line: &str) {
        if self.capturing {
            self.send(Message::Secret(line.to_owned()));
        }
    }

    fn round_done(&mut self) {
        // Whatever no flow claimed in this round belongs to none (ICMP, garbage).
        for packet in std::mem::take(&mut self.unmatched) {
            self.capture(&packet, None);
        }
    }

    fn flow_end(&mut self, record: FlowRecord) {
        self.copied.remove(&record.flow);
        // Capture keys stay (the last ACKs come after the end) until a new flow takes
        // the same addresses; the table is only cleared when it grows large.
        if self.keys.len() > 65_536 {
            self.keys.clear();
            self.captured.clear();
        }
        self.send(Message::End(Box::new(record)));
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.tx.is_some() {
            log::info!(
                "tap: {} of {} relayed stream bytes copied to inspection",
                self.to_inspection,
                self.relayed
            );
        }
        if self.dropped > 0 {
            log::warn!(
                "inspection fell behind: {} flows were not inspected to the end",
                self.dropped
            );
        }
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the inspection thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Inspector {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OneApp;
    use phonehome_analyzer::Settings;
    use phonehome_catalog::Catalog;
    use phonehome_detect::{Detector, Identifiers, Options};
    use phonehome_model::{CloseReason, Destination, Finding};
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<(Vec<FlowRecord>, Vec<Finding>)>>);

    impl Sink for Collect {
        fn flow(&mut self, r: &FlowRecord) -> io::Result<()> {
            self.0.lock().unwrap().0.push(r.clone());
            Ok(())
        }
        fn finding(&mut self, f: &Finding) -> io::Result<()> {
            self.0.lock().unwrap().1.push(f.clone());
            Ok(())
        }
        fn discovered(&mut self, _: &phonehome_model::Discovered) -> io::Result<()> {
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn inspector(limits: TapLimits) -> (Inspector, Collect) {
        let ids = Identifiers::from_toml("imei = [\"861234567890123\"]").unwrap();
        let analyzer = Analyzer::new(
            Detector::new(&ids, &Options::default()),
            Catalog::builtin(),
            Settings::default(),
        );
        let sink = Collect::default();
        let inspector = Inspector::spawn(
            analyzer,
            Box::new(sink.clone()),
            None,
            limits,
            Box::new(OneApp(Some("curl".into()))),
        )
        .unwrap();
        (inspector, sink)
    }

    fn end(id: FlowId) -> FlowRecord {
        FlowRecord {
            flow: id,
            proto: Proto::Tcp,
            src: "10.111.0.2:4000".parse().unwrap(),
            dst: "10.201.0.2:9".parse().unwrap(),
            bytes_out: 0,
            bytes_in: 0,
            start: SystemTime::now(),
            end: SystemTime::now(),
            close: CloseReason::Closed,
            app: None,
            destination: Destination::default(),
        }
    }

    #[test]
    fn findings_and_named_flows_reach_the_sink_on_finish() {
        let (mut tap, sink) = inspector(TapLimits::default());
        tap.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:4000".parse().unwrap(),
            "10.201.0.2:9".parse().unwrap(),
        );
        tap.data(
            1,
            Direction::Out,
            &Bytes::from_static(b"hello imei=861234567890123 bye"),
        );
        tap.flow_end(end(1));
        tap.finish().unwrap();
        let (flows, findings) = sink.0.lock().unwrap().clone();
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].app.as_deref(), Some("curl"));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].kind.as_str(), findings[0].place.as_str()),
            ("imei", "payload")
        );
    }

    #[test]
    fn bytes_past_the_tap_limits_are_not_copied() {
        // Decided or not by the time the second piece comes, the flow is capped at 16.
        let (mut tap, sink) = inspector(TapLimits {
            per_direction: 16,
            undecided: 16,
            ..TapLimits::default()
        });
        tap.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:4000".parse().unwrap(),
            "10.201.0.2:9".parse().unwrap(),
        );
        tap.data(1, Direction::Out, &Bytes::from_static(b"0123456789abcdef"));
        tap.data(
            1,
            Direction::Out,
            &Bytes::from_static(b"imei=861234567890123"),
        );
        tap.flow_end(end(1));
        tap.finish().unwrap();
        assert!(
            sink.0.lock().unwrap().1.is_empty(),
            "the IMEI came after the limit"
        );
    }
}

#[cfg(test)]
mod wanted_tests {
    use super::*;
    use crate::wanted::Word;
    use crate::OneApp;
    use phonehome_analyzer::Want;
    use std::collections::HashMap;

    /// A tap whose messages come here instead of to an inspection thread.
    fn bare(limits: TapLimits) -> (Inspector, mpsc::Receiver<Message>, Arc<Wanted>) {
        let (tx, rx) = mpsc::channel();
        let mut tap = Inspector {
            tx: Some(tx),
            thread: None,
            queued: Arc::new(AtomicUsize::new(0)),
            copied: HashMap::new(),
            keys: HashMap::new(),
            captured: HashMap::new(),
            strays: 0,
            capturing: false,
            unmatched: Vec::new(),
            limits,
            attribute: Box::new(OneApp(None)),
            dropped: 0,
            relayed: 0,
            to_inspection: 0,
        };
        tap.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:4000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
        );
        let Ok(Message::Start(.., wanted)) = rx.try_recv() else {
            panic!("a start message");
        };
        (tap, rx, wanted)
    }

    /// The (offset, bytes) of each data message queued so far.
    fn copies(rx: &mpsc::Receiver<Message>) -> Vec<(u64, Vec<u8>)> {
        rx.try_iter()
            .filter_map(|m| match m {
                Message::Data(_, _, offset, data, _) => Some((offset, data.to_vec())),
                _ => None,
            })
            .collect()
    }

    /// What the inspection thread stores after reading bytes of the flow's stream
    /// `epoch` (0 until an interception).
    fn say(wanted: &Wanted, dir: Direction, epoch: u32, follow: bool, from: u64) {
        let want = Want { follow, from };
        let decided = true;
        wanted.store(dir, epoch, Word { want, decided });
    }

    #[test]
    fn bytes_before_the_wanted_offset_are_not_copied() {
        let (mut tap, rx, wanted) = bare(TapLimits::default());
        tap.data(1, Direction::In, &Bytes::from_static(b"head"));
        say(&wanted, Direction::In, 0, true, 10);
        tap.data(1, Direction::In, &Bytes::from_static(b"skip"));
        tap.data(1, Direction::In, &Bytes::from_static(b"skNEXT"));
        assert_eq!(copies(&rx), [(0, b"head".to_vec()), (10, b"NEXT".to_vec())]);
    }

    fn small() -> TapLimits {
        TapLimits {
            per_direction: 4,
            undecided: 8,
            ..TapLimits::default()
        }
    }

    #[test]
    fn an_undecided_direction_is_copied_up_to_the_undecided_limit() {
        let (mut tap, rx, _wanted) = bare(small());
        tap.data(1, Direction::Out, &Bytes::from_static(b"012345"));
        tap.data(1, Direction::Out, &Bytes::from_static(b"6789ab"));
        assert_eq!(copies(&rx), [(0, b"012345".to_vec()), (6, b"67".to_vec())]);
    }

    #[test]
    fn a_decided_direction_that_is_not_followed_is_capped_at_its_first_bytes() {
        let (mut tap, rx, wanted) = bare(small());
        say(&wanted, Direction::Out, 0, false, 0);
        tap.data(1, Direction::Out, &Bytes::from_static(b"012345"));
        tap.data(1, Direction::Out, &Bytes::from_static(b"6789ab"));
        assert_eq!(copies(&rx), [(0, b"0123".to_vec())]);
    }

    #[test]
    fn a_followed_direction_is_copied_past_both_limits_and_an_unfollowed_one_is_not() {
        let (mut tap, rx, wanted) = bare(small());
        say(&wanted, Direction::In, 0, true, 0);
        say(&wanted, Direction::Out, 0, false, 0);
        tap.data(1, Direction::In, &Bytes::from_static(b"0123456789"));
        tap.data(1, Direction::Out, &Bytes::from_static(b"0123456789"));
        assert_eq!(
            copies(&rx),
            [(0, b"0123456789".to_vec()), (0, b"0123".to_vec())]
        );
    }

    #[test]
    fn a_direction_nothing_more_is_wanted_of_is_not_copied() {
        let (mut tap, rx, wanted) = bare(TapLimits::default());
        wanted.store(
            Direction::Out,
            0,
            Word {
                want: Want::NONE,
                decided: true,
            },
        );
        tap.data(1, Direction::Out, &Bytes::from_static(b"anything"));
        assert!(copies(&rx).is_empty());
    }

    #[test]
    fn a_spent_direction_is_not_copied_even_while_undecided() {
        let (mut tap, rx, wanted) = bare(small());
        // Held server bytes, say: the analyzer has not decided, yet wants none past 2.
        let word = Word {
            want: Want {
                follow: false,
                from: 2,
            },
            decided: false,
        };
        wanted.store(Direction::In, 0, word);
        tap.data(1, Direction::In, &Bytes::from_static(b"0123"));
        wanted.store(
            Direction::In,
            0,
            Word {
                want: Want::NONE,
                ..word
            },
        );
        tap.data(1, Direction::In, &Bytes::from_static(b"4567"));
        assert_eq!(copies(&rx), [(2, b"23".to_vec())]);
    }

    #[test]
    fn intercepted_plaintext_is_undecided_whatever_was_said_of_the_ciphertext() {
        let (mut tap, rx, wanted) = bare(small());
        say(&wanted, Direction::In, 0, false, 0);
        tap.data(1, Direction::In, &Bytes::from_static(b"cipher"));
        tap.tls_mode(1, TlsMode::Intercepted);
        // The thread's word about the ciphertext comes after the tap heard of the
        // interception: it does not cap the plaintext, which counts from 0 again.
        say(&wanted, Direction::In, 0, false, 0);
        tap.data(1, Direction::In, &Bytes::from_static(b"012345"));
        // Once the thread has read the plaintext's start, its word holds again.
        say(&wanted, Direction::In, 1, false, 0);
        tap.data(1, Direction::In, &Bytes::from_static(b"6789"));
        assert_eq!(
            copies(&rx),
            [(0, b"ciph".to_vec()), (0, b"012345".to_vec())]
        );
    }

    #[test]
    fn the_tap_counts_what_it_relays_and_what_it_copies() {
        let (mut tap, rx, wanted) = bare(small());
        say(&wanted, Direction::Out, 0, false, 0);
        tap.data(1, Direction::Out, &Bytes::from_static(b"0123456789"));
        assert_eq!((tap.relayed, tap.to_inspection), (10, 4));
        assert_eq!(copies(&rx).len(), 1);
    }
}
