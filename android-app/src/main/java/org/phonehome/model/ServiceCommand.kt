package org.phonehome.model

/**
 * What an intent to the monitor's service asks for. Only our stop action stops. Anything
 * else starts: our start action, the system's always-on VPN start (SERVICE_INTERFACE, at
 * boot and in lockdown too), and the null intent of a restart after the process died.
 */
enum class ServiceCommand(
    /** Whether Android should start the service again (null intent) after killing its process. */
    val restartAfterDeath: Boolean,
) {
    START(restartAfterDeath = true),
    STOP(restartAfterDeath = false),
    ;

    companion object {
        const val ACTION_START = "org.phonehome.action.START"
        const val ACTION_STOP = "org.phonehome.action.STOP"

        fun of(action: String?): ServiceCommand = if (action == ACTION_STOP) STOP else START
    }
}
