package org.phonehome.model

/**
 * Numbers, sizes, durations and times as the screens show them. Time zone offsets are
 * passed in (the Android layer asks TimeZone), so the output does not depend on the
 * machine the tests run on; java.time is avoided because minSdk 24 lacks it.
 */
object Format {
    /** 0 B, 999 B, 1.0 kB, 12.3 MB ... (decimal units, as Android's own data usage screen). */
    fun bytes(n: Long): String {
        if (n < 0) return "-" + bytes(-n)
        if (n < 1000) return "$n B"
        val units = arrayOf("kB", "MB", "GB", "TB", "PB", "EB")
        var value = n.toDouble() / 1000
        var u = 0
        while (value >= 999.95 && u < units.size - 1) {
            value /= 1000
            u++
        }
        return if (value < 100) "${oneDecimal(value)} ${units[u]}" else "${Math.round(value)} ${units[u]}"
    }

    private fun oneDecimal(v: Double): String {
        val tenths = Math.round(v * 10)
        return "${tenths / 10}.${tenths % 10}"
    }

    /** 450 ms, 12 s, 3 min 05 s, 2 h 07 min, 3 d 4 h. */
    fun duration(ms: Long): String {
        if (ms < 0) return duration(0)
        if (ms < 1000) return "$ms ms"
        val s = ms / 1000
        if (s < 60) return "$s s"
        val m = s / 60
        if (m < 60) return "$m min ${two(s % 60)} s"
        val h = m / 60
        if (h < 24) return "$h h ${two(m % 60)} min"
        return "${h / 24} d ${h % 24} h"
    }

    /** "just now", "5 min ago", "3 h ago", "2 d ago" — how long before [now]. */
    fun ago(ts: Long, now: Long): String {
        val d = now - ts
        return when {
            d < 60_000 -> "just now"
            d < 3_600_000 -> "${d / 60_000} min ago"
            d < 86_400_000 -> "${d / 3_600_000} h ago"
            else -> "${d / 86_400_000} d ago"
        }
    }

    private fun two(n: Long) = if (n < 10) "0$n" else "$n"
    private fun three(n: Long) = if (n < 10) "00$n" else if (n < 100) "0$n" else "$n"

    /** "2026-11-23 14:05:07" in the zone [offsetMs] ahead of UTC. */
    fun dateTime(epochMs: Long, offsetMs: Long): String {
        val local = epochMs + offsetMs
        val days = Math.floorDiv(local, 86_400_000L)
        val msOfDay = Math.floorMod(local, 86_400_000L)
        val (y, mo, d) = civilFromDays(days)
        val secs = msOfDay / 1000
        return "$y-${two(mo.toLong())}-${two(d.toLong())} ${two(secs / 3600)}:${two(secs / 60 % 60)}:${two(secs % 60)}"
    }

    /** Like [dateTime] but leaves out the date when it is the same day as [now]. */
    fun shortTime(epochMs: Long, now: Long, offsetMs: Long): String {
        val full = dateTime(epochMs, offsetMs)
        return if (full.substring(0, 10) == dateTime(now, offsetMs).substring(0, 10)) full.substring(11) else full.substring(0, 16)
    }

    /** RFC 3339 in UTC with milliseconds, as the core writes: 2026-11-23T10:00:00.123Z. */
    fun rfc3339(epochMs: Long): String {
        val days = Math.floorDiv(epochMs, 86_400_000L)
        val msOfDay = Math.floorMod(epochMs, 86_400_000L)
        val (y, mo, d) = civilFromDays(days)
        val secs = msOfDay / 1000
        return "$y-${two(mo.toLong())}-${two(d.toLong())}T${two(secs / 3600)}:${two(secs / 60 % 60)}:${two(secs % 60)}.${three(msOfDay % 1000)}Z"
    }

    private val rfc3339Pattern =
        Regex("^(\\d{4})-(\\d{2})-(\\d{2})[Tt ](\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$")

    /** Milliseconds since the epoch, or null when [text] is not an RFC 3339 timestamp. */
    fun parseRfc3339(text: String?): Long? {
        val m = rfc3339Pattern.matchEntire(text ?: return null) ?: return null
        val g = m.groupValues
        val y = g[1].toInt()
        val mo = g[2].toInt()
        val d = g[3].toInt()
        val h = g[4].toInt()
        val mi = g[5].toInt()
        val s = g[6].toInt()
        if (mo !in 1..12 || d !in 1..31 || h > 23 || mi > 59 || s > 60) return null
        val frac = g[7].drop(1).take(3).padEnd(3, '0').ifEmpty { "000" }.toLong()
        val offsetMin = when (val z = g[8]) {
            "Z", "z" -> 0
            else -> (z.substring(1, 3).toInt() * 60 + z.substring(4, 6).toInt()) * (if (z[0] == '-') -1 else 1)
        }
        val days = daysFromCivil(y, mo, d)
        return ((days * 86_400L + h * 3600L + mi * 60L + s) - offsetMin * 60L) * 1000L + frac
    }

    // Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
    internal fun daysFromCivil(year: Int, month: Int, day: Int): Long {
        val y = (if (month <= 2) year - 1 else year).toLong()
        val era = Math.floorDiv(y, 400L)
        val yoe = y - era * 400
        val mp = (month + 9) % 12
        val doy = (153 * mp + 2) / 5 + day - 1
        val doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    internal fun civilFromDays(days: Long): Triple<Int, Int, Int> {
        val z = days + 719_468
        val era = Math.floorDiv(z, 146_097L)
        val doe = z - era * 146_097
        val yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        val doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        val mp = (5 * doy + 2) / 153
        val d = (doy - (153 * mp + 2) / 5 + 1).toInt()
        val m = (if (mp < 10) mp + 3 else mp - 9).toInt()
        val y = (yoe + era * 400 + (if (m <= 2) 1 else 0)).toInt()
        return Triple(y, m, d)
    }

    /** 1,234,567 */
    fun count(n: Long): String {
        val s = kotlin.math.abs(n).toString()
        val out = StringBuilder()
        for ((i, c) in s.withIndex()) {
            if (i > 0 && (s.length - i) % 3 == 0) out.append(',')
            out.append(c)
        }
        return (if (n < 0) "-" else "") + out
    }
}

/**
 * Masks a value for display: keeps at most the first 2 and the last 4 characters, and
 * never more than a third of them, like the core's evidence (`86*********0123`), so a
 * value typed here looks the same as in a finding.
 */
object Masking {
    fun mask(s: String): String {
        val n = s.length
        var head = minOf(2, n / 5)
        var tail = minOf(4, n / 3)
        while (head + tail > n / 2 && tail > 0) tail--
        if (head + tail > n / 2) head = 0
        return s.substring(0, head) + "*".repeat(n - head - tail) + s.substring(n - tail)
    }

    /** Several values, each masked, for one settings row. */
    fun maskAll(values: List<String>): String = values.joinToString(", ") { mask(it) }
}
