package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

class MaskingTest {
    @Test
    fun `an IMEI shows as the core's evidence shows it`() {
        assertEquals("86*********0123", Masking.mask("861234567890123"))
    }

    @Test
    fun `at most half of a short value is ever shown`() {
        assertEquals("", Masking.mask(""))
        assertEquals("**", Masking.mask("ab"))
        for (s in listOf("a", "abc", "abcdef", "Li Wei", "China Mobile", "+8613800138000", "someone@example.com")) {
            val shown = Masking.mask(s).count { it != '*' }
            assertTrue("$s -> ${Masking.mask(s)}", shown * 2 <= s.length)
            assertEquals(s.length, Masking.mask(s).length)
        }
    }

    @Test
    fun `several values are masked one by one`() {
        assertEquals("86*********0123, 35*********1481", Masking.maskAll(listOf("861234567890123", "352099001761481")))
    }
}
