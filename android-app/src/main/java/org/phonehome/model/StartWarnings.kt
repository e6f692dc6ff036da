package org.phonehome.model

/** Something the user should know while a session runs (shown on the status screen). */
sealed interface StartWarning {
    /** The network named no resolvers the core can use: apps keep their own. */
    data object DnsUnknown : StartWarning

    /** What the identifier reader could not read, in its own words (a permission refused ...). */
    data class Note(val text: String) : StartWarning

    /** Identifiers the core's validation would refuse, left out before the start. */
    data class IdsDropped(val count: Int) : StartWarning

    /** No identifier of this phone is known: only values that look like identifiers are reported. */
    data object NoIdentifiers : StartWarning

    /** The core refused the identifiers and runs with fewer (see [StartRetry]). */
    data class IdsRefused(val message: String) : StartWarning
}

/** Which [StartWarning]s a start leads to, in the order the start finds them. */
object StartWarnings {
    /**
     * Before the core starts: [resolvers] the network named, [notes] from the identifier
     * reader, [dropped] identifiers the validation left out, the [identifiers] kept.
     */
    fun beforeStart(resolvers: List<String>, notes: List<String>, dropped: Int, identifiers: Identifiers): List<StartWarning> =
        buildList {
            if (CoreConfig.upstreamDns(resolvers).isEmpty()) add(StartWarning.DnsUnknown)
            notes.mapTo(this) { StartWarning.Note(it) }
            if (dropped > 0) add(StartWarning.IdsDropped(dropped))
            if (identifiers.count == 0) add(StartWarning.NoIdentifiers)
        }

    /**
     * Once the core runs: the warnings found before, and the core's [refusal] if it took
     * fewer identifiers.
     */
    fun started(before: List<StartWarning>, refusal: String?): List<StartWarning> =
        before + listOfNotNull(refusal?.let { StartWarning.IdsRefused(it) })

    /**
     * A restart on the network's new [resolvers] keeps what the identifiers gave, but the
     * DNS warning follows the new network and the new session's core answers again.
     */
    fun restarting(running: List<StartWarning>, resolvers: List<String>): List<StartWarning> =
        buildList {
            if (CoreConfig.upstreamDns(resolvers).isEmpty()) add(StartWarning.DnsUnknown)
            running.filterNotTo(this) { it is StartWarning.DnsUnknown || it is StartWarning.IdsRefused }
        }
}
