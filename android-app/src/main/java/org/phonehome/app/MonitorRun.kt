package org.phonehome.app

import android.net.VpnService
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.CoreConfig
import org.phonehome.model.Interception
import org.phonehome.model.Identifiers
import org.phonehome.model.MonitorPhase
import org.phonehome.model.ResolverChange
import org.phonehome.model.RunSteps
import org.phonehome.model.Settings
import org.phonehome.model.StartRetry
import org.phonehome.model.StartWarning
import org.phonehome.model.StartWarnings
import org.phonehome.model.Validation

/**
 * Runs the monitor's sequence: start (settings and resolvers, the TUN, the identifiers,
 * the core's session, the state the screens see), stop, and a new session when the
 * resolvers change. Its decisions are [RunSteps] and [StartWarnings]; main thread only,
 * the core's calls go to [worker]. Leaving ends the [service].
 */
class MonitorRun(
    private val service: VpnService,
    private val monitor: MonitorState,
    private val worker: CoreWorker,
    private val store: Store,
    private val notice: ForegroundNotice,
    private val network: NetworkWatcher,
    private val refresher: NotificationRefresher,
    private val callbacks: CoreCallbacks,
) {
    private val tunnel = VpnTunnel(service)
    private val session = CoreSession(callbacks, store.discoveryDir.absolutePath)

    // What the running session was started with: a restart on new resolvers keeps the rest.
    private var settings = Settings()
    private var upstreamDns: List<String> = emptyList()
    private var identifiers = Identifiers()
    private var warnings: List<StartWarning> = emptyList()

    fun start() {
        if (!RunSteps.startBegins(monitor.phase)) {
            notice.show(service.getString(R.string.notification_starting))
            return
        }
        monitor.lastError = null
        monitor.phase = MonitorPhase.STARTING
        if (!worker.ensureLoaded()) return fail(service.getString(R.string.error_core_missing, worker.loadError))
        if (VpnService.prepare(service) != null) return fail(service.getString(R.string.error_no_consent))

        settings = store.settings()
        callbacks.notifyDiscoveries = settings.notifyDiscoveries
        val underlying = network.current()
        upstreamDns = underlying.dns
        monitor.privateDns = privateDnsWarning(underlying)

        // A refusal's message is not kept: the consent error below says what to do.
        val tun = tunnel.establish(CoreConfig.plan(settings, service.packageName, upstreamDns)) {}
            ?: return fail(service.getString(R.string.error_no_consent))
        notice.show(service.getString(R.string.notification_starting))
        network.watch()

        val recordsDir = store.recordsDir.absolutePath
        val s = settings
        val dns = upstreamDns
        worker.execute {
            // Reading contacts and SMS and asking the core's validation block: off the main thread.
            val read = IdentifierReader(service).read(s)
            val (ids, dropped) = Validation.sanitise(store.typedIdentifiers().plus(read.identifiers), NativeCore::validateIdentifiers)
            val before = StartWarnings.beforeStart(dns, read.notes, dropped, ids)
            val outcome = session.start(tun, recordsDir, ids, s, dns, interception(s))
            worker.main.post { started(outcome, ids, before) }
        }
    }

    /** TLS interception for the chosen apps that are installed (their uids); null when off. */
    private fun interception(s: Settings): Interception? = Interception.of(s, store.caDir.absolutePath) { pkg ->
        try {
            @Suppress("DEPRECATION")
            service.packageManager.getApplicationInfo(pkg, 0).uid
        } catch (_: android.content.pm.PackageManager.NameNotFoundException) {
            null
        }
    }

    /** Stops monitoring; [error] says why when it was not the user's choice. */
    fun stop(error: String?) {
        if (error != null) monitor.lastError = error
        refresher.pause()
        network.stop()
        val h = monitor.handle
        monitor.handle = 0L
        when (RunSteps.stop(monitor.phase, h)) {
            RunSteps.Stop.Leave -> leave()
            is RunSteps.Stop.End -> {
                monitor.phase = MonitorPhase.STOPPING
                worker.execute {
                    if (h != 0L) stopCore(h)
                    worker.main.post { leave() }
                }
            }
        }
    }

    /** The core ended the session on its own, saying [reason]. */
    fun coreStopped(reason: String) {
        if (RunSteps.runningSessionConcerned(monitor.phase)) stop(service.getString(R.string.error_core_stopped, reason))
    }

    /** The service is destroyed without a stop (killed by the system): still let the core write its records. */
    fun destroyed() {
        val h = monitor.handle
        if (h == 0L) return
        monitor.handle = 0L
        worker.execute { stopCore(h) }
        monitor.since = 0L
        monitor.phase = MonitorPhase.STOPPED
    }

    /**
     * The core forwards DNS to the resolvers it was given at start. Moving from Wi-Fi (a
     * router's resolver) to mobile data makes them unreachable, so a new session starts on
     * a new TUN (Android swaps interfaces without dropping the VPN) with the new resolvers.
     */
    fun networkChanged() {
        if (!RunSteps.runningSessionConcerned(monitor.phase)) return
        val underlying = network.current()
        val dns = underlying.dns
        val before = StartWarnings.restarting(warnings, dns)
        monitor.privateDns = privateDnsWarning(underlying)
        monitor.changed()
        if (!ResolverChange.restartNeeded(running = upstreamDns, now = dns)) return
        val tun = tunnel.establish(CoreConfig.plan(settings, service.packageName, dns)) { monitor.lastError = it } ?: return
        upstreamDns = dns
        val old = monitor.handle
        val recordsDir = store.recordsDir.absolutePath
        val ids = identifiers
        val s = settings
        monitor.phase = MonitorPhase.STARTING
        monitor.handle = 0L
        worker.execute {
            if (old != 0L) stopCore(old)
            val outcome = session.start(tun, recordsDir, ids, s, dns, interception(s))
            worker.main.post { started(outcome, ids, before) }
        }
    }

    private fun started(outcome: StartRetry.Outcome<Long>, ids: Identifiers, before: List<StartWarning>) {
        when (val next = RunSteps.afterStart(outcome, monitor.phase)) {
            is RunSteps.AfterStart.Fail -> fail(service.getString(R.string.error_start_failed, next.message))
            // Stopped while starting: end the session that just began.
            is RunSteps.AfterStart.Abandon -> worker.execute { stopCore(next.handle) }
            is RunSteps.AfterStart.Run -> {
                identifiers = ids
                warnings = StartWarnings.started(before, next.refusal)
                monitor.handle = next.handle
                monitor.since = System.currentTimeMillis()
                monitor.warnings = warnings.map(::text)
                monitor.phase = MonitorPhase.RUNNING
                refresher.restart()
            }
        }
    }

    private fun fail(why: String) {
        monitor.lastError = why
        // startForegroundService promised a foreground notification: keep the promise, then leave.
        notice.show(why)
        leave()
    }

    /** On the worker. */
    private fun stopCore(handle: Long) {
        val error = session.stop(handle) ?: return
        worker.main.post { monitor.lastError = service.getString(R.string.error_stop_failed, error) }
    }

    private fun leave() {
        monitor.since = 0L
        monitor.warnings = emptyList()
        monitor.privateDns = null
        monitor.phase = MonitorPhase.STOPPED
        callbacks.saveFirstSeen()
        notice.remove()
        service.stopSelf()
    }

    private fun privateDnsWarning(underlying: NetworkWatcher.Underlying): String? =
        underlying.strictPrivateDns?.let { service.getString(R.string.warning_private_dns_strict, it) }

    private fun text(w: StartWarning): String = when (w) {
        StartWarning.DnsUnknown -> service.getString(R.string.warning_dns_unknown)
        is StartWarning.Note -> w.text
        is StartWarning.IdsDropped -> service.resources.getQuantityString(R.plurals.warning_ids_dropped, w.count, w.count)
        StartWarning.NoIdentifiers -> service.getString(R.string.warning_no_identifiers)
        is StartWarning.IdsRefused -> service.getString(R.string.warning_ids_refused, w.message)
    }
}
