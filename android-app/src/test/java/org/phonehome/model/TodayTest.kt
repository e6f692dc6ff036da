package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Test

class TodayTest {
    private fun finding(ts: String, app: String?, host: String, kind: String, company: String? = null, category: String? = null, direction: String = "out") = Finding(
        id = null, session = 1, ts = Format.parseRfc3339(ts)!!, flow = 1, app = app, proto = "tcp",
        src = "10.111.0.2:40000", dst = "203.0.113.7:443", host = host, hostSource = "sni", company = company,
        category = category, service = null, kind = kind, encoding = "plain", digestForm = null, truncated = false,
        where = "url", direction = direction, confidence = "exact", evidence = "imei=86*********0123",
    )

    @Test
    fun `only findings since local midnight count, and kinds go most identifying first`() {
        // 2026-11-23 00:30 in UTC+8 is 2026-11-22 16:30 UTC; midnight there is 16:00 UTC.
        val now = Format.parseRfc3339("2026-11-22T16:30:00Z")!!
        val start = TodaySummary.startOfDay(now, 8 * 3_600_000L)
        assertEquals(Format.parseRfc3339("2026-11-22T16:00:00Z"), start)
        val t = TodaySummary.of(
            listOf(
                finding("2026-11-22T16:20:00Z", "com.miui.cloudservice", "api.account.xiaomi.com", "phone", "Xiaomi", "cloud-messaging"),
                finding("2026-11-22T16:10:00Z", "com.miui.cloudservice", "api.account.xiaomi.com", "imei", "Xiaomi", "cloud-messaging"),
                finding("2026-11-22T16:05:00Z", "com.example.news", "t.example.com", "encrypted-flow", "Google", "telemetry"),
                finding("2026-11-22T15:59:00Z", "com.example.old", "old.example.com", "iccid"),
            ),
            start,
        )
        assertEquals(listOf("imei", "phone"), t.kinds)
        assertEquals(listOf("com.miui.cloudservice", "com.example.news"), t.apps.map { it.app })
        assertEquals(1, t.appsSendingIdentifiers)
        assertEquals(2, t.servers)
        assertEquals(3, t.findings)
        assertEquals("IMEI, phone number → Xiaomi cloud messaging", AppLine.of(t.apps[0]))
        assertEquals("encrypted connections → Google telemetry", AppLine.of(t.apps[1]))
    }

    @Test
    fun `what servers sent back today is listed apart and never counted as sent`() {
        val start = Format.parseRfc3339("2026-11-22T16:00:00Z")!!
        val t = TodaySummary.of(
            listOf(
                finding("2026-11-22T16:20:00Z", "com.example.mail", "mail.example.com", "email", direction = "in"),
                finding("2026-11-22T16:10:00Z", "com.example.mail", "mail.example.com", "imei", direction = "in"),
                finding("2026-11-22T15:10:00Z", "com.example.mail", "old.example.com", "imei", direction = "in"),
            ),
            start,
        )
        assertEquals(emptyList<String>(), t.kinds)
        assertEquals(0, t.findings)
        assertEquals(0, t.servers)
        assertEquals(0, t.apps.size)
        assertEquals(listOf("mail.example.com"), t.received.map { it.host })
        assertEquals(listOf("imei", "email"), t.received.single().kinds)
    }
}
