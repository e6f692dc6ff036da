package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class ValidationTest {
    @Test
    fun `an IMEI with a correct Luhn check digit is accepted`() {
        assertTrue(Validation.luhnValid("490154203237518"))
        assertNull(Validation.imeiProblem("490154203237518"))
        assertNull(Validation.imeiProblem("49-015420-323751-8"))
    }

    @Test
    fun `an IMEI with one digit mistyped is caught by the check digit`() {
        assertFalse(Validation.luhnValid("490154203237519"))
        assertEquals("the last digit (check digit) does not match: mistyped?", Validation.imeiProblem("490154203237519"))
    }

    @Test
    fun `an IMEI without check digit (14) and an IMEISV (16) are accepted as the core accepts them`() {
        assertNull(Validation.imeiProblem("49015420323751"))
        assertNull(Validation.imeiProblem("4901542032375101"))
        assertNotNull(Validation.imeiProblem("4901542032375"))
        assertNotNull(Validation.imeiProblem("49015420323751a"))
    }

    @Test
    fun `IMSI and ICCID lengths follow the core`() {
        assertNull(Validation.imsiProblem("460011234567890"))
        assertNotNull(Validation.imsiProblem("46001"))
        assertNull(Validation.iccidProblem("89860012345678901234"))
        assertEquals("an ICCID starts with 89", Validation.iccidProblem("12860012345678901234"))
        assertNotNull(Validation.iccidProblem("8986001234"))
    }

    @Test
    fun `a national phone number needs the region, an international one does not`() {
        assertNull(Validation.phoneProblem("+86 138 0013 8000", null))
        assertNull(Validation.phoneProblem("0086 138 0013 8000", null))
        assertNotNull(Validation.phoneProblem("138 0013 8000", null))
        assertNull(Validation.phoneProblem("138 0013 8000", "CN"))
        assertNotNull(Validation.phoneProblem("+12", null))
        assertNotNull(Validation.phoneProblem("call me", "CN"))
    }

    @Test
    fun `MAC addresses are accepted in the forms the core reads and written with colons`() {
        for (mac in listOf("02:00:00:44:55:66", "02-00-00-44-55-66", "0200.0044.5566", "020000445566")) {
            assertNull(mac, Validation.macProblem(mac))
            assertEquals("02:00:00:44:55:66", Validation.normaliseMac(mac))
        }
        assertNotNull(Validation.macProblem("02:00:00:44:55"))
        assertNotNull(Validation.macProblem("02:00-00:44:55:66"))
        assertNotNull(Validation.macProblem("00:00:00:00:00:00"))
        assertNotNull(Validation.macProblem("ff:ff:ff:ff:ff:ff"))
    }

    @Test
    fun `an all-zero advertising ID means tracking is limited and is not looked for`() {
        assertNull(Validation.adIdProblem("38400000-8cf0-11bd-b23e-10b96e40000d"))
        assertNotNull(Validation.adIdProblem("00000000-0000-0000-0000-000000000000"))
        assertNotNull(Validation.adIdProblem("38400000-8cf0-11bd-b23e"))
    }

    @Test
    fun `typed values are split by lines and commas and normalised`() {
        val (ids, problems) = Validation.parse(
            TypedIdentifiers(
                region = "cn",
                imei = "490154203237518,\n 35-209900-176148-1 \n\n",
                phone = "138 0013 8000",
                mac = "02-00-00-44-55-66",
                adId = "38400000-8CF0-11BD-B23E-10B96E40000D",
                lat = "39,9042", lon = "116.4074",
            ),
        )
        assertEquals(emptyList<Problem>(), problems)
        assertEquals("CN", ids.region)
        assertEquals(listOf("490154203237518", "352099001761481"), ids.imei)
        assertEquals(listOf("13800138000"), ids.phone)
        assertEquals(listOf("02:00:00:44:55:66"), ids.mac)
        assertEquals(listOf("38400000-8cf0-11bd-b23e-10b96e40000d"), ids.adId)
        assertEquals(Location(39.9042, 116.4074, 500), ids.location)
    }

    @Test
    fun `every problem is reported at once, naming the field and the value`() {
        val (ids, problems) = Validation.parse(
            TypedIdentifiers(imei = "490154203237519, 490154203237518", email = "nobody", lat = "91", lon = "0"),
        )
        assertEquals(listOf("490154203237518"), ids.imei)
        assertEquals(listOf("imei", "email", "lat"), problems.map { it.field })
        assertEquals("490154203237519", problems[0].value)
        assertNull(ids.location)
    }

    @Test
    fun `what the OS hands over but the core would refuse is dropped, not sent`() {
        val read = Identifiers(
            region = null,
            imsi = listOf("460011234567890", "123"),
            carrier = listOf("CM", "China Mobile"),
            contacts = listOf(
                Contact("Li Wei", listOf("+86 139 1234 5678", "139 1234 5678"), listOf("li.wei@example.com")),
                Contact("Al", listOf("12345"), emptyList()),
            ),
            sms = listOf(Sms("+8613700000000", "ok"), Sms("10086", "Your balance is low")),
        )
        val (ids, dropped) = Validation.sanitise(read)
        assertEquals(listOf("460011234567890"), ids.imsi)
        assertEquals(listOf("China Mobile"), ids.carrier)
        // Without a region the national number cannot become E.164; the contact without any usable value goes.
        assertEquals(listOf(Contact("Li Wei", listOf("+8613912345678"), listOf("li.wei@example.com"))), ids.contacts)
        assertEquals(listOf(Sms("+8613700000000", null), Sms(null, "Your balance is low")), ids.sms)
        assertEquals(7, dropped)
    }
}
