package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

/**
 * Issue 16, the app's side: what was sent, grouped by the company that received it, then
 * its hosts, then the identifier kinds with the apps that sent them. Hostnames and
 * companies as the core's catalog names them.
 */
class ByCompanyTest {
    private var clock = Format.parseRfc3339("2026-12-03T10:00:00Z")!!

    private fun finding(
        app: String?,
        host: String?,
        company: String?,
        category: String? = null,
        kind: String = "ad_id",
        parent: String? = null,
        party: String? = "third",
        direction: String = "out",
        service: String? = null,
        domain: String? = null,
    ): Finding {
        clock += 60_000
        return Finding(
            id = null, session = 1, ts = clock, flow = clock / 60_000, app = app, proto = "tcp",
            src = "10.111.0.2:40000", dst = "203.0.113.7:443", host = host, hostSource = "sni", company = company,
            category = category, service = service, kind = kind, encoding = "plain", digestForm = null, truncated = false,
            where = "url", direction = direction, confidence = "exact", evidence = "$kind=****", parent = parent, party = party,
            domain = domain,
        )
    }

    private val appsflyer = listOf(
        finding("com.example.weather", "t.appsflyer.com", "AppsFlyer", "attribution"),
        finding("com.example.weather", "t.appsflyer.com", "AppsFlyer", "attribution"),
        finding("com.example.game", "metrics.game.example", "AppsFlyer", "attribution"),
        finding("com.example.news", "t.appsflyer.com", "AppsFlyer", "attribution", kind = "android_id"),
    )

    @Test
    fun `AppsFlyer received the advertising ID from three apps, through both of its hosts`() {
        val groups = ByCompany.group(appsflyer)
        val af = groups.single()
        assertEquals("AppsFlyer", af.name)
        assertEquals("attribution", af.what)
        assertEquals(listOf("com.example.weather", "com.example.game", "com.example.news"), af.apps.map { it.app })
        assertEquals(listOf("android_id", "ad_id"), af.kinds)
        assertEquals("Received your Android ID, advertising ID from 3 apps", CompanyLine.of(af) { "$it apps" })
        // The host that received the newest finding first.
        assertEquals(listOf("t.appsflyer.com", "metrics.game.example"), af.destinations.map { it.host })
        val adId = af.destinations[0].kinds.first { it.kind == "ad_id" }
        assertEquals(2, adId.count)
        assertEquals(listOf(AppCount("com.example.weather", 2)), adId.apps)
        assertEquals("Weather 2×", CompanyLine.apps(adId.apps) { if (it == "com.example.weather") "Weather" else "?" })
    }

    @Test
    fun `a kind sent by several apps lists each with its count, the most frequent first`() {
        val findings = listOf(
            finding("com.b", "graph.facebook.com", "Meta", "advertising"),
            finding("com.a", "graph.facebook.com", "Meta", "advertising"),
            finding("com.b", "graph.facebook.com", "Meta", "advertising"),
            finding(null, "graph.facebook.com", "Meta", "advertising"),
        )
        val kind = ByCompany.group(findings).single().destinations.single().kinds.single()
        assertEquals(listOf(AppCount("com.b", 2), AppCount("com.a", 1), AppCount(null, 1)), kind.apps)
        assertEquals(4, kind.count)
    }

    @Test
    fun `a host the catalog does not know is a group of its own, by registrable domain, after every named company`() {
        val findings = appsflyer + listOf(
            finding("com.example.weather", "api.unknown-sdk.co.uk", null, kind = "imei"),
            finding("com.example.weather", "cdn.unknown-sdk.co.uk", null, kind = "imei"),
            finding("com.example.game", "collect.other.example", null),
            finding("com.example.game", null, null),
        )
        val groups = ByCompany.group(findings)
        assertEquals(listOf("AppsFlyer", "203.0.113.7:443", "other.example", "unknown-sdk.co.uk"), groups.map { it.name })
        val unknown = groups.last()
        assertNull(unknown.company)
        assertEquals(listOf("cdn.unknown-sdk.co.uk", "api.unknown-sdk.co.uk"), unknown.destinations.map { it.host })
        assertEquals("Received your IMEI from 1 app", CompanyLine.of(unknown) { if (it == 1) "1 app" else "$it apps" })
    }

    @Test
    fun `unknown hosts are grouped by the domain the core computed, so customers of one platform or registry stay apart`() {
        // The core's registrable domains (rust-core/catalog/src/registrable.rs): each customer
        // of a hosting platform or of a registry's own second level holds a domain of its own.
        val findings = listOf(
            finding("com.a", "x.appspot.com", null, domain = "x.appspot.com"),
            finding("com.b", "v2.y.appspot.com", null, domain = "y.appspot.com"),
            finding("com.a", "api.shop-one.ltd.uk", null, domain = "shop-one.ltd.uk"),
            finding("com.b", "shop-two.ltd.uk", null, domain = "shop-two.ltd.uk"),
            finding("com.a", "cdn.shop-two.ltd.uk", null, domain = "shop-two.ltd.uk"),
        )
        val groups = ByCompany.group(findings)
        assertEquals(
            listOf("shop-one.ltd.uk", "shop-two.ltd.uk", "x.appspot.com", "y.appspot.com"),
            groups.map { it.name }.sorted(),
        )
        assertEquals(listOf("cdn.shop-two.ltd.uk", "shop-two.ltd.uk"), groups.single { it.name == "shop-two.ltd.uk" }.destinations.map { it.host })
    }

