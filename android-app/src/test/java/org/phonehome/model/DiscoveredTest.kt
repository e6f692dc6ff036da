package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class DiscoveredTest {
    private val line = """{"value":"5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84","shape":"uuid","keys":["oaid"],"apps":["com.a"],""" +
        """"domains":["ads-one.test","metrics-two.test"],"hosts":["sdk.ads-one.test","log.metrics-two.test"],""" +
        """"first_seen":"2026-12-01T09:00:00.000Z","last_seen":"2026-12-02T10:00:00.000Z",""" +
        """"discovered":"2026-12-02T09:00:00.000Z","flows":7,"sessions":3,"masked":"5f**********2e84"}"""

    private fun parsed() = Discovered.fromJson(Json.parse(line))!!

    @Test
    fun `a discovered jsonl line reads into its fields`() {
        val d = parsed()
        assertEquals("5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84", d.value)
        assertEquals(listOf("ads-one.test", "metrics-two.test"), d.domains)
        assertEquals(Format.parseRfc3339("2026-12-01T09:00:00.000Z"), d.firstSeen)
        assertEquals(3L, d.sessions)
        assertEquals("5f**********2e84", d.masked)
    }

    @Test
    fun `a line without a value or times is not a discovered identifier`() {
        assertNull(Discovered.fromJson(Json.parse("""{"value":"","first_seen":"2026-12-01T09:00:00.000Z","last_seen":"2026-12-01T09:00:00.000Z"}""")))
        assertNull(Discovered.fromJson(Json.parse("""{"value":"abc"}""")))
        assertNull(Discovered.fromJson(Json.parse("[1]")))
    }

    @Test
    fun `ignored values are left out and values among the identifiers are marked added`() {
        val d = parsed()
        val other = d.copy(value = "a1b2c3d4e5f60718293a4b5c6d7e8f90")
        val ids = Identifiers(deviceId = listOf(d.value.uppercase()))
        assertEquals(
            listOf(DiscoveredList.Row(d, added = true), DiscoveredList.Row(other, added = false)),
            DiscoveredList.rows(listOf(d, other), emptySet(), ids),
        )
        assertEquals(listOf(DiscoveredList.Row(d, added = true)), DiscoveredList.rows(listOf(d, other), setOf(other.value), ids))
    }

    @Test
    fun `adding a value twice keeps it once`() {
        val once = DiscoveredList.add(Identifiers(imei = listOf("490154203237518")), "abcdefabcdefabcd")
        assertEquals(listOf("abcdefabcdefabcd"), once.deviceId)
        assertEquals(once, DiscoveredList.add(once, "ABCDEFABCDEFABCD"))
        assertEquals(listOf("490154203237518"), once.imei)
    }

    @Test
    fun `every place a finding can be has words, websocket messages included`() {
        assertEquals("WebSocket messages", Places.name("websocket"))
        assertEquals("URL", Places.name("url"))
        assertEquals(listOf("URL", "headers", "cookies", "body", "payload", "WebSocket messages"),
            listOf("url", "header", "cookie", "body", "payload", "websocket").map { Places.name(it) })
    }
}
