package org.phonehome.model

/** One finding as the core reports it (findings.jsonl, plus `id` and `session` from the store). */
data class Finding(
    val id: Long?,
    val session: Long?,
    /** Milliseconds since the epoch. */
    val ts: Long,
    val flow: Long,
    val app: String?,
    val proto: String,
    val src: String,
    val dst: String,
    val host: String?,
    val hostSource: String?,
    /** The company behind the destination, from the core's catalog. */
    val company: String?,
    val category: String?,
    val service: String?,
    val kind: String,
    val encoding: String,
    val digestForm: String?,
    val truncated: Boolean,
    val where: String,
    val direction: String,
    val confidence: String,
    val evidence: String,
    val bytesOut: Long? = null,
    val bytesIn: Long? = null,
    /** The wrappings it was found inside, outermost first (`hex`, `gzip`); empty when none. */
    val layers: List<String> = emptyList(),
    /** The company's owners, nearest first, joined by " > ". */
    val parent: String? = null,
    /** "first" when the destination is the app's own developer's, "third" otherwise. */
    val party: String? = null,
    /** What TLS interception did with its flow ([org.phonehome.core.Contract.TLS_MODES]); null when nothing. */
    val tls: String? = null,
    /**
     * The registrable domain of [host] as the core computes it (`example.co.uk`,
     * `my-app.appspot.com`); null without a name, and in records from before the core sent it.
     */
    val domain: String? = null,
) {
    /** Where it went: the name when one is known, else the address. */
    val destination: String get() = host ?: dst

    /**
     * What a destination the catalog does not know is grouped by: the core's [domain], or
     * for records without one the app's simpler rule on [destination].
     */
    val groupDomain: String get() = domain?.takeIf { it.isNotBlank() } ?: Domains.registrable(destination)

    /**
     * Sent by the phone: a leak. False for what a server sent back (`direction` "in"): a
     * server answering with the user's own e-mail already knew it.
     */
    val sent: Boolean get() = direction != RECEIVED

    /** The form it travelled in: "plain", "sha1 (base64url, truncated)", "plain inside hex>gzip". */
    val form: String
        get() {
            val extra = listOfNotNull(digestForm, if (truncated) "truncated" else null)
            val form = if (extra.isEmpty()) encoding else "$encoding (${extra.joinToString(", ")})"
            return if (layers.isEmpty()) form else "$form inside ${layers.joinToString(">")}"
        }

    companion object {
        /** The `direction` of what was sent by the phone, and of what servers sent back. */
        const val SENT = "out"
        const val RECEIVED = "in"

        fun fromJson(j: Json): Finding? {
            val o = j as? Json.Obj ?: return null
            return Finding(
                id = o.long("id"),
                session = o.long("session"),
                ts = Format.parseRfc3339(o.string("ts")) ?: return null,
                flow = o.long("flow") ?: 0,
                app = o.string("app"),
                proto = o.string("proto") ?: "",
                src = o.string("src") ?: "",
                dst = o.string("dst") ?: "",
                host = o.string("host"),
                hostSource = o.string("host_source"),
                company = o.string("company") ?: o.string("vendor"),
                category = o.string("category"),
                service = o.string("service"),
                kind = o.string("kind") ?: return null,
                encoding = o.string("encoding") ?: "",
                digestForm = o.string("digest_form"),
                truncated = o.bool("truncated") ?: false,
                where = o.string("where") ?: "",
                direction = o.string("direction") ?: SENT,
                confidence = o.string("confidence") ?: "",
                evidence = o.string("evidence") ?: "",
                bytesOut = o.long("bytes_out"),
                bytesIn = o.long("bytes_in"),
                layers = o.strings("layers"),
                parent = o.string("parent"),
                party = o.string("party"),
                tls = o.string("tls"),
                domain = o.string("domain"),
            )
        }

        /** A JSON array of findings; entries that are not findings are skipped. */
        fun listFromJson(text: String): List<Finding> =
            ((Json.parse(text) as? Json.Arr)?.items ?: emptyList()).mapNotNull { fromJson(it) }
    }
}

