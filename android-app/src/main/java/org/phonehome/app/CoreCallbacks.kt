package org.phonehome.app

import android.content.Context
import android.database.SQLException
import android.net.ConnectivityManager
import android.net.VpnService
import android.os.Build
import android.os.Handler
import android.util.Log
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.UnknownHostException
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException
import org.phonehome.core.CoreHost
import org.phonehome.core.StopReason
import org.phonehome.model.Finding
import org.phonehome.model.FirstSeen

/**
 * What the core asks of the platform while a session runs (called on the core's threads):
 * protect sockets, name a connection's owner, keep the records it sends in [records], notify
 * first discoveries. A session that ends on its own is handed to [stoppedUnasked] on the main
 * thread, with the core's reason.
 */
class CoreCallbacks(
    private val service: VpnService,
    private val store: Store,
    private val main: Handler,
    private val records: RecordStore = service.phoneHome.records,
    private val stoppedUnasked: (String) -> Unit,
) : CoreHost {
    /** Whether a first discovery raises a notification (the settings the session started with). */
    @Volatile var notifyDiscoveries = true

    private val cm = service.getSystemService(Context.CONNECTIVITY_SERVICE) as ConnectivityManager

    /** Batches whose transaction failed (the disk full, say): their records are lost. */
    @Volatile var storeFailures = 0
        private set

    /** Findings are handled off the core's threads, one at a time (FirstSeen is not thread-safe). */
    private val events: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "phonehome-events") }
    private val firstSeen = FirstSeen()
    private val uidNames = ConcurrentHashMap<Int, String>()

    fun loadFirstSeen() = events.execute { store.loadFirstSeen(firstSeen) }

    fun saveFirstSeen() = events.execute { store.saveFirstSeen(firstSeen) }

    /** Saves what was seen and takes no more findings. */
    fun close() {
        saveFirstSeen()
        events.shutdown()
    }

    override fun protect(fd: Int): Boolean = service.protect(fd)

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
        } catch (_: UnknownHostException) {
            -1
        }
    }

    // getByName must never resolve a name on the core's thread: numeric addresses only.
    private fun numeric(a: String): Boolean =
        a.isNotEmpty() && a.all { it in '0'..'9' || it in 'a'..'f' || it in 'A'..'F' || it == ':' || it == '.' }

    override fun appForUid(uid: Int): String? {
        if (uid < 0) return null
        uidNames[uid]?.let { return it }
        val name = service.packageManager.getNameForUid(uid) ?: return null
        uidNames[uid] = name
        return name
    }

    override fun signerOfApp(packageName: String): String? = Signers.of(service.packageManager, packageName)

    override fun onRecords(session: Long, flowsJsonl: String, findingsJsonl: String, discoveredJsonl: String) {
        // Stored here, on the core's event thread, one transaction per batch: while it runs
        // the core queues what comes next (bounded, see CoreHost.onRecords), so a slow disk
        // never piles batches up in the app's memory.
        val inserted = try {
            records.insertBatch(session, flowsJsonl, findingsJsonl, discoveredJsonl)
        } catch (e: SQLException) {
            storeFailures++
            Log.w("phonehome", "cannot store a batch of records: ${e.message}")
            return
        }
        // After close the executor is shut down: an exception here would land in the core's thread.
        if (inserted.findings.isEmpty() || events.isShutdown) return
        try {
            events.execute { inserted.findings.forEach(::handleFinding) }
        } catch (_: RejectedExecutionException) {
        }
    }

    /** Notifies a finding the first time its app, destination and kind are seen together (it is stored already). */
    private fun handleFinding(f: Finding) {
        if (firstSeen.observe(f)) {
            store.saveFirstSeen(firstSeen)
            if (notifyDiscoveries) Notifications.discovery(service, f, AppNames.label(service, f.app))
        }
    }

    override fun onStopped(reason: StopReason, message: String) {
        if (reason == StopReason.STOPPED) return
        main.post { stoppedUnasked(message) }
    }
}
