package org.phonehome.app

import android.content.Context
import android.content.pm.ApplicationInfo
import android.content.pm.PackageManager
import android.graphics.drawable.Drawable
import java.util.concurrent.ConcurrentHashMap

/**
 * Labels and icons for the app names the core records (PackageManager.getNameForUid:
 * a package name, or "sharedUserName:uid" for apps sharing a uid such as android.uid.system).
 */
object AppNames {
    private val labels = ConcurrentHashMap<String, String>()

    /** The package part of a recorded name. */
    fun packageOf(app: String): String = app.substringBefore(':')

    @Suppress("DEPRECATION")
    private fun info(context: Context, app: String): ApplicationInfo? = try {
        context.packageManager.getApplicationInfo(packageOf(app), 0)
    } catch (_: PackageManager.NameNotFoundException) {
        null
    }

    fun label(context: Context, app: String?): String {
        if (app == null) return context.getString(org.phonehome.R.string.app_unknown)
        labels[app]?.let { return it }
        val pm = context.packageManager
        val label = info(context, app)?.loadLabel(pm)?.toString()
            ?: if (app.startsWith("android.uid.system")) context.getString(org.phonehome.R.string.app_system) else app
        labels[app] = label
        return label
    }

    fun icon(context: Context, app: String?): Drawable? {
        if (app == null) return null
        val pm = context.packageManager
        return info(context, app)?.loadIcon(pm)
    }

    /** Installed apps (launchable or not: system services phone home too), by label. */
    @Suppress("DEPRECATION")
    fun installed(context: Context): List<Pair<String, String>> {
        val pm = context.packageManager
        return pm.getInstalledApplications(0)
            .filter { it.packageName != context.packageName }
            .map { it.packageName to it.loadLabel(pm).toString() }
            .sortedWith(compareBy<Pair<String, String>> { it.second.lowercase() }.thenBy { it.first })
    }
}
