package org.phonehome.model

/**
 * An identifier nobody configured that the core discovered (discovered.jsonl): a token
 * the phone sent unchanged, over time, to several destinations. [value] is the token
 * itself, kept so the user can add it to the identifiers; screens show [masked].
 */
data class Discovered(
    val value: String,
    /** `uuid`, `hex`, `base64` or `digits`. */
    val shape: String,
    /** The key names it was sent under, normalised (`X-Device-Id` is `deviceid`). */
    val keys: List<String>,
    val apps: List<String>,
    /** Registrable domains it went to. */
    val domains: List<String>,
    val hosts: List<String>,
    /** Milliseconds since the epoch. */
    val firstSeen: Long,
    val lastSeen: Long,
    val flows: Long,
    val sessions: Long,
    val masked: String,
) {
    companion object {
        fun fromJson(j: Json): Discovered? {
            val o = j as? Json.Obj ?: return null
            val value = o.string("value")?.takeIf { it.isNotEmpty() } ?: return null
            return Discovered(
                value = value,
                shape = o.string("shape") ?: "",
                keys = o.strings("keys"),
                apps = o.strings("apps"),
                domains = o.strings("domains"),
                hosts = o.strings("hosts"),
                firstSeen = Format.parseRfc3339(o.string("first_seen")) ?: return null,
                lastSeen = Format.parseRfc3339(o.string("last_seen")) ?: return null,
                flows = o.long("flows") ?: 0,
                sessions = o.long("sessions") ?: 0,
                masked = o.string("masked") ?: Masking.mask(value),
            )
        }
    }
}

/** What the discovered-identifiers screen lists: every discovered value the user did not ignore. */
object DiscoveredList {
    /** One entry; [added] when the value is among the identifiers the core is given. */
    data class Row(val discovered: Discovered, val added: Boolean)

    fun rows(all: List<Discovered>, ignored: Set<String>, identifiers: Identifiers): List<Row> {
        // The core finds ids in any case; so does this check (an OAID typed in capitals is the same one).
        val known = (identifiers.deviceId + identifiers.androidId + identifiers.adId + identifiers.serial)
            .map { it.lowercase() }.toSet()
        return all.filter { it.value !in ignored }.map { Row(it, it.value.lowercase() in known) }
    }

    /** [ids] with [value] added to its device ids (once). */
    fun add(ids: Identifiers, value: String): Identifiers =
        if (ids.deviceId.any { it.equals(value, ignoreCase = true) }) ids else ids.copy(deviceId = ids.deviceId + value)
}
