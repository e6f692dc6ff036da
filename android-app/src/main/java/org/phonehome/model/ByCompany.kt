package org.phonehome.model

/**
 * Whose a destination is, per app: the same host is first party for the app of its own
 * developer (YouTube's app and Google's hosts) and third party for every other app, so the
 * mark is kept per app rather than per host.
 */
data class Parties(val first: List<String?>, val third: List<String?>) {
    val known: Boolean get() = first.isNotEmpty() || third.isNotEmpty()

    /** Only the apps' own developer's: "first party". */
    val onlyFirst: Boolean get() = first.isNotEmpty() && third.isEmpty()

    operator fun plus(other: Parties): Parties =
        Parties((first + other.first).distinct(), (third + other.third).distinct())

    companion object {
        fun of(findings: List<Finding>): Parties {
            val byParty = findings.filter { it.party != null }.groupBy({ it.party }, { it.app })
            return Parties(byParty["first"].orEmpty().distinct(), byParty["third"].orEmpty().distinct())
        }
    }
}

/**
 * Everything one company received: its hosts, and under each the identifier kinds with the
 * apps that sent them. A destination the catalog does not know is a group of its own, named
 * by its registrable domain ([company] null).
 */
data class CompanySummary(
    /** The company as the catalog names it; null for a destination not in the catalog. */
    val company: String?,
    /** What the group is called: the company, or the registrable domain of an unknown one. */
    val name: String,
    /** What its hosts are for (`attribution`, `cloud-messaging`), in the catalog's words. */
    val categories: List<String>,
    /** Its owners, nearest first ("ironSource > Unity"). */
    val parent: String?,
    val parties: Parties,
    val destinations: List<DestinationSummary>,
    /** The apps that sent it something, the most findings first. */
    val apps: List<AppCount>,
    val lastSeen: Long,
) {
    /** Identifier kinds it received (encrypted connections aside), most identifying first. */
    val kinds: List<String>
        get() = destinations.flatMap { d -> d.identifierKinds.map { it.kind } }.distinct().sortedBy { Kinds.rank(it) }

    /** "attribution", "analytics, cloud messaging": the categories as people say them. */
    val what: String?
        get() = categories.mapNotNull { Companies.categoryName(it) }.distinct().joinToString(", ").ifEmpty { null }
}

/**
 * Groups what was sent by company, then destination, then identifier kind: who received
 * the phone's identifiers, from which apps. Companies that received identifiers come
 * before those that only saw encrypted connections, then those that reached the most apps
 * (one SDK in many apps links them all), then the most recent; hosts the catalog does not
 * know come last, each registrable domain a group of its own.
 */
object ByCompany {
    fun group(findings: List<Finding>): List<CompanySummary> =
        findings.filter { it.sent }.groupBy { key(it) }.map { (_, ofCompany) -> company(ofCompany) }
            .sortedWith(
                compareBy<CompanySummary> { it.company == null }
                    .thenBy { it.kinds.isEmpty() }
                    .thenByDescending { it.apps.size }
                    .thenByDescending { it.lastSeen }
                    .thenBy { it.name },
            )

    /**
     * Findings of one company go together; an unknown host goes with others of its
     * registrable domain, the core's ([Finding.groupDomain]).
     */
    private fun key(f: Finding): Pair<Boolean, String> =
        if (!f.company.isNullOrBlank()) true to f.company else false to f.groupDomain

    private fun company(findings: List<Finding>): CompanySummary {
        val company = findings.firstNotNullOfOrNull { it.company?.takeIf(String::isNotBlank) }
        val destinations = findings.groupBy { it.destination }.map { (host, ofHost) -> Grouping.destination(host, ofHost) }
            .sortedWith(compareBy<DestinationSummary> { it.identifierKinds.isEmpty() }.thenByDescending { it.lastSeen }.thenBy { it.host })
        return CompanySummary(
            company = company,
            name = company ?: findings.first().groupDomain,
            categories = findings.mapNotNull { it.category?.takeIf(String::isNotBlank) }.distinct().sortedBy(::categoryRank),
            parent = findings.firstNotNullOfOrNull { it.parent?.takeIf(String::isNotBlank) },
            parties = Parties.of(findings),
            destinations = destinations,
            apps = findings.groupingBy { it.app }.eachCount().map { (app, n) -> AppCount(app, n) }
                .sortedWith(compareByDescending<AppCount> { it.count }.thenBy { it.app ?: "\uFFFF" }),
            lastSeen = findings.maxOf { it.ts },
        )
    }

    private fun categoryRank(category: String): Int = CATEGORY_ORDER.indexOf(category).let { if (it < 0) CATEGORY_ORDER.size else it }

    /** Trackers first: what a person most wants to know a company is. */
    private val CATEGORY_ORDER = listOf(
        "advertising", "attribution", "analytics", "crash-reporting", "telemetry", "account",
        "cloud-messaging", "messaging", "first-party", "cdn", "vendor",
    )
}

/**
 * One sentence about a company, for the head of its card: "Received your IMEI, advertising
 * ID from 3 apps" or, when it saw only encrypted connections, "Encrypted connections from
 * 1 app". [count] says "3 apps" in the app's language.
 */
object CompanyLine {
    fun of(c: CompanySummary, count: (Int) -> String): String {
        val apps = count(c.apps.size)
        val kinds = c.kinds
        return if (kinds.isEmpty()) "Encrypted connections from $apps"
        else "Received your " + kinds.joinToString(", ") { Kinds.name(it) } + " from $apps"
    }

    /**
     * The first/third-party mark: "third party", "first party" (the app's own developer's),
     * or, when it is first party for some apps only, "first party for YouTube; third party
     * for others". Null when the records do not say. [label] names an app.
     */
    fun party(p: Parties, label: (String?) -> String): String? = when {
        !p.known -> null
        p.onlyFirst -> "first party"
        p.first.isEmpty() -> "third party"
        else -> "first party for " + p.first.joinToString(", ") { label(it) } + "; third party for others"
    }

    /** "Weather 3×, curl 1×": who sent a kind, and how often each. */
    fun apps(apps: List<AppCount>, label: (String?) -> String): String =
        apps.joinToString(", ") { "${label(it.app)} ${it.count}×" }
}
