package org.phonehome.model

import org.phonehome.core.Contract

/** What is wrong with one value: its key (`imei`, `contact.phone`), the value, and why not. */
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

/**
 * Gets identifiers ready for the core. The rules are the core's own, asked through
 * [check] (`NativeCore.validateIdentifiers` in the app): here is only how people write
 * values down (several to a field, separators in printed numbers, decimal commas).
 */
object Validation {
    /** Identifiers JSON in, the core's verdict out (`NativeCore.validateIdentifiers`). */
    fun interface Check {
        fun validate(identifiersJson: String): String
    }

    private val separators = Regex("[,;\\n]+")

    /** "a, b\nc" -> [a, b, c]; blanks dropped, each trimmed, duplicates once. */
    fun splitValues(text: String): List<String> =
        text.split(separators).map { it.trim() }.filter { it.isNotEmpty() }.distinct()

    /** Spaces, dashes and slashes as *#06# and the box print them are not part of the value. */
    fun digitsOnly(value: String): String = value.filter { it !in " -/." }

    /**
     * Turns the typed fields into identifiers, normalised as the core keeps them, or lists
     * every problem at once.
     */
    fun parse(typed: TypedIdentifiers, check: Check): Pair<Identifiers, List<Problem>> {
        val problems = ArrayList<Problem>()
        val raw = Identifiers(
            region = typed.region.trim().takeIf { it.isNotEmpty() },
            imei = splitValues(typed.imei).map(::digitsOnly),
            imsi = splitValues(typed.imsi).map(::digitsOnly),
            iccid = splitValues(typed.iccid).map(::digitsOnly),
            phone = splitValues(typed.phone),
            serial = splitValues(typed.serial),
            mac = splitValues(typed.mac),
            email = splitValues(typed.email),
            adId = splitValues(typed.adId),
            location = parseLocation(typed.lat, typed.lon, typed.radiusM, problems),
        )
        val (ids, refused) = ask(raw, check)
        return ids to problems + refused
    }

    /**
     * Drops what the OS handed over but the core would refuse (it refuses the whole file
     * for one bad value): a contact's national number when no region is known, a two-letter
     * name, a one-word SMS. Returns the identifiers to use and how many values were dropped.
     */
    fun sanitise(ids: Identifiers, check: Check): Pair<Identifiers, Int> {
        val printed = ids.copy(
            imei = ids.imei.map(::digitsOnly),
            imsi = ids.imsi.map(::digitsOnly),
            iccid = ids.iccid.map(::digitsOnly),
        )
        val (kept, refused) = ask(printed, check)
        return kept to refused.size
    }

    /** The core's verdict on [ids]: what it keeps, and what it refuses and why. */
    private fun ask(ids: Identifiers, check: Check): Pair<Identifiers, List<Problem>> {
        val answer = Json.parse(check.validate(ids.toJson().toString())) as? Json.Obj
            ?: throw JsonException("the core's verdict is not a JSON object")
        val kept = Identifiers.fromJson(answer["identifiers"] ?: Json.Obj(emptyMap()))
        val problems = answer.objects("problems").map {
            Problem(it.string("field") ?: "", it.string("value") ?: "", it.string("message") ?: "")
        }
        return kept to problems
    }

    /** Reads the typed numbers (a decimal comma too); whether they are in range is the core's call. */
    private fun parseLocation(latText: String, lonText: String, radiusText: String, problems: MutableList<Problem>): Location? {
        val lt = latText.trim()
        val ln = lonText.trim()
        if (lt.isEmpty() && ln.isEmpty()) return null
        // "NaN" and "1e999" parse as doubles, but no place is there.
        val lat = lt.replace(',', '.').toDoubleOrNull()?.takeIf { it.isFinite() }
        val lon = ln.replace(',', '.').toDoubleOrNull()?.takeIf { it.isFinite() }
        val rt = radiusText.trim()
        val radius = if (rt.isEmpty()) Contract.DEFAULT_RADIUS_M else rt.toIntOrNull()
        if (lat == null) problems.add(Problem("location.lat", lt, "is not a number"))
        if (lon == null) problems.add(Problem("location.lon", ln, "is not a number"))
        if (radius == null) problems.add(Problem("location.radius_m", rt, "is not a whole number of metres"))
        return if (lat != null && lon != null && radius != null) Location(lat, lon, radius) else null
    }
}
