//! The inspection thread: takes what the tap copied, runs the analyzer over it, and
//! writes what comes out (flow records, findings, the capture).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use phonehome_analyzer::Analyzer;
use phonehome_model::{Direction, FlowRecord, Proto, Sink, TlsMode};
use phonehome_netstack::FlowId;

use crate::wanted::{Wanted, Word};
use crate::Capture;

/// What the tap hands the thread.
pub(crate) enum Message {
    /// A flow started, its app and the organisation that signed the app if known; the
    /// tap reads which of its bytes are wanted from the last field, set here.
    Start(
        FlowId,
        Proto,
        SocketAddr,
        SocketAddr,
        Option<String>,
        Option<String>,
        Arc<Wanted>,
    ),
    /// Data of this flow and direction was dropped: its stream has a hole.
    Gap(FlowId, Direction),
    /// Bytes of a direction from this stream offset on (those before it since the last
    /// message were not wanted).
    Data(FlowId, Direction, u64, Bytes, SystemTime),
    End(Box<FlowRecord>),
    /// A packet for the capture file, and the flow it belongs to if any.
    Packet(SystemTime, Vec<u8>, Option<FlowId>),
    /// What TLS interception did with a flow.
    Tls(FlowId, TlsMode),
    /// An SSLKEYLOGFILE line for the capture, ahead of the packets it decrypts.
    Secret(String),
}

/// The inspection thread's state.
pub(crate) struct Worker {
    analyzer: Analyzer,
    sink: Box<dyn Sink>,
    capture: Option<Capture>,
    /// Bytes the tap has queued and this thread not yet taken (shared with the tap).
    queued: Arc<AtomicUsize>,
    /// Names of flows for capture comments, (app, host), kept past a flow's end for its
    /// last packets.
    names: HashMap<FlowId, (Option<String>, Option<String>)>,
    /// What the tap is to copy of each open flow, and the epoch of its stream (one more
    /// for each interception, as the tap counts).
    wanted: HashMap<FlowId, (Arc<Wanted>, u32)>,
    /// The latest write error, returned when the thread ends.
    result: io::Result<()>,
    /// Records written since the last flush, and when that was.
    unflushed: bool,
    flushed_at: Instant,
}

/// Records reach the files at least this often while traffic flows (and whenever the
/// thread runs out of work), so a monitor killed with SIGKILL loses at most this much,
/// and the JSONL files, the SQLite store and the capture end at the same record.
const FLUSH_EVERY: Duration = Duration::from_millis(250);

impl Worker {
    pub(crate) fn new(
        analyzer: Analyzer,
        sink: Box<dyn Sink>,
        capture: Option<Capture>,
        queued: Arc<AtomicUsize>,
    ) -> Self {
        Self {
            analyzer,
            sink,
            capture,
            queued,
            names: HashMap::new(),
            wanted: HashMap::new(),
            result: Ok(()),
            unflushed: false,
            flushed_at: Instant::now(),
        }
    }

    /// Runs on a thread of its own until the tap hangs up; then flushes and returns the
    /// latest write error, if any.
    pub(crate) fn spawn(
        self,
        inbox: mpsc::Receiver<Message>,
    ) -> io::Result<JoinHandle<io::Result<()>>> {
        std::thread::Builder::new()
            .name("phonehome-inspect".into())
            .spawn(move || self.run(inbox))
    }

    fn run(mut self, inbox: mpsc::Receiver<Message>) -> io::Result<()> {
        loop {
            let message = match inbox.try_recv() {
                Ok(message) => message,
                Err(mpsc::TryRecvError::Empty) => {
                    self.flush();
                    match inbox.recv() {
                        Ok(message) => message,
                        Err(mpsc::RecvError) => break,
                    }
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            };
            self.handle(message);
            self.write_results();
            if self.flushed_at.elapsed() >= FLUSH_EVERY {
                self.flush();
            }
        }
        survive(|| self.analyzer.finish());
        self.write_results();
        self.unflushed = true;
        self.flush();
        self.result
    }

    /// Puts what was written since the last flush into the files.
    fn flush(&mut self) {
        if !self.unflushed {
            return;
        }
        let flushed = self.sink.flush();
        self.keep(flushed);
        if let Some(capture) = &mut self.capture {
            let flushed = capture.flush();
            self.keep(flushed);
        }
        self.unflushed = false;
        self.flushed_at = Instant::now();
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Start(id, proto, src, dst, app, signer, follow) => {
                if let (Some(app), Some(signer)) = (&app, &signer) {
                    survive(|| self.analyzer.app_signer(app, signer));
                }
                self.flow_start(id, proto, src, dst, app, follow);
            }
            Message::Data(id, dir, offset, data, ts) => self.data(id, dir, offset, &data, ts),
            Message::Gap(id, dir) => {
                survive(|| self.analyzer.gap(id, dir));
            }
            Message::End(record) => {
                self.wanted.remove(&record.flow);
                survive(|| self.analyzer.flow_end(*record));
            }
            Message::Packet(ts, packet, flow) => self.packet(ts, &packet, flow),
            Message::Tls(id, mode) => {
                if mode == TlsMode::Intercepted {
                    if let Some((_, epoch)) = self.wanted.get_mut(&id) {
                        *epoch = epoch.wrapping_add(1);
                    }
                }
                survive(|| self.analyzer.tls_mode(id, mode));
            }
            Message::Secret(line) => {
                if let Some(capture) = &mut self.capture {
                    let written = capture.write_tls_key_log(line.as_bytes());
                    self.unflushed = true;
                    self.keep(written);
                }
            }
        }
    }

