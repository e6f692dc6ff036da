package org.phonehome.model

/**
 * How long the status notification waits before its next look at the counts: the fastest
 * pace while they move, twice as long after each look that finds them unchanged (battery),
 * up to the slowest pace.
 */
class RefreshBackoff(private val fastestMs: Long = 3_000L, private val slowestMs: Long = 60_000L) {
    private var delayMs = fastestMs

    /** Back to the fastest pace (a new session, the screen turned on). */
    fun reset() {
        delayMs = fastestMs
    }

    /** The wait after a look at the counts; [changed]: they differ from the look before. */
    fun next(changed: Boolean): Long {
        delayMs = if (changed) fastestMs else (delayMs * 2).coerceAtMost(slowestMs)
        return delayMs
    }
}
