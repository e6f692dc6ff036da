package org.phonehome.app

import android.content.Context
import android.content.Intent
import android.net.VpnService
import android.os.Build
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.CoreConfig
import org.phonehome.model.Identifiers
import org.phonehome.model.ResolverChange
import org.phonehome.model.Settings
import org.phonehome.model.StartRetry
import org.phonehome.model.Validation

/**
 * The VPN: routes every app's packets into a TUN that the Rust core relays and inspects.
 * This class is the lifecycle only; its parts do the work: [VpnTunnel] (the TUN),
 * [CoreSession] (the core's start and stop), [CoreCallbacks] (what the core asks of us),
 * [NotificationRefresher] (live counts), [NetworkWatcher] (resolver changes),
 * [ForegroundNotice]; the screens see it all through [MonitorState].
 *
 * Started by the status screen (after VpnService.prepare consent), or by the system for
 * always-on VPN (null intent or SERVICE_INTERFACE, also after reboot and after the process
 * was killed: START_STICKY). Core calls (start, stop) run on [CoreWorker], never on the
 * main thread; the core's callbacks arrive on its own threads.
 */
class MonitorVpnService : VpnService() {
    companion object {
        const val ACTION_START = "org.phonehome.action.START"
        const val ACTION_STOP = "org.phonehome.action.STOP"

        fun start(context: Context) {
            val intent = Intent(context, MonitorVpnService::class.java).setAction(ACTION_START)
            if (Build.VERSION.SDK_INT >= 26) context.startForegroundService(intent) else context.startService(intent)
        }

        fun stop(context: Context) {
            context.startService(Intent(context, MonitorVpnService::class.java).setAction(ACTION_STOP))
        }
    }

    private lateinit var monitor: MonitorState
    private lateinit var worker: CoreWorker
    private lateinit var store: Store
    private lateinit var notice: ForegroundNotice
    private lateinit var tunnel: VpnTunnel
    private lateinit var network: NetworkWatcher
    private lateinit var refresher: NotificationRefresher
    private lateinit var callbacks: CoreCallbacks
    private lateinit var session: CoreSession

    // What the running session was started with: a restart on new resolvers keeps the rest.
    private var settings = Settings()
    private var upstreamDns: List<String> = emptyList()
    private var identifiers = Identifiers()

    override fun onCreate() {
        super.onCreate()
        monitor = phoneHome.monitor
        worker = phoneHome.worker
        store = Store(this)
        Notifications.createChannels(this)
        notice = ForegroundNotice(this)
        tunnel = VpnTunnel(this)
        network = NetworkWatcher(this, worker.main) { restartIfDnsChanged() }
        refresher = NotificationRefresher(this, worker.main, monitor) { notice.show(it) }
        callbacks = CoreCallbacks(this, store, worker.main) { reason ->
            if (monitor.phase == MonitorState.Phase.RUNNING) stopMonitor(getString(R.string.error_core_stopped, reason))
        }
        session = CoreSession(callbacks)
        callbacks.loadFirstSeen()
        refresher.register()
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        return when (intent?.action) {
            ACTION_STOP -> {
                stopMonitor(null)
                START_NOT_STICKY
            }
            // ACTION_START from our screen; null (restarted after the process died) or
            // SERVICE_INTERFACE (always-on VPN, at boot too) from the system.
            else -> {
                startMonitor()
                START_STICKY
            }
        }
    }

    override fun onRevoke() {
        // Another VPN took over or the user turned us off in Settings.
        stopMonitor(getString(R.string.error_revoked))
    }

    override fun onDestroy() {
        refresher.unregister()
        network.stop()
        val h = monitor.handle
        if (h != 0L) {
            // Destroyed without a stop (killed by the system): still let the core write its records.
            monitor.handle = 0L
            worker.execute { stopCore(h) }
            monitor.since = 0L
            monitor.phase = MonitorState.Phase.STOPPED
        }
        callbacks.close()
        super.onDestroy()
    }

    // ---- starting and stopping -------------------------------------------------------

    private fun startMonitor() {
        when (monitor.phase) {
            MonitorState.Phase.RUNNING, MonitorState.Phase.STARTING -> {
                notice.show(getString(R.string.notification_starting))
                return
            }
            else -> Unit
        }
        monitor.lastError = null
        monitor.phase = MonitorState.Phase.STARTING
        if (!worker.ensureLoaded()) return fail(getString(R.string.error_core_missing, worker.loadError))
        if (prepare(this) != null) return fail(getString(R.string.error_no_consent))

        settings = store.settings()
        callbacks.notifyDiscoveries = settings.notifyDiscoveries
        val underlying = network.current()
        upstreamDns = underlying.dns
        val warnings = ArrayList<String>()
        monitor.privateDns = privateDnsWarning(underlying)
        if (CoreConfig.upstreamDns(upstreamDns).isEmpty()) warnings.add(getString(R.string.warning_dns_unknown))

        // A refusal's message is not kept: the consent error below says what to do.
        val tun = tunnel.establish(CoreConfig.plan(settings, packageName, upstreamDns)) {}
            ?: return fail(getString(R.string.error_no_consent))
        notice.show(getString(R.string.notification_starting))
        network.watch()

        val recordsDir = store.recordsDir.absolutePath
        val s = settings
        val dns = upstreamDns
        worker.execute {
            val ids = identifiersToLookFor(s, warnings)
            val outcome = session.start(tun, recordsDir, ids, s, dns)
            worker.main.post { started(outcome, ids, warnings) }
        }
    }

