package org.phonehome.app

import android.Manifest
import android.app.Activity
import android.app.AlertDialog
import android.app.Application
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.content.pm.PackageManager
import android.net.VpnService
import android.os.Looper
import android.widget.EditText
import android.widget.ListView
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.model.Identifiers
import org.phonehome.model.MonitorPhase
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowAlertDialog
import org.robolectric.shadows.ShadowVpnService

/**
 * The screens and the start/stop paths under Robolectric (Android 16), without a core
 * session: what the user sees and which path each choice takes. The same screens over a
 * real session's records: LiveSessionTest, run by tests/e2e/test_app_screens.py.
 */
@RunWith(RobolectricTestRunner::class)
class ScreensTest {
    private val app: Application get() = RuntimeEnvironment.getApplication()

    private fun <T : Activity> open(cls: Class<T>, intent: Intent? = null): T {
        val a = Robolectric.buildActivity(cls, intent ?: Intent(app, cls)).setup().get()
        ScreenTool.settle(a)
        return a
    }

    @Test
    fun `the status screen says it is not monitoring and offers to start`() {
        val a = open(StatusActivity::class.java)
        assertEquals("Not monitoring", a.findViewById<android.widget.TextView>(R.id.monitor_state).text.toString())
        assertEquals("Start monitoring", a.findViewById<android.widget.Button>(R.id.monitor_toggle).text.toString())
        val text = ScreenTool.screenText(a)
        assertTrue(text, "Today" in text)
        // The records: an empty store reads "nothing sent"; without the core the screen says it could not read them.
        val headline = a.findViewById<android.widget.TextView>(R.id.today_headline).text.toString()
        assertTrue(headline, headline == "Nothing sent today" || headline == "Today's records could not be read")
        assertTrue(text, "Tip: add this phone's identifiers" in text)
    }

