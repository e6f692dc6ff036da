package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Test

class IdentifiersTest {
    private val full = Identifiers(
        region = "CN",
        imei = listOf("861234567890123"),
        imsi = listOf("460011234567890"),
        iccid = listOf("89860012345678901234"),
        phone = listOf("+8613800138000"),
        carrier = listOf("China Mobile"),
        androidId = listOf("9774d56d682e549c"),
        adId = listOf("38400000-8cf0-11bd-b23e-10b96e40000d"),
        serial = listOf("0123456789ABCDEF"),
        deviceId = listOf("5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"),
        mac = listOf("02:00:00:44:55:66"),
        email = listOf("someone@example.com"),
        contacts = listOf(Contact("Li Wei", listOf("+8613912345678"), listOf("li.wei@example.com"))),
        sms = listOf(Sms("+8613700000000", "See you at the station at five")),
        location = Location(39.9042, 116.4074, 500),
    )

    @Test
    fun `the JSON has the keys of the README's identifiers file`() {
        val json = full.toJson().toString()
        assertEquals(
            """{"region":"CN","imei":["861234567890123"],"imsi":["460011234567890"],""" +
                """"iccid":["89860012345678901234"],"phone":["+8613800138000"],"carrier":["China Mobile"],""" +
                """"android_id":["9774d56d682e549c"],"ad_id":["38400000-8cf0-11bd-b23e-10b96e40000d"],""" +
                """"serial":["0123456789ABCDEF"],"device_id":["5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"],"mac":["02:00:00:44:55:66"],"email":["someone@example.com"],""" +
                """"contact":[{"name":"Li Wei","phone":["+8613912345678"],"email":["li.wei@example.com"]}],""" +
                """"sms":[{"peer":"+8613700000000","text":"See you at the station at five"}],""" +
                """"location":{"lat":39.9042,"lon":116.4074,"radius_m":500}}""",
            json,
        )
    }

    @Test
    fun `the stored file reads back into the same identifiers`() {
        assertEquals(full, Identifiers.fromJson(Json.parse(full.toJson().toString())))
    }

    @Test
    fun `empty lists are left out, so an empty set of identifiers is an empty object`() {
        assertEquals("{}", Identifiers().toJson().toString())
        assertEquals(0, Identifiers().count)
        assertEquals(14, full.count) // region is a setting, not a value to look for
    }

    @Test
    fun `values read from the OS and typed by hand are merged without repeats`() {
        val read = Identifiers(imsi = listOf("460011234567890"), androidId = listOf("9774d56d682e549c"))
        val typed = Identifiers(region = "CN", imei = listOf("861234567890123"), imsi = listOf("460011234567890"))
        val merged = read.plus(typed)
        assertEquals("CN", merged.region)
        assertEquals(listOf("460011234567890"), merged.imsi)
        assertEquals(listOf("861234567890123"), merged.imei)
        assertEquals(listOf("9774d56d682e549c"), merged.androidId)
    }
}
