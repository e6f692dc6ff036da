//! The monitor both front ends run, `phonehome watch` on Linux and the Android app's
//! session: an [`Inspector`] on its thread, and the relay over a TUN on a single-threaded
//! runtime that is given a second to wind down when the relay is done.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use phonehome_analyzer::Analyzer;
use phonehome_inspector::{Attribute, Capture, Inspector, TapLimits};
use phonehome_model::Sink;
use phonehome_relay::{Observer, Protect, RelayConfig, RelayError, RelayStats};
use phonehome_tun::Tun;

/// What the inspector works with.
pub struct Inspection {
    pub analyzer: Analyzer,
    /// Where flow records and findings go.
    pub sink: Box<dyn Sink>,
    /// Where the first packets of each flow go, if anywhere.
    pub capture: Option<Capture>,
    /// Names each flow's app.
    pub attribute: Box<dyn Attribute>,
}

impl std::fmt::Debug for Inspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspection")
            .field("capture", &self.capture.is_some())
            .finish_non_exhaustive()
    }
}

/// The relay's run, not yet started: [`phonehome_relay::run`] over the monitor's TUN.
pub type RelayRun = Pin<Box<dyn Future<Output = Result<RelayStats, RelayError>> + Send>>;

/// A started inspector, waiting for the relay to feed it.
pub struct Monitor {
    observer: Box<dyn Observer>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

impl Monitor {
    /// Starts the inspection thread. `observe` makes the observer the relay calls out of
    /// the inspector (one that also counts, say); `Box::new` if nothing else watches.
    pub fn start(
        inspection: Inspection,
        observe: impl FnOnce(Inspector) -> Box<dyn Observer>,
    ) -> io::Result<Self> {
        let inspector = Inspector::spawn(
            inspection.analyzer,
            inspection.sink,
            inspection.capture,
            TapLimits::default(),
            inspection.attribute,
        )?;
        Ok(Self {
            observer: observe(inspector),
        })
    }

    /// Relays `tun` until `shutdown` completes (or the TUN fails), on this thread: hands
    /// `supervise` the relay's run, to await or to spawn beside other work (signals, a
    /// child process), and returns what `supervise` returns. The error is the runtime's,
    /// which could not start.
    pub fn run<F: Future>(
        self,
        tun: Tun,
        config: RelayConfig,
        protect: Arc<dyn Protect>,
        shutdown: impl Future<Output = ()> + Send + 'static,
        supervise: impl FnOnce(RelayRun) -> F,
    ) -> io::Result<F::Output> {
        // One thread for the stack and every upstream socket: handing packets and bytes
        // between worker threads cost more than it gained (one iperf3 stream: +35% both
        // ways on a current-thread runtime against two workers; see README, Performance).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let relay = phonehome_relay::run(tun, config, protect, self.observer, shutdown);
        let result = runtime.block_on(supervise(Box::pin(relay)));
        // A relay stuck in a blocking call must not keep the monitor from ending.
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_analyzer::Settings;
    use phonehome_catalog::Catalog;
    use phonehome_detect::{Detector, Identifiers, Options};
    use phonehome_inspector::OneApp;
    use phonehome_model::{Finding, FlowRecord};
    use phonehome_relay::NoProtect;
    use std::os::unix::net::UnixDatagram;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Remembers whether the records were flushed.
    struct Flushed(Arc<AtomicBool>);

    impl Sink for Flushed {
        fn flow(&mut self, _: &FlowRecord) -> io::Result<()> {
            Ok(())
        }
        fn finding(&mut self, _: &Finding) -> io::Result<()> {
            Ok(())
        }
        fn discovered(&mut self, _: &phonehome_model::Discovered) -> io::Result<()> {
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.0.store(true, Ordering::Relaxed);
            Ok(())
        }
    }

    #[test]
    fn a_stopped_relay_has_written_out_its_records() {
        let flushed = Arc::new(AtomicBool::new(false));
        let inspection = Inspection {
            analyzer: Analyzer::new(
                Detector::new(&Identifiers::default(), &Options::default()),
                Catalog::builtin(),
                Settings::default(),
            ),
            sink: Box::new(Flushed(flushed.clone())),
            capture: None,
            attribute: Box::new(OneApp(None)),
        };
        let monitor = Monitor::start(inspection, |inspector| Box::new(inspector)).unwrap();
        // A datagram socket stands in for the TUN: one packet per read and write.
        let (tun, _peer) = UnixDatagram::pair().unwrap();
        let tun = Tun::from_fd(tun.into());
        let stats = monitor
            .run(
                tun,
                RelayConfig::default(),
                Arc::new(NoProtect),
                async {},
                |relay| relay,
            )
            .unwrap()
            .unwrap();
        assert_eq!(stats.tun_closed, None);
        assert!(flushed.load(Ordering::Relaxed));
    }
}
