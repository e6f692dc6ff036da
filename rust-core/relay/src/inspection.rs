//! Inspection off the packet path: the relay's tap hands copies of the first bytes of
//! each flow to a thread that runs the analyzer and writes the records.
//!
//! The tap never waits. Bytes beyond a flow's tap limit are not copied at all, and when
//! the thread falls behind by more than a byte budget, further data is dropped (and
//! counted) rather than queued: relaying never slows down for inspection.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::SystemTime;

use bytes::Bytes;
use phonehome_analyzer::Analyzer;
use phonehome_netstack::FlowId;
use phonehome_record::{Direction, FlowRecord, Proto, Sink};

use crate::Observer;

/// How much the tap copies per flow and direction, and how far the thread may lag.
#[derive(Debug, Clone)]
pub struct TapLimits {
    /// Bytes copied per flow and direction. Larger than the analyzer's scan limit so
    /// that several requests on a kept-alive connection are seen.
    pub per_direction: usize,
    /// Bytes queued for the thread at most; past it, data is dropped.
    pub backlog: usize,
}

impl Default for TapLimits {
    fn default() -> Self {
        Self {
            per_direction: 1 << 20,
            backlog: 32 << 20,
        }
    }
}

enum Message {
    Start(FlowId, Proto, SocketAddr, SocketAddr),
    Data(FlowId, Direction, Bytes, SystemTime),
    End(FlowRecord),
}

/// An [`Observer`] that runs an [`Analyzer`] on its own thread and writes what it finds
/// to a [`Sink`].
pub struct Inspector {
    tx: Option<mpsc::Sender<Message>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    queued: Arc<AtomicUsize>,
    /// Bytes copied so far per flow: (out, in).
    copied: HashMap<FlowId, (usize, usize)>,
    limits: TapLimits,
    /// Data dropped because the thread lagged.
    pub dropped: u64,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Inspector {
    pub fn spawn(
        mut analyzer: Analyzer,
        mut sink: Box<dyn Sink>,
        limits: TapLimits,
    ) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Message>();
        let queued = Arc::new(AtomicUsize::new(0));
        let thread_queued = queued.clone();
        let thread = std::thread::Builder::new()
            .name("phonehome-inspect".into())
            .spawn(move || {
                let mut result = Ok(());
                let mut keep = |r: io::Result<()>| {
                    if let Err(e) = r {
                        log::warn!("cannot write a record: {e}");
                        result = Err(e);
                    }
                };
                for message in rx {
                    match message {
                        Message::Start(id, proto, src, dst) => {
                            analyzer.flow_start(id, proto, src, dst, None)
                        }
                        Message::Data(id, dir, data, ts) => {
                            thread_queued.fetch_sub(data.len(), Ordering::Relaxed);
                            analyzer.data(id, dir, &data, ts);
                        }
                        Message::End(record) => analyzer.flow_end(record),
                    }
                    while let Some(finding) = analyzer.pop_finding() {
                        keep(sink.finding(&finding));
                    }
                    while let Some(record) = analyzer.pop_record() {
                        keep(sink.flow(&record));
                    }
                }
                keep(sink.flush());
                result
            })?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            queued,
            copied: HashMap::new(),
            limits,
            dropped: 0,
        })
    }

    fn send(&self, message: Message) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(message);
        }
    }
}

impl Observer for Inspector {
    fn flow_start(&mut self, id: FlowId, proto: Proto, src: SocketAddr, dst: SocketAddr) {
        self.copied.insert(id, (0, 0));
        self.send(Message::Start(id, proto, src, dst));
    }

    fn data(&mut self, id: FlowId, direction: Direction, data: &Bytes) {
        let Some(copied) = self.copied.get_mut(&id) else {
            return;
        };
        let so_far = match direction {
            Direction::Out => &mut copied.0,
            Direction::In => &mut copied.1,
        };
        let room = self.limits.per_direction.saturating_sub(*so_far);
        if room == 0 || data.is_empty() {
            return;
        }
        if self.queued.load(Ordering::Relaxed) > self.limits.backlog {
            self.dropped += 1;
            return;
        }
        let data = data.slice(..data.len().min(room));
        *so_far += data.len();
        self.queued.fetch_add(data.len(), Ordering::Relaxed);
        self.send(Message::Data(id, direction, data, SystemTime::now()));
    }

    fn flow_end(&mut self, record: FlowRecord) {
        self.copied.remove(&record.flow);
        self.send(Message::End(record));
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.dropped > 0 {
            log::warn!(
                "inspection fell behind: {} chunks of data were not inspected",
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
