package org.phonehome.model

import org.phonehome.core.Contract

/**
 * What the status screen says at a glance: what left the phone since local midnight, by
 * which apps, to which servers. Pure: the findings and the start of the day are passed in.
 */
data class TodaySummary(
    /** Today's findings grouped as the findings screen groups them (apps that sent identifiers first). */
    val apps: List<AppSummary>,
    /** Identifier kinds sent today, most identifying first (encrypted connections not counted). */
    val kinds: List<String>,
    /** Destinations that received an identifier or an encrypted connection to a tagged host. */
    val servers: Int,
    /** Findings in what was sent today. */
    val findings: Int,
    /** Today's findings in what servers sent back, apart: not leaks. */
    val received: List<ReceivedSummary> = emptyList(),
) {
    val appsSendingIdentifiers: Int get() = apps.count { a -> a.destinations.any { it.identifierKinds.isNotEmpty() } }

    companion object {
        /**
         * [findings] newest first or in any order; only those at or after [startOfDay] count.
         * What servers sent back goes to [received] and nowhere else.
         */
        fun of(findings: List<Finding>, startOfDay: Long): TodaySummary {
            val all = findings.filter { it.ts >= startOfDay }
            val today = all.filter { it.sent }
            val kinds = today.map { it.kind }.filter { it != Contract.ENCRYPTED_FLOW }.distinct().sortedBy { Kinds.rank(it) }
            return TodaySummary(
                apps = Grouping.group(today),
                kinds = kinds,
                servers = today.map { it.destination }.distinct().size,
                findings = today.size,
                received = Grouping.received(all),
            )
        }

        /** Local midnight before [now], for a zone [offsetMs] ahead of UTC at [now]. */
        fun startOfDay(now: Long, offsetMs: Long): Long = now - Math.floorMod(now + offsetMs, 86_400_000L)
    }
}

/** One line about an app for the dashboard: "IMEI, phone number → Xiaomi cloud messaging". */
object AppLine {
    fun of(a: AppSummary): String {
        val kinds = a.kinds.filter { it != Contract.ENCRYPTED_FLOW }
        val to = a.destinations.map { it.companyLabel ?: it.host }.distinct()
        val shown = to.take(2).joinToString(", ") + if (to.size > 2) " +${to.size - 2}" else ""
        return if (kinds.isEmpty()) "encrypted connections → $shown"
        else kinds.joinToString(", ") { Kinds.name(it) } + " → " + shown
    }
}

/** One quiet line about what a server sent back: "e-mail address, IMEI ← Xiaomi account". */
object ReceivedLine {
    fun of(r: ReceivedSummary): String = r.kinds.joinToString(", ") { Kinds.name(it) } + " ← " + (r.companyLabel ?: r.host)
}