/** One finished flow (flows.jsonl). */
data class Flow(
    val flow: Long,
    val session: Long?,
    val proto: String,
    val src: String,
    val dst: String,
    val bytesOut: Long,
    val bytesIn: Long,
    val start: Long,
    val end: Long,
    val close: String,
    val app: String?,
    val host: String?,
    val hostSource: String?,
    val company: String?,
    val category: String?,
    val service: String?,
    val parent: String? = null,
    val party: String? = null,
    /** What TLS interception did with it ([org.phonehome.core.Contract.TLS_MODES]); null when nothing. */
    val tls: String? = null,
    /** The registrable domain of [host], as in [Finding.domain]. */
    val domain: String? = null,
) {
    val destination: String get() = host ?: dst

    companion object {
        fun fromJson(j: Json): Flow? {
            val o = j as? Json.Obj ?: return null
            return Flow(
                flow = o.long("flow") ?: return null,
                session = o.long("session"),
                proto = o.string("proto") ?: "",
                src = o.string("src") ?: "",
                dst = o.string("dst") ?: "",
                bytesOut = o.long("bytes_out") ?: 0,
                bytesIn = o.long("bytes_in") ?: 0,
                start = Format.parseRfc3339(o.string("start")) ?: 0,
                end = Format.parseRfc3339(o.string("end")) ?: 0,
                close = o.string("close") ?: "",
                app = o.string("app"),
                host = o.string("host"),
                hostSource = o.string("host_source"),
                company = o.string("company") ?: o.string("vendor"),
                category = o.string("category"),
                service = o.string("service"),
                parent = o.string("parent"),
                party = o.string("party"),
                tls = o.string("tls"),
                domain = o.string("domain"),
            )
        }

        fun listFromJson(text: String): List<Flow> =
            ((Json.parse(text) as? Json.Arr)?.items ?: emptyList()).mapNotNull { fromJson(it) }
    }
}

/** The core's live counts (NativeCore.stats). */
data class Stats(
    val running: Boolean = false,
    val flowsOpen: Long = 0,
    val flowsTotal: Long = 0,
    val bytesOut: Long = 0,
    val bytesIn: Long = 0,
    /** Findings in what the phone sent: the leaks. */
    val findings: Long = 0,
    /** Findings in what servers sent back: counted apart, never as leaks. */
    val findingsReceived: Long = 0,
    val dropped: Long = 0,
    val protectFailures: Long = 0,
) {
    /** One line for the status notification: "12 open · 340 flows · ↑1.2 MB ↓8.0 MB · 3 findings". */
    fun summary(): String =
        "${Format.count(flowsOpen)} open · ${Format.count(flowsTotal)} flows · " +
            "↑${Format.bytes(bytesOut)} ↓${Format.bytes(bytesIn)} · ${Format.count(findings)} findings"

    companion object {
        fun fromJson(text: String): Stats {
            val o = Json.parse(text) as? Json.Obj ?: return Stats()
            return Stats(
                running = o.bool("running") ?: false,
                flowsOpen = o.long("flows_open") ?: 0,
                flowsTotal = o.long("flows_total") ?: 0,
                bytesOut = o.long("bytes_out") ?: 0,
                bytesIn = o.long("bytes_in") ?: 0,
                findings = o.long("findings") ?: 0,
                findingsReceived = o.long("findings_received") ?: 0,
                dropped = o.long("dropped") ?: 0,
                protectFailures = o.long("protect_failures") ?: 0,
            )
        }
    }
}

/** Names the company behind a destination the way people say it: "Xiaomi cloud messaging". */
object Companies {
    fun label(company: String?, category: String?): String? {
        if (company.isNullOrBlank()) return null
        val what = categoryName(category)
        return if (what == null) company else "$company $what"
    }

    /** A category as people say it ("cloud messaging"); null for none or the catch-all `vendor`. */
    fun categoryName(category: String?): String? = when (category) {
        null, "", "vendor" -> null
        else -> category.replace('-', ' ')
    }

    /** Whether a category is one people most want to know about (trackers, push, accounts). */
    fun isNotable(category: String?): Boolean = category in NOTABLE

    private val NOTABLE = setOf(
        "advertising", "attribution", "analytics", "crash-reporting", "telemetry",
        "cloud-messaging", "messaging", "account",
    )
}

/** Human words for where in the traffic a finding was (findings' `where`). */
object Places {
    private val names = mapOf(
        "url" to "URL", "header" to "headers", "cookie" to "cookies", "body" to "body",
        "payload" to "payload", "websocket" to "WebSocket messages",
    )

    fun name(where: String): String = names[where] ?: where
}

/** Human words for the identifier kinds. */
object Kinds {
    private val names = mapOf(
        "imei" to "IMEI", "imsi" to "IMSI (SIM subscriber)", "iccid" to "SIM serial (ICCID)",
        "phone" to "phone number", "carrier" to "carrier", "android_id" to "Android ID",
        "ad_id" to "advertising ID", "device_id" to "device ID", "serial" to "serial number", "mac" to "MAC address",
        "email" to "e-mail address", "contact" to "a contact", "sms" to "an SMS",
        "location" to "location", "encrypted-flow" to "encrypted connection",
    )

    fun name(kind: String): String = names[kind] ?: kind

    /** Kinds in the order of how much they identify a person or a phone. */
    private val order = listOf(
        "imei", "imsi", "iccid", "phone", "serial", "mac", "android_id", "ad_id", "device_id",
        "email", "contact", "sms", "location", "carrier", "encrypted-flow",
    )

    fun rank(kind: String): Int = order.indexOf(kind).let { if (it < 0) order.size else it }
}
