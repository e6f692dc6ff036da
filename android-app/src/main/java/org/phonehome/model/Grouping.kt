package org.phonehome.model

import org.phonehome.core.Contract

/** One identifier kind that went to one destination: in which forms, how often, when. */
data class KindSummary(
    val kind: String,
    val forms: List<String>,
    val places: List<String>,
    val count: Int,
    val firstSeen: Long,
    val lastSeen: Long,
    val confidence: String,
    /** The newest finding's masked evidence. */
    val evidence: String,
    val flows: List<Long>,
    /** The newest finding's flow and session, for the flow detail (flow ids repeat across sessions). */
    val newestFlow: Long,
    val newestSession: Long?,
    /** The apps that sent it and how often each, the most frequent first. */
    val apps: List<AppCount> = emptyList(),
)

/** How many findings one app (null: owner unknown) accounts for. */
data class AppCount(val app: String?, val count: Int)

data class DestinationSummary(
    val host: String,
    /** "AppsFlyer attribution": the company and what the host is for, when the catalog knows. */
    val companyLabel: String?,
    val service: String?,
    val category: String?,
    val kinds: List<KindSummary>,
    val firstSeen: Long,
    val lastSeen: Long,
    /** Whose the host is, per app that sent to it (the core's `party`). */
    val parties: Parties = Parties(emptyList(), emptyList()),
) {
    /** Identifier kinds only: an encrypted connection alone says who was talked to, not what. */
    val identifierKinds: List<KindSummary> get() = kinds.filter { it.kind != Contract.ENCRYPTED_FLOW }
}

data class AppSummary(
    /** The package (or uid name) the core recorded; null when the owner is unknown. */
    val app: String?,
    val destinations: List<DestinationSummary>,
    val lastSeen: Long,
) {
    val kinds: List<String>
        get() = destinations.flatMap { d -> d.kinds.map { it.kind } }.distinct().sortedBy { Kinds.rank(it) }
}

/**
 * What one server sent back to one app that held the phone's own identifiers: not a leak
 * (the server already knew them), so it is shown apart from what was sent, and shorter.
 */
data class ReceivedSummary(
    val app: String?,
    val host: String,
    val companyLabel: String?,
    /** Identifier kinds, most identifying first. */
    val kinds: List<String>,
    val count: Int,
    val lastSeen: Long,
)

/**
 * Groups findings by app, then destination, then identifier kind, as the findings screen
 * shows them. Apps and destinations sending identifiers come before those with only
 * encrypted connections, then the most recent first; kinds go from the most identifying.
 */
object Grouping {
    /** What was sent, grouped; findings in what servers sent back are left out (see [received]). */
    fun group(findings: List<Finding>): List<AppSummary> =
        findings.filter { it.sent }.groupBy { it.app }.map { (app, ofApp) ->
            val destinations = ofApp.groupBy { it.destination }.map { (host, ofHost) -> destination(host, ofHost) }
                .sortedWith(compareBy<DestinationSummary> { it.identifierKinds.isEmpty() }.thenByDescending { it.lastSeen }.thenBy { it.host })
            AppSummary(app, destinations, ofApp.maxOf { it.ts })
        }.sortedWith(
            compareBy<AppSummary> { a -> a.destinations.all { it.identifierKinds.isEmpty() } }
                .thenByDescending { it.lastSeen }
                .thenBy { it.app ?: "" },
        )

    /** What servers sent back, one entry per app and server, the most recent first. */
    fun received(findings: List<Finding>): List<ReceivedSummary> =
        findings.filter { !it.sent }.groupBy { it.app to it.destination }.map { (key, ofPair) ->
            val tagged = ofPair.firstOrNull { it.company != null } ?: ofPair.first()
            ReceivedSummary(
                app = key.first,
                host = key.second,
                companyLabel = Companies.label(tagged.company, tagged.category),
                kinds = ofPair.map { it.kind }.distinct().sortedBy { Kinds.rank(it) },
                count = ofPair.size,
                lastSeen = ofPair.maxOf { it.ts },
            )
        }.sortedWith(compareByDescending<ReceivedSummary> { it.lastSeen }.thenBy { it.app ?: "" }.thenBy { it.host })

    internal fun destination(host: String, findings: List<Finding>): DestinationSummary {
        // Some findings of a host may lack the catalog fields (a flow named late): take any that has them.
        val tagged = findings.firstOrNull { it.company != null } ?: findings.first()
        return DestinationSummary(
            host = host,
            companyLabel = Companies.label(tagged.company, tagged.category),
            service = tagged.service,
            category = tagged.category,
            kinds = kinds(findings),
            firstSeen = findings.minOf { it.ts },
            lastSeen = findings.maxOf { it.ts },
            parties = Parties.of(findings),
        )
    }

    /** One summary per identifier kind, the most identifying first. */
    internal fun kinds(findings: List<Finding>): List<KindSummary> =
        findings.groupBy { it.kind }.map { (kind, ofKind) ->
            val newest = ofKind.maxByOrNull { it.ts }!!
            KindSummary(
                kind = kind,
                forms = ofKind.map { it.form }.distinct().sorted(),
                places = ofKind.map { it.where }.filter { it.isNotEmpty() }.distinct().sorted(),
                count = ofKind.size,
                firstSeen = ofKind.minOf { it.ts },
                lastSeen = newest.ts,
                confidence = if (ofKind.any { it.confidence == "exact" }) "exact" else newest.confidence,
                evidence = newest.evidence,
                flows = ofKind.map { it.flow }.distinct(),
                newestFlow = newest.flow,
                newestSession = newest.session,
                apps = ofKind.groupingBy { it.app }.eachCount().map { (app, n) -> AppCount(app, n) }
                    .sortedWith(compareByDescending<AppCount> { it.count }.thenBy { it.app ?: "\uFFFF" }),
            )
        }.sortedBy { Kinds.rank(it.kind) }
}

/**
 * Remembers which (app, destination, kind) triples were already seen, so that only the
 * first time an app sends a kind of identifier to a destination raises a notification.
 * Stored as one tab-separated line per triple; bounded so a noisy app cannot grow it forever.
 */
class FirstSeen(private val limit: Int = 20_000) {
    private val seen = LinkedHashSet<String>()

    val size: Int get() = seen.size

    /** True the first time this finding's triple is seen (encrypted connections never notify). */
    fun observe(f: Finding): Boolean {
        // What a server sent back is not a leak: it never notifies.
        if (f.kind == Contract.ENCRYPTED_FLOW || !f.sent) return false
        val key = key(f.app, f.destination, f.kind)
        if (!seen.add(key)) return false
        if (seen.size > limit) seen.remove(seen.first())
        return true
    }

    fun contains(app: String?, host: String, kind: String): Boolean = key(app, host, kind) in seen

    fun serialise(): String = seen.joinToString("") { "$it\n" }

    fun load(text: String) {
        seen.clear()
        text.lineSequence().filter { it.count { c -> c == '\t' } == 2 }.forEach { seen.add(it) }
        while (seen.size > limit) seen.remove(seen.first())
    }

    private fun key(app: String?, host: String, kind: String): String =
        listOf(app ?: "", host, kind).joinToString("\t") { it.replace('\t', ' ').replace('\n', ' ') }
}
