package org.phonehome.model

/** WCAG 2.x contrast ratio between two opaque colours (0xAARRGGBB; alpha ignored). */
object Contrast {
    private fun channel(c: Int): Double {
        val s = (c and 0xFF) / 255.0
        return if (s <= 0.03928) s / 12.92 else Math.pow((s + 0.055) / 1.055, 2.4)
    }

    fun luminance(argb: Int): Double =
        0.2126 * channel(argb shr 16) + 0.7152 * channel(argb shr 8) + 0.0722 * channel(argb)

    fun ratio(a: Int, b: Int): Double {
        val la = luminance(a)
        val lb = luminance(b)
        return (maxOf(la, lb) + 0.05) / (minOf(la, lb) + 0.05)
    }

    /** [fg] with its alpha drawn over the opaque [bg]: what the eye sees of a translucent text colour. */
    fun over(fg: Int, bg: Int): Int {
        val a = (fg ushr 24) / 255.0
        fun mix(shift: Int): Int = (((fg shr shift) and 0xFF) * a + ((bg shr shift) and 0xFF) * (1 - a)).toInt()
        return (0xFF shl 24) or (mix(16) shl 16) or (mix(8) shl 8) or mix(0)
    }
}
