package org.phonehome.app

import android.content.Context
import android.content.Intent
import android.net.VpnService
import android.os.Build
import org.phonehome.R
import org.phonehome.model.ServiceCommand

/**
 * The VPN: routes every app's packets into a TUN that the Rust core relays and inspects.
 * This class is the lifecycle only: it builds the parts and hands each event to
 * [MonitorRun] (start, stop, restart), which uses [VpnTunnel], [CoreSession],
 * [CoreCallbacks] (what the core asks of us), [NotificationRefresher] (live counts),
 * [NetworkWatcher] (resolver changes) and [ForegroundNotice]; the screens see it all
 * through [MonitorState].
 *
 * Started by the status screen (after VpnService.prepare consent), or by the system for
 * always-on VPN (null intent or SERVICE_INTERFACE, also after reboot and after the process
 * was killed: START_STICKY); [ServiceCommand] reads the intent. Core calls (start, stop)
 * run on [CoreWorker], never on the main thread; the core's callbacks arrive on its own threads.
 */
class MonitorVpnService : VpnService() {
    companion object {
        const val ACTION_START = ServiceCommand.ACTION_START
        const val ACTION_STOP = ServiceCommand.ACTION_STOP

        fun start(context: Context) {
            val intent = Intent(context, MonitorVpnService::class.java).setAction(ACTION_START)
            if (Build.VERSION.SDK_INT >= 26) context.startForegroundService(intent) else context.startService(intent)
        }

        fun stop(context: Context) {
            context.startService(Intent(context, MonitorVpnService::class.java).setAction(ACTION_STOP))
        }
    }

    private lateinit var network: NetworkWatcher
    private lateinit var refresher: NotificationRefresher
    private lateinit var callbacks: CoreCallbacks
    private lateinit var run: MonitorRun

    override fun onCreate() {
        super.onCreate()
        val monitor = phoneHome.monitor
        val worker = phoneHome.worker
        val store = Store(this)
        Notifications.createChannels(this)
        val notice = ForegroundNotice(this)
        // The watcher and the callbacks call back into the run, which needs them: hence the lambdas.
        network = NetworkWatcher(this, worker.main) { run.networkChanged() }
        refresher = NotificationRefresher(this, worker.main, monitor) { notice.show(it) }
        callbacks = CoreCallbacks(this, store, worker.main) { reason -> run.coreStopped(reason) }
        run = MonitorRun(this, monitor, worker, store, notice, network, refresher, callbacks)
        callbacks.loadFirstSeen()
        refresher.register()
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        val command = ServiceCommand.of(intent?.action)
        when (command) {
            ServiceCommand.STOP -> run.stop(null)
            ServiceCommand.START -> run.start()
        }
        return if (command.restartAfterDeath) START_STICKY else START_NOT_STICKY
    }

    override fun onRevoke() {
        // Another VPN took over or the user turned us off in Settings.
        run.stop(getString(R.string.error_revoked))
    }

    override fun onDestroy() {
        refresher.unregister()
        network.stop()
        run.destroyed()
        callbacks.close()
        super.onDestroy()
    }
}