    @Test
    fun `VPN consent refused, nothing starts and the screen says what to do`() {
        shadowOf(app).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)
        ShadowVpnService.setPrepareResult(Intent("android.net.vpn.CONSENT"))
        val a = open(StatusActivity::class.java)
        a.findViewById<android.widget.Button>(R.id.monitor_toggle).performClick()
        val asked = shadowOf(a).nextStartedActivityForResult
        assertNotNull("the consent dialog was asked for", asked)
        assertEquals("android.net.vpn.CONSENT", asked.intent.action)
        shadowOf(a).receiveResult(asked.intent, Activity.RESULT_CANCELED, null)
        shadowOf(Looper.getMainLooper()).idle()
        assertNull("no service started", shadowOf(app).nextStartedService)
        assertEquals(MonitorPhase.STOPPED, a.phoneHome.monitor.phase)
        assertTrue(ScreenTool.screenText(a), a.getString(R.string.error_no_consent) in ScreenTool.screenText(a))
    }

    @Test
    fun `VPN consent given, the service is started with the start action`() {
        shadowOf(app).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)
        ShadowVpnService.setPrepareResult(Intent("android.net.vpn.CONSENT"))
        val a = open(StatusActivity::class.java)
        a.findViewById<android.widget.Button>(R.id.monitor_toggle).performClick()
        val asked = shadowOf(a).nextStartedActivityForResult
        ShadowVpnService.setPrepareResult(null)
        shadowOf(a).receiveResult(asked.intent, Activity.RESULT_OK, null)
        val started = shadowOf(app).nextStartedService
        assertEquals(MonitorVpnService.ACTION_START, started.action)
        assertEquals(MonitorVpnService::class.java.name, started.component!!.className)
    }

    @Test
    fun `notification permission refused, monitoring still starts and the screen says notifications are off`() {
        shadowOf(app).denyPermissions(Manifest.permission.POST_NOTIFICATIONS)
        ShadowVpnService.setPrepareResult(null)
        val a = open(StatusActivity::class.java)
        a.findViewById<android.widget.Button>(R.id.monitor_toggle).performClick()
        // First the explanation, then Android's own request.
        val dialog = ShadowAlertDialog.getLatestAlertDialog()
        assertNotNull("the permission is explained first", dialog)
        assertEquals(a.getString(R.string.perm_notifications_why), shadowOf(dialog).message.toString())
        dialog.getButton(AlertDialog.BUTTON_POSITIVE).performClick()
        shadowOf(Looper.getMainLooper()).idle()
        val request = shadowOf(a).lastRequestedPermission
        assertEquals(listOf(Manifest.permission.POST_NOTIFICATIONS), request.requestedPermissions.toList())
        a.onRequestPermissionsResult(request.requestCode, request.requestedPermissions, intArrayOf(PackageManager.PERMISSION_DENIED))
        shadowOf(Looper.getMainLooper()).idle()
        val started = shadowOf(app).nextStartedService
        assertNotNull("monitoring starts without notifications", started)
        assertEquals(MonitorVpnService.ACTION_START, started.action)
        val again = open(StatusActivity::class.java)
        assertTrue(a.getString(R.string.warning_notifications_off) in ScreenTool.screenText(again))
    }

    @Test
    fun `the always-on start intent and a restart after process death start the monitor and ask to be restarted`() {
        for (intent in listOf(null, Intent(VpnService.SERVICE_INTERFACE))) {
            val controller = Robolectric.buildService(MonitorVpnService::class.java, intent).create()
            val service = controller.get()
            val result = service.onStartCommand(intent, 0, 1)
            assertEquals("restart after process death", android.app.Service.START_STICKY, result)
            ScreenTool.waitFor(30, "the start to run its course") {
                service.phoneHome.monitor.phase == MonitorPhase.STOPPED && service.phoneHome.monitor.lastError != null
            }
            // Here there is no TUN to be had (Robolectric's Builder gives none, or the core's
            // library is not loaded): the start went as far as that and says why.
            val error = service.phoneHome.monitor.lastError!!
            val expected = listOf(
                service.getString(R.string.error_no_consent),
                service.getString(R.string.error_core_missing, service.phoneHome.worker.loadError ?: ""),
            )
            assertTrue(error, error in expected)
            // The foreground promise of startForegroundService was kept (then the notice removed).
            assertTrue("it went to the foreground", shadowOf(service).isForegroundStopped)
            assertTrue("the service stopped itself", shadowOf(service).isStoppedBySelf)
            service.phoneHome.monitor.lastError = null
            controller.destroy()
        }
    }

    @Test
    fun `the stop action is not restarted after process death`() {
        val intent = Intent(app, MonitorVpnService::class.java).setAction(MonitorVpnService.ACTION_STOP)
        val service = Robolectric.buildService(MonitorVpnService::class.java, intent).create().get()
        assertEquals(android.app.Service.START_NOT_STICKY, service.onStartCommand(intent, 0, 1))
        shadowOf(Looper.getMainLooper()).idle()
        assertEquals(MonitorPhase.STOPPED, service.phoneHome.monitor.phase)
    }

    @Test
    fun `typed identifiers are masked until their field is tapped`() {
        Store(app).saveTypedIdentifiers(Identifiers(imei = listOf("861234567890128")))
        val a = open(SettingsActivity::class.java)
        val imei = ScreenTool.all(a.window.decorView).filterIsInstance<EditText>().first { it.text.toString() == "861234567890128" }
        ScreenTool.relayout(a)
        val shown = imei.layout.text.toString()
        assertFalse("the IMEI is not shown in clear: $shown", "861234567890128" in shown)
        assertEquals("86*********0128", shown)
        imei.requestFocus()
        ScreenTool.relayout(a)
        assertEquals("861234567890128", imei.layout.text.toString())
    }

    @Test
    fun `values read from the phone are masked until tapped`() {
        shadowOf(app).grantPermissions(Manifest.permission.READ_PHONE_STATE, Manifest.permission.READ_PHONE_NUMBERS)
        val tm = app.getSystemService(android.telephony.TelephonyManager::class.java)
        shadowOf(tm).setLine1Number("+8613800138000")
        shadowOf(tm).setSimCountryIso("cn")
        val a = open(SettingsActivity::class.java)
        ScreenTool.all(a.window.decorView).filterIsInstance<android.widget.Button>()
            .first { it.text.toString() == a.getString(R.string.show_read) }.performClick()
        ScreenTool.settle(a)
        val before = ScreenTool.screenText(a)
        assertFalse(before, "+8613800138000" in before)
        val row = ScreenTool.all(a.window.decorView).first { it.contentDescription == a.getString(R.string.tap_to_reveal, a.getString(R.string.field_phone)) }
        row.performClick()
        assertTrue(ScreenTool.screenText(a), "+8613800138000" in ScreenTool.screenText(a))
        row.performClick()
        assertFalse("hidden again", "+8613800138000" in ScreenTool.screenText(a))
    }

    @Test
    fun `excluded apps lists the installed apps and keeps the ones checked`() {
        for ((pkg, label) in listOf("com.example.bank" to "Bank", "com.example.game" to "Game")) {
            val info = PackageInfo().apply {
                packageName = pkg
                applicationInfo = ApplicationInfo().apply {
                    packageName = pkg
                    nonLocalizedLabel = label
                }
            }
            shadowOf(app.packageManager).installPackage(info)
        }
        val controller = Robolectric.buildActivity(ExcludedAppsActivity::class.java).setup()
        val a = controller.get()
        ScreenTool.settle(a)
        val list = ScreenTool.all(a.window.decorView).filterIsInstance<ListView>().single()
        val rows = (0 until list.adapter.count).map { list.adapter.getItem(it).toString() }
        assertTrue(rows.toString(), "Bank\ncom.example.bank" in rows && "Game\ncom.example.game" in rows)
        list.setItemChecked(rows.indexOf("Bank\ncom.example.bank"), true)
        controller.pause()
        assertEquals(setOf("com.example.bank"), Store(app).settings().excludedApps)
        // The settings screen counts them.
        val settings = open(SettingsActivity::class.java)
        assertTrue(ScreenTool.screenText(settings), "1 app bypasses the monitor" in ScreenTool.screenText(settings))
    }

    @Test
    fun `the export screen offers the three files and says when one cannot be written`() {
        val a = open(ExportActivity::class.java)
        val text = ScreenTool.screenText(a)
        for (s in listOf(R.string.export_findings_why, R.string.export_flows_why, R.string.export_pcapng_why)) assertTrue(text, a.getString(s) in text)
        val shares = ScreenTool.all(a.window.decorView).filterIsInstance<android.widget.Button>()
        assertEquals(listOf("Share Findings", "Share Connections", "Share Capture"), shares.map { it.text.toString() })
    }

    @Test
    fun `the status screen opens the other screens`() {
        val a = open(StatusActivity::class.java)
        for ((label, cls) in listOf(
            R.string.open_findings to FindingsActivity::class.java,
            R.string.open_apps to AppsActivity::class.java,
            R.string.open_settings to SettingsActivity::class.java,
            R.string.open_export to ExportActivity::class.java,
        )) {
            val entry = ScreenTool.texts(a).first { it.text.toString() == a.getString(label) }
            (entry.parent.parent as android.view.View).performClick()
            assertEquals(cls.name, shadowOf(a).nextStartedActivity.component!!.className)
        }
    }
}
