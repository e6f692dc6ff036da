package org.phonehome.app

import android.Manifest
import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.content.pm.PackageManager
import android.net.VpnService
import android.os.Build
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.Format
import org.phonehome.model.MonitorPhase
import org.phonehome.model.Stats

/** Start and stop, live counts, warnings, and the way to everything else. */
class StatusActivity : Activity() {
    companion object {
        private const val REQUEST_VPN = 1
        private const val REQUEST_NOTIFICATIONS = 2
        private const val POLL_MS = 2_000L
    }

    private lateinit var store: Store
    private val monitor get() = phoneHome.monitor
    private lateinit var state: TextView
    private lateinit var counts: TextView
    private lateinit var toggle: Button
    private lateinit var warnings: LinearLayout
    private var visible = false

    private val listener: () -> Unit = { render() }
    private val poll = object : Runnable {
        override fun run() {
            if (!visible) return
            renderCounts()
            phoneHome.worker.main.postDelayed(this, POLL_MS)
        }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        store = Store(this)
        Notifications.createChannels(this)
        val col = Ui.column(this)
        state = Ui.title(this, "")
        counts = Ui.text(this, "")
        toggle = Ui.button(this, getString(R.string.start)) { onToggle() }
        warnings = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        col.addView(state)
        col.addView(counts)
        col.addView(toggle)
        col.addView(warnings)
        col.addView(Ui.heading(this, getString(R.string.section_results)))
        col.addView(Ui.button(this, getString(R.string.open_findings)) { startActivity(Intent(this, FindingsActivity::class.java)) })
        col.addView(Ui.button(this, getString(R.string.open_apps)) { startActivity(Intent(this, AppsActivity::class.java)) })
        col.addView(Ui.button(this, getString(R.string.open_settings)) { startActivity(Intent(this, SettingsActivity::class.java)) })
        col.addView(Ui.heading(this, getString(R.string.section_export)))
        col.addView(Ui.note(this, getString(R.string.export_explained)))
        col.addView(
            Ui.row(
                this,
                Ui.button(this, getString(R.string.export_findings)) { export(Exporter.Format.FINDINGS) },
                Ui.button(this, getString(R.string.export_flows)) { export(Exporter.Format.FLOWS) },
                Ui.button(this, getString(R.string.export_pcapng)) { export(Exporter.Format.PCAPNG) },
            ),
        )
        col.addView(Ui.heading(this, getString(R.string.section_about)))
        col.addView(Ui.note(this, getString(R.string.about_text)))
        setContentView(Ui.page(this, col))
    }

    override fun onResume() {
        super.onResume()
        visible = true
        monitor.listen(listener)
        render()
        phoneHome.worker.main.post(poll)
    }

    override fun onPause() {
        visible = false
        monitor.unlisten(listener)
        phoneHome.worker.main.removeCallbacks(poll)
        super.onPause()
    }

    private fun onToggle() {
        when (monitor.phase) {
            MonitorPhase.RUNNING, MonitorPhase.STARTING -> MonitorVpnService.stop(this)
            MonitorPhase.STOPPING -> Unit
            MonitorPhase.STOPPED -> askNotificationsThenStart()
        }
    }

