package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class JsonTest {
    @Test
    fun `what is written reads back the same`() {
        val value = Json.obj(
            "s" to Json.Str("quote \" backslash \\ newline \n tab \t control \u0001 — ünïcode"),
            "n" to Json.of(18446744073709L),
            "d" to Json.of(39.9042),
            "b" to Json.of(true),
            "z" to Json.Null,
            "a" to Json.strings(listOf("x", "y")),
        )
        assertEquals(value, Json.parse(value.toString()))
    }

    @Test
    fun `control characters are escaped so the text stays one line`() {
        val text = Json.Str("a\nb\u0001\u2028").toString()
        assertEquals("\"a\\nb\\u0001\\u2028\"", text)
    }

    @Test
    fun `unicode escapes and surrogate pairs are decoded`() {
        assertEquals(Json.Str("é😀"), Json.parse("\"\\u00e9\\ud83d\\ude00\""))
    }

    @Test
    fun `object keys keep their order`() {
        val o = Json.parse("""{"z":1,"a":2,"m":3}""") as Json.Obj
        assertEquals(listOf("z", "a", "m"), o.fields.keys.toList())
    }

    @Test
    fun `typed getters give null for missing or mistyped fields`() {
        val o = Json.parse("""{"n":"12","s":5}""") as Json.Obj
        assertNull(o.long("n"))
        assertNull(o.string("s"))
        assertNull(o.string("missing"))
        assertEquals(emptyList<String>(), o.strings("missing"))
    }

    @Test
    fun `malformed input is refused with the offset of the problem`() {
        for (bad in listOf("", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "01x", "[1] 2", "{\"a\":1,}")) {
            try {
                Json.parse(bad)
                fail("accepted $bad")
            } catch (e: JsonException) {
                assertTrue(e.message!!, e.message!!.startsWith("JSON at offset"))
            }
        }
    }

    @Test
    fun `deeply nested input is refused instead of overflowing the stack`() {
        try {
            Json.parse("[".repeat(100_000))
            fail("accepted")
        } catch (e: JsonException) {
            assertTrue(e.message!!.contains("nested too deeply"))
        }
    }
}
