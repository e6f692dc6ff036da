package org.phonehome.app

import android.Manifest
import android.app.NotificationManager
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.widget.EditText
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.MonitorPhase
import org.phonehome.model.Stats
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * The app over a real core session that relays real traffic: run by
 * tests/e2e/test_app_screens.py, which makes the phone a network namespace behind a real
 * TUN device, hands its fd in (phonehome.tunFd), and runs curl in that namespace when this
 * test says the monitor runs (files in phonehome.handshake). The service, the core
 * (libphonehome_jni.so on java.library.path), the records and every screen are the app's
 * own; Robolectric plays Android 16. Skipped when no TUN is given (mvn verify).
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
@Config(shadows = [HostVpnService::class, JvmVpnBuilder::class, PhoneConnectivity::class])
class LiveSessionTest {
    private fun prop(name: String): String = System.getProperty("phonehome.$name") ?: error("phonehome.$name is not set")

    @Test
    fun `a real session, from the always-on start to every screen, the notification, the stop and a restart`() {
        assumeTrue("needs a TUN from tests/e2e/test_app_screens.py", System.getProperty("phonehome.tunFd") != null)
        val app = RuntimeEnvironment.getApplication()
        val handshake = File(prop("handshake"))
        val imei = prop("imei")
        val phone = prop("phone")
        val host = prop("host")
        PhoneConnectivity.useDns(app.getSystemService(android.net.ConnectivityManager::class.java), listOf(prop("dns")))
        PhoneConnectivity.phonePid = prop("phonePid").toInt()

        // The phone: curl's uid is an installed app's, and notifications are allowed.
        val uid = prop("clientUid").toInt()
        shadowOf(app.packageManager).installPackage(
            PackageInfo().apply {
                packageName = CLIENT
                applicationInfo = ApplicationInfo().apply {
                    packageName = CLIENT
                    this.uid = uid
                    nonLocalizedLabel = "curl"
                }
            },
        )
        shadowOf(app.packageManager).setNameForUid(uid, CLIENT)
        shadowOf(app).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)

        // The identifiers, typed into the settings screen and checked by the core on Save.
        val settings = Robolectric.buildActivity(SettingsActivity::class.java).setup().get()
        val fields = ScreenTool.all(settings.window.decorView).filterIsInstance<EditText>()
        fields.first { it.hint?.toString() == settings.getString(R.string.hint_imei) }.setText(imei)
        fields.first { it.hint?.toString() == settings.getString(R.string.hint_phone) }.setText(phone)
        ScreenTool.all(settings.window.decorView).first { it.id == R.id.settings_save }.performClick()
        ScreenTool.settle(settings)
        assertEquals(ScreenTool.screenText(settings).replace(imei, "IMEI").replace(phone, "PHONE"), listOf(imei), Store(app).typedIdentifiers().imei)

        // Started as Android starts an always-on VPN: a null intent.
        VpnTunnel.testFd = prop("tunFd").toInt()
        val first = Robolectric.buildService(MonitorVpnService::class.java, null).create()
        assertEquals(android.app.Service.START_STICKY, first.get().onStartCommand(null, 0, 1))
        val monitor = app.phoneHome.monitor
        ScreenTool.waitFor(60, "the monitor to run") { monitor.phase == MonitorPhase.RUNNING || monitor.lastError != null }
        assertEquals(monitor.lastError, MonitorPhase.RUNNING, monitor.phase)
        File(handshake, "started").writeText("${monitor.handle}\n")
        ScreenTool.waitFor(120, "curl to be done (the 'sent' file)") { File(handshake, "sent").exists() }
        ScreenTool.waitFor(30, "two findings sent, one received") {
            Stats.fromJson(NativeCore.stats(monitor.handle)).let { it.findings >= 2 && it.findingsReceived >= 1 }
        }
        val stats = Stats.fromJson(NativeCore.stats(monitor.handle))
        val recordsDir = Store(app).recordsDir.absolutePath
        val records = app.phoneHome.records
        // The core hands its records over in batches: the screens read them from the app's store.
        ScreenTool.waitFor(30, "the findings in the app's store") { records.findings(RecordFilter(), 0, 10).size >= 2 }

        // The status screen: running, live counts, what was sent today, by whom.
        val status = Robolectric.buildActivity(StatusActivity::class.java).setup().get()
        ScreenTool.settle(status)
        val statusText = ScreenTool.screenText(status)
        assertEquals("Monitoring", status.findViewById<android.widget.TextView>(R.id.monitor_state).text.toString())
        assertEquals("Stop monitoring", status.findViewById<android.widget.Button>(R.id.monitor_toggle).text.toString())
        assertTrue(statusText, "${stats.flowsTotal}\nconnections" in statusText)
        assertTrue(statusText, "${stats.findings}\nfindings" in statusText)
        assertEquals("1 app sent identifiers", status.findViewById<android.widget.TextView>(R.id.today_headline).text.toString())
        assertTrue(statusText, "What left the phone: IMEI, phone number" in statusText)
        assertTrue(statusText, "curl\nIMEI, phone number → Xiaomi" in statusText)
        // The server's answers named the phone number: apart, below, not counted as sent.
        assertTrue(statusText, "Not leaks: 1 server sent back identifiers it already knew\ncurl: phone number ← Xiaomi" in statusText)

        // The first-leak notification.
        val posted = shadowOf(app.getSystemService(NotificationManager::class.java)).allNotifications
        val titles = posted.map { it.extras.getCharSequence(android.app.Notification.EXTRA_TITLE).toString() }
        assertTrue(titles.toString(), titles.any { it == "curl sent the IMEI to Xiaomi" || it == "curl sent the phone number to Xiaomi" })