    /** Android 13+: the live counts and discoveries need the notification permission; monitoring works without it. */
    private fun askNotificationsThenStart() {
        if (Build.VERSION.SDK_INT >= 33 &&
            checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED &&
            !getSharedPreferences("asked", MODE_PRIVATE).getBoolean("notifications", false)
        ) {
            getSharedPreferences("asked", MODE_PRIVATE).edit().putBoolean("notifications", true).apply()
            AlertDialog.Builder(this)
                .setTitle(R.string.perm_notifications_title)
                .setMessage(R.string.perm_notifications_why)
                .setPositiveButton(R.string.continue_) { _, _ -> requestPermissions(arrayOf(Manifest.permission.POST_NOTIFICATIONS), REQUEST_NOTIFICATIONS) }
                .setNegativeButton(R.string.not_now) { _, _ -> askVpnConsentThenStart() }
                .show()
            return
        }
        askVpnConsentThenStart()
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode == REQUEST_NOTIFICATIONS) askVpnConsentThenStart()
    }

    /** The system's VPN consent dialog, once; after that prepare() returns null. */
    private fun askVpnConsentThenStart() {
        val consent = try {
            VpnService.prepare(this)
        } catch (_: IllegalStateException) {
            null
        }
        if (consent == null) {
            MonitorVpnService.start(this)
        } else {
            try {
                startActivityForResult(consent, REQUEST_VPN)
            } catch (_: android.content.ActivityNotFoundException) {
                Toast.makeText(this, R.string.error_no_vpn_support, Toast.LENGTH_LONG).show()
            }
        }
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        if (requestCode != REQUEST_VPN) return
        if (resultCode == RESULT_OK) MonitorVpnService.start(this)
        else Toast.makeText(this, R.string.error_no_consent, Toast.LENGTH_LONG).show()
    }

    private fun render() {
        state.text = getString(
            when (monitor.phase) {
                MonitorPhase.STOPPED -> R.string.state_stopped
                MonitorPhase.STARTING -> R.string.state_starting
                MonitorPhase.RUNNING -> R.string.state_running
                MonitorPhase.STOPPING -> R.string.state_stopping
            },
        )
        toggle.text = getString(if (monitor.phase == MonitorPhase.STOPPED) R.string.start else R.string.stop)
        toggle.isEnabled = monitor.phase != MonitorPhase.STOPPING
        warnings.removeAllViews()
        monitor.lastError?.let { warnings.addView(Ui.warning(this, it)) }
        monitor.privateDns?.let { warnings.addView(Ui.warning(this, it)) }
        for (w in monitor.warnings) warnings.addView(Ui.warning(this, w))
        if (Build.VERSION.SDK_INT >= 33 && checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED) {
            warnings.addView(Ui.warning(this, getString(R.string.warning_notifications_off)))
        }
        if (monitor.phase == MonitorPhase.STOPPED && store.typedIdentifiers().count == 0) {
            warnings.addView(Ui.warning(this, getString(R.string.hint_add_identifiers)))
        }
        renderCounts()
    }

    private fun renderCounts() {
        val h = monitor.handle
        if (monitor.phase != MonitorPhase.RUNNING || h == 0L) {
            counts.text = if (monitor.phase == MonitorPhase.STOPPED) getString(R.string.counts_stopped) else ""
            return
        }
        val stats = try {
            Stats.fromJson(NativeCore.stats(h))
        } catch (e: RuntimeException) {
            counts.text = e.message
            return
        }
        val running = Format.duration(System.currentTimeMillis() - monitor.since)
        val lines = mutableListOf(
            getString(R.string.counts_running, running),
            getString(R.string.counts_flows, Format.count(stats.flowsOpen), Format.count(stats.flowsTotal)),
            getString(R.string.counts_bytes, Format.bytes(stats.bytesOut), Format.bytes(stats.bytesIn)),
            getString(R.string.counts_findings, Format.count(stats.findings)),
        )
        if (stats.dropped > 0) lines.add(getString(R.string.counts_dropped, Format.bytes(stats.dropped)))
        if (stats.protectFailures > 0) lines.add(getString(R.string.counts_protect_failures, Format.count(stats.protectFailures)))
        counts.text = lines.joinToString("\n")
    }

    private fun export(format: Exporter.Format) {
        Toast.makeText(this, R.string.export_working, Toast.LENGTH_SHORT).show()
        val recordsDir = store.recordsDir.absolutePath
        phoneHome.worker.query({ Exporter.write(applicationContext, recordsDir, format) }) { file, error ->
            if (isDestroyed) return@query
            if (file == null) {
                Toast.makeText(this, getString(R.string.export_failed, error ?: ""), Toast.LENGTH_LONG).show()
            } else {
                Exporter.share(this, file)
            }
        }
    }
}
