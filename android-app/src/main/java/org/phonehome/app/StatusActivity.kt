package org.phonehome.app

import android.Manifest
import android.app.AlertDialog
import android.content.Intent
import android.content.pm.PackageManager
import android.net.VpnService
import android.os.Build
import android.os.Bundle
import android.view.Gravity
import android.view.Menu
import android.view.MenuItem
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.AppLine
import org.phonehome.model.Format
import org.phonehome.model.Kinds
import org.phonehome.model.Finding
import org.phonehome.model.MonitorPhase
import org.phonehome.model.ReceivedLine
import org.phonehome.model.Stats
import org.phonehome.model.TodaySummary

/**
 * The dashboard: whether the monitor runs (start/stop, live counts), and what left the
 * phone today, by which apps, to whom. Everything else is one tap away.
 */
class StatusActivity : Screen() {
    companion object {
        private const val REQUEST_VPN = 1
        private const val REQUEST_NOTIFICATIONS = 2
        private const val POLL_MS = 2_000L
        private const val TODAY_APPS = 5
        private const val TODAY_PAGE = 2_000
        private const val TODAY_RECEIVED_PAGE = 500
        private const val TODAY_RECEIVED_SHOWN = 3
        private const val MENU_SETTINGS = 1
        private const val MENU_EXPORT = 2
    }

    private lateinit var store: Store
    private val monitor get() = phoneHome.monitor
    private lateinit var stateDot: android.view.View
    private lateinit var state: TextView
    private lateinit var stateDetail: TextView
    private lateinit var toggle: Button
    private lateinit var live: LinearLayout
    private lateinit var liveOpen: TextView
    private lateinit var liveTotal: TextView
    private lateinit var liveSent: TextView
    private lateinit var liveFindings: TextView
    private lateinit var liveExtra: TextView
    private lateinit var warnings: LinearLayout
    private lateinit var lastError: LinearLayout
    private lateinit var todayHeadline: TextView
    private lateinit var todayKinds: TextView
    private lateinit var todayApps: TextView
    private lateinit var todayServers: TextView
    private lateinit var todayFindings: TextView
    private lateinit var todayList: LinearLayout
    private lateinit var todayReceived: LinearLayout
    private var visible = false

    /** The findings count (sent and received) the today card was last loaded at: a new finding reloads it. */
    private var todayAt = -1L

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

