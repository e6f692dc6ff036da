package org.phonehome.model

/**
 * Whether a change of the network underneath calls for a new core session. The core
 * forwards DNS to the resolvers it was given at start, so only a change of those counts;
 * a network that names no resolvers (yet) leaves the session as it is.
 */
object ResolverChange {
    fun restartNeeded(running: List<String>, now: List<String>): Boolean =
        now.isNotEmpty() && CoreConfig.upstreamDns(now) != CoreConfig.upstreamDns(running)
}
