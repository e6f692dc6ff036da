package org.phonehome.app

import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.widget.Button
import java.io.File
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.model.MonitorPhase
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * Discovery through the app's own service and the real core (libphonehome_jni.so), run by
 * tests/e2e/test_app_discovery.py, which gives one TUN per session (phonehome.discovery.tunFds)
 * and has curl, as an app's uid, send the same OAID to two servers of two registrable
 * domains in each session once this test says it runs (files in phonehome.handshake).
 * Sessions 1 and 2 discover nothing; the core keeps its state in the app's files between
 * them, and in session 3 the OAID is discovered: its record reaches the app's store and
 * the screen. "Add to my identifiers" then makes session 4's findings of it exact.
 * Skipped when no TUN is given (mvn verify).
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
@Config(shadows = [HostVpnService::class, JvmVpnBuilder::class, PhoneConnectivity::class])
class LiveDiscoveryTest {
    private fun prop(name: String): String = System.getProperty("phonehome.$name") ?: error("phonehome.$name is not set")

    @Test
    fun `a token sent in three sessions is discovered into the store, shown, added, and then found exact`() {
        assumeTrue("needs TUNs from tests/e2e/test_app_discovery.py", System.getProperty("phonehome.discovery.tunFds") != null)
        val app = RuntimeEnvironment.getApplication()
        val fds = prop("discovery.tunFds").split(",").map { it.toInt() }
        val handshake = File(prop("handshake"))
        val oaid = prop("oaid")
        PhoneConnectivity.useDns(app.getSystemService(android.net.ConnectivityManager::class.java), listOf(prop("dns")))
        PhoneConnectivity.phonePid = prop("phonePid").toInt()
        val uid = prop("clientUid").toInt()
        shadowOf(app.packageManager).installPackage(
            PackageInfo().apply {
                packageName = CLIENT
                applicationInfo = ApplicationInfo().apply {
                    packageName = CLIENT
                    this.uid = uid
                    nonLocalizedLabel = "sdkdemo"
                }
            },
        )
        shadowOf(app.packageManager).setNameForUid(uid, CLIENT)
        val monitor = app.phoneHome.monitor
        val records = app.phoneHome.records

        // One monitoring session on TUN n: started as Android starts an always-on VPN,
        // stopped by the user once curl is done; the core's last records come before onStopped.
        fun session(n: Int): Long {
            VpnTunnel.testFd = fds[n - 1]
            val service = Robolectric.buildService(MonitorVpnService::class.java, null).create()
            service.get().onStartCommand(null, 0, 1)
            ScreenTool.waitFor(60, "session $n to run") { monitor.phase == MonitorPhase.RUNNING || monitor.lastError != null }
            assertEquals(monitor.lastError, MonitorPhase.RUNNING, monitor.phase)
            val handle = monitor.handle
            File(handshake, "started-$n").writeText("$handle\n")
            ScreenTool.waitFor(120, "curl to be done in session $n") { File(handshake, "sent-$n").exists() }
            service.get().onStartCommand(Intent(app, MonitorVpnService::class.java).setAction(MonitorVpnService.ACTION_STOP), 0, 2)
            ScreenTool.waitFor(60, "session $n to stop") { monitor.phase == MonitorPhase.STOPPED }
            assertEquals(null, monitor.lastError)
            service.destroy()
            // Every flow of the session is in the store once the core has stopped.
            ScreenTool.waitFor(30, "session $n's flows in the store") {
                records.flows(RecordFilter(session = handle), 0, 100).count { it.app == CLIENT && it.proto == "tcp" } >= 3
            }
            return handle
        }

        for (n in 1..2) {
            session(n)
            assertEquals("session $n", emptyList<Any>(), records.discovered())
        }
        // The state the core keeps between sessions: in the app's private files, owner-only.
        val state = File(app.filesDir, "discovery/discovery.json")
        assertTrue(state.path, state.isFile)
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.toPath())))

        val third = session(3)
        ScreenTool.waitFor(30, "the discovered record in the store") { records.discovered().isNotEmpty() }
        val found = records.discovered()
        assertEquals(listOf(oaid), found.map { it.value })
        val d = found.single()
        assertEquals(3L, d.sessions)
        assertEquals(listOf(CLIENT), d.apps)
        assertEquals(listOf("ads-one.test", "metrics-two.test"), d.domains)
        assertTrue(d.keys.toString(), d.keys.containsAll(listOf("oaid", "deviceid")))
        val discoveredFindings = records.findings(RecordFilter(session = third, kind = "device_id"), 0, 100)
        assertTrue(discoveredFindings.toString(), discoveredFindings.isNotEmpty() && discoveredFindings.all { it.confidence == "discovered" })

        // The screen, over the real store: masked, then added to the identifiers.
        val screen = Robolectric.buildActivity(DiscoveredActivity::class.java).setup().get()
        ScreenTool.settle(screen)
        val text = ScreenTool.screenText(screen)
        assertFalse(text, oaid in text)
        assertTrue(text, "From: sdkdemo" in text && "To: ads-one.test, metrics-two.test" in text)
        val problems = Renders.checkAll(listOf("discovered" to { Intent(app, DiscoveredActivity::class.java) }), write = { _, look ->
            (look.width == 360 && !look.night) || (look.width == 411 && look.night)
        })
        assertEquals(problems.joinToString("\n"), 0, problems.size)
        ScreenTool.all(screen.window.decorView).filterIsInstance<Button>()
            .first { it.text.toString() == screen.getString(R.string.discovered_add) }.performClick()
        ScreenTool.settle(screen)
        assertEquals(listOf(oaid), Store(app).typedIdentifiers().deviceId)
        // Saving the settings screen afterwards (it has no field for device ids) keeps it.
        val settings = Robolectric.buildActivity(SettingsActivity::class.java).setup().get()
        ScreenTool.all(settings.window.decorView).first { it.id == R.id.settings_save }.performClick()
        ScreenTool.settle(settings)
        assertEquals(listOf(oaid), Store(app).typedIdentifiers().deviceId)

        // The next session is given it as a device_id: its findings of it are exact.
        val fourth = session(4)
        ScreenTool.waitFor(30, "session 4's findings in the store") {
            records.findings(RecordFilter(session = fourth, kind = "device_id"), 0, 100).isNotEmpty()
        }
        val exact = records.findings(RecordFilter(session = fourth, kind = "device_id"), 0, 100)
        assertTrue(exact.toString(), exact.all { it.confidence == "exact" })
        assertTrue(ScreenTool.screenText(Robolectric.buildActivity(DiscoveredActivity::class.java).setup().get().also { ScreenTool.settle(it) }).let {
            screen.getString(R.string.discovered_added) in it
        })
        File(handshake, "done").writeText("ok\n")
    }

    companion object {
        const val CLIENT = "org.example.sdkdemo"
    }
}
