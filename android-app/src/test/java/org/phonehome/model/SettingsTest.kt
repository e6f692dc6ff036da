package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class SettingsTest {
    @Test
    fun `by default IPv6 is on, MTU 16000, 64 KiB scanned, capture on, contacts and SMS off`() {
        val (s, bad) = Settings.parse("")
        assertEquals(Settings(), s)
        assertTrue(s.ipv6)
        assertEquals(16_000, s.mtu)
        assertEquals(64, s.scanLimitKib)
        assertTrue(s.capture)
        assertFalse(s.readContacts)
        assertFalse(s.readSms)
        assertTrue(bad.isEmpty())
    }

    @Test
    fun `stored settings read back the same`() {
        val s = Settings(ipv6 = false, mtu = 9000, scanLimitKib = 256, capture = false, excludedApps = setOf("b.app", "a.app"), readContacts = true)
        assertEquals(s to emptyList<String>(), Settings.parse(s.serialise()))
    }

    @Test
    fun `a damaged value falls back to its default and is reported, the rest still counts`() {
        val (s, bad) = Settings.parse("mtu=12\nipv6=maybe\nscan_limit_kib=128\nunknown=1\n# comment\n")
        assertEquals(Settings.DEFAULT_MTU, s.mtu)
        assertTrue(s.ipv6)
        assertEquals(128, s.scanLimitKib)
        assertEquals(listOf("ipv6=maybe", "mtu=12"), bad)
    }

    @Test
    fun `MTU and scan depth limits are explained`() {
        assertNull(Settings.mtuProblem("1280"))
        assertNull(Settings.mtuProblem("65535"))
        assertEquals("the MTU is 1280 to 65535", Settings.mtuProblem("576"))
        assertNotNull(Settings.mtuProblem("big"))
        assertNull(Settings.scanLimitProblem("64"))
        assertNotNull(Settings.scanLimitProblem("0"))
    }
}