    @Test
    fun `records from before the core sent a domain are grouped by the app's own rule`() {
        val old = listOf(finding("com.a", "api.unknown-sdk.co.uk", null), finding("com.a", "cdn.unknown-sdk.co.uk", null))
        assertEquals(listOf("unknown-sdk.co.uk"), ByCompany.group(old).map { it.name })
        // A row with it and one without, of the same domain, are one group.
        val mixed = old + finding("com.b", "push.unknown-sdk.co.uk", null, domain = "unknown-sdk.co.uk")
        assertEquals(listOf("unknown-sdk.co.uk"), ByCompany.group(mixed).map { it.name })
    }

    @Test
    fun `a company that reached more apps comes first, then the most recent`() {
        val findings = appsflyer + finding("com.example.weather", "ws.tapjoyads.com", "Tapjoy", "advertising")
        assertEquals(listOf("AppsFlyer", "Tapjoy"), ByCompany.group(findings).map { it.name })
        val tied = listOf(finding("com.a", "ws.tapjoyads.com", "Tapjoy"), finding("com.a", "t.appsflyer.com", "AppsFlyer"))
        assertEquals(listOf("AppsFlyer", "Tapjoy"), ByCompany.group(tied).map { it.name })
    }

    @Test
    fun `companies that received identifiers come before those that only saw encrypted connections`() {
        val findings = listOf(
            finding("com.a", "t.appsflyer.com", "AppsFlyer", "attribution"),
            finding("com.a", "firebaseinstallations.googleapis.com", "Google", "analytics", kind = "encrypted-flow"),
        )
        val groups = ByCompany.group(findings)
        assertEquals(listOf("AppsFlyer", "Google"), groups.map { it.name })
        assertEquals("Encrypted connections from 1 app", CompanyLine.of(groups[1]) { "$it app" })
    }

    @Test
    fun `a company names its categories trackers first, and its owners`() {
        val findings = listOf(
            finding("com.a", "fcm.googleapis.com", "Google", "cloud-messaging"),
            finding("com.a", "app-measurement.com", "Google", "analytics"),
            finding("com.a", "ws.tapjoyads.com", "Tapjoy", "advertising", parent = "ironSource > Unity"),
        )
        val groups = ByCompany.group(findings).associateBy { it.name }
        assertEquals("analytics, cloud messaging", groups["Google"]!!.what)
        assertNull(groups["Google"]!!.parent)
        assertEquals("ironSource > Unity", groups["Tapjoy"]!!.parent)
    }

    @Test
    fun `first-party destinations are marked, not hidden, per app`() {
        val label = { a: String? -> a ?: "unknown" }
        val own = listOf(finding("com.google.android.youtube", "youtubei.googleapis.com", "Google", "vendor", party = "first"))
        val youtube = ByCompany.group(own).single()
        assertEquals("first party", CompanyLine.party(youtube.parties, label))
        assertNull("vendor is no category worth a word", youtube.what)
        val mixed = ByCompany.group(own + finding("com.example.weather", "youtubei.googleapis.com", "Google", "vendor")).single()
        assertEquals("first party for com.google.android.youtube; third party for others", CompanyLine.party(mixed.parties, label))
        val third = ByCompany.group(appsflyer).single()
        assertEquals("third party", CompanyLine.party(third.parties, label))
        val older = ByCompany.group(listOf(finding("com.a", "t.appsflyer.com", "AppsFlyer", party = null))).single()
        assertNull("records from before the mark say nothing", CompanyLine.party(older.parties, label))
    }

    @Test
    fun `what servers sent back is not grouped as received by a company`() {
        val groups = ByCompany.group(appsflyer + finding("com.example.mail", "mail.example.com", null, kind = "email", direction = "in"))
        assertEquals(listOf("AppsFlyer"), groups.map { it.name })
        assertEquals(emptyList<CompanySummary>(), ByCompany.group(listOf(finding("com.a", "x.example", null, direction = "in"))))
    }

    @Test
    fun `registrable domains follow the core's rule`() {
        assertEquals("xiaomi.com", Domains.registrable("api.account.xiaomi.com"))
        assertEquals("example.co.uk", Domains.registrable("a.b.example.co.uk"))
        assertEquals("vivo.com.cn", Domains.registrable("api-push.vivo.com.cn"))
        assertEquals("example.de", Domains.registrable("x.example.de."))
        assertEquals("localhost", Domains.registrable("localhost"))
        assertEquals("203.0.113.7:443", Domains.registrable("203.0.113.7:443"))
        assertEquals("[2001:db8::1]:443", Domains.registrable("[2001:db8::1]:443"))
        assertEquals("10.0.0.1", Domains.registrable("10.0.0.1"))
    }

    @Test
    fun `a first leak names the company, its owners and whose it is`() {
        val tapjoy = finding("com.a", "ws.tapjoyads.com", "Tapjoy", "advertising", parent = "ironSource > Unity")
        assertEquals("Tapjoy", FirstLeak.company(tapjoy))
        assertEquals("Tapjoy advertising, owned by ironSource > Unity (ws.tapjoyads.com, third party)", FirstLeak.where(tapjoy))
        val own = finding("com.xiaomi.account", "api.account.xiaomi.com", "Xiaomi", "account", party = "first")
        assertEquals("Xiaomi account (api.account.xiaomi.com, first party)", FirstLeak.where(own))
        val unknown = finding("com.a", "collect.unknown.example", null)
        assertNull(FirstLeak.company(unknown))
        assertEquals("collect.unknown.example (third party)", FirstLeak.where(unknown))
        assertEquals("collect.unknown.example", FirstLeak.where(unknown.copy(party = null)))
    }
}
