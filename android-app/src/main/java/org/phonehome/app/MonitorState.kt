package org.phonehome.app

import java.util.concurrent.CopyOnWriteArrayList
import org.phonehome.model.MonitorPhase

/**
 * The monitor's state as the screens see it. One instance, owned by [PhoneHomeApp]; the
 * service's [MonitorRun] changes it, activities observe it while they are visible. Read
 * and written on the main thread.
 */
class MonitorState {
    /** Observers hear of every change of phase, and of whatever [changed] is called for. */
    var phase: MonitorPhase = MonitorPhase.STOPPED
        set(value) {
            if (field == value) return
            field = value
            changed()
        }

    /** The core session's handle while running (0 when none). */
    @Volatile
    var handle: Long = 0L

    /** Why the last session ended, when it was not the user's choice (shown on the status screen). */
    var lastError: String? = null

    /** Things the user should know while monitoring (dropped identifiers, unknown resolvers ...). */
    var warnings: List<String> = emptyList()

    /** Set while Private DNS runs in strict mode: names then travel inside DNS-over-TLS. */
    var privateDns: String? = null

    /** When the current session started (ms since the epoch), or 0. */
    var since: Long = 0L

    private val listeners = CopyOnWriteArrayList<() -> Unit>()

    fun changed() {
        for (l in listeners) l()
    }

    fun listen(l: () -> Unit) {
        listeners.add(l)
    }

    fun unlisten(l: () -> Unit) {
        listeners.remove(l)
    }
}