    /** On the worker: the typed and the read identifiers, less what the core would refuse. */
    private fun identifiersToLookFor(s: Settings, warnings: MutableList<String>): Identifiers {
        val read = IdentifierReader(this).read(s)
        val (ids, dropped) = Validation.sanitise(store.typedIdentifiers().plus(read.identifiers), NativeCore::validateIdentifiers)
        warnings.addAll(read.notes)
        if (dropped > 0) warnings.add(resources.getQuantityString(R.plurals.warning_ids_dropped, dropped, dropped))
        if (ids.count == 0) warnings.add(getString(R.string.warning_no_identifiers))
        return ids
    }

    private fun started(outcome: StartRetry.Outcome<Long>, ids: Identifiers, warnings: MutableList<String>) {
        val handle = when (outcome) {
            is StartRetry.Outcome.Failed -> return fail(getString(R.string.error_start_failed, outcome.message))
            is StartRetry.Outcome.Started -> outcome.handle
        }
        outcome.refusal?.let { warnings.add(getString(R.string.warning_ids_refused, it)) }
        if (monitor.phase != MonitorState.Phase.STARTING) {
            // Stopped while starting: end the session that just began.
            worker.execute { stopCore(handle) }
            return
        }
        identifiers = ids
        monitor.handle = handle
        monitor.since = System.currentTimeMillis()
        monitor.warnings = warnings
        monitor.phase = MonitorState.Phase.RUNNING
        refresher.restart()
    }

    private fun fail(why: String) {
        monitor.lastError = why
        // startForegroundService promised a foreground notification: keep the promise, then leave.
        notice.show(why)
        finish()
    }

    /** Stops monitoring; [error] says why when it was not the user's choice. */
    private fun stopMonitor(error: String?) {
        if (error != null) monitor.lastError = error
        refresher.pause()
        network.stop()
        val h = monitor.handle
        monitor.handle = 0L
        if (monitor.phase == MonitorState.Phase.STOPPED && h == 0L) {
            finish()
            return
        }
        monitor.phase = MonitorState.Phase.STOPPING
        worker.execute {
            if (h != 0L) stopCore(h)
            worker.main.post { finish() }
        }
    }

    /** On the worker. */
    private fun stopCore(handle: Long) {
        val error = session.stop(handle) ?: return
        worker.main.post { monitor.lastError = getString(R.string.error_stop_failed, error) }
    }

    private fun finish() {
        monitor.since = 0L
        monitor.warnings = emptyList()
        monitor.privateDns = null
        monitor.phase = MonitorState.Phase.STOPPED
        callbacks.saveFirstSeen()
        notice.remove()
        stopSelf()
    }

    // ---- the network underneath --------------------------------------------------------

    private fun privateDnsWarning(underlying: NetworkWatcher.Underlying): String? =
        underlying.strictPrivateDns?.let { getString(R.string.warning_private_dns_strict, it) }

    /**
     * The core forwards DNS to the resolvers it was given at start. Moving from Wi-Fi (a
     * router's resolver) to mobile data makes them unreachable, so a new session starts on
     * a new TUN (Android swaps interfaces without dropping the VPN) with the new resolvers.
     */
    private fun restartIfDnsChanged() {
        if (monitor.phase != MonitorState.Phase.RUNNING) return
        val underlying = network.current()
        val dns = underlying.dns
        val warnings = monitor.warnings.toMutableList()
        monitor.privateDns = privateDnsWarning(underlying)
        monitor.changed()
        if (!ResolverChange.restartNeeded(running = upstreamDns, now = dns)) return
        val tun = tunnel.establish(CoreConfig.plan(settings, packageName, dns)) { monitor.lastError = it } ?: return
        upstreamDns = dns
        val old = monitor.handle
        val recordsDir = store.recordsDir.absolutePath
        val ids = identifiers
        val s = settings
        monitor.phase = MonitorState.Phase.STARTING
        monitor.handle = 0L
        worker.execute {
            if (old != 0L) stopCore(old)
            val outcome = session.start(tun, recordsDir, ids, s, dns)
            worker.main.post { started(outcome, ids, warnings) }
        }
    }
}
