package org.phonehome.model

import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class ResolverChangeTest {
    private val wifi = listOf("192.168.1.1")
    private val mobile = listOf("10.177.0.34", "2001:db8:4::53")

    @Test
    fun `moving from Wi-Fi to mobile data restarts the session on the new resolvers`() {
        assertTrue(ResolverChange.restartNeeded(running = wifi, now = mobile))
    }

    @Test
    fun `the same resolvers, however Android spells them, keep the session`() {
        assertFalse(ResolverChange.restartNeeded(running = wifi, now = listOf("/192.168.1.1", "192.168.1.1")))
    }

    @Test
    fun `a network that names no resolvers yet keeps the session`() {
        assertFalse(ResolverChange.restartNeeded(running = wifi, now = emptyList()))
    }

    @Test
    fun `resolvers appearing where there were none restart the session`() {
        assertTrue(ResolverChange.restartNeeded(running = emptyList(), now = wifi))
    }
}
