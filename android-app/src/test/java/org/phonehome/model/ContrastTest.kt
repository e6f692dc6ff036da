package org.phonehome.model

import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * The palette's text colours against the backgrounds they are drawn on, in both themes:
 * at least 4.5:1 (WCAG 2.x AA for body text). Colours are read from res/ itself, so a
 * changed colour is checked without anyone editing this test.
 */
class ContrastTest {
    private val res = listOf(File("../src/main/res"), File("android-app/src/main/res")).first { it.isDirectory }

    private fun palette(folder: String): Map<String, Int> {
        val text = File(res, "$folder/colors.xml").readText()
        return Regex("""<color name="([a-z_]+)">#([0-9A-Fa-f]{8})</color>""").findAll(text)
            .associate { it.groupValues[1] to it.groupValues[2].toLong(16).toInt() }
    }

    /** (text, background) as the screens draw them (Ui.kt, Screen.kt, row_app.xml). */
    private val pairs = listOf(
        "on_app_bar" to "app_bar",
        "on_app_bar" to "status_bar",
        "text_primary" to "background",
        "text_primary" to "surface",
        "text_secondary" to "background",
        "text_secondary" to "surface",
        "on_accent" to "accent",
        "accent" to "surface",
        "on_danger" to "danger",
        "on_warning" to "warning",
        "on_chip" to "chip",
    )

    @Test
    fun `every text colour reaches 4_5 to 1 on its background, light and dark`() {
        for (folder in listOf("values", "values-night")) {
            val p = palette(folder)
            for ((fg, bg) in pairs) {
                val ratio = Contrast.ratio(p.getValue(fg), p.getValue(bg))
                assertTrue("$folder: $fg on $bg is ${"%.2f".format(ratio)}:1", ratio >= 4.5)
            }
        }
    }

    @Test
    fun `both themes define the same colours`() {
        assertEquals(palette("values").keys, palette("values-night").keys)
    }

    @Test
    fun `the ratio is WCAG's`() {
        assertEquals(21.0, Contrast.ratio(0xFF000000.toInt(), 0xFFFFFFFF.toInt()), 0.01)
        assertEquals(1.0, Contrast.ratio(0xFF00695C.toInt(), 0xFF00695C.toInt()), 0.001)
        // The old action bar: Material's dark title (87% black on teal, as drawn) fails.
        assertTrue(Contrast.ratio(0xFF212121.toInt(), 0xFF00695C.toInt()) < 4.5)
        // The new one: white on the same teal passes.
        assertEquals(6.59, Contrast.ratio(0xFFFFFFFF.toInt(), 0xFF00695C.toInt()), 0.05)
    }
}
