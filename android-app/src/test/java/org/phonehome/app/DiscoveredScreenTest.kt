package org.phonehome.app

import android.content.Intent
import android.widget.Button
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.model.CoreConfig
import org.phonehome.model.Identifiers
import org.phonehome.model.Json
import org.phonehome.model.Settings
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.GraphicsMode

/**
 * The "Discovered identifiers" screen over the app's store, fed discovered records as the
 * core sends them: each value masked with its key names, apps, destinations and times;
 * "Add to my identifiers" puts it in the identifiers the core is given (so its later
 * findings are exact), "Ignore" stops listing it. Reached from the status and findings screens.
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class DiscoveredScreenTest {
    private val app get() = RuntimeEnvironment.getApplication()

    companion object {
        const val OAID = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"
        const val INSTALL = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    }

    @Before
    fun records() {
        app.phoneHome.records.insertBatch(
            3, "", "",
            RecordStoreTest.jsonl(
                RecordStoreTest.discoveredLine(OAID, 3, 10),
                RecordStoreTest.discoveredLine(INSTALL, 4, 5, apps = "\"org.example.game\""),
            ),
        )
    }

    @After
    fun forget() {
        app.phoneHome.records.writableDatabase.execSQL("DELETE FROM discovered")
    }

    private fun open(): DiscoveredActivity {
        val a = Robolectric.buildActivity(DiscoveredActivity::class.java).setup().get()
        ScreenTool.settle(a)
        return a
    }

    private fun buttons(a: DiscoveredActivity, label: Int) =
        ScreenTool.all(a.window.decorView).filterIsInstance<Button>().filter { it.text.toString() == a.getString(label) }

    @Test
    fun `each discovered value is listed masked with its keys, apps, destinations and times`() {
        val a = open()
        assertEquals(a.getString(R.string.discovered_title), a.findViewById<android.widget.TextView>(R.id.screen_title).text.toString())
        val text = ScreenTool.screenText(a)
        assertFalse(text, OAID in text || INSTALL in text)
        assertTrue(text, "5f**********2e84" in text)
        assertTrue(text, "Sent as: oaid, deviceid" in text)
        assertTrue(text, "From: com.a" in text && "From: org.example.game" in text)
        assertTrue(text, "To: ads-one.test, metrics-two.test" in text)
        assertTrue(text, "First seen 2026-12-01" in text && "last seen 2026-12-02" in text)
        assertTrue(text, "In 7 connections, 3 monitoring sessions" in text)
        // The most recently seen first.
        assertTrue(text, text.indexOf("From: com.a") < text.indexOf("From: org.example.game"))
        assertEquals(2, buttons(a, R.string.discovered_add).size)
        assertEquals(2, buttons(a, R.string.discovered_ignore).size)
    }

    @Test
    fun `add to my identifiers gives the value to the core as a device id and says so`() {
        val a = open()
        buttons(a, R.string.discovered_add).first().performClick()
        ScreenTool.settle(a)
        val typed = Store(app).typedIdentifiers()
        assertEquals(listOf(OAID), typed.deviceId)
        // What the core is started with: the typed identifiers, device_id among them.
        val config = Json.parse(CoreConfig.json("/r", typed, Settings(), emptyList(), 34)) as Json.Obj
        assertEquals(listOf(OAID), (config["identifiers"] as Json.Obj).strings("device_id"))
        val text = ScreenTool.screenText(a)
        assertTrue(text, a.getString(R.string.discovered_added) in text)
        assertEquals(1, buttons(a, R.string.discovered_add).size)
        // Twice is once.
        Store(app).addDeviceId(OAID.uppercase())
        assertEquals(listOf(OAID), Store(app).typedIdentifiers().deviceId)
    }

    @Test
    fun `ignore stops listing the value and counts it`() {
        val a = open()
        buttons(a, R.string.discovered_ignore).first().performClick()
        ScreenTool.settle(a)
        val text = ScreenTool.screenText(a)
        assertFalse(text, "From: com.a\n" in text)
        assertTrue(text, "From: org.example.game" in text)
        assertTrue(text, "1 ignored" in text)
        assertEquals(setOf(OAID), Store(app).ignoredDiscovered())
        assertEquals(Identifiers(), Store(app).typedIdentifiers())
        // Still ignored when the core sends newer sums of it.
        app.phoneHome.records.insertBatch(4, "", "", RecordStoreTest.jsonl(RecordStoreTest.discoveredLine(OAID, 5, 30)))
        val again = ScreenTool.screenText(open())
        assertFalse(again, "From: com.a\n" in again)
    }

    @Test
    fun `nothing discovered yet says what it takes`() {
        forget()
        val text = ScreenTool.screenText(open())
        assertTrue(text, app.getString(R.string.discovered_none) in text)
    }

    @Test
    fun `the status and findings screens lead to it`() {
        for (cls in listOf(StatusActivity::class.java, FindingsActivity::class.java)) {
            val a = Robolectric.buildActivity(cls, Intent(app, cls)).setup().get()
            ScreenTool.settle(a)
            val entry = ScreenTool.texts(a).first { it.text.toString() == a.getString(R.string.open_discovered) }
            var v: android.view.View = entry
            while (!v.isClickable) v = v.parent as android.view.View
            v.performClick()
            assertEquals(cls.simpleName, DiscoveredActivity::class.java.name, shadowOf(a).nextStartedActivity.component!!.className)
        }
    }
}
