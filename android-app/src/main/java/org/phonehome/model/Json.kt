package org.phonehome.model

/**
 * A small JSON reader and writer. The model stays free of android.* (org.json exists only
 * on a device), so the core's answers, the identifiers file and the configuration are read
 * and written here and the same code runs in the JVM tests.
 */
sealed class Json {
    object Null : Json()
    data class Bool(val value: Boolean) : Json()
    /** Kept as written so 64-bit ids and doubles both survive. */
    data class Num(val text: String) : Json() {
        fun toLong(): Long? = text.toLongOrNull() ?: text.toDoubleOrNull()?.toLong()
        fun toDouble(): Double? = text.toDoubleOrNull()
    }
    data class Str(val value: String) : Json()
    data class Arr(val items: List<Json>) : Json()
    /** Keys keep their order, so what is written reads back the same. */
    data class Obj(val fields: Map<String, Json>) : Json() {
        operator fun get(key: String): Json? = fields[key]
        fun string(key: String): String? = (fields[key] as? Str)?.value
        fun long(key: String): Long? = (fields[key] as? Num)?.toLong()
        fun double(key: String): Double? = (fields[key] as? Num)?.toDouble()
        fun bool(key: String): Boolean? = (fields[key] as? Bool)?.value
        fun strings(key: String): List<String> = when (val v = fields[key]) {
            is Arr -> v.items.mapNotNull { (it as? Str)?.value }
            is Str -> listOf(v.value)
            else -> emptyList()
        }
        fun objects(key: String): List<Obj> = (fields[key] as? Arr)?.items?.filterIsInstance<Obj>().orEmpty()
    }

    /** Compact JSON text. */
    final override fun toString(): String = StringBuilder().also { write(it) }.toString()

    private fun write(out: StringBuilder) {
        when (this) {
            Null -> out.append("null")
            is Bool -> out.append(value)
            is Num -> out.append(text)
            is Str -> quote(value, out)
            is Arr -> {
                out.append('[')
                items.forEachIndexed { i, item ->
                    if (i > 0) out.append(',')
                    item.write(out)
                }
                out.append(']')
            }
            is Obj -> {
                out.append('{')
                var first = true
                for ((k, v) in fields) {
                    if (!first) out.append(',')
                    first = false
                    quote(k, out)
                    out.append(':')
                    v.write(out)
                }
                out.append('}')
            }
        }
    }

    companion object {
        fun of(value: String?): Json = if (value == null) Null else Str(value)
        fun of(value: Long): Json = Num(value.toString())
        fun of(value: Int): Json = Num(value.toString())
        fun of(value: Boolean): Json = Bool(value)
        fun of(value: Double): Json {
            require(value.isFinite()) { "JSON has no $value" }
            return Num(value.toString())
        }
        fun strings(values: List<String>): Json = Arr(values.map { Str(it) })
        fun obj(vararg fields: Pair<String, Json>): Obj = Obj(linkedMapOf(*fields))

        fun quote(s: String, out: StringBuilder) {
            out.append('"')
            for (c in s) {
                when (c) {
                    '"' -> out.append("\\\"")
                    '\\' -> out.append("\\\\")
                    '\n' -> out.append("\\n")
                    '\r' -> out.append("\\r")
                    '\t' -> out.append("\\t")
                    '\b' -> out.append("\\b")
                    '\u000C' -> out.append("\\f")
                    else -> if (c < ' ' || c == '\u2028' || c == '\u2029') {
                        out.append("\\u").append(String.format("%04x", c.code))
                    } else {
                        out.append(c)
                    }
                }
            }
            out.append('"')
        }

        /** Parses one JSON value; throws [JsonException] with the offset of what is wrong. */
        fun parse(text: String): Json = Parser(text).parseDocument()
    }
}

class JsonException(message: String) : IllegalArgumentException(message)

private class Parser(private val s: String) {
    private var i = 0
    private var depth = 0

    fun parseDocument(): Json {
        val v = value()
        skipSpace()
        if (i != s.length) fail("unexpected text after the value")
        return v
    }

    private fun fail(what: String): Nothing = throw JsonException("JSON at offset $i: $what")

    private fun skipSpace() {
        while (i < s.length && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
    }

    private fun value(): Json {
        skipSpace()
        if (i >= s.length) fail("unexpected end")
        return when (val c = s[i]) {
            '{' -> nested { obj() }
            '[' -> nested { arr() }
            '"' -> Json.Str(string())
            't' -> literal("true", Json.Bool(true))
            'f' -> literal("false", Json.Bool(false))
            'n' -> literal("null", Json.Null)
            else -> if (c == '-' || c in '0'..'9') number() else fail("unexpected '$c'")
        }
    }

    // Untrusted input must not overflow the stack.
    private inline fun nested(body: () -> Json): Json {
        if (++depth > 64) fail("nested too deeply")
        return body().also { depth-- }
    }

    private fun literal(word: String, v: Json): Json {
        if (!s.startsWith(word, i)) fail("expected $word")
        i += word.length
        return v
    }

    private fun number(): Json {
        val start = i
        if (s[i] == '-') i++
        while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
        val text = s.substring(start, i)
        if (text.toDoubleOrNull() == null) fail("bad number '$text'")
        return Json.Num(text)
    }

    private fun string(): String {
        i++ // opening quote
        val out = StringBuilder()
        while (true) {
            if (i >= s.length) fail("unterminated string")
            val c = s[i++]
            when {
                c == '"' -> return out.toString()
                c == '\\' -> {
                    if (i >= s.length) fail("unterminated escape")
                    when (val e = s[i++]) {
                        '"', '\\', '/' -> out.append(e)
                        'n' -> out.append('\n')
                        'r' -> out.append('\r')
                        't' -> out.append('\t')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000C')
                        'u' -> {
                            if (i + 4 > s.length) fail("short \\u escape")
                            val code = s.substring(i, i + 4).toIntOrNull(16) ?: fail("bad \\u escape")
                            out.append(code.toChar())
                            i += 4
                        }
                        else -> fail("bad escape '\\$e'")
                    }
                }
                c < ' ' -> fail("control character in string")
                else -> out.append(c)
            }
        }
    }

    private fun arr(): Json {
        i++
        val items = ArrayList<Json>()
        skipSpace()
        if (i < s.length && s[i] == ']') { i++; return Json.Arr(items) }
        while (true) {
            items.add(value())
            skipSpace()
            if (i >= s.length) fail("unterminated array")
            when (s[i++]) {
                ',' -> continue
                ']' -> return Json.Arr(items)
                else -> { i--; fail("expected ',' or ']'") }
            }
        }
    }

    private fun obj(): Json {
        i++
        val fields = LinkedHashMap<String, Json>()
        skipSpace()
        if (i < s.length && s[i] == '}') { i++; return Json.Obj(fields) }
        while (true) {
            skipSpace()
            if (i >= s.length || s[i] != '"') fail("expected a key")
            val key = string()
            skipSpace()
            if (i >= s.length || s[i] != ':') fail("expected ':'")
            i++
            fields[key] = value()
            skipSpace()
            if (i >= s.length) fail("unterminated object")
            when (s[i++]) {
                ',' -> continue
                '}' -> return Json.Obj(fields)
                else -> { i--; fail("expected ',' or '}'") }
            }
        }
    }
}
