package org.phonehome.app

import android.app.Notification
import android.app.NotificationManager
import android.app.Service
import android.content.Context
import android.content.pm.ServiceInfo
import android.os.Build

/** The service's foreground notification: shown, updated in place, removed. */
class ForegroundNotice(private val service: Service) {
    private var foreground = false

    /**
     * Android 14+ requires a foreground service type. A running VPN may use systemExempted;
     * should a device refuse it (the VPN not yet counted as active), specialUse is declared too.
     */
    fun show(text: String) {
        val n = Notifications.status(service, text)
        if (foreground) {
            (service.getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager).notify(Notifications.ID_STATUS, n)
            return
        }
        if (Build.VERSION.SDK_INT >= 34) {
            try {
                service.startForeground(Notifications.ID_STATUS, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_SYSTEM_EXEMPTED)
            } catch (_: RuntimeException) {
                startForegroundSpecialUse(n)
            }
        } else {
            service.startForeground(Notifications.ID_STATUS, n)
        }
        foreground = true
    }

    fun remove() {
        if (Build.VERSION.SDK_INT >= 24) service.stopForeground(Service.STOP_FOREGROUND_REMOVE) else legacyStopForeground()
        foreground = false
    }

    private fun startForegroundSpecialUse(n: Notification) {
        if (Build.VERSION.SDK_INT >= 34) service.startForeground(Notifications.ID_STATUS, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
    }

    @Suppress("DEPRECATION")
    private fun legacyStopForeground() = service.stopForeground(true)
}
