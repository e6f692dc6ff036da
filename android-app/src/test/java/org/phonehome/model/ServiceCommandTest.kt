package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class ServiceCommandTest {
    @Test
    fun `the status screen's start starts`() {
        assertEquals(ServiceCommand.START, ServiceCommand.of(ServiceCommand.ACTION_START))
    }

    @Test
    fun `always-on VPN and lockdown start the service with SERVICE_INTERFACE, which starts`() {
        assertEquals(ServiceCommand.START, ServiceCommand.of("android.net.VpnService"))
    }

    @Test
    fun `the null intent of a restart after the process died starts`() {
        assertEquals(ServiceCommand.START, ServiceCommand.of(null))
    }

    @Test
    fun `only our stop action stops`() {
        assertEquals(ServiceCommand.STOP, ServiceCommand.of(ServiceCommand.ACTION_STOP))
    }

    @Test
    fun `a start asks Android to start the service again after killing it, a stop does not`() {
        assertTrue(ServiceCommand.START.restartAfterDeath)
        assertFalse(ServiceCommand.STOP.restartAfterDeath)
    }
}
