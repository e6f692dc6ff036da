package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class FormatTest {
    @Test
    fun `sizes use decimal units with one decimal below 100`() {
        assertEquals("0 B", Format.bytes(0))
        assertEquals("999 B", Format.bytes(999))
        assertEquals("1.0 kB", Format.bytes(1000))
        assertEquals("1.5 kB", Format.bytes(1500))
        assertEquals("123 kB", Format.bytes(123_456))
        assertEquals("1.0 MB", Format.bytes(999_999))
        assertEquals("12.3 GB", Format.bytes(12_345_678_901))
    }

    @Test
    fun `durations name the two largest units`() {
        assertEquals("450 ms", Format.duration(450))
        assertEquals("12 s", Format.duration(12_000))
        assertEquals("3 min 05 s", Format.duration(185_000))
        assertEquals("2 h 07 min", Format.duration((2 * 3600 + 7 * 60) * 1000L))
        assertEquals("3 d 4 h", Format.duration((3 * 86_400 + 4 * 3600) * 1000L))
    }

    @Test
    fun `the core's timestamps are read to the millisecond`() {
        assertEquals(1_795_428_000_123L, Format.parseRfc3339("2026-11-23T10:00:00.123Z"))
        assertEquals(0L, Format.parseRfc3339("1970-01-01T00:00:00Z"))
        assertEquals(Format.parseRfc3339("2026-11-23T10:00:00Z"), Format.parseRfc3339("2026-11-23T18:00:00+08:00"))
        assertEquals(951_782_400_000L, Format.parseRfc3339("2000-02-29T00:00:00.000Z"))
    }

    @Test
    fun `what is not a timestamp gives null`() {
        assertNull(Format.parseRfc3339(null))
        assertNull(Format.parseRfc3339("yesterday"))
        assertNull(Format.parseRfc3339("2026-13-01T00:00:00Z"))
        assertNull(Format.parseRfc3339("2026-11-23 10:00"))
    }

    @Test
    fun `timestamps written and read agree, also before 1970 and across leap years`() {
        for (t in listOf(0L, 1_795_428_000_123L, -86_400_001L, 951_868_799_999L, 4_102_444_800_000L)) {
            assertEquals(t, Format.parseRfc3339(Format.rfc3339(t)))
        }
        assertEquals("2026-11-23T10:00:00.123Z", Format.rfc3339(1_795_428_000_123L))
    }

    @Test
    fun `local time is shown in the zone given, today without the date`() {
        val t = Format.parseRfc3339("2026-11-23T23:30:05Z")!!
        val beijing = 8 * 3_600_000L
        assertEquals("2026-11-24 07:30:05", Format.dateTime(t, beijing))
        assertEquals("07:30:05", Format.shortTime(t, t + 60_000, beijing))
        assertEquals("2026-11-24 07:30", Format.shortTime(t, t + 2 * 86_400_000L, beijing))
    }

    @Test
    fun `how long ago is said in the largest unit`() {
        assertEquals("just now", Format.ago(1000, 30_000))
        assertEquals("5 min ago", Format.ago(0, 5 * 60_000L + 1))
        assertEquals("3 h ago", Format.ago(0, 3 * 3_600_000L))
        assertEquals("2 d ago", Format.ago(0, 2 * 86_400_000L))
    }

    @Test
    fun `counts get thousands separators`() {
        assertEquals("0", Format.count(0))
        assertEquals("999", Format.count(999))
        assertEquals("1,000", Format.count(1000))
        assertEquals("1,234,567", Format.count(1_234_567))
        assertEquals("-12,000", Format.count(-12_000))
    }
}
