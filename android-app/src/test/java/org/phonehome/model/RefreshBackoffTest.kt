package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Test

class RefreshBackoffTest {
    @Test
    fun `while the counts move the notification is refreshed every 3 seconds`() {
        val b = RefreshBackoff()
        assertEquals(listOf(3_000L, 3_000L, 3_000L), List(3) { b.next(changed = true) })
    }

    @Test
    fun `while they stand still each wait doubles, up to a minute`() {
        val b = RefreshBackoff()
        assertEquals(
            listOf(6_000L, 12_000L, 24_000L, 48_000L, 60_000L, 60_000L),
            List(6) { b.next(changed = false) },
        )
    }

    @Test
    fun `a change brings back the fast pace at once`() {
        val b = RefreshBackoff()
        repeat(5) { b.next(changed = false) }
        assertEquals(3_000L, b.next(changed = true))
        assertEquals(6_000L, b.next(changed = false))
    }

    @Test
    fun `a reset (new session, screen on) starts the doubling from the fast pace again`() {
        val b = RefreshBackoff()
        repeat(5) { b.next(changed = false) }
        b.reset()
        assertEquals(6_000L, b.next(changed = false))
    }
}
