package org.phonehome.model

/** What is wrong with one typed value, in words for the settings screen. */
data class Problem(val field: String, val value: String, val message: String)

/** The identifiers typed in the settings screen: one text per field, values split by line or comma. */
data class TypedIdentifiers(
    val region: String = "",
    val imei: String = "",
    val imsi: String = "",
    val iccid: String = "",
    val phone: String = "",
    val serial: String = "",
    val mac: String = "",
    val email: String = "",
    val adId: String = "",
    val lat: String = "",
    val lon: String = "",
    val radiusM: String = "",
)

/** Checks typed identifiers before they reach the core, which would refuse the whole file. */
object Validation {
    private val separators = Regex("[,;\\n]+")

    /** "a, b\nc" -> [a, b, c]; blanks dropped, each trimmed, duplicates once. */
    fun splitValues(text: String): List<String> =
        text.split(separators).map { it.trim() }.filter { it.isNotEmpty() }.distinct()

    /** Luhn check over a string of digits (the last one is the check digit). */
    fun luhnValid(digits: String): Boolean {
        if (digits.isEmpty() || !digits.all { it in '0'..'9' }) return false
        var sum = 0
        for ((pos, c) in digits.reversed().withIndex()) {
            var d = c - '0'
            if (pos % 2 == 1) {
                d *= 2
                if (d > 9) d -= 9
            }
            sum += d
        }
        return sum % 10 == 0
    }

    /** Spaces, dashes and slashes as *#06# and the box print them are not part of the value. */
    fun digitsOnly(value: String): String = value.filter { it !in " -/." }

    /** null when fine, otherwise why not. An IMEI is 15 digits with a Luhn check digit; 14 (no check digit) and 16 (IMEISV) are accepted too. */
    fun imeiProblem(value: String): String? {
        val d = digitsOnly(value)
        if (!d.all { it in '0'..'9' }) return "an IMEI has digits only"
        return when (d.length) {
            14, 16 -> null
            15 -> if (luhnValid(d)) null else "the last digit (check digit) does not match: mistyped?"
            else -> "an IMEI has 15 digits (got ${d.length})"
        }
    }

    fun imsiProblem(value: String): String? {
        val d = digitsOnly(value)
        if (!d.all { it in '0'..'9' }) return "an IMSI has digits only"
        return if (d.length in 14..15) null else "an IMSI has 14 or 15 digits (got ${d.length})"
    }

    // The core takes 18 to 22 digits; every ICCID starts with 89 (telecommunications).
    fun iccidProblem(value: String): String? {
        val d = digitsOnly(value)
        if (!d.all { it in '0'..'9' }) return "an ICCID has digits only"
        if (d.length !in 18..22) return "an ICCID has 18 to 22 digits (got ${d.length})"
        return if (d.startsWith("89")) null else "an ICCID starts with 89"
    }

    private const val PHONE_SEPARATORS = " -()./"

    /**
     * A number with its country code (+86 138..., 0086 138...) is always understood; a
     * national one only with [region] set, which the core needs to turn it into E.164.
     */
    fun phoneProblem(value: String, region: String?): String? {
        val v = value.trim().filter { it !in PHONE_SEPARATORS }
        val international = v.startsWith("+") || v.startsWith("00")
        val digits = v.removePrefix("+")
        if (digits.isEmpty() || !digits.all { it in '0'..'9' }) return "a phone number has digits, and may start with +"
        if (!international && region.isNullOrEmpty()) return "write it as +<country code><number>, or set the region"
        val significant = if (v.startsWith("00")) digits.length - 2 else digits.length
        return if (significant in 7..15) null else "a phone number has 7 to 15 digits with its country code"
    }

    fun normalisePhone(value: String): String = value.trim().filter { it !in PHONE_SEPARATORS }

    private val hex = "0123456789abcdefABCDEF"

