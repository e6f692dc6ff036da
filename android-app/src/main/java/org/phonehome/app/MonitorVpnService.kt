package org.phonehome.app

import android.app.Notification
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.net.VpnService
import android.os.Build
import android.os.ParcelFileDescriptor
import android.os.PowerManager
import java.net.InetAddress
import java.net.InetSocketAddress
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import org.phonehome.R
import org.phonehome.core.CoreException
import org.phonehome.core.CoreHost
import org.phonehome.core.NativeCore
import org.phonehome.model.CoreConfig
import org.phonehome.model.Finding
import org.phonehome.model.FirstSeen
import org.phonehome.model.Identifiers
import org.phonehome.model.Json
import org.phonehome.model.Settings
import org.phonehome.model.Stats
import org.phonehome.model.Validation
import org.phonehome.model.VpnPlan

/**
 * The VPN: routes every app's packets into a TUN that the Rust core relays and inspects.
 *
 * Started by the status screen (after VpnService.prepare consent), or by the system for
 * always-on VPN (null intent or SERVICE_INTERFACE, also after reboot and after the process
 * was killed: START_STICKY). Core calls (start, stop) run on [CoreWorker], never on the
 * main thread; the core's callbacks arrive on its own threads.
 */
class MonitorVpnService : VpnService(), CoreHost {
    companion object {
        const val ACTION_START = "org.phonehome.action.START"
        const val ACTION_STOP = "org.phonehome.action.STOP"

        /** Notification refresh while the screen is on; doubles up to the maximum while counts stand still. */
        private const val REFRESH_MS = 3_000L
        private const val REFRESH_MAX_MS = 60_000L
        /** Wait for a network change to settle before restarting the session. */
        private const val NETWORK_SETTLE_MS = 2_000L

        fun start(context: Context) {
            val intent = Intent(context, MonitorVpnService::class.java).setAction(ACTION_START)
            if (Build.VERSION.SDK_INT >= 26) context.startForegroundService(intent) else context.startService(intent)
        }

        fun stop(context: Context) {
            context.startService(Intent(context, MonitorVpnService::class.java).setAction(ACTION_STOP))
        }
    }

    private lateinit var store: Store
    private lateinit var cm: ConnectivityManager
    private val monitor get() = phoneHome.monitor
    private val worker get() = phoneHome.worker
    private val main get() = worker.main

