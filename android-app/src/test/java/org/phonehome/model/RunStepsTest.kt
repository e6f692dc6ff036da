package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class RunStepsTest {
    private val started = StartRetry.Outcome.Started(7L, refusal = null)

    @Test
    fun `a start request begins a start when the monitor is stopped`() {
        assertTrue(RunSteps.startBegins(MonitorPhase.STOPPED))
    }

    @Test
    fun `a start request while a stop is under way begins a start`() {
        assertTrue(RunSteps.startBegins(MonitorPhase.STOPPING))
    }

    @Test
    fun `a start request while starting or running leaves the monitor as it is`() {
        assertFalse(RunSteps.startBegins(MonitorPhase.STARTING))
        assertFalse(RunSteps.startBegins(MonitorPhase.RUNNING))
    }

    @Test
    fun `a core that started while the monitor was starting runs`() {
        assertEquals(RunSteps.AfterStart.Run(7L, refusal = null), RunSteps.afterStart(started, MonitorPhase.STARTING))
    }

    @Test
    fun `a core that runs with fewer identifiers keeps the refusal to tell the user`() {
        val outcome = StartRetry.Outcome.Started(7L, refusal = "identifiers: contact 1 is not valid")
        assertEquals(
            RunSteps.AfterStart.Run(7L, refusal = "identifiers: contact 1 is not valid"),
            RunSteps.afterStart(outcome, MonitorPhase.STARTING),
        )
    }

    @Test
    fun `a core that started after a stop was asked for is ended unused`() {
        assertEquals(RunSteps.AfterStart.Abandon(7L), RunSteps.afterStart(started, MonitorPhase.STOPPING))
        assertEquals(RunSteps.AfterStart.Abandon(7L), RunSteps.afterStart(started, MonitorPhase.STOPPED))
    }

    @Test
    fun `a core that did not start ends the run with its message, whatever the phase`() {
        val failed = StartRetry.Outcome.Failed("tun: bad fd")
        assertEquals(RunSteps.AfterStart.Fail("tun: bad fd"), RunSteps.afterStart(failed, MonitorPhase.STARTING))
        assertEquals(RunSteps.AfterStart.Fail("tun: bad fd"), RunSteps.afterStart(failed, MonitorPhase.STOPPING))
    }

    @Test
    fun `a stop with nothing running nor starting leaves at once`() {
        assertEquals(RunSteps.Stop.Leave, RunSteps.stop(MonitorPhase.STOPPED, handle = 0L))
    }

    @Test
    fun `a stop of a running session ends it before leaving`() {
        assertEquals(RunSteps.Stop.End(7L), RunSteps.stop(MonitorPhase.RUNNING, handle = 7L))
    }

    @Test
    fun `a stop while the core is still starting has no session to end yet, but waits as stopping`() {
        assertEquals(RunSteps.Stop.End(0L), RunSteps.stop(MonitorPhase.STARTING, handle = 0L))
    }

    @Test
    fun `a session left behind by a stopped monitor is still ended`() {
        assertEquals(RunSteps.Stop.End(7L), RunSteps.stop(MonitorPhase.STOPPED, handle = 7L))
    }

    @Test
    fun `the core ending on its own, or the network changing, concerns only a running monitor`() {
        assertTrue(RunSteps.runningSessionConcerned(MonitorPhase.RUNNING))
        for (phase in listOf(MonitorPhase.STOPPED, MonitorPhase.STARTING, MonitorPhase.STOPPING)) {
            assertFalse(phase.name, RunSteps.runningSessionConcerned(phase))
        }
    }
}
