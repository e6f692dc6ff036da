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