    // The forms the core reads: aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff, 12 hex digits.
    fun macProblem(value: String): String? {
        val v = value.trim()
        val ok = when (v.length) {
            17 -> (v[2] == ':' || v[2] == '-') && (2 until 17 step 3).all { v[it] == v[2] } &&
                v.filterIndexed { i, _ -> i % 3 != 2 }.all { it in hex }
            14 -> v[4] == '.' && v[9] == '.' && v.filter { it != '.' }.let { it.length == 12 && it.all { c -> c in hex } }
            12 -> v.all { it in hex }
            else -> false
        }
        if (!ok) return "a MAC address looks like 02:00:00:44:55:66"
        val h = v.filter { it in hex }.lowercase()
        return if (h == "000000000000" || h == "ffffffffffff") "the all-zero and broadcast addresses are not a device's" else null
    }

    fun emailProblem(value: String): String? {
        val v = value.trim()
        val at = v.indexOf('@')
        return when {
            at <= 0 || at == v.length - 1 || v.indexOf('@', at + 1) >= 0 -> "not an e-mail address (name@domain)"
            v.any { it.isWhitespace() } -> "an e-mail address has no spaces"
            else -> null
        }
    }

    fun adIdProblem(value: String): String? {
        val v = value.trim()
        val ok = v.length == 36 && v.withIndex().all { (i, c) -> if (i == 8 || i == 13 || i == 18 || i == 23) c == '-' else c in hex }
        if (!ok) return "an advertising ID looks like 38400000-8cf0-11bd-b23e-10b96e40000d"
        return if (v.all { it == '0' || it == '-' }) "all zeros: ad tracking is limited on this phone, nothing to look for" else null
    }

    fun serialProblem(value: String): String? =
        if (value.trim().length in 6..32 && value.trim().all { it in 'a'..'z' || it in 'A'..'Z' || it in '0'..'9' }) null
        else "a serial number has 6 to 32 letters and digits"

    fun androidIdProblem(value: String): String? =
        if (value.length in 8..16 && value.all { it in hex }) null else "an Android ID has 8 to 16 hex digits"

    /** Names and texts too short to look for without false alarms (the core's limits). */
    const val MIN_NAME = 3
    const val MIN_SMS_TEXT = 4
    const val MIN_CARRIER = 3

    fun regionProblem(value: String): String? =
        if (value.length == 2 && value.all { it in 'A'..'Z' || it in 'a'..'z' }) null
        else "a region is a two-letter country code such as CN or DE"

    /**
     * Turns the typed fields into identifiers, normalised as the core expects them (digits
     * without separators, region in upper case), or lists every problem at once.
     */
    fun parse(typed: TypedIdentifiers): Pair<Identifiers, List<Problem>> {
        val problems = ArrayList<Problem>()
        fun field(name: String, text: String, check: (String) -> String?, normalise: (String) -> String): List<String> =
            splitValues(text).mapNotNull { v ->
                val why = check(v)
                if (why != null) {
                    problems.add(Problem(name, v, why))
                    null
                } else {
                    normalise(v)
                }
            }.distinct()

        val region = typed.region.trim().takeIf { it.isNotEmpty() }?.let {
            val why = regionProblem(it)
            if (why != null) { problems.add(Problem("region", it, why)); null } else it.uppercase()
        }
        val imei = field("imei", typed.imei, ::imeiProblem, ::digitsOnly)
        val imsi = field("imsi", typed.imsi, ::imsiProblem, ::digitsOnly)
        val iccid = field("iccid", typed.iccid, ::iccidProblem) { digitsOnly(it).uppercase() }
        val phone = field("phone", typed.phone, { phoneProblem(it, region) }, ::normalisePhone)
        val serial = field("serial", typed.serial, ::serialProblem) { it }
        val mac = field("mac", typed.mac, ::macProblem) { normaliseMac(it) }
        val email = field("email", typed.email, ::emailProblem) { it }
        val adId = field("ad_id", typed.adId, ::adIdProblem) { it.lowercase() }
        val location = parseLocation(typed.lat, typed.lon, typed.radiusM, problems)
        return Identifiers(
            region = region, imei = imei, imsi = imsi, iccid = iccid, phone = phone, serial = serial,
            mac = mac, email = email, adId = adId, location = location,
        ) to problems
    }