    fn flow_start(
        &mut self,
        id: FlowId,
        proto: Proto,
        src: SocketAddr,
        dst: SocketAddr,
        app: Option<String>,
        wanted: Arc<Wanted>,
    ) {
        if self.capture.is_some() {
            if self.names.len() > 65_536 {
                self.names.clear();
            }
            self.names.insert(id, (app.clone(), None));
        }
        survive(|| self.analyzer.flow_start(id, proto, src, dst, app));
        self.wanted.insert(id, (wanted, 0));
    }

    fn data(&mut self, id: FlowId, dir: Direction, offset: u64, data: &Bytes, ts: SystemTime) {
        self.queued.fetch_sub(data.len(), Ordering::Relaxed);
        if survive(|| self.analyzer.data_at(id, dir, offset, data, ts)).is_none() {
            // The analyzer may have stopped half-way through these bytes.
            survive(|| self.analyzer.gap(id, dir));
        }
        if let Some((wanted, epoch)) = self.wanted.get(&id) {
            // Bytes of either direction may change what the other wants (a request
            // tells how its response is framed).
            for dir in [Direction::Out, Direction::In] {
                let word = Word {
                    want: self.analyzer.want(id, dir),
                    decided: self.analyzer.decided(id, dir),
                };
                wanted.store(dir, *epoch, word);
            }
        }
    }

    fn packet(&mut self, ts: SystemTime, packet: &[u8], flow: Option<FlowId>) {
        self.queued.fetch_sub(packet.len(), Ordering::Relaxed);
        if self.capture.is_none() {
            return;
        }
        let comment = self.comment(flow);
        if let Some(capture) = &mut self.capture {
            let written = capture.write_packet(ts, packet, Some(&comment));
            self.unflushed = true;
            self.keep(written);
        }
    }

    /// A captured packet's comment: `flow=ID app=APP host=HOST`, `-` for what is unknown.
    fn comment(&mut self, flow: Option<FlowId>) -> String {
        let Some(id) = flow else {
            return "flow=- app=- host=-".to_owned();
        };
        let Some((app, host)) = self.names.get_mut(&id) else {
            return format!("flow={id} app=- host=-");
        };
        // The analyzer forgets a flow at its end; its last packets still carry the name.
        if let Some(named) = self.analyzer.destination(id).and_then(|d| d.host.clone()) {
            *host = Some(named);
        }
        format!(
            "flow={id} app={} host={}",
            app.as_deref().unwrap_or("-"),
            host.as_deref().unwrap_or("-")
        )
    }

    /// Writes what the analyzer has finished: findings, flow records, then discovered
    /// identifiers.
    fn write_results(&mut self) {
        while let Some(finding) = self.analyzer.pop_finding() {
            self.unflushed = true;
            let written = self.sink.finding(&finding);
            self.keep(written);
        }
        while let Some(record) = self.analyzer.pop_record() {
            self.unflushed = true;
            let written = self.sink.flow(&record);
            self.keep(written);
        }
        while let Some(record) = self.analyzer.pop_discovered() {
            self.unflushed = true;
            let written = self.sink.discovered(&record);
            self.keep(written);
        }
    }

    /// A failed write is logged and remembered; the thread carries on with the rest.
    fn keep(&mut self, written: io::Result<()>) {
        if let Err(e) = written {
            log::warn!("cannot write a record: {e}");
            self.result = Err(e);
        }
    }
}

/// Runs one step of analysis; a bug that panics in it costs that step, not the thread
/// (and with it every later record).
pub(crate) fn survive<R>(step: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(r) => Some(r),
        Err(_) => {
            log::error!("inspection failed on one piece of data (a bug); carrying on");
            None
        }
    }
}
