package org.phonehome.app

import android.app.Activity
import android.content.Intent
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.model.Format
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.GraphicsMode

/**
 * Issue 12, section 3, on the screens: what a server sends back is not a leak. One app
 * sent its Android ID to a mail server whose answer held the user's e-mail and IMEI;
 * another app only received the e-mail. The screens list what was sent and show what came
 * back apart and quieter; the counts of leaks never include it.
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class InboundFindingsTest {
    private val app get() = RuntimeEnvironment.getApplication()

    companion object {
        const val MAIL = "org.example.mail"
        const val NEWS = "org.example.news"
        const val HOST = "mail.example.com"

        fun finding(flow: Long, app: String, kind: String, ts: Long, direction: String, where: String) =
            """{"ts":"${Format.rfc3339(ts)}","flow":$flow,"app":"$app","proto":"tcp","src":"10.111.0.2:40000",""" +
                """"dst":"10.201.0.2:80","host":"$HOST","host_source":"http","company":null,"category":null,"service":null,""" +
                """"kind":"$kind","encoding":"plain","digest_form":null,"truncated":false,"where":"$where",""" +
                """"direction":"$direction","confidence":"exact","evidence":"$kind=**********"}"""
    }

    @Before
    fun records() {
        val now = System.currentTimeMillis()
        app.phoneHome.records.insertBatch(
            1,
            "",
            RecordStoreTest.jsonl(
                finding(1, MAIL, "android_id", now - 60_000, "out", "url"),
                finding(1, MAIL, "email", now - 59_000, "in", "payload"),
                finding(1, MAIL, "imei", now - 59_000, "in", "payload"),
                finding(2, NEWS, "email", now - 30_000, "in", "payload"),
            ),
        )
    }

    @After
    fun forget() {
        app.phoneHome.records.writableDatabase.execSQL("DELETE FROM findings")
    }

    private fun <T : Activity> open(cls: Class<T>, intent: Intent = Intent(app, cls)): T {
        val a = Robolectric.buildActivity(cls, intent).setup().get()
        ScreenTool.settle(a)
        return a
    }

    /** The text before and after [heading]; fails if the heading is not on screen. */
    private fun split(text: String, heading: String): Pair<String, String> {
        val at = text.indexOf(heading)
        assertTrue("no \"$heading\" in\n$text", at >= 0)
        return text.substring(0, at) to text.substring(at)
    }

    @Test
    fun `the dashboard counts what was sent today and names what servers sent back apart`() {
        val a = open(StatusActivity::class.java)
        val text = ScreenTool.screenText(a)
        assertEquals("1 app sent identifiers", a.findViewById<android.widget.TextView>(R.id.today_headline).text.toString())
        val (sent, received) = split(text, "Not leaks: 1 server sent back identifiers it already knew")
        assertTrue(sent, "What left the phone: Android ID\n" in sent)
        assertTrue(sent, "1\nfindings" in sent)
        assertFalse(sent, "IMEI" in sent || "e-mail" in sent)
        assertTrue(received, "$MAIL: IMEI, e-mail address ← $HOST" in received)
        assertTrue(received, "$NEWS: e-mail address ← $HOST" in received)
    }

    @Test
    fun `the findings screen lists sent identifiers, then a quiet card of what came back`() {
        val a = open(FindingsActivity::class.java)
        val (sent, received) = split(ScreenTool.screenText(a), a.getString(R.string.findings_received_title))
        assertTrue(sent, MAIL in sent && "Android ID ·" in sent)
        assertFalse("an app that only received is not among the senders:\n$sent", NEWS in sent)
        assertFalse(sent, "IMEI" in sent || "e-mail" in sent)
        assertTrue(received, "$MAIL ← $HOST\nIMEI, e-mail address · 2× ·" in received)
        assertTrue(received, "$NEWS ← $HOST\ne-mail address · 1× ·" in received)
        assertFalse(received, "Android ID" in received)
    }

    @Test
    fun `an app that only received identifiers says it sent none`() {
        val a = open(FindingsActivity::class.java, Intent(app, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, NEWS))
        val (sent, received) = split(ScreenTool.screenText(a), a.getString(R.string.findings_received_title))
        assertTrue(sent, a.getString(R.string.findings_none_sent) in sent)
        assertTrue(received, "e-mail address · 1×" in received)
    }

    @Test
    fun `a connection shows what it sent, then what the server sent back`() {
        val a = open(FlowActivity::class.java, Intent(app, FlowActivity::class.java).putExtra(FlowActivity.EXTRA_FLOW, 1L).putExtra(FlowActivity.EXTRA_SESSION, 1L))
        val (sent, received) = split(ScreenTool.screenText(a), "Received from the server (not leaks): 2")
        assertTrue(sent, "Sent in this connection: 1\nAndroid ID\n" in sent)
        assertFalse(sent, "IMEI" in sent || "e-mail" in sent)
        assertTrue(received, "\nIMEI · plain ·" in received && "\ne-mail address · plain ·" in received)
    }

    @Test
    fun `the apps list has only the apps that sent something`() {
        val a = open(AppsActivity::class.java)
        val text = ScreenTool.screenText(a)
        assertTrue(text, MAIL in text && "Android ID" in text)
        assertFalse(text, NEWS in text || "IMEI" in text)
    }

    @Test
    fun `every screen with received findings passes the layout checks`() {
        val problems = Renders.checkAll(Renders.screens(MAIL, 1L, 1L).filter { it.first in setOf("status", "findings", "app", "flow") }, write = { _, _ -> false })
        assertEquals(problems.joinToString("\n"), 0, problems.size)
    }
}