    /** 02-00-00-44-55-66, 0200.0044.5566 ... -> 02:00:00:44:55:66. */
    fun normaliseMac(value: String): String =
        value.filter { it in hex }.lowercase().chunked(2).joinToString(":")

    /**
     * Drops what the OS handed over but the core would refuse (it refuses the whole file
     * for one bad value): a contact's national number when no region is known, a two-letter
     * name, a one-word SMS. Returns the identifiers to use and how many values were dropped.
     */
    fun sanitise(ids: Identifiers): Pair<Identifiers, Int> {
        var dropped = 0
        fun <T> keep(values: List<T>, ok: (T) -> Boolean): List<T> =
            values.filter { v -> ok(v).also { if (!it) dropped++ } }
        val region = ids.region?.takeIf { regionProblem(it) == null }?.uppercase()
        if (ids.region != null && region == null) dropped++
        val phoneOk = { p: String -> phoneProblem(p, region) == null }
        val contacts = ids.contacts.mapNotNull { c ->
            val name = c.name?.trim()?.takeIf { it.length >= MIN_NAME }
            if (c.name != null && name == null) dropped++
            val contact = Contact(name, keep(c.phone, phoneOk).map(::normalisePhone), keep(c.email) { emailProblem(it) == null }.map { it.trim() })
            contact.takeIf { it.phone.isNotEmpty() || it.email.isNotEmpty() }
        }
        val sms = ids.sms.mapNotNull { m ->
            val peer = m.peer?.takeIf(phoneOk)?.let(::normalisePhone)
            if (m.peer != null && peer == null) dropped++
            val text = m.text?.trim()?.takeIf { it.length >= MIN_SMS_TEXT }
            if (m.text != null && text == null) dropped++
            if (peer == null && text == null) null else Sms(peer, text)
        }
        return ids.copy(
            region = region,
            imei = keep(ids.imei.map(::digitsOnly)) { imeiProblem(it) == null },
            imsi = keep(ids.imsi.map(::digitsOnly)) { imsiProblem(it) == null },
            iccid = keep(ids.iccid.map(::digitsOnly)) { iccidProblem(it) == null },
            phone = keep(ids.phone, phoneOk).map(::normalisePhone),
            carrier = keep(ids.carrier.map { it.trim() }) { it.length >= MIN_CARRIER },
            androidId = keep(ids.androidId) { androidIdProblem(it) == null },
            adId = keep(ids.adId) { adIdProblem(it) == null }.map { it.trim().lowercase() },
            serial = keep(ids.serial) { serialProblem(it) == null }.map { it.trim() },
            mac = keep(ids.mac) { macProblem(it) == null }.map(::normaliseMac),
            email = keep(ids.email) { emailProblem(it) == null }.map { it.trim() },
            contacts = contacts,
            sms = sms,
        ).let { it.copy(imei = it.imei.distinct(), phone = it.phone.distinct()) } to dropped
    }

    private fun parseLocation(latText: String, lonText: String, radiusText: String, problems: MutableList<Problem>): Location? {
        val lt = latText.trim()
        val ln = lonText.trim()
        if (lt.isEmpty() && ln.isEmpty()) return null
        val lat = lt.replace(',', '.').toDoubleOrNull()
        val lon = ln.replace(',', '.').toDoubleOrNull()
        var ok = true
        if (lat == null || lat !in -90.0..90.0) { problems.add(Problem("lat", lt, "latitude is a number from -90 to 90")); ok = false }
        if (lon == null || lon !in -180.0..180.0) { problems.add(Problem("lon", ln, "longitude is a number from -180 to 180")); ok = false }
        val rt = radiusText.trim()
        val radius = if (rt.isEmpty()) 500 else rt.toIntOrNull()
        if (radius == null || radius !in 1..1_000_000) { problems.add(Problem("radius_m", rt, "radius is 1 to 1000000 metres")); ok = false }
        return if (ok) Location(lat!!, lon!!, radius!!) else null
    }
}
