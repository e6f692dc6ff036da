package org.phonehome.app

import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.net.Uri
import android.widget.ListView
import android.widget.Switch
import android.widget.TextView
import java.io.ByteArrayInputStream
import java.io.File
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.model.Format
import org.phonehome.model.InterceptionTest
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.GraphicsMode

/**
 * "See inside HTTPS" on the screens (issue 13, the app's side): off by default, the apps
 * chosen, the CA certificate exported through the share sheet, and the flow detail's mark
 * of what interception did. The core's CA is stood in for by a fixed certificate here (no
 * native core under Robolectric); tests/e2e/test_jni_intercept.py drives the real one.
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class InterceptScreensTest {
    private val app get() = RuntimeEnvironment.getApplication()

    private fun <T : android.app.Activity> open(cls: Class<T>, intent: Intent? = null): T {
        val a = Robolectric.buildActivity(cls, intent ?: Intent(app, cls)).setup().get()
        ScreenTool.settle(a)
        return a
    }

    @After
    fun forget() {
        app.phoneHome.records.writableDatabase.execSQL("DELETE FROM flows")
        app.phoneHome.records.writableDatabase.execSQL("DELETE FROM findings")
        CaExport.certificate = { context, caDir ->
            context.phoneHome.worker.requireCore()
            org.phonehome.core.NativeCore.caCertificate(caDir)
        }
    }

    @Test
    fun `see inside HTTPS is off by default, explained, and turned on from the settings`() {
        val settings = open(SettingsActivity::class.java)
        val entry = settings.findViewById<android.view.View>(R.id.settings_intercept)
        assertTrue(ScreenTool.screenText(settings), "See inside HTTPS\nOff" in ScreenTool.screenText(settings))
        entry.performClick()
        val next = shadowOf(settings).nextStartedActivity
        assertEquals(InterceptActivity::class.java.name, next.component?.className)

        val screen = open(InterceptActivity::class.java, next)
        val switch = screen.findViewById<Switch>(R.id.intercept_switch)
        assertFalse("off by default", switch.isChecked)
        val text = ScreenTool.screenText(screen)
        assertTrue(text, screen.getString(R.string.intercept_explained) in text)
        assertTrue(text, "Apps to see inside\nOff" in text)
        switch.performClick()
        assertTrue(Store(app).settings().seeInsideHttps)
        assertTrue(ScreenTool.screenText(screen), "On, but no app is chosen" in ScreenTool.screenText(screen))
    }

    @Test
    fun `the apps chosen are kept and counted`() {
        for ((pkg, label) in listOf("com.example.shop" to "Shop", "com.example.bank" to "Bank")) {
            shadowOf(app.packageManager).installPackage(
                PackageInfo().apply {
                    packageName = pkg
                    applicationInfo = ApplicationInfo().apply {
                        packageName = pkg
                        nonLocalizedLabel = label
                    }
                },
            )
        }
        Store(app).saveSettings(Store(app).settings().copy(seeInsideHttps = true))
        val controller = Robolectric.buildActivity(InterceptedAppsActivity::class.java).setup()
        ScreenTool.settle(controller.get())
        val list = ScreenTool.all(controller.get().window.decorView).filterIsInstance<ListView>().single()
        val rows = (0 until list.adapter.count).map { list.adapter.getItem(it).toString() }
        list.setItemChecked(rows.indexOf("Shop\ncom.example.shop"), true)
        controller.pause()
        assertEquals(setOf("com.example.shop"), Store(app).settings().interceptedApps)
        assertEquals(emptySet<String>(), Store(app).settings().excludedApps)
        val screen = open(InterceptActivity::class.java)
        assertTrue(ScreenTool.screenText(screen), "On for 1 app" in ScreenTool.screenText(screen))
    }

    @Test
    fun `the CA certificate is exported through the share sheet as DER and as PEM, never the key`() {
        var askedFor: String? = null
        CaExport.certificate = { _, caDir ->
            askedFor = caDir
            InterceptionTest.TEST_CA_PEM
        }
        val screen = open(InterceptActivity::class.java)
        screen.findViewById<android.view.View>(R.id.intercept_export_der).performClick()
        ScreenTool.waitFor(10, "the DER export") { shadowOf(screen).peekNextStartedActivity() != null }
        assertEquals(File(app.filesDir, "ca").absolutePath, askedFor)
        val share = shadowOf(screen).nextStartedActivity
        assertEquals(Intent.ACTION_CHOOSER, share.action)
        @Suppress("DEPRECATION")
        val send = share.getParcelableExtra<Intent>(Intent.EXTRA_INTENT)!!
        assertEquals("application/x-x509-ca-cert", send.type)
        @Suppress("DEPRECATION")
        val uri = send.getParcelableExtra<Uri>(Intent.EXTRA_STREAM)!!
        assertEquals("phonehome-ca.crt", uri.lastPathSegment)
        val der = File(ExportProvider.dir(app), "phonehome-ca.crt").readBytes()
        val cert = CertificateFactory.getInstance("X.509").generateCertificate(ByteArrayInputStream(der)) as X509Certificate
        assertEquals("CN=PhoneHome test CA", cert.subjectX500Principal.name)
        assertTrue(screen.findViewById<TextView>(R.id.intercept_status).text.toString().startsWith("Ready: phonehome-ca.crt"))

        screen.findViewById<android.view.View>(R.id.intercept_export_pem).performClick()
        ScreenTool.waitFor(10, "the PEM export") { shadowOf(screen).peekNextStartedActivity() != null }
        val pem = File(ExportProvider.dir(app), "phonehome-ca.pem").readText()
        assertEquals(InterceptionTest.TEST_CA_PEM, pem)
        assertFalse(pem.contains("PRIVATE KEY"))
        // One export at a time in the folder the provider serves.
        assertEquals(listOf("phonehome-ca.pem"), ExportProvider.dir(app).list()!!.toList())
    }

    @Test
    fun `a CA the core cannot give says why instead of sharing`() {
        CaExport.certificate = { _, _ -> throw IllegalStateException("the CA key must be readable by its owner only") }
        val screen = open(InterceptActivity::class.java)
        screen.findViewById<android.view.View>(R.id.intercept_export_der).performClick()
        ScreenTool.waitFor(10, "the failure") { "failed" in screen.findViewById<TextView>(R.id.intercept_status).text.toString() }
        assertTrue(screen.findViewById<TextView>(R.id.intercept_status).text.toString().endsWith("readable by its owner only"))
        assertEquals(null, shadowOf(screen).peekNextStartedActivity())
    }

    @Test
    fun `the flow detail marks intercepted, pinned, passthrough and upstream-rejected flows`() {
        val t = Format.rfc3339(System.currentTimeMillis())
        fun flow(id: Long, tls: String?) =
            """{"flow":$id,"proto":"tcp","src":"10.111.0.2:4000$id","dst":"192.0.2.1:443","bytes_out":500,"bytes_in":900,""" +
                """"start":"$t","end":"$t","close":"closed","app":"com.example.shop","host":"api.shop.example",""" +
                """"host_source":"sni","company":null,"category":null,"service":null${tls?.let { ",\"tls\":\"$it\"" } ?: ""}}"""
        app.phoneHome.records.insertBatch(
            7,
            RecordStoreTest.jsonl(flow(1, "intercepted"), flow(2, "pinned"), flow(3, "passthrough"), flow(4, "upstream-rejected"), flow(5, null)),
            "",
        )
        val expected = mapOf(
            1L to R.string.tls_intercepted, 2L to R.string.tls_pinned, 3L to R.string.tls_passthrough, 4L to R.string.tls_upstream_rejected,
        )
        for ((id, mark) in expected) {
            val screen = open(FlowActivity::class.java, Intent(app, FlowActivity::class.java).putExtra(FlowActivity.EXTRA_FLOW, id).putExtra(FlowActivity.EXTRA_SESSION, 7L))
            ScreenTool.waitFor(10, "flow $id") { screen.findViewById<android.view.View>(R.id.flow_tls) != null }
            val text = ScreenTool.screenText(screen)
            assertTrue(text, "HTTPS\n${screen.getString(mark)}" in text)
        }
        val plain = open(FlowActivity::class.java, Intent(app, FlowActivity::class.java).putExtra(FlowActivity.EXTRA_FLOW, 5L).putExtra(FlowActivity.EXTRA_SESSION, 7L))
        ScreenTool.waitFor(10, "flow 5") { "api.shop.example" in ScreenTool.screenText(plain) }
        assertEquals(null, plain.findViewById<android.view.View>(R.id.flow_tls))
    }

    /** The screens as android-app/screenshots writes them (when phonehome.screenshots is set). */
    @Test
    fun `the interception screen and an intercepted flow pass the layout checks`() {
        val t = Format.rfc3339(System.currentTimeMillis())
        app.phoneHome.records.insertBatch(
            7,
            RecordStoreTest.jsonl(
                """{"flow":1,"proto":"tcp","src":"10.111.0.2:40001","dst":"192.0.2.1:443","bytes_out":500,"bytes_in":900,""" +
                    """"start":"$t","end":"$t","close":"closed","app":"com.example.shop","host":"api.shop.example",""" +
                    """"host_source":"sni","company":null,"category":null,"service":null,"tls":"intercepted"}""",
            ),
            RecordStoreTest.jsonl(
                """{"ts":"$t","flow":1,"app":"com.example.shop","proto":"tcp","src":"10.111.0.2:40001","dst":"192.0.2.1:443",""" +
                    """"host":"api.shop.example","host_source":"sni","company":null,"category":null,"service":null,"kind":"imei",""" +
                    """"encoding":"plain","digest_form":null,"truncated":false,"where":"body","direction":"out","confidence":"exact",""" +
                    """"evidence":"imei=86*********0127","tls":"intercepted"}""",
            ),
        )
        Store(app).saveSettings(Store(app).settings().copy(seeInsideHttps = true, interceptedApps = setOf("com.example.shop")))
        val screens = listOf(
            "intercept" to { Intent(app, InterceptActivity::class.java) },
            "flow-intercepted" to {
                Intent(app, FlowActivity::class.java).putExtra(FlowActivity.EXTRA_FLOW, 1L).putExtra(FlowActivity.EXTRA_SESSION, 7L)
            },
        )
        val problems = Renders.checkAll(screens, write = { _, look -> (look.width == 360 && !look.night) || (look.width == 411 && look.night) })
        assertEquals(problems.joinToString("\n"), 0, problems.size)
        assertNotNull(problems)
    }
}
