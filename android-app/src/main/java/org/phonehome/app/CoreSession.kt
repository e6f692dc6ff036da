package org.phonehome.app

import android.os.Build
import java.io.IOException
import org.phonehome.core.CoreException
import org.phonehome.core.ErrorCode
import org.phonehome.core.CoreHost
import org.phonehome.core.NativeCore
import org.phonehome.model.CoreConfig
import org.phonehome.model.Identifiers
import org.phonehome.model.Interception
import org.phonehome.model.Settings
import org.phonehome.model.StartRetry

/**
 * Starts and stops the core's session, with [StartRetry]'s rule when the core refuses the
 * identifiers. Blocking (a start waits for the core's threads, a stop for its records):
 * call on the worker thread only. [stateDir] is where the core's discovery keeps what it
 * learned between sessions (null: nothing is kept).
 */
class CoreSession(private val host: CoreHost, private val stateDir: String? = null) {
    /**
     * Starts the core on a new fd of [tun] each try (the core owns and closes what it
     * is given), so that a refused configuration can be retried on the same interface.
     * [tun] itself is closed before this returns.
     */
    fun start(
        tun: Tun,
        recordsDir: String,
        ids: Identifiers,
        settings: Settings,
        dns: List<String>,
        intercept: Interception? = null,
    ): StartRetry.Outcome<Long> = try {
        StartRetry.run(ids) { attempt ->
            val config = CoreConfig.json(recordsDir, attempt, settings, dns, Build.VERSION.SDK_INT, stateDir = stateDir, intercept = intercept)
            try {
                StartRetry.Attempt.Started(NativeCore.start(tun.takeFd(), config, host))
            } catch (e: CoreException) {
                StartRetry.Attempt.Refused(e.message ?: "", e.code == ErrorCode.BAD_IDENTIFIERS)
            }
        }
    } catch (e: IOException) {
        StartRetry.Outcome.Failed(e.message ?: "")
    } finally {
        try {
            tun.close()
        } catch (_: IOException) {
        }
    }

    /** Stops the session and waits for its records; returns the core's error, or null. */
    fun stop(handle: Long): String? = try {
        NativeCore.stop(handle)
        null
    } catch (e: CoreException) {
        e.message ?: ""
    }
}
