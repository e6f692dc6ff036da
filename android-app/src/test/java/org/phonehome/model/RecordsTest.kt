package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.core.Contract

class RecordsTest {
    @Test
    fun `a finding from the core is read with every field`() {
        val json = """[{"id":7,"session":2,"ts":"2026-11-23T10:00:00.123Z","flow":42,"app":"com.xiaomi.xmsf",
            "proto":"tcp","src":"10.111.0.2:40000","dst":"[2001:db8::1]:443","host":"xmpush.xiaomi.com",
            "host_source":"sni","company":"Xiaomi","parent":null,"category":"cloud-messaging","service":"Mi Push","party":"third","kind":"imei",
            "encoding":"sha1","digest_form":"base64url","truncated":true,"where":"body","direction":"out",
            "confidence":"exact","evidence":"deviceid=Ab************","bytes_out":null,"bytes_in":null,"start":null,"end":null}]"""
        val f = Finding.listFromJson(json).single()
        assertEquals(7L, f.id)
        assertEquals(2L, f.session)
        assertEquals(1_795_428_000_123L, f.ts)
        assertEquals(42L, f.flow)
        assertEquals("com.xiaomi.xmsf", f.app)
        assertEquals("xmpush.xiaomi.com", f.destination)
        assertEquals("sha1 (base64url, truncated)", f.form)
        assertEquals("deviceid=Ab************", f.evidence)
        assertNull(f.bytesOut)
    }

    @Test
    fun `every destination field the core writes is read, but those the app leaves out on purpose`() {
        // A line with every field of the contract set, each to its own name.
        val fields = Contract.DESTINATION_FIELDS
        val line = """{"ts":"2026-11-23T10:00:00.000Z","flow":1,"kind":"imei",""" +
            fields.joinToString(",") { "\"$it\":\"$it\"" } + "}"
        val f = Finding.fromJson(Json.parse(line))!!
        val flow = Flow.fromJson(Json.parse(line))!!
        val read = mapOf(
            "host" to listOf(f.host, flow.host), "host_source" to listOf(f.hostSource, flow.hostSource),
            "domain" to listOf(f.domain, flow.domain), "company" to listOf(f.company, flow.company),
            "parent" to listOf(f.parent, flow.parent), "category" to listOf(f.category, flow.category),
            "service" to listOf(f.service, flow.service), "party" to listOf(f.party, flow.party),
            "tls" to listOf(f.tls, flow.tls),
        )
        // The client's ALPN and ECH, and the CNAME a company was found by, are not shown.
        val leftOut = setOf("alpn", "ech", "cname")
        assertEquals(fields.toSet() - leftOut, read.keys)
        for ((field, values) in read) assertEquals(field, listOf(field, field), values)
    }

    @Test
    fun `entries that are not findings are skipped, not fatal`() {
        assertEquals(0, Finding.listFromJson("""[1, {"kind":"imei"}, {"ts":"bad","kind":"imei"}]""").size)
        assertEquals(0, Finding.listFromJson("[]").size)
    }

    @Test
    fun `a flow from the core is read with its times and sizes`() {
        val json = """[{"flow":3,"session":1,"proto":"udp","src":"10.111.0.2:5353","dst":"10.111.0.1:53","bytes_out":40,
            "bytes_in":120,"start":"2026-11-23T10:00:00.000Z","end":"2026-11-23T10:00:10.500Z","close":"idle","app":null,
            "host":null,"host_source":null,"company":null,"category":null,"service":null}]"""
        val flow = Flow.listFromJson(json).single()
        assertEquals("10.111.0.1:53", flow.destination)
        assertEquals(10_500L, flow.end - flow.start)
        assertEquals("idle", flow.close)
        assertNull(flow.app)
    }

    @Test
    fun `live counts read into one notification line`() {
        val s = Stats.fromJson("""{"running":true,"flows_open":12,"flows_total":3400,"bytes_out":1200000,"bytes_in":8000000,"findings":3,"dropped":0,"protect_failures":0}""")
        assertEquals("12 open · 3,400 flows · ↑1.2 MB ↓8.0 MB · 3 findings", s.summary())
        assertEquals(Stats(), Stats.fromJson("[]"))
    }

    @Test
    fun `live counts keep what servers sent back apart from the leaks`() {
        val s = Stats.fromJson("""{"running":true,"findings":3,"findings_received":5}""")
        assertEquals(3L, s.findings)
        assertEquals(5L, s.findingsReceived)
        assertTrue(s.summary(), s.summary().endsWith(" · 3 findings"))
        // A core from before the split: nothing received.
        assertEquals(0L, Stats.fromJson("""{"findings":3}""").findingsReceived)
    }

    @Test
    fun `a finding says whether the phone sent it`() {
        val lines = """[{"ts":"2026-11-23T10:00:00.000Z","flow":1,"kind":"email","direction":"in"},
            {"ts":"2026-11-23T10:00:00.000Z","flow":1,"kind":"imei","direction":"out"},
            {"ts":"2026-11-23T10:00:00.000Z","flow":1,"kind":"imei"}]"""
        assertEquals(listOf(false, true, true), Finding.listFromJson(lines).map { it.sent })
    }

    @Test
    fun `identifier kinds have plain names`() {
        assertEquals("IMEI", Kinds.name("imei"))
        assertEquals("advertising ID", Kinds.name("ad_id"))
        assertEquals("something-new", Kinds.name("something-new"))
    }
}
