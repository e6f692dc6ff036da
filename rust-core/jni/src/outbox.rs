//! Records on their way to the app: the inspection thread puts each flow record and
//! finding here as its JSON line, and the session's event thread hands them to the host in
//! batches (`CoreHost.onRecords`), then the session's end (`onStopped`) after the last one.
//!
//! A batch goes out when it is full ([`Limits::max_batch`] records) or when its oldest
//! record has waited [`Limits::interval`], and at once when the session has ended. The
//! queue is bounded ([`Limits::max_queued`] records): when the app takes its batches more
//! slowly than records come, newer records are dropped and counted (`records_dropped` in
//! the stats) instead of filling memory or making inspection wait on the app. Waiting was
//! not an option: a callback may call `NativeCore.stop`, which waits for inspection to end,
//! so inspection must never wait for the event thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::contract::{StopReason, BATCH_INTERVAL_MS, MAX_BATCH, MAX_QUEUED_RECORDS};
use crate::host::Host;

/// When batches go out, and how much may wait.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Records in one batch at most.
    pub max_batch: usize,
    /// How long a record waits at most for its batch to fill.
    pub interval: Duration,
    /// Records waiting at most; more are dropped.
    pub max_queued: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_batch: MAX_BATCH,
            interval: Duration::from_millis(BATCH_INTERVAL_MS),
            max_queued: MAX_QUEUED_RECORDS,
        }
    }
}

/// One record's JSON line (without its newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Flow(String),
    Finding(String),
    Discovered(String),
}

/// What one `onRecords` carries: JSON lines as `flows.jsonl`, `findings.jsonl` and
/// `discovered.jsonl` have them, each ending in a newline, each kind in the order it was
/// recorded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub flows: String,
    pub findings: String,
    pub discovered: String,
}

impl Batch {
    fn add(&mut self, line: Line) {
        let (text, to) = match line {
            Line::Flow(text) => (text, &mut self.flows),
            Line::Finding(text) => (text, &mut self.findings),
            Line::Discovered(text) => (text, &mut self.discovered),
        };
        to.push_str(&text);
        to.push('\n');
    }
}

#[derive(Debug, Default)]
struct State {
    /// Records not yet handed over, with when each came.
    queue: VecDeque<(Instant, Line)>,
    /// The session ended: delivered once the queue is empty.
    stopped: Option<(StopReason, String)>,
    /// The session never started: the event thread ends without a word.
    abandoned: bool,
}

/// The queue between the inspection thread and the event thread.
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    wake: Condvar,
    limits: Limits,
    dropped: AtomicU64,
}