        // Findings: company, then server, then identifier kinds with the app that sent them.
        val findings = Robolectric.buildActivity(FindingsActivity::class.java).setup().get()
        ScreenTool.settle(findings)
        val grouped = ScreenTool.screenText(findings)
        val order = listOf("\nXiaomi\n", "Received your IMEI, phone number from 1 app", host, "IMEI ·", "From curl", "phone number ·").map { grouped.indexOf(it) }
        assertTrue("$order\n$grouped", order.all { it >= 0 } && order == order.sorted())
        assertTrue(grouped, imei !in grouped && phone !in grouped)
        val received = grouped.substringAfter(findings.getString(R.string.findings_received_title), "")
        assertTrue(grouped, "curl ← $host" in received && "phone number ·" in received && "IMEI" !in received)

        // The per-app view, and from it a connection.
        val perApp = Robolectric.buildActivity(FindingsActivity::class.java, Intent(app, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, CLIENT)).setup().get()
        ScreenTool.settle(perApp)
        val perAppText = ScreenTool.screenText(perApp)
        assertEquals(perApp.getString(R.string.app_title), perApp.findViewById<android.widget.TextView>(R.id.screen_title).text.toString())
        assertTrue(perAppText, "IMEI, phone number → Xiaomi" in perAppText && host in perAppText)
        val kindRow = ScreenTool.texts(perApp).first { it.text.startsWith("IMEI ·") }.parent as android.view.View
        kindRow.performClick()
        val flowIntent = shadowOf(perApp).nextStartedActivity
        assertEquals(FlowActivity::class.java.name, flowIntent.component!!.className)
        val flowScreen = Robolectric.buildActivity(FlowActivity::class.java, flowIntent).setup().get()
        ScreenTool.settle(flowScreen)
        val flowText = ScreenTool.screenText(flowScreen)
        assertTrue(flowText, host in flowText && "curl" in flowText && "IMEI" in flowText)
        assertTrue(flowText, "Received from the server (not leaks): 1\n" in flowText)

        // Apps.
        val apps = Robolectric.buildActivity(AppsActivity::class.java).setup().get()
        ScreenTool.settle(apps)
        assertTrue(ScreenTool.screenText(apps), "curl" in ScreenTool.screenText(apps))

        // Export: the findings file holds every finding of the store.
        val exported = Exporter.write(app, recordsDir, Exporter.Format.FINDINGS)
        val stored = records.findings(RecordFilter(), 0, 1000)
        assertEquals(stored.size, exported.readLines().count { it.isNotBlank() })

        // Every screen over these records: bars, fit, contrast; PNGs when asked for.
        val newest = stored.first()
        val problems = Renders.checkAll(Renders.screens(CLIENT, newest.flow, newest.session), write = ::worthCommitting)
        assertEquals(problems.joinToString("\n"), 0, problems.size)
        // What servers sent back sits below what was sent: those two screens once more, at their end.
        for ((name, intent) in Renders.screens(CLIENT, newest.flow, newest.session).filter { it.first == "findings" || it.first == "flow" }) {
            Renders.writeScrolledToEnd(name, intent(), Renders.looks.first())
        }

        // Stop: the core writes its records and the service leaves.
        first.get().onStartCommand(Intent(app, MonitorVpnService::class.java).setAction(MonitorVpnService.ACTION_STOP), 0, 2)
        ScreenTool.waitFor(60, "the monitor to stop") { monitor.phase == MonitorPhase.STOPPED }
        assertEquals(null, monitor.lastError)
        val flows = records.flows(RecordFilter(), 0, 100)
        assertTrue(flows.toString(), flows.any { it.host == host && it.app == CLIENT })
        // The core's registrable domain of the host reached the store's own column, in both tables.
        for (table in listOf("flows", "findings")) {
            val domains = records.readableDatabase.rawQuery("SELECT DISTINCT domain FROM $table WHERE host = ?", arrayOf(host)).use { c ->
                generateSequence { if (c.moveToNext()) c.getString(0) else null }.toList()
            }
            assertEquals(table, listOf("xiaomi.com"), domains)
        }
        first.destroy()

        // Process death: Android restarts the sticky service with a null intent; it starts a
        // new session (on a second TUN), and when it is killed again the core still stops.
        VpnTunnel.testFd = prop("tunFd2").toInt()
        val again = Robolectric.buildService(MonitorVpnService::class.java, null).create()
        assertEquals(android.app.Service.START_STICKY, again.get().onStartCommand(null, 0, 1))
        ScreenTool.waitFor(60, "the restarted monitor to run") { monitor.phase == MonitorPhase.RUNNING || monitor.lastError != null }
        assertEquals(monitor.lastError, MonitorPhase.RUNNING, monitor.phase)
        val second = monitor.handle
        again.destroy()
        assertEquals(MonitorPhase.STOPPED, monitor.phase)
        ScreenTool.waitFor(30, "the killed session's core to stop") {
            runCatching { NativeCore.stats(second) }.isFailure
        }
        File(handshake, "done").writeText("ok\n")
    }

    /** The committed set: every screen at 360 dp light and 411 dp dark; the dashboard in all four. */
    private fun worthCommitting(screen: String, look: Renders.Look): Boolean =
        screen == "status" || (look.width == 360 && !look.night) || (look.width == 411 && look.night)

    companion object {
        const val CLIENT = "org.example.curl"
    }
}
