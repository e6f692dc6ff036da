package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Test

class StartWarningsTest {
    private val resolvers = listOf("192.168.1.1")
    private val someIds = Identifiers(region = "CN", imei = listOf("861234567890123"))
    private val noIds = Identifiers(region = null)

    @Test
    fun `known resolvers and identifiers, nothing refused or dropped, means no warnings`() {
        assertEquals(emptyList<StartWarning>(), StartWarnings.beforeStart(resolvers, emptyList(), dropped = 0, identifiers = someIds))
    }

    @Test
    fun `a network that names no resolvers warns that apps keep their own`() {
        assertEquals(listOf(StartWarning.DnsUnknown), StartWarnings.beforeStart(emptyList(), emptyList(), dropped = 0, identifiers = someIds))
    }

    @Test
    fun `a network that names only scoped link-local resolvers, which the core cannot use, warns the same`() {
        assertEquals(listOf(StartWarning.DnsUnknown), StartWarnings.beforeStart(listOf("fe80::1%wlan0"), emptyList(), dropped = 0, identifiers = someIds))
    }

    @Test
    fun `the identifier reader's notes are passed on in its words and order`() {
        val notes = listOf("Contacts: permission refused", "SMS: permission refused")
        assertEquals(
            notes.map { StartWarning.Note(it) },
            StartWarnings.beforeStart(resolvers, notes, dropped = 0, identifiers = someIds),
        )
    }

    @Test
    fun `identifiers the validation dropped are counted`() {
        assertEquals(listOf(StartWarning.IdsDropped(2)), StartWarnings.beforeStart(resolvers, emptyList(), dropped = 2, identifiers = someIds))
    }

    @Test
    fun `no identifier known at all is said`() {
        assertEquals(listOf(StartWarning.NoIdentifiers), StartWarnings.beforeStart(resolvers, emptyList(), dropped = 0, identifiers = noIds))
    }

    @Test
    fun `everything at once comes in the order the start finds it, the core's refusal last`() {
        val before = StartWarnings.beforeStart(emptyList(), listOf("IMEI: not readable"), dropped = 1, identifiers = noIds)
        assertEquals(
            listOf(
                StartWarning.DnsUnknown,
                StartWarning.Note("IMEI: not readable"),
                StartWarning.IdsDropped(1),
                StartWarning.NoIdentifiers,
                StartWarning.IdsRefused("identifiers: sms 3 is not valid"),
            ),
            StartWarnings.started(before, refusal = "identifiers: sms 3 is not valid"),
        )
    }

    @Test
    fun `a core that took every identifier adds nothing`() {
        assertEquals(listOf(StartWarning.DnsUnknown), StartWarnings.started(listOf(StartWarning.DnsUnknown), refusal = null))
    }

    @Test
    fun `a restart on new resolvers shows the core's refusal once, not once per session`() {
        val first = StartWarnings.started(listOf(StartWarning.NoIdentifiers), refusal = "identifiers: sms 3 is not valid")
        val again = StartWarnings.started(StartWarnings.restarting(first, resolvers), refusal = "identifiers: sms 3 is not valid")
        assertEquals(first, again)
    }

    @Test
    fun `a restart on a network with usable resolvers drops the DNS warning, and one without adds it`() {
        val onWifi = listOf(StartWarning.DnsUnknown, StartWarning.Note("SMS: permission refused"))
        assertEquals(listOf(StartWarning.Note("SMS: permission refused")), StartWarnings.restarting(onWifi, resolvers))
        assertEquals(onWifi, StartWarnings.restarting(onWifi.drop(1), listOf("fe80::1%rmnet0")))
    }
}