impl Outbox {
    pub fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::default(),
            wake: Condvar::new(),
            limits,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each change under the lock is one push or take: a panic cannot leave it half done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues one record; false if the queue was full and it was dropped. Never waits.
    pub fn push(&self, line: Line) -> bool {
        let mut state = self.lock();
        if state.queue.len() >= self.limits.max_queued {
            drop(state);
            if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                log::warn!(
                    "the app takes records more slowly than they come: {} are waiting, newer ones are dropped",
                    self.limits.max_queued
                );
            }
            return false;
        }
        state.queue.push_back((Instant::now(), line));
        let waiting = state.queue.len();
        drop(state);
        // The event thread only needs waking when its deadline appears or a batch is full;
        // waking it for every record would cost a context switch each.
        if waiting == 1 || waiting == self.limits.max_batch {
            self.wake.notify_one();
        }
        true
    }

    /// Takes every queued record (the session tests' view of what would go out).
    #[cfg(test)]
    pub(crate) fn take_all_for_test(&self) -> Vec<Line> {
        self.lock().queue.drain(..).map(|(_, line)| line).collect()
    }

    /// Records dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The session ended: the rest of the queue goes out, then `on_stopped`.
    pub fn stopped(&self, reason: StopReason, message: String) {
        self.lock().stopped = Some((reason, message));
        self.wake.notify_one();
    }

    /// The session did not start: the event thread ends, telling the host nothing.
    pub fn abandon(&self) {
        self.lock().abandoned = true;
        self.wake.notify_one();
    }

    /// Starts the event thread (`phonehome-events`), which calls `host` and nothing else does.
    pub fn spawn(
        self: &Arc<Self>,
        session: i64,
        host: Arc<dyn Host>,
    ) -> std::io::Result<JoinHandle<()>> {
        let outbox = self.clone();
        std::thread::Builder::new()
            .name("phonehome-events".into())
            .spawn(move || outbox.deliver(session, &*host))
    }

    /// The event thread: batches while the session runs, the rest and `on_stopped` at its end.
    fn deliver(&self, session: i64, host: &dyn Host) {
        let mut state = self.lock();
        loop {
            if state.abandoned {
                return;
            }
            let now = Instant::now();
            let due = state
                .queue
                .front()
                .map(|(came, _)| *came + self.limits.interval);
            let ready = state.queue.len() >= self.limits.max_batch
                || (!state.queue.is_empty() && state.stopped.is_some())
                || due.is_some_and(|due| due <= now);
            if ready {
                let mut batch = Batch::default();
                let n = state.queue.len().min(self.limits.max_batch);
                for (_, line) in state.queue.drain(..n) {
                    batch.add(line);
                }
                // Not holding the lock: inspection keeps queueing while the app stores.
                drop(state);
                survive("onRecords", || host.on_records(session, &batch));
                state = self.lock();
                continue;
            }
            if let Some((reason, message)) = state.stopped.take() {
                drop(state);
                survive("onStopped", || host.on_stopped(reason, &message));
                return;
            }
            state = match due {
                Some(due) => {
                    self.wake
                        .wait_timeout(state, due - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

/// A host callback that panics must not end the event thread (later batches and the
/// session's end would never arrive).
fn survive(name: &str, call: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).is_err() {
        log::error!("CoreHost.{name} failed; carrying on");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::Proto;
    use std::net::SocketAddr;
    use std::os::fd::RawFd;
    use std::sync::mpsc;

    /// What the host heard, in order, and on which thread.
    #[derive(Debug, PartialEq, Eq)]
    enum Heard {
        Records(i64, Batch),
        Stopped(StopReason, String),
    }

    /// The crate's test host: records its events and can be held up to play a slow app.
    struct TestHost {
        heard: Mutex<mpsc::Sender<(Heard, String)>>,
        /// When set, the next `on_records` waits for a message here (a slow app).
        hold: Mutex<Option<mpsc::Receiver<()>>>,
        panic_once: std::sync::atomic::AtomicBool,
    }

    impl TestHost {
        fn new() -> (Arc<Self>, mpsc::Receiver<(Heard, String)>) {
            let (tx, rx) = mpsc::channel();
            let host = Arc::new(Self {
                heard: Mutex::new(tx),
                hold: Mutex::new(None),
                panic_once: Default::default(),
            });
            (host, rx)
        }

        fn tell(&self, heard: Heard) {
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            let _ = self.heard.lock().unwrap().send((heard, thread));
        }
    }

    impl Host for TestHost {
        fn protect(&self, _: RawFd) -> bool {
            true
        }
        fn connection_owner_uid(&self, _: Proto, _: SocketAddr, _: SocketAddr) -> Option<u32> {
            None
        }
        fn app_for_uid(&self, _: u32) -> Option<String> {
            None
        }
        fn on_records(&self, session: i64, batch: &Batch) {
            let hold = self.hold.lock().unwrap().take();
            if let Some(hold) = hold {
                let _ = hold.recv();
            }
            if self.panic_once.swap(false, Ordering::Relaxed) {
                panic!("the app's handler failed");
            }
            self.tell(Heard::Records(session, batch.clone()));
        }
        fn on_stopped(&self, reason: StopReason, message: &str) {
            self.tell(Heard::Stopped(reason, message.to_owned()));
        }
    }

    fn limits(max_batch: usize, interval: Duration, max_queued: usize) -> Limits {
        Limits {
            max_batch,
            interval,
            max_queued,
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn next(rx: &mpsc::Receiver<(Heard, String)>) -> Heard {
        let (heard, thread) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(thread, "phonehome-events");
        heard
    }

    fn records(heard: Heard) -> (Vec<String>, Vec<String>) {
        let Heard::Records(7, batch) = heard else {
            panic!("not a batch of session 7: {heard:?}");
        };
        assert!(batch.flows.is_empty() || batch.flows.ends_with('\n'));
        assert!(batch.findings.is_empty() || batch.findings.ends_with('\n'));
        (
            batch.flows.lines().map(str::to_owned).collect(),
            batch.findings.lines().map(str::to_owned).collect(),
        )
    }

    #[test]
    fn full_batches_go_out_at_once_and_hold_max_batch_records_in_order() {
        let (host, rx) = TestHost::new();
        let outbox = Arc::new(Outbox::new(limits(256, HOUR, 10_000)));
        let thread = outbox.spawn(7, host).unwrap();
        for i in 0..600 {
            assert!(outbox.push(Line::Finding(format!("{{\"n\":{i}}}"))));
        }
        // Two full batches without waiting for the hour; the 88 left wait for it.
        let first = records(next(&rx)).1;
        let second = records(next(&rx)).1;
        assert_eq!((first.len(), second.len()), (256, 256));
        let want: Vec<String> = (0..512).map(|i| format!("{{\"n\":{i}}}")).collect();
        assert_eq!([first, second].concat(), want);
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        outbox.stopped(StopReason::Stopped, "stopped".into());
        let rest = records(next(&rx)).1;
        assert_eq!(rest.first().map(String::as_str), Some("{\"n\":512}"));
        assert_eq!(rest.len(), 88);
        assert_eq!(
            next(&rx),
            Heard::Stopped(StopReason::Stopped, "stopped".into())
        );
        thread.join().unwrap();
    }

    #[test]
    fn a_lone_record_goes_out_after_the_interval_without_a_stop() {
        let (host, rx) = TestHost::new();
        let outbox = Arc::new(Outbox::new(limits(256, Duration::from_millis(50), 100)));
        let thread = outbox.spawn(7, host).unwrap();
        outbox.push(Line::Flow("{\"flow\":1}".into()));
        assert_eq!(
            records(next(&rx)),
            (vec!["{\"flow\":1}".to_owned()], vec![])
        );
        outbox.push(Line::Finding("{\"flow\":2}".into()));
        assert_eq!(
            records(next(&rx)),
            (vec![], vec!["{\"flow\":2}".to_owned()])
        );
        outbox.stopped(StopReason::TunClosed, "the VPN interface closed".into());
        assert!(matches!(
            next(&rx),
            Heard::Stopped(StopReason::TunClosed, _)
        ));
        thread.join().unwrap();
    }

    #[test]
    fn every_record_is_delivered_once_and_before_on_stopped() {
        let (host, rx) = TestHost::new();
        let outbox = Arc::new(Outbox::new(limits(100, HOUR, 10_000)));
        let thread = outbox.spawn(7, host).unwrap();
        // Flows and findings interleaved, as inspection records them.
        for i in 0..1234 {
            let line = if i % 3 == 0 {
                Line::Flow(format!("f{i}"))
            } else {
                Line::Finding(format!("x{i}"))
            };
            outbox.push(line);
        }
        outbox.stopped(StopReason::Stopped, "stopped".into());
        let (mut flows, mut findings) = (Vec::new(), Vec::new());
        loop {
            match next(&rx) {
                Heard::Stopped(..) => break,
                heard => {
                    let (f, x) = records(heard);
                    assert!(f.len() + x.len() <= 100);
                    flows.extend(f);
                    findings.extend(x);
                }
            }
        }
        let want_flows: Vec<String> = (0..1234).step_by(3).map(|i| format!("f{i}")).collect();
        let want_findings: Vec<String> = (0..1234)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("x{i}"))
            .collect();
        assert_eq!(flows, want_flows);
        assert_eq!(findings, want_findings);
        thread.join().unwrap();
        assert!(rx.try_recv().is_err(), "nothing after onStopped");
    }

    #[test]
    fn a_slow_app_loses_the_newest_records_counted_and_never_blocks_inspection() {
        let (host, rx) = TestHost::new();
        let (release, hold) = mpsc::channel();
        *host.hold.lock().unwrap() = Some(hold);
        let outbox = Arc::new(Outbox::new(limits(10, Duration::from_millis(1), 50)));
        let thread = outbox.spawn(7, host.clone()).unwrap();
        outbox.push(Line::Finding("first".into()));
        // Wait until the event thread holds "first" (the queue is empty again), stuck in
        // the app's callback.
        while !outbox.lock().queue.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let kept = (0..80)
            .filter(|i| outbox.push(Line::Finding(format!("r{i}"))))
            .count();
        assert_eq!(kept, 50);
        assert_eq!(outbox.dropped(), 30);
        release.send(()).unwrap();
        outbox.stopped(StopReason::Stopped, "stopped".into());
        let mut findings = Vec::new();
        while let heard @ Heard::Records(..) = next(&rx) {
            findings.extend(records(heard).1);
        }
        let want: Vec<String> = std::iter::once("first".to_owned())
            .chain((0..50).map(|i| format!("r{i}")))
            .collect();
        assert_eq!(findings, want);
        thread.join().unwrap();
    }

    #[test]
    fn a_panicking_callback_does_not_stop_later_batches() {
        let (host, rx) = TestHost::new();
        host.panic_once.store(true, Ordering::Relaxed);
        let outbox = Arc::new(Outbox::new(limits(1, HOUR, 100)));
        let thread = outbox.spawn(7, host).unwrap();
        outbox.push(Line::Flow("lost".into()));
        outbox.push(Line::Flow("kept".into()));
        outbox.stopped(StopReason::Stopped, "stopped".into());
        assert_eq!(records(next(&rx)).0, ["kept"]);
        assert!(matches!(next(&rx), Heard::Stopped(..)));
        thread.join().unwrap();
    }

    #[test]
    fn an_abandoned_session_ends_its_thread_without_telling_the_host() {
        let (host, rx) = TestHost::new();
        let outbox = Arc::new(Outbox::new(Limits::default()));
        let thread = outbox.spawn(7, host).unwrap();
        outbox.abandon();
        thread.join().unwrap();
        assert!(rx.try_recv().is_err());
    }
}
