package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

/**
 * How typed and read values are prepared for the core and how its verdict is read. The
 * rules themselves are the core's: rust-core/jni/src/validate.rs tests them, and
 * tests/e2e/test_jni.py asks the real core through [Validation].
 */
class ValidationTest {
    /** Stands in for `NativeCore.validateIdentifiers`: remembers the question, gives [answer]. */
    private class FakeCore(val answer: String) : Validation.Check {
        var asked: Json.Obj? = null
        override fun validate(identifiersJson: String): String {
            asked = Json.parse(identifiersJson) as Json.Obj
            return answer
        }
    }

    private val allFine = """{"identifiers":{},"problems":[]}"""

    @Test
    fun `typed values are split by lines and commas, printed separators dropped`() {
        val core = FakeCore(allFine)
        Validation.parse(
            TypedIdentifiers(
                region = " cn ",
                imei = "490154203237518,\n 35-209900-176148-1 \n\n",
                phone = "138 0013 8000; +86 139 1234 5678",
                lat = "39,9042", lon = "116.4074",
            ),
            core,
        )
        val asked = core.asked!!
        assertEquals("cn", asked.string("region"))
        assertEquals(listOf("490154203237518", "352099001761481"), asked.strings("imei"))
        assertEquals(listOf("138 0013 8000", "+86 139 1234 5678"), asked.strings("phone"))
        val location = asked["location"] as Json.Obj
        assertEquals(39.9042, location.double("lat")!!, 0.0)
        assertEquals(500L, location.long("radius_m"))
    }

    @Test
    fun `the core's verdict becomes identifiers and problems`() {
        val core = FakeCore(
            """{"identifiers":{"region":"CN","imei":["490154203237518"],"phone":["+8613800138000"],
               "location":{"lat":39.9042,"lon":116.4074,"radius_m":500.0}},
               "problems":[{"field":"imei","value":"12ab","message":"is not 14 to 16 digits"}]}""",
        )
        val (ids, problems) = Validation.parse(TypedIdentifiers(imei = "12ab, 490154203237518"), core)
        assertEquals("CN", ids.region)
        assertEquals(listOf("490154203237518"), ids.imei)
        assertEquals(listOf("+8613800138000"), ids.phone)
        assertEquals(Location(39.9042, 116.4074, 500), ids.location)
        assertEquals(listOf(Problem("imei", "12ab", "is not 14 to 16 digits")), problems)
    }

    @Test
    fun `numbers that are not numbers are reported before the core is asked about the rest`() {
        val core = FakeCore(allFine)
        val (ids, problems) = Validation.parse(TypedIdentifiers(lat = "north", lon = "0", radiusM = "far"), core)
        assertEquals(listOf("location.lat", "location.radius_m"), problems.map { it.field })
        assertNull(core.asked!!["location"])
        assertNull(ids.location)
    }

    @Test
    fun `NaN and numbers too large for a double are not numbers either (they used to crash the save)`() {
        for (bad in listOf("NaN", "Infinity", "1e999")) {
            val (ids, problems) = Validation.parse(TypedIdentifiers(lat = bad, lon = "0"), FakeCore(allFine))
            assertEquals(listOf("location.lat"), problems.map { it.field })
            assertNull(ids.location)
        }
    }

    @Test
    fun `sanitising counts every value the core refused`() {
        val core = FakeCore(
            """{"identifiers":{"imsi":["460011234567890"]},"problems":[
               {"field":"imsi","value":"123","message":"is not 14 to 15 digits"},
               {"field":"carrier","value":"CM","message":"is shorter than 3 characters"}]}""",
        )
        val (ids, dropped) = Validation.sanitise(
            Identifiers(imsi = listOf("460 011 234 567 890", "123"), carrier = listOf("CM")),
            core,
        )
        assertEquals(listOf("460011234567890", "123"), core.asked!!.strings("imsi"))
        assertEquals(listOf("460011234567890"), ids.imsi)
        assertEquals(2, dropped)
    }
}
