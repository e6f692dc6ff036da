package org.phonehome.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build
import android.os.Handler
import android.os.PowerManager
import org.phonehome.core.CoreException
import org.phonehome.core.NativeCore
import org.phonehome.model.JsonException
import org.phonehome.model.MonitorPhase
import org.phonehome.model.RefreshBackoff
import org.phonehome.model.Stats

/**
 * Keeps the live counts in the status notification while a session runs and the screen is
 * on (nobody reads it otherwise), at [RefreshBackoff]'s pace. Runs on the main thread.
 */
class NotificationRefresher(
    private val context: Context,
    private val main: Handler,
    private val monitor: MonitorState,
    private val show: (String) -> Unit,
) {
    private val backoff = RefreshBackoff()
    private var screenOn = true
    private var lastStats: Stats? = null
    private val refresh = Runnable { refresh() }

    private val screen = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            screenOn = intent.action == Intent.ACTION_SCREEN_ON
            main.removeCallbacks(refresh)
            if (screenOn) {
                backoff.reset()
                main.post(refresh)
            }
        }
    }

    /** Starts following the screen; call once, from the service's onCreate. */
    fun register() {
        screenOn = (context.getSystemService(Context.POWER_SERVICE) as PowerManager).isInteractive
        val filter = IntentFilter().apply {
            addAction(Intent.ACTION_SCREEN_ON)
            addAction(Intent.ACTION_SCREEN_OFF)
        }
        // Screen broadcasts come from the system only; on 33+ a runtime receiver must say whether it is exported.
        if (Build.VERSION.SDK_INT >= 33) context.registerReceiver(screen, filter, Context.RECEIVER_NOT_EXPORTED) else context.registerReceiver(screen, filter)
    }

    fun unregister() {
        main.removeCallbacks(refresh)
        try {
            context.unregisterReceiver(screen)
        } catch (_: IllegalArgumentException) {
        }
    }

    /** A session began: show its counts now, then at the fast pace. */
    fun restart() {
        backoff.reset()
        main.removeCallbacks(refresh)
        main.post(refresh)
    }

    fun pause() {
        main.removeCallbacks(refresh)
    }

    private fun refresh() {
        val h = monitor.handle
        if (monitor.phase != MonitorPhase.RUNNING || h == 0L || !screenOn) return
        val stats = try {
            Stats.fromJson(NativeCore.stats(h))
        } catch (_: CoreException) {
            return
        } catch (_: JsonException) {
            return
        }
        val changed = stats != lastStats
        if (changed) show(stats.summary())
        lastStats = stats
        main.postDelayed(refresh, backoff.next(changed))
    }
}
