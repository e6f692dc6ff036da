package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class GroupingTest {
    private fun finding(
        ts: String,
        app: String? = "com.miui.cloudservice",
        host: String? = "api.account.xiaomi.com",
        kind: String = "imei",
        encoding: String = "plain",
        digestForm: String? = null,
        truncated: Boolean = false,
        company: String? = "Xiaomi",
        category: String? = "cloud-messaging",
        flow: Long = 1,
        where: String = "body",
        direction: String = "out",
    ) = Finding(
        id = null, session = 1, ts = Format.parseRfc3339(ts)!!, flow = flow, app = app, proto = "tcp",
        src = "10.111.0.2:40000", dst = "203.0.113.7:443", host = host, hostSource = "sni", company = company,
        category = category, service = "MIUI Cloud Messaging / Mi account", kind = kind, encoding = encoding,
        digestForm = digestForm, truncated = truncated, where = where, direction = direction, confidence = "exact",
        evidence = "imei=86*********0123",
    )

    @Test
    fun `findings are grouped by app, then destination, then identifier kind`() {
        val groups = Grouping.group(
            listOf(
                finding("2026-11-23T10:00:00Z"),
                finding("2026-11-23T10:05:00Z", encoding = "sha1", digestForm = "base64url", truncated = true, flow = 2),
                finding("2026-11-23T10:01:00Z", kind = "imsi"),
                finding("2026-11-23T10:02:00Z", host = "tracking.miui.com", category = "telemetry", kind = "mac", encoding = "md5", digestForm = "hex"),
                finding("2026-11-23T09:00:00Z", app = "com.example.weather", host = "fcm.googleapis.com", company = "Google", kind = "android_id"),
            ),
        )
        assertEquals(listOf("com.miui.cloudservice", "com.example.weather"), groups.map { it.app })
        val miui = groups[0]
        assertEquals(listOf("api.account.xiaomi.com", "tracking.miui.com"), miui.destinations.map { it.host })
        val account = miui.destinations[0]
        assertEquals("Xiaomi cloud messaging", account.companyLabel)
        assertEquals(listOf("imei", "imsi"), account.kinds.map { it.kind })
        val imei = account.kinds[0]
        assertEquals(listOf("plain", "sha1 (base64url, truncated)"), imei.forms)
        assertEquals(2, imei.count)
        assertEquals(Format.parseRfc3339("2026-11-23T10:00:00Z"), imei.firstSeen)
        assertEquals(Format.parseRfc3339("2026-11-23T10:05:00Z"), imei.lastSeen)
        assertEquals(listOf(1L, 2L), imei.flows)
        assertEquals("Xiaomi telemetry", miui.destinations[1].companyLabel)
        assertEquals(listOf("imei", "imsi", "mac"), miui.kinds)
    }

    @Test
    fun `an app with only encrypted connections comes after apps that sent identifiers`() {
        val groups = Grouping.group(
            listOf(
                finding("2026-11-23T12:00:00Z", app = "com.quiet", kind = "encrypted-flow", encoding = "tls"),
                finding("2026-11-23T08:00:00Z", app = "com.loud"),
            ),
        )
        assertEquals(listOf("com.loud", "com.quiet"), groups.map { it.app })
        assertTrue(groups[1].destinations[0].identifierKinds.isEmpty())
    }

    @Test
    fun `a destination without a name is shown by its address, without a company`() {
        val g = Grouping.group(listOf(finding("2026-11-23T10:00:00Z", host = null, company = null, category = null)))
        assertEquals("203.0.113.7:443", g[0].destinations[0].host)
        assertNull(g[0].destinations[0].companyLabel)
    }

    @Test
    fun `companies are named with their kind of service`() {
        assertEquals("Xiaomi cloud messaging", Companies.label("Xiaomi", "cloud-messaging"))
        assertEquals("Google telemetry", Companies.label("Google", "telemetry"))
        assertEquals("Samsung account", Companies.label("Samsung", "account"))
        assertEquals("Huawei", Companies.label("Huawei", "vendor"))
        assertNull(Companies.label(null, "telemetry"))
    }

    @Test
    fun `what a server sent back is never grouped with what was sent, but listed apart per app and server`() {
        val findings = listOf(
            finding("2026-11-23T10:00:00Z", kind = "imei"),
            finding("2026-11-23T10:01:00Z", kind = "email", direction = "in", where = "payload"),
            finding("2026-11-23T10:02:00Z", kind = "imei", direction = "in", where = "payload"),
            finding("2026-11-23T10:03:00Z", app = "com.example.mail", host = "mail.example.com", company = null, category = null, kind = "email", direction = "in"),
        )
        val sent = Grouping.group(findings)
        assertEquals(listOf("imei"), sent.single().kinds)
        assertEquals(1, sent.single().destinations.single().kinds.single().count)
        val received = Grouping.received(findings)
        assertEquals(listOf("com.example.mail", "com.miui.cloudservice"), received.map { it.app })
        val xiaomi = received[1]
        assertEquals("api.account.xiaomi.com", xiaomi.host)
        assertEquals(listOf("imei", "email"), xiaomi.kinds)
        assertEquals(2, xiaomi.count)
        assertEquals("IMEI, e-mail address ← Xiaomi cloud messaging", ReceivedLine.of(xiaomi))
        assertEquals("e-mail address ← mail.example.com", ReceivedLine.of(received[0]))
        // Only received: nothing to group as sent.
        assertEquals(emptyList<AppSummary>(), Grouping.group(findings.drop(1)))
    }

    @Test
    fun `the first time an app sends a kind to a destination is noticed once`() {
        val seen = FirstSeen()
        val f = finding("2026-11-23T10:00:00Z")
        assertTrue(seen.observe(f))
        assertFalse(seen.observe(f.copy(encoding = "md5", flow = 9)))
        assertTrue(seen.observe(f.copy(kind = "imsi")))
        assertTrue(seen.observe(f.copy(host = "tracking.miui.com")))
        assertTrue(seen.observe(f.copy(app = "com.other")))
        assertFalse(seen.observe(f.copy(kind = "encrypted-flow")))
        assertFalse(seen.observe(f.copy(kind = "phone", direction = "in")))
    }

    @Test
    fun `what was seen survives a restart of the app`() {
        val seen = FirstSeen()
        seen.observe(finding("2026-11-23T10:00:00Z"))
        seen.observe(finding("2026-11-23T10:00:00Z", app = null, kind = "mac"))
        val again = FirstSeen()
        again.load(seen.serialise() + "garbage line\n")
        assertEquals(2, again.size)
        assertTrue(again.contains("com.miui.cloudservice", "api.account.xiaomi.com", "imei"))
        assertFalse(again.observe(finding("2026-11-23T11:00:00Z", app = null, kind = "mac")))
    }

    @Test
    fun `the memory of seen triples is bounded, forgetting the oldest`() {
        val seen = FirstSeen(limit = 3)
        for (k in listOf("imei", "imsi", "mac", "email")) seen.observe(finding("2026-11-23T10:00:00Z", kind = k))
        assertEquals(3, seen.size)
        assertFalse(seen.contains("com.miui.cloudservice", "api.account.xiaomi.com", "imei"))
        assertTrue(seen.contains("com.miui.cloudservice", "api.account.xiaomi.com", "email"))
    }
}