        // The monitor: state, the one control, live counts.
        val monitorCard = Ui.card(this)
        val stateRow = LinearLayout(this).apply {
            orientation = LinearLayout.HORIZONTAL
            gravity = Gravity.CENTER_VERTICAL
        }
        stateDot = Ui.dot(this, R.color.stopped)
        state = Ui.text(this, "", Ui.Style.TITLE).apply { id = R.id.monitor_state }
        stateRow.addView(stateDot)
        stateRow.addView(state, LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 1f))
        monitorCard.addView(stateRow)
        stateDetail = Ui.note(this, "")
        monitorCard.addView(stateDetail)
        // Why the last start or session failed: next to the control, not below the fold.
        lastError = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        monitorCard.addView(lastError)
        val (open, openValue) = Ui.tile(this, getString(R.string.live_open))
        val (total, totalValue) = Ui.tile(this, getString(R.string.live_total))
        val (sent, sentValue) = Ui.tile(this, getString(R.string.live_sent))
        val (found, foundValue) = Ui.tile(this, getString(R.string.live_findings))
        liveOpen = openValue
        liveTotal = totalValue
        liveSent = sentValue
        liveFindings = foundValue
        live = Ui.grid(this, listOf(open, total, sent, found)).apply { setPadding(0, Ui.dp(this@StatusActivity, 8), 0, 0) }
        monitorCard.addView(live)
        liveExtra = Ui.note(this, "")
        monitorCard.addView(liveExtra)
        toggle = Ui.button(this, getString(R.string.start)) { onToggle() }.apply { id = R.id.monitor_toggle }
        monitorCard.addView(toggle)
        col.addView(monitorCard)

        // Today: what was sent, by whom, to whom.
        val todayCard = Ui.card(this)
        todayCard.addView(Ui.note(this, getString(R.string.today_title)))
        todayHeadline = Ui.text(this, getString(R.string.loading), Ui.Style.TITLE).apply { id = R.id.today_headline }
        todayCard.addView(todayHeadline)
        todayKinds = Ui.text(this, "")
        todayCard.addView(todayKinds)
        val (apps, appsValue) = Ui.tile(this, getString(R.string.today_apps))
        val (servers, serversValue) = Ui.tile(this, getString(R.string.today_servers))
        val (findings, findingsValue) = Ui.tile(this, getString(R.string.today_findings))
        todayApps = appsValue
        todayServers = serversValue
        todayFindings = findingsValue
        todayCard.addView(Ui.grid(this, listOf(apps, servers, findings)).apply { setPadding(0, Ui.dp(this@StatusActivity, 8), 0, 0) })
        todayList = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        todayCard.addView(todayList)
        // What servers sent back: below what was sent, in the quiet style, never counted above.
        todayReceived = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        todayCard.addView(todayReceived)
        todayCard.addView(Ui.divider(this))
        todayCard.addView(Ui.entry(this, getString(R.string.open_findings), getString(R.string.open_findings_why)) { startActivity(Intent(this, FindingsActivity::class.java)) })
        col.addView(todayCard)

        // What the user should know or do, below what happened.
        warnings = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        col.addView(warnings)

        // The rest of the app.
        val more = Ui.card(this)
        more.addView(Ui.entry(this, getString(R.string.open_apps), getString(R.string.open_apps_why)) { startActivity(Intent(this, AppsActivity::class.java)) })
        more.addView(Ui.divider(this))
        more.addView(Ui.entry(this, getString(R.string.open_discovered), getString(R.string.open_discovered_why)) { startActivity(Intent(this, DiscoveredActivity::class.java)) })
        more.addView(Ui.divider(this))
        more.addView(Ui.entry(this, getString(R.string.open_settings), getString(R.string.open_settings_why)) { startActivity(Intent(this, SettingsActivity::class.java)) })
        more.addView(Ui.divider(this))
        more.addView(Ui.entry(this, getString(R.string.open_export), getString(R.string.open_export_why)) { startActivity(Intent(this, ExportActivity::class.java)) })
        col.addView(more)

        val about = Ui.card(this)
        about.addView(Ui.heading(this, getString(R.string.section_about)))
        about.addView(Ui.note(this, getString(R.string.about_text)))
        col.addView(about)
        setScreen(getString(R.string.app_name), col, up = false)
    }

    override fun onCreateOptionsMenu(menu: Menu): Boolean {
        menu.add(0, MENU_SETTINGS, 0, R.string.open_settings)
        menu.add(0, MENU_EXPORT, 1, R.string.open_export)
        return true
    }

    override fun onOptionsItemSelected(item: MenuItem): Boolean = when (item.itemId) {
        MENU_SETTINGS -> { startActivity(Intent(this, SettingsActivity::class.java)); true }
        MENU_EXPORT -> { startActivity(Intent(this, ExportActivity::class.java)); true }
        else -> super.onOptionsItemSelected(item)
    }

    override fun onResume() {
        super.onResume()
        visible = true
        monitor.listen(listener)
        todayAt = -1L
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
        if (resultCode == RESULT_OK) {
            MonitorVpnService.start(this)
        } else {
            monitor.lastError = getString(R.string.error_no_consent)
            render()
        }
    }

    private fun render() {
        val phase = monitor.phase
        state.text = getString(
            when (phase) {
                MonitorPhase.STOPPED -> R.string.state_stopped
                MonitorPhase.STARTING -> R.string.state_starting
                MonitorPhase.RUNNING -> R.string.state_running
                MonitorPhase.STOPPING -> R.string.state_stopping
            },
        )
        (stateDot.background as android.graphics.drawable.GradientDrawable)
            .setColor(Ui.color(this, if (phase == MonitorPhase.RUNNING) R.color.running else R.color.stopped))
        toggle.text = getString(if (phase == MonitorPhase.STOPPED) R.string.start else R.string.stop)
        Ui.style(toggle, if (phase == MonitorPhase.STOPPED) Ui.ButtonKind.PRIMARY else Ui.ButtonKind.OUTLINED)
        toggle.isEnabled = phase != MonitorPhase.STOPPING
        warnings.removeAllViews()
        lastError.removeAllViews()
        monitor.lastError?.let { lastError.addView(Ui.warning(this, it)) }
        monitor.privateDns?.let { warnings.addView(Ui.warning(this, it)) }
        for (w in monitor.warnings) warnings.addView(Ui.warning(this, w))
        if (Build.VERSION.SDK_INT >= 33 && checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED) {
            warnings.addView(Ui.warning(this, getString(R.string.warning_notifications_off)))
        }
        if (phase == MonitorPhase.STOPPED && store.typedIdentifiers().count == 0) {
            warnings.addView(Ui.warning(this, getString(R.string.hint_add_identifiers)))
        }
        renderCounts()
    }

    private fun renderCounts() {
        val h = monitor.handle
        val running = monitor.phase == MonitorPhase.RUNNING && h != 0L
        live.visibility = if (running) android.view.View.VISIBLE else android.view.View.GONE
        if (!running) {
            stateDetail.text = if (monitor.phase == MonitorPhase.STOPPED) getString(R.string.counts_stopped) else ""
            liveExtra.visibility = android.view.View.GONE
            if (todayAt < 0) loadToday(0)
            return
        }
        val stats = try {
            Stats.fromJson(NativeCore.stats(h))
        } catch (e: RuntimeException) {
            stateDetail.text = e.message
            return
        }
        stateDetail.text = getString(R.string.counts_running, Format.duration(System.currentTimeMillis() - monitor.since))
        liveOpen.text = Format.count(stats.flowsOpen)
        liveTotal.text = Format.count(stats.flowsTotal)
        liveSent.text = getString(R.string.live_sent_value, Format.bytes(stats.bytesOut), Format.bytes(stats.bytesIn))
        liveFindings.text = Format.count(stats.findings)
        val extra = listOfNotNull(
            if (stats.dropped > 0) getString(R.string.counts_dropped, Format.bytes(stats.dropped)) else null,
            if (stats.protectFailures > 0) getString(R.string.counts_protect_failures, Format.count(stats.protectFailures)) else null,
            if (stats.findingsReceived > 0) getString(R.string.counts_received, Format.count(stats.findingsReceived)) else null,
        )
        liveExtra.text = extra.joinToString("\n")
        liveExtra.visibility = if (extra.isEmpty()) android.view.View.GONE else android.view.View.VISIBLE
        val seen = stats.findings + stats.findingsReceived
        if (seen != todayAt) loadToday(seen)
    }

    /** Today's records, from the store, on the worker. [at] is the live findings count it reflects. */
    private fun loadToday(at: Long) {
        todayAt = at
        val records = phoneHome.records
        val now = System.currentTimeMillis()
        val start = TodaySummary.startOfDay(now, java.util.TimeZone.getDefault().getOffset(now).toLong())
        phoneHome.worker.query({
            // Apart, so that many answers naming the user cannot push what was sent off the page.
            val sent = records.findings(RecordFilter(direction = Finding.SENT), 0, TODAY_PAGE)
            val received = records.findings(RecordFilter(direction = Finding.RECEIVED), 0, TODAY_RECEIVED_PAGE)
            TodaySummary.of(sent + received, start)
        }) { today, error ->
            if (isDestroyed) return@query
            if (today == null) {
                todayHeadline.text = getString(R.string.today_unknown)
                todayKinds.text = getString(R.string.query_failed, error ?: "")
                return@query
            }
            showToday(today, now)
        }
    }

    private fun showToday(t: TodaySummary, now: Long) {
        todayApps.text = Format.count(t.apps.size.toLong())
        todayServers.text = Format.count(t.servers.toLong())
        todayFindings.text = Format.count(t.findings.toLong())
        todayHeadline.text = when {
            t.kinds.isNotEmpty() -> resources.getQuantityString(R.plurals.today_sent, t.appsSendingIdentifiers, t.appsSendingIdentifiers)
            t.findings > 0 -> getString(R.string.today_only_encrypted)
            else -> getString(R.string.today_nothing)
        }
        todayKinds.text = if (t.kinds.isEmpty()) getString(R.string.today_nothing_why)
        else getString(R.string.today_kinds, t.kinds.joinToString(", ") { Kinds.name(it) })
        todayList.removeAllViews()
        for (a in t.apps.take(TODAY_APPS)) {
            todayList.addView(Ui.divider(this))
            val line = AppLine.of(a) + " · " + Format.ago(a.lastSeen, now)
            todayList.addView(
                Ui.entry(this, AppNames.label(this, a.app), line, AppNames.icon(this, a.app) ?: getDrawable(android.R.drawable.sym_def_app_icon)) {
                    startActivity(Intent(this, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, a.app))
                },
            )
        }
        if (t.apps.size > TODAY_APPS) todayList.addView(Ui.note(this, getString(R.string.today_more, t.apps.size - TODAY_APPS)))
        todayReceived.removeAllViews()
        if (t.received.isNotEmpty()) {
            todayReceived.addView(Ui.divider(this))
            val servers = t.received.map { it.host }.distinct().size
            todayReceived.addView(
                Ui.note(this, resources.getQuantityString(R.plurals.today_received, servers, servers)).apply {
                    setPadding(0, Ui.dp(this@StatusActivity, 8), 0, 0)
                },
            )
            for (r in t.received.take(TODAY_RECEIVED_SHOWN)) {
                todayReceived.addView(Ui.note(this, AppNames.label(this, r.app) + ": " + ReceivedLine.of(r)))
            }
        }
    }
}
