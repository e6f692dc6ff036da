package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Test

class StartRetryTest {
    private val full = Identifiers(
        region = "CN",
        imei = listOf("861234567890123"),
        contacts = listOf(Contact("Li Wei", listOf("+8613912345678"), emptyList())),
        sms = listOf(Sms("+8613700000000", "See you at the station at five")),
    )
    private val withoutContactsAndSms = full.copy(contacts = emptyList(), sms = emptyList())
    private val none = Identifiers(region = null)

    /** A core that answers each try in turn, and remembers what it was offered. */
    private class Core(vararg answers: StartRetry.Attempt<Long>) {
        private val answers = answers.toMutableList()
        val offered = mutableListOf<Identifiers>()
        fun start(ids: Identifiers): StartRetry.Attempt<Long> {
            offered.add(ids)
            return answers.removeAt(0)
        }
    }

    private fun refusedIds(message: String) = StartRetry.Attempt.Refused(message, identifiers = true)

    @Test
    fun `a core that takes the identifiers starts at once, with all of them`() {
        val core = Core(StartRetry.Attempt.Started(7L))
        assertEquals(StartRetry.Outcome.Started(7L, refusal = null), StartRetry.run(full, core::start))
        assertEquals(listOf(full), core.offered)
    }

    @Test
    fun `refused identifiers are offered again without contacts and SMS, and the refusal is kept`() {
        val core = Core(refusedIds("identifiers: contact 1 is not valid"), StartRetry.Attempt.Started(7L))
        assertEquals(StartRetry.Outcome.Started(7L, "identifiers: contact 1 is not valid"), StartRetry.run(full, core::start))
        assertEquals(listOf(full, withoutContactsAndSms), core.offered)
    }

    @Test
    fun `refused again, the core starts with no identifiers at all and the last refusal is kept`() {
        val core = Core(refusedIds("identifiers: first"), refusedIds("identifiers: second"), StartRetry.Attempt.Started(7L))
        assertEquals(StartRetry.Outcome.Started(7L, "identifiers: second"), StartRetry.run(full, core::start))
        assertEquals(listOf(full, withoutContactsAndSms, none), core.offered)
    }

    @Test
    fun `a core that refuses even no identifiers has failed, with its last word`() {
        val core = Core(refusedIds("identifiers: a"), refusedIds("identifiers: b"), refusedIds("identifiers: c"))
        assertEquals(StartRetry.Outcome.Failed("identifiers: c"), StartRetry.run(full, core::start))
        assertEquals(3, core.offered.size)
    }

    @Test
    fun `a refusal that is not about the identifiers is final`() {
        val core = Core(StartRetry.Attempt.Refused("records_dir: not writable", identifiers = false))
        assertEquals(StartRetry.Outcome.Failed("records_dir: not writable"), StartRetry.run(full, core::start))
        assertEquals(listOf(full), core.offered)
    }

    @Test
    fun `without contacts or SMS to drop, the next try is straight with none`() {
        val plain = full.copy(contacts = emptyList(), sms = emptyList())
        assertEquals(listOf(plain, none), StartRetry.steps(plain))
    }

    @Test
    fun `with no identifiers to begin with there is one try only`() {
        assertEquals(listOf(none), StartRetry.steps(Identifiers()))
        val core = Core(refusedIds("identifiers: empty"))
        assertEquals(StartRetry.Outcome.Failed("identifiers: empty"), StartRetry.run(Identifiers(), core::start))
        assertEquals(1, core.offered.size)
    }

    @Test
    fun `the region goes with the last step too`() {
        assertEquals(null, StartRetry.steps(full).last().region)
    }
}
