package org.phonehome.app

import org.phonehome.core.CoreException

/**
 * The one place that reads meaning out of the core's strings (an error message's prefix, a
 * stop reason's wording). When both cross JNI as typed codes, only these two change.
 */
object CoreSignals {
    /** The core refused the identifiers (not the TUN or the records): fewer of them may still start. */
    fun refusedIdentifiers(e: CoreException): Boolean = e.message?.startsWith("identifiers") == true

    /** The session ended because it was asked to ([org.phonehome.core.NativeCore.stop]), not on its own. */
    fun askedToStop(reason: String): Boolean = reason == "stopped"
}
