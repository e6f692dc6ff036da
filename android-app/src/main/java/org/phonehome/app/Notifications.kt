package org.phonehome.app

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.os.Build
import org.phonehome.R
import org.phonehome.model.Finding
import org.phonehome.model.FirstLeak
import org.phonehome.model.Kinds

/** The two channels: a quiet one for the running monitor, one for discoveries. */
object Notifications {
    const val CHANNEL_STATUS = "status"
    const val CHANNEL_DISCOVERIES = "discoveries"
    const val ID_STATUS = 1
    private const val ID_DISCOVERY_BASE = 1000

    fun createChannels(context: Context) {
        if (Build.VERSION.SDK_INT < 26) return
        val nm = context.getSystemService(NotificationManager::class.java) ?: return
        val status = NotificationChannel(CHANNEL_STATUS, context.getString(R.string.channel_status), NotificationManager.IMPORTANCE_LOW)
        status.description = context.getString(R.string.channel_status_description)
        status.setShowBadge(false)
        val found = NotificationChannel(CHANNEL_DISCOVERIES, context.getString(R.string.channel_discoveries), NotificationManager.IMPORTANCE_DEFAULT)
        found.description = context.getString(R.string.channel_discoveries_description)
        nm.createNotificationChannels(listOf(status, found))
    }

    @Suppress("DEPRECATION")
    private fun builder(context: Context, channel: String): Notification.Builder =
        if (Build.VERSION.SDK_INT >= 26) Notification.Builder(context, channel) else Notification.Builder(context)

    private fun open(context: Context, cls: Class<*>, request: Int, extras: Intent.() -> Unit = {}): PendingIntent {
        val intent = Intent(context, cls).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TOP).apply(extras)
        return PendingIntent.getActivity(context, request, intent, PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE)
    }

    /** The foreground notification: what the monitor does right now, and a stop button. */
    @Suppress("DEPRECATION")
    fun status(context: Context, text: String): Notification {
        val stop = PendingIntent.getService(
            context, 1,
            Intent(context, MonitorVpnService::class.java).setAction(MonitorVpnService.ACTION_STOP),
            PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
        )
        val b = builder(context, CHANNEL_STATUS)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(context.getString(R.string.notification_running))
            .setContentText(text)
            .setOngoing(true)
            .setOnlyAlertOnce(true)
            .setShowWhen(false)
            .setContentIntent(open(context, StatusActivity::class.java, 0))
            .setCategory(Notification.CATEGORY_SERVICE)
        b.addAction(Notification.Action.Builder(null, context.getString(R.string.stop), stop).build())
        if (Build.VERSION.SDK_INT >= 31) b.setForegroundServiceBehavior(Notification.FOREGROUND_SERVICE_IMMEDIATE)
        if (Build.VERSION.SDK_INT < 26) b.setPriority(Notification.PRIORITY_LOW)
        return b.build()
    }

    /** "Weather sent the IMEI to Xiaomi" / "to Xiaomi cloud messaging (api.account.xiaomi.com, third party), as plain". */
    fun discovery(context: Context, f: Finding, appLabel: String) {
        val nm = context.getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager
        if (Build.VERSION.SDK_INT >= 24 && !nm.areNotificationsEnabled()) return
        val company = FirstLeak.company(f)
        val title = if (company == null) context.getString(R.string.discovery_title, appLabel, Kinds.name(f.kind))
        else context.getString(R.string.discovery_title_company, appLabel, Kinds.name(f.kind), company)
        val text = context.getString(R.string.discovery_text, FirstLeak.where(f), f.form)
        val b = builder(context, CHANNEL_DISCOVERIES)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(title)
            .setContentText(text)
            .setStyle(Notification.BigTextStyle().bigText("$text\n${f.evidence}"))
            .setAutoCancel(true)
            .setWhen(f.ts)
            .setShowWhen(true)
            .setContentIntent(open(context, FindingsActivity::class.java, (f.app ?: "").hashCode()) {
                putExtra(FindingsActivity.EXTRA_APP, f.app)
            })
        // One notification per app: a chatty app updates its own instead of flooding the shade.
        nm.notify(f.app ?: "", ID_DISCOVERY_BASE, b.build())
    }
}
