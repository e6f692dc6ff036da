package org.phonehome.model

/**
 * The monitor's decisions between a request and the core: whether a start begins, what a
 * started core leads to, what a stop has to end. The app's MonitorRun carries them out.
 */
object RunSteps {
    /**
     * Whether a start request begins a new start. One already starting or running is left
     * as it is (the service only shows its notice again, as startForegroundService promised).
     */
    fun startBegins(phase: MonitorPhase): Boolean =
        phase != MonitorPhase.STARTING && phase != MonitorPhase.RUNNING

    /** What follows the core's start, by its [StartRetry.Outcome]. */
    sealed interface AfterStart {
        /** The core did not start: the run ends, saying [message]. */
        data class Fail(val message: String) : AfterStart

        /** Asked to stop while the core was starting: the session that just began ends unused. */
        data class Abandon(val handle: Long) : AfterStart

        /** The session runs; [refusal]: why with fewer identifiers than offered, else null. */
        data class Run(val handle: Long, val refusal: String?) : AfterStart
    }

    /** [phase]: the monitor's phase when the outcome arrives (STARTING unless a stop came meanwhile). */
    fun afterStart(outcome: StartRetry.Outcome<Long>, phase: MonitorPhase): AfterStart = when (outcome) {
        is StartRetry.Outcome.Failed -> AfterStart.Fail(outcome.message)
        is StartRetry.Outcome.Started ->
            if (phase == MonitorPhase.STARTING) AfterStart.Run(outcome.handle, outcome.refusal) else AfterStart.Abandon(outcome.handle)
    }

    /** What a stop request has to do. */
    sealed interface Stop {
        /** Nothing runs nor starts: the service leaves at once. */
        data object Leave : Stop

        /**
         * The monitor is STOPPING until the session [handle] has written its records (0: no
         * session to end, e.g. one still starting, which [afterStart] then abandons).
         */
        data class End(val handle: Long) : Stop
    }

    fun stop(phase: MonitorPhase, handle: Long): Stop =
        if (phase == MonitorPhase.STOPPED && handle == 0L) Stop.Leave else Stop.End(handle)

    /**
     * Whether the core ending a session on its own (or the network underneath changing)
     * concerns the monitor: only while it runs; starting or stopping, another step owns
     * the session.
     */
    fun runningSessionConcerned(phase: MonitorPhase): Boolean = phase == MonitorPhase.RUNNING
}
