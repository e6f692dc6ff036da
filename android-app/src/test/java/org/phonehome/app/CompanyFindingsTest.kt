package org.phonehome.app

import android.app.Activity
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.widget.Button
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.model.Format
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.GraphicsMode

/**
 * Issue 16 on the findings screen: who received what. Three apps sent the advertising ID
 * to AppsFlyer (one through a CNAME under its own domain), YouTube talked to Google's own
 * host (first party), Tapjoy (owned by ironSource > Unity) got the Android ID, and one host
 * the catalog does not know got the IMEI. The screen reads company, then host, then kind
 * with its apps; the unknown host comes last under its registrable domain; a toggle
 * shows the same by app.
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class CompanyFindingsTest {
    private val app get() = RuntimeEnvironment.getApplication()

    companion object {
        const val WEATHER = "com.example.weather"
        const val GAME = "com.example.game"
        const val YOUTUBE = "com.google.android.youtube"
        const val MI_WEATHER = "com.miui.weather2"

        fun finding(
            flow: Long, app: String, host: String, kind: String, ago: Long,
            company: String?, category: String?, party: String, parent: String? = null, service: String? = null,
            domain: String? = null,
        ): String {
            fun q(s: String?) = s?.let { "\"$it\"" } ?: "null"
            val ts = Format.rfc3339(System.currentTimeMillis() - ago)
            return """{"ts":"$ts","flow":$flow,"app":"$app","proto":"tcp","src":"10.111.0.2:40000",""" +
                """"dst":"203.0.113.7:443","host":"$host","host_source":"sni","domain":${q(domain)},""" +
                """"company":${q(company)},"parent":${q(parent)},""" +
                """"category":${q(category)},"service":${q(service)},"party":"$party","kind":"$kind","encoding":"plain",""" +
                """"digest_form":null,"truncated":false,"where":"url","direction":"out","confidence":"exact","evidence":"$kind=****"}"""
        }
    }

    @Before
    fun records() {
        for ((pkg, label) in listOf(WEATHER to "Weather", GAME to "Game", YOUTUBE to "YouTube", MI_WEATHER to "Mi Weather")) {
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
        app.phoneHome.records.insertBatch(
            1,
            "",
            RecordStoreTest.jsonl(
                finding(1, WEATHER, "t.appsflyer.com", "ad_id", 600_000, "AppsFlyer", "attribution", "third"),
                finding(2, WEATHER, "t.appsflyer.com", "ad_id", 500_000, "AppsFlyer", "attribution", "third"),
                finding(3, GAME, "t.appsflyer.com", "ad_id", 400_000, "AppsFlyer", "attribution", "third"),
                finding(4, GAME, "metrics.game.example", "ad_id", 300_000, "AppsFlyer", "attribution", "third"),
                finding(5, GAME, "ws.tapjoyads.com", "android_id", 200_000, "Tapjoy", "advertising", "third", parent = "ironSource > Unity"),
                finding(6, YOUTUBE, "youtubei.googleapis.com", "android_id", 100_000, "Google", "vendor", "first"),
                finding(7, WEATHER, "api.unknown-sdk.co.uk", "imei", 50_000, null, null, "third", domain = "unknown-sdk.co.uk"),
            ),
        )
    }

    @After
    fun forget() {
        app.phoneHome.records.writableDatabase.execSQL("DELETE FROM findings")
        Store(app).saveFindingsByApp(false)
    }

    private fun <T : Activity> open(cls: Class<T>, intent: Intent = Intent(app, cls)): T {
        val a = Robolectric.buildActivity(cls, intent).setup().get()
        ScreenTool.settle(a)
        return a
    }

    /** Asserts [rows] appear in [text] in this order, each as a whole line. */
    private fun assertInOrder(text: String, vararg rows: String) {
        val lines = text.lines()
        val at = rows.map { lines.indexOf(it) }
        assertTrue("rows $at of ${rows.toList()} in\n$text", at.all { it >= 0 } && at == at.sorted())
    }

    @Test
    fun `the findings screen reads company, then host, then each kind with the apps that sent it`() {
        val text = ScreenTool.screenText(open(FindingsActivity::class.java))
        assertInOrder(
            text,
            "AppsFlyer",
            "attribution · third party",
            "Received your advertising ID from 2 apps",
            "Game, Weather",
            // The host that received the newest finding first.
            "metrics.game.example",
            "advertising ID · 1× · exact",
            "From Game 1×",
            "t.appsflyer.com",
            "advertising ID · 3× · exact",
            "From Weather 2×, Game 1×",
        )
    }

    @Test
    fun `owners, first-party marks and an unknown host's domain are on the company cards, the unknown last`() {
        val text = ScreenTool.screenText(open(FindingsActivity::class.java))
        assertInOrder(
            text,
            "AppsFlyer",
            "Google",
            "first party",
            "Received your Android ID from 1 app",
            "youtubei.googleapis.com",
            "From YouTube 1×",
            "Tapjoy",
            "advertising · owned by ironSource > Unity · third party",
            "unknown-sdk.co.uk",
            "company not in the catalog · third party",
            "Received your IMEI from 1 app",
            "api.unknown-sdk.co.uk",
        )
    }

    @Test
    fun `two customers of one registry or hosting platform are two cards, named by the core's domain`() {
        // Hosts the catalog does not know, with the registrable domains the core sends: a
        // name under ltd.uk or firebaseapp.com is one customer's, not the registry's.
        app.phoneHome.records.insertBatch(
            1,
            "",
            RecordStoreTest.jsonl(
                finding(8, WEATHER, "api.shop-one.ltd.uk", "imei", 40_000, null, null, "third", domain = "shop-one.ltd.uk"),
                finding(9, GAME, "shop-two.ltd.uk", "ad_id", 30_000, null, null, "third", domain = "shop-two.ltd.uk"),
                finding(10, GAME, "game-12.firebaseapp.com", "ad_id", 20_000, null, null, "third", domain = "game-12.firebaseapp.com"),
                finding(11, WEATHER, "weather-3.firebaseapp.com", "imei", 10_000, null, null, "third", domain = "weather-3.firebaseapp.com"),
            ),
        )
        val lines = ScreenTool.screenText(open(FindingsActivity::class.java)).lines()
        val unknown = "company not in the catalog · third party"
        for (name in listOf("shop-one.ltd.uk", "shop-two.ltd.uk", "game-12.firebaseapp.com", "weather-3.firebaseapp.com")) {
            val at = lines.indexOf(name)
            assertTrue("a card named $name in\n${lines.joinToString("\n")}", at >= 0 && lines.getOrNull(at + 1) == unknown)
        }
        assertFalse("no card for the registry or the platform", "ltd.uk" in lines || "firebaseapp.com" in lines)
        assertEquals("the four and unknown-sdk.co.uk", 5, lines.count { it == unknown })
    }

    @Test
    fun `the toggle shows the same findings by app, and back`() {
        val a = open(FindingsActivity::class.java)
        ScreenTool.all(a.window.decorView).filterIsInstance<Button>().first { it.text.toString() == "By app" }.performClick()
        ScreenTool.settle(a)
        val byApp = ScreenTool.screenText(a)
        assertFalse(byApp, "Received your advertising ID from 2 apps" in byApp)
        // Per app: the app, then its hosts with their company and mark.
        assertInOrder(byApp, "Game", "ws.tapjoyads.com", "Tapjoy advertising · third party", "metrics.game.example")
        assertInOrder(byApp, "YouTube", "youtubei.googleapis.com", "Google · first party")
        ScreenTool.all(a.window.decorView).filterIsInstance<Button>().first { it.text.toString() == "By company" }.performClick()
        ScreenTool.settle(a)
        assertTrue(ScreenTool.screenText(a), "Received your advertising ID from 2 apps" in ScreenTool.screenText(a))
    }

    @Test
    fun `the by-app choice is remembered when the screen is recreated and when it is opened again`() {
        val controller = Robolectric.buildActivity(FindingsActivity::class.java).setup()
        ScreenTool.settle(controller.get())
        ScreenTool.all(controller.get().window.decorView).filterIsInstance<Button>().first { it.text.toString() == "By app" }.performClick()
        // A rotation or a theme change makes a new activity.
        controller.recreate()
        ScreenTool.settle(controller.get())
        val recreated = ScreenTool.screenText(controller.get())
        assertFalse(recreated, "Received your advertising ID from 2 apps" in recreated)
        assertInOrder(recreated, "YouTube", "youtubei.googleapis.com", "Google · first party")
        controller.pause().stop().destroy()
        // Opened again later, from nothing saved but the preferences.
        val again = ScreenTool.screenText(open(FindingsActivity::class.java))
        assertFalse(again, "Received your advertising ID from 2 apps" in again)
        assertInOrder(again, "Game", "ws.tapjoyads.com", "Tapjoy advertising · third party")
    }

    @Test
    fun `the per-app view stays by host, with each host's company and mark`() {
        val a = open(FindingsActivity::class.java, Intent(app, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, GAME))
        val text = ScreenTool.screenText(a)
        assertFalse(text, "By company" in text)
        assertInOrder(text, "Game", "ws.tapjoyads.com", "Tapjoy advertising · third party", "metrics.game.example", "AppsFlyer attribution · third party")
    }

    /**
     * With Google's advertising host (third party for the Game, while YouTube's own is first
     * party) and Xiaomi's telemetry (first party for Xiaomi's weather app) added. These are
     * the findings and per-app screenshots: android-app/screenshots sets
     * `phonehome.screenshots` for this class after the live session's set.
     */
    @Test
    fun `the company cards and the toggle pass the layout checks in every look`() {
        app.phoneHome.records.insertBatch(
            1,
            "",
            RecordStoreTest.jsonl(
                finding(12, GAME, "googleads.g.doubleclick.net", "ad_id", 250_000, "Google", "advertising", "third", domain = "doubleclick.net"),
                finding(13, MI_WEATHER, "tracking.miui.com", "imei", 150_000, "Xiaomi", "telemetry", "first", domain = "miui.com"),
                finding(14, MI_WEATHER, "data.mistat.xiaomi.com", "android_id", 140_000, "Xiaomi", "telemetry", "first", domain = "xiaomi.com"),
            ),
        )
        val worthCommitting = { _: String, look: Renders.Look -> (look.width == 360 && !look.night) || (look.width == 411 && look.night) }
        val problems = Renders.checkAll(Renders.screens(GAME, 5L, 1L).filter { it.first in setOf("findings", "app") }, write = worthCommitting)
        assertEquals(problems.joinToString("\n"), 0, problems.size)
        val findings = Renders.screens(GAME, 5L, 1L).first { it.first == "findings" }.second
        Renders.writeScrolledToEnd("findings", findings(), Renders.looks.first())
        // The cards below the first screenful: AppsFlyer's, and Xiaomi's first party for its own app.
        Renders.writeScrolledTo("findings", "appsflyer", "AppsFlyer", findings(), Renders.looks.first())
        Renders.writeScrolledTo("findings", "xiaomi", "Xiaomi", findings(), Renders.looks.last())
    }
}
