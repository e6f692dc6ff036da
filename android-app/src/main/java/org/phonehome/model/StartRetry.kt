package org.phonehome.model

/**
 * How the monitor starts the core when the core refuses the identifiers: it still runs
 * with fewer of them rather than none. First all of them, then without contacts and SMS
 * (the longest and least regular lists), then none at all. Any other refusal is final:
 * fewer identifiers would not change it.
 */
object StartRetry {
    /** What one try came to. */
    sealed interface Attempt<out H> {
        data class Started<H>(val handle: H) : Attempt<H>

        /** [identifiers]: the core refused the identifiers, so fewer of them may still start. */
        data class Refused(val message: String, val identifiers: Boolean) : Attempt<Nothing>
    }

    /** What the whole rule came to. */
    sealed interface Outcome<out H> {
        /** [refusal]: why the core runs with fewer identifiers than given; null when it took them all. */
        data class Started<H>(val handle: H, val refusal: String?) : Outcome<H>

        data class Failed(val message: String) : Outcome<Nothing>
    }

    /** The identifiers to offer, in order; a step that would offer the same as the one before is left out. */
    fun steps(ids: Identifiers): List<Identifiers> {
        val all = listOf(ids, ids.copy(contacts = emptyList(), sms = emptyList()), Identifiers(region = null))
        return all.filterIndexed { i, step -> i == 0 || step != all[i - 1] }
    }

    /** Tries [start] with each step until one starts or a refusal is not about the identifiers. */
    fun <H> run(ids: Identifiers, start: (Identifiers) -> Attempt<H>): Outcome<H> {
        var refused: Attempt.Refused? = null
        for (step in steps(ids)) {
            when (val attempt = start(step)) {
                is Attempt.Started -> return Outcome.Started(attempt.handle, refused?.message)
                is Attempt.Refused -> {
                    refused = attempt
                    if (!attempt.identifiers) break
                }
            }
        }
        return Outcome.Failed(refused?.message ?: "the core did not start")
    }
}