    /** Findings are handled off the core's threads, one at a time (FirstSeen is not thread-safe). */
    private val events: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "phonehome-events") }
    private val firstSeen = FirstSeen()
    private val uidNames = ConcurrentHashMap<Int, String>()

    @Volatile private var notifyDiscoveries = true
    private var foreground = false
    private var upstreamDns: List<String> = emptyList()
    private var identifiers = Identifiers()
    private var settings = Settings()
    private var networkCallback: ConnectivityManager.NetworkCallback? = null

    private var screenOn = true
    private var refreshDelay = REFRESH_MS
    private var lastStats: Stats? = null

    private val refresh = object : Runnable {
        override fun run() = refreshNotification()
    }

    private val restartAfterNetworkChange = Runnable { restartIfDnsChanged() }

    private val screen = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            screenOn = intent.action == Intent.ACTION_SCREEN_ON
            main.removeCallbacks(refresh)
            if (screenOn) {
                refreshDelay = REFRESH_MS
                main.post(refresh)
            }
        }
    }

    override fun onCreate() {
        super.onCreate()
        store = Store(this)
        cm = getSystemService(Context.CONNECTIVITY_SERVICE) as ConnectivityManager
        Notifications.createChannels(this)
        events.execute { store.loadFirstSeen(firstSeen) }
        screenOn = (getSystemService(Context.POWER_SERVICE) as PowerManager).isInteractive
        val filter = IntentFilter().apply {
            addAction(Intent.ACTION_SCREEN_ON)
            addAction(Intent.ACTION_SCREEN_OFF)
        }
        // Screen broadcasts come from the system only; on 33+ a runtime receiver must say whether it is exported.
        if (Build.VERSION.SDK_INT >= 33) registerReceiver(screen, filter, Context.RECEIVER_NOT_EXPORTED) else registerReceiver(screen, filter)
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
        main.removeCallbacks(refresh)
        main.removeCallbacks(restartAfterNetworkChange)
        unregisterNetworkCallback()
        try {
            unregisterReceiver(screen)
        } catch (_: IllegalArgumentException) {
        }
        val h = monitor.handle
        if (h != 0L) {
            // Destroyed without a stop (killed by the system): still let the core write its records.
            monitor.handle = 0L
            worker.execute { stopCore(h) }
            monitor.since = 0L
            monitor.phase = MonitorState.Phase.STOPPED
        }
        events.execute { store.saveFirstSeen(firstSeen) }
        events.shutdown()
        super.onDestroy()
    }

    // ---- starting and stopping -------------------------------------------------------

    private fun startMonitor() {
        when (monitor.phase) {
            MonitorState.Phase.RUNNING, MonitorState.Phase.STARTING -> {
                goForeground(getString(R.string.notification_starting))
                return
            }
            else -> Unit
        }
        monitor.lastError = null
        monitor.phase = MonitorState.Phase.STARTING
        if (!worker.ensureLoaded()) return fail(getString(R.string.error_core_missing, worker.loadError))
        if (prepare(this) != null) return fail(getString(R.string.error_no_consent))

        settings = store.settings()
        notifyDiscoveries = settings.notifyDiscoveries
        val lp = underlyingLinkProperties()
        upstreamDns = dnsOf(lp)
        val warnings = ArrayList<String>()
        monitor.privateDns = privateDnsWarning(lp)
        if (CoreConfig.upstreamDns(upstreamDns).isEmpty()) warnings.add(getString(R.string.warning_dns_unknown))

        val tun = establish(CoreConfig.plan(settings, packageName, upstreamDns))
            ?: return fail(getString(R.string.error_no_consent))
        goForeground(getString(R.string.notification_starting))
        registerNetworkCallback()

        val recordsDir = store.recordsDir.absolutePath
        val s = settings
        val dns = upstreamDns
        worker.execute {
            val read = IdentifierReader(this).read(s)
            val (ids, dropped) = Validation.sanitise(store.typedIdentifiers().plus(read.identifiers))
            warnings.addAll(read.notes)
            if (dropped > 0) warnings.add(resources.getQuantityString(R.plurals.warning_ids_dropped, dropped, dropped))
            if (ids.count == 0) warnings.add(getString(R.string.warning_no_identifiers))
            val result = startCore(tun, recordsDir, ids, s, dns, warnings)
            main.post { started(result, ids, warnings) }
        }
    }

    /**
     * Starts the core on a duplicate of the TUN fd (the core owns and closes what it is
     * given), so that a refused configuration can be retried on the same interface. If the
     * core refuses the identifiers, the monitor still runs with fewer of them rather than none.
     */
    private fun startCore(
        tun: ParcelFileDescriptor,
        recordsDir: String,
        ids: Identifiers,
        s: Settings,
        dns: List<String>,
        warnings: MutableList<String>,
    ): Result<Long> {
        val attempts = listOf(ids, ids.copy(contacts = emptyList(), sms = emptyList()), Identifiers(region = null))
        var error: CoreException? = null
        try {
            for ((i, attempt) in attempts.withIndex()) {
                if (i > 0 && attempt == attempts[i - 1]) continue
                val config = CoreConfig.json(recordsDir, attempt, s, dns, Build.VERSION.SDK_INT)
                try {
                    val fd = tun.dup().detachFd()
                    val handle = NativeCore.start(fd, config, this)
                    if (i > 0) warnings.add(getString(R.string.warning_ids_refused, error?.message ?: ""))
                    return Result.success(handle)
                } catch (e: CoreException) {
                    error = e
                    if (e.message?.startsWith("identifiers") != true) break
                }
            }
        } catch (e: java.io.IOException) {
            return Result.failure(e)
        } finally {
            try {
                tun.close()
            } catch (_: java.io.IOException) {
            }
        }
        return Result.failure(error ?: CoreException("the core did not start"))
    }

    private fun started(result: Result<Long>, ids: Identifiers, warnings: List<String>) {
        val handle = result.getOrNull()
        if (handle == null) {
            fail(getString(R.string.error_start_failed, result.exceptionOrNull()?.message ?: ""))
            return
        }
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
        refreshDelay = REFRESH_MS
        main.removeCallbacks(refresh)
        main.post(refresh)
    }

    private fun fail(why: String) {
        monitor.lastError = why
        // startForegroundService promised a foreground notification: keep the promise, then leave.
        goForeground(why)
        finish()
    }

    /** Stops monitoring; [error] says why when it was not the user's choice. */
    private fun stopMonitor(error: String?) {
        if (error != null) monitor.lastError = error
        main.removeCallbacks(refresh)
        main.removeCallbacks(restartAfterNetworkChange)
        unregisterNetworkCallback()
        val h = monitor.handle
        monitor.handle = 0L
        if (monitor.phase == MonitorState.Phase.STOPPED && h == 0L) {
            finish()
            return
        }
        monitor.phase = MonitorState.Phase.STOPPING
        worker.execute {
            if (h != 0L) stopCore(h)
            main.post { finish() }
        }
    }

    private fun stopCore(handle: Long) {
        try {
            NativeCore.stop(handle)
        } catch (e: CoreException) {
            main.post { monitor.lastError = getString(R.string.error_stop_failed, e.message ?: "") }
        }
    }

    private fun finish() {
        monitor.since = 0L
        monitor.warnings = emptyList()
        monitor.privateDns = null
        monitor.phase = MonitorState.Phase.STOPPED
        events.execute { store.saveFirstSeen(firstSeen) }
        if (Build.VERSION.SDK_INT >= 24) stopForeground(STOP_FOREGROUND_REMOVE) else legacyStopForeground()
        foreground = false
        stopSelf()
    }

    @Suppress("DEPRECATION")
    private fun legacyStopForeground() = stopForeground(true)

    // ---- the TUN ------------------------------------------------------------------------

    private fun establish(plan: VpnPlan): ParcelFileDescriptor? {
        val b = Builder()
            .setSession(getString(R.string.app_name))
            .setMtu(plan.mtu)
            .setBlocking(false)
            .setConfigureIntent(
                PendingIntent.getActivity(this, 0, Intent(this, StatusActivity::class.java), PendingIntent.FLAG_IMMUTABLE),
            )
        for ((addr, prefix) in plan.addresses) b.addAddress(addr, prefix)
        // Without an IPv6 address and route Android blocks IPv6 for the VPN's apps, so they
        // fall back to IPv4 and stay monitored instead of leaking around the TUN.
        for ((addr, prefix) in plan.routes) b.addRoute(addr, prefix)
        for (dns in plan.dnsServers) b.addDnsServer(dns)
        for (pkg in plan.disallowedApps) {
            try {
                b.addDisallowedApplication(pkg)
            } catch (_: PackageManager.NameNotFoundException) {
                // Uninstalled since it was excluded: nothing to exclude.
            }
        }
        // Follow whatever network is the default (Wi-Fi, mobile) instead of pinning one.
        b.setUnderlyingNetworks(null)
        // Apps targeting Q+ see a VPN as metered unless told otherwise; let meteredness follow the real network.
        if (Build.VERSION.SDK_INT >= 29) b.setMetered(false)
        return try {
            b.establish()
        } catch (e: IllegalStateException) {
            monitor.lastError = e.message
            null
        } catch (e: IllegalArgumentException) {
            monitor.lastError = e.message
            null
        } catch (e: SecurityException) {
            monitor.lastError = e.message
            null
        }
    }

    /**
     * Android 14+ requires a foreground service type. A running VPN may use systemExempted;
     * should a device refuse it (the VPN not yet counted as active), specialUse is declared too.
     */
    private fun goForeground(text: String) {
        val n = Notifications.status(this, text)
        if (foreground) {
            (getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager).notify(Notifications.ID_STATUS, n)
            return
        }
        if (Build.VERSION.SDK_INT >= 34) {
            try {
                startForeground(Notifications.ID_STATUS, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_SYSTEM_EXEMPTED)
            } catch (_: RuntimeException) {
                startForegroundSpecialUse(n)
            }
        } else {
            startForeground(Notifications.ID_STATUS, n)
        }
        foreground = true
    }

    private fun startForegroundSpecialUse(n: Notification) {
        if (Build.VERSION.SDK_INT >= 34) startForeground(Notifications.ID_STATUS, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
    }

    private fun refreshNotification() {
        val h = monitor.handle
        if (monitor.phase != MonitorState.Phase.RUNNING || h == 0L || !screenOn) return
        val stats = try {
            Stats.fromJson(NativeCore.stats(h))
        } catch (_: CoreException) {
            return
        } catch (_: org.phonehome.model.JsonException) {
            return
        }
        if (stats != lastStats) {
            goForeground(stats.summary())
            refreshDelay = REFRESH_MS
        } else {
            // Nothing moves: look less often (battery), back to fast on the next change or screen-on.
            refreshDelay = (refreshDelay * 2).coerceAtMost(REFRESH_MAX_MS)
        }
        lastStats = stats
        main.postDelayed(refresh, refreshDelay)
    }

    // ---- the network underneath --------------------------------------------------------

    /** Our own package is excluded from the VPN, so our default network is the real one. */
    private fun underlyingLinkProperties(): LinkProperties? {
        val net = cm.activeNetwork ?: return null
        return cm.getLinkProperties(net)
    }

    private fun dnsOf(lp: LinkProperties?): List<String> =
        lp?.dnsServers?.mapNotNull { it.hostAddress }.orEmpty()

    /**
     * Private DNS in strict mode sends every name inside DNS-over-TLS to a fixed server:
     * the core then learns names only from TLS SNI and QUIC. "Automatic" falls back to
     * plain DNS through the TUN, which the core answers.
     */
    private fun privateDnsWarning(lp: LinkProperties?): String? {
        if (Build.VERSION.SDK_INT < 28 || lp == null) return null
        val server = lp.privateDnsServerName
        return if (lp.isPrivateDnsActive && server != null) getString(R.string.warning_private_dns_strict, server) else null
    }

    private fun registerNetworkCallback() {
        if (networkCallback != null) return
        val cb = object : ConnectivityManager.NetworkCallback() {
            override fun onLinkPropertiesChanged(network: Network, linkProperties: LinkProperties) {
                main.removeCallbacks(restartAfterNetworkChange)
                main.postDelayed(restartAfterNetworkChange, NETWORK_SETTLE_MS)
            }

            override fun onAvailable(network: Network) {
                main.removeCallbacks(restartAfterNetworkChange)
                main.postDelayed(restartAfterNetworkChange, NETWORK_SETTLE_MS)
            }
        }
        try {
            cm.registerDefaultNetworkCallback(cb)
            networkCallback = cb
        } catch (_: RuntimeException) {
            // Too many callbacks registered by this app: resolvers then stay as they were at start.
        }
    }

    private fun unregisterNetworkCallback() {
        networkCallback?.let {
            try {
                cm.unregisterNetworkCallback(it)
            } catch (_: IllegalArgumentException) {
            }
        }
        networkCallback = null
    }

    /**
     * The core forwards DNS to the resolvers it was given at start. Moving from Wi-Fi (a
     * router's resolver) to mobile data makes them unreachable, so a new session starts on
     * a new TUN (Android swaps interfaces without dropping the VPN) with the new resolvers.
     */
    private fun restartIfDnsChanged() {
        if (monitor.phase != MonitorState.Phase.RUNNING) return
        val lp = underlyingLinkProperties()
        val dns = dnsOf(lp)
        val warnings = monitor.warnings.toMutableList()
        monitor.privateDns = privateDnsWarning(lp)
        monitor.changed()
        if (dns.isEmpty() || CoreConfig.upstreamDns(dns) == CoreConfig.upstreamDns(upstreamDns)) return
        val tun = establish(CoreConfig.plan(settings, packageName, dns)) ?: return
        upstreamDns = dns
        val old = monitor.handle
        val recordsDir = store.recordsDir.absolutePath
        val ids = identifiers
        val s = settings
        monitor.phase = MonitorState.Phase.STARTING
        monitor.handle = 0L
        worker.execute {
            if (old != 0L) stopCore(old)
            val result = startCore(tun, recordsDir, ids, s, dns, warnings)
            main.post { started(result, ids, warnings) }
        }
    }

    // ---- CoreHost: called on the core's threads -----------------------------------------

    override fun protect(fd: Int): Boolean = super.protect(fd)

    override fun connectionOwnerUid(
        protocol: Int,
        localAddress: String,
        localPort: Int,
        remoteAddress: String,
        remotePort: Int,
    ): Int {
        if (Build.VERSION.SDK_INT < 29 || !numeric(localAddress) || !numeric(remoteAddress)) return -1
        return try {
            cm.getConnectionOwnerUid(
                protocol,
                InetSocketAddress(InetAddress.getByName(localAddress), localPort),
                InetSocketAddress(InetAddress.getByName(remoteAddress), remotePort),
            )
        } catch (_: SecurityException) {
            -1
        } catch (_: IllegalArgumentException) {
            -1
        } catch (_: java.net.UnknownHostException) {
            -1
        }
    }

    // getByName must never resolve a name on the core's thread: numeric addresses only.
    private fun numeric(a: String): Boolean =
        a.isNotEmpty() && a.all { it in '0'..'9' || it in 'a'..'f' || it in 'A'..'F' || it == ':' || it == '.' }

    override fun appForUid(uid: Int): String? {
        if (uid < 0) return null
        uidNames[uid]?.let { return it }
        val name = packageManager.getNameForUid(uid) ?: return null
        uidNames[uid] = name
        return name
    }

    override fun onFinding(findingJson: String) {
        // After onDestroy the executor is shut down: an exception here would land in the core's thread.
        if (events.isShutdown) return
        try {
            events.execute { handleFinding(findingJson) }
        } catch (_: java.util.concurrent.RejectedExecutionException) {
        }
    }

    private fun handleFinding(findingJson: String) {
        val f = try {
            Finding.fromJson(Json.parse(findingJson))
        } catch (_: org.phonehome.model.JsonException) {
            null
        } ?: return
        if (firstSeen.observe(f)) {
            store.saveFirstSeen(firstSeen)
            if (notifyDiscoveries) Notifications.discovery(this, f, AppNames.label(this, f.app))
        }
    }

    override fun onStopped(reason: String) {
        if (reason == "stopped") return
        main.post {
            if (monitor.phase == MonitorState.Phase.RUNNING) stopMonitor(getString(R.string.error_core_stopped, reason))
        }
    }
}
