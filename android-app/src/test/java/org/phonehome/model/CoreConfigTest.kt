package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Test

class CoreConfigTest {
    @Test
    fun `the TUN covers IPv4 and IPv6 and announces DNS inside it`() {
        val plan = CoreConfig.plan(Settings(), "org.phonehome", listOf("192.168.1.1"))
        assertEquals(listOf("10.111.0.2" to 24, "fd70:686f:6e65::2" to 64), plan.addresses)
        assertEquals(listOf("0.0.0.0" to 0, "::" to 0), plan.routes)
        assertEquals(listOf("10.111.0.1", "fd70:686f:6e65::1"), plan.dnsServers)
        assertEquals(16_000, plan.mtu)
    }

    @Test
    fun `with IPv6 off there is no IPv6 address, route or resolver`() {
        val plan = CoreConfig.plan(Settings(ipv6 = false), "org.phonehome", listOf("192.168.1.1"))
        assertEquals(listOf("10.111.0.2" to 24), plan.addresses)
        assertEquals(listOf("0.0.0.0" to 0), plan.routes)
        assertEquals(listOf("10.111.0.1"), plan.dnsServers)
    }

    @Test
    fun `our own app is always excluded, so the monitor never loops its traffic`() {
        val plan = CoreConfig.plan(Settings(excludedApps = setOf("com.bank", "org.phonehome")), "org.phonehome", emptyList())
        assertEquals(listOf("org.phonehome", "com.bank"), plan.disallowedApps)
    }

    @Test
    fun `without known resolvers no DNS is announced, so apps keep the network's own (still through the TUN)`() {
        val plan = CoreConfig.plan(Settings(), "org.phonehome", emptyList())
        assertEquals(emptyList<String>(), plan.dnsServers)
        val json = Json.parse(CoreConfig.json("/data/r", Identifiers(), Settings(), emptyList(), 34)) as Json.Obj
        assertNull(json["dns"])
    }

    @Test
    fun `resolvers are written as the core reads them and scoped link-local ones are left out`() {
        assertEquals(
            listOf("192.168.1.1:53", "[2001:db8::53]:53"),
            CoreConfig.upstreamDns(listOf("/192.168.1.1", "2001:db8::53", "fe80::1%wlan0", "192.168.1.1")),
        )
    }

    @Test
    fun `the configuration has every key the core documents`() {
        val ids = Identifiers(imei = listOf("861234567890123"))
        val text = CoreConfig.json(
            "/data/user/0/org.phonehome/files/records", ids, Settings(scanLimitKib = 128, mtu = 9000), listOf("192.168.1.1"), 34,
            stateDir = "/data/user/0/org.phonehome/files/discovery",
        )
        assertEquals(
            """{"records_dir":"/data/user/0/org.phonehome/files/records","state_dir":"/data/user/0/org.phonehome/files/discovery",""" +
                """"identifiers":{"imei":["861234567890123"]},""" +
                """"scan_limit":131072,"capture":true,"mtu":9000,""" +
                """"dns":{"listen":["10.111.0.1","fd70:686f:6e65::1"],"upstream":["192.168.1.1:53"]},"owner_lookup":"host"}""",
            text,
        )
    }

    @Test
    fun `below Android 10 the core finds owners in proc, and no identifiers means no key`() {
        val json = Json.parse(CoreConfig.json("/r", Identifiers(), Settings(ipv6 = false), listOf("10.0.0.1"), 28)) as Json.Obj
        assertEquals("proc", json.string("owner_lookup"))
        assertFalse(json.fields.containsKey("identifiers"))
        assertEquals(listOf("10.111.0.1"), (json["dns"] as Json.Obj).strings("listen"))
    }
}
