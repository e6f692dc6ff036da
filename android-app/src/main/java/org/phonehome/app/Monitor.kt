package org.phonehome.app

import android.os.Handler
import android.os.Looper
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import org.phonehome.core.NativeCore

/**
 * The monitor's state as the screens see it. The service changes it; activities listen
 * while they are visible. Everything here is read and written on the main thread.
 */
object Monitor {
    enum class State { STOPPED, STARTING, RUNNING, STOPPING }

    var state: State = State.STOPPED
        private set

    /** The core session's handle while running (0 when none). */
    @Volatile
    var handle: Long = 0L
        internal set

    /** Why the last session ended, when it was not the user's choice (shown on the status screen). */
    var lastError: String? = null
        internal set

    /** Things the user should know while monitoring (Private DNS, dropped identifiers ...). */
    var warnings: List<String> = emptyList()
        internal set

    /** Set while Private DNS runs in strict mode: names then travel inside DNS-over-TLS. */
    var privateDns: String? = null
        internal set

    /** When the current session started (ms since the epoch), or 0. */
    var since: Long = 0L
        internal set

    private val listeners = CopyOnWriteArrayList<() -> Unit>()
    val main = Handler(Looper.getMainLooper())

    /** One background thread for the core's queries and exports, so the UI never waits on SQLite. */
    val worker: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "phonehome-worker") }

    /** Whether libphonehome_jni loaded; null until tried. */
    private var loaded: Boolean? = null
    var loadError: String? = null
        private set

    @Synchronized
    fun ensureLoaded(): Boolean {
        loaded?.let { return it }
        val ok = try {
            NativeCore.load()
            true
        } catch (e: UnsatisfiedLinkError) {
            loadError = e.message ?: "libphonehome_jni.so is missing"
            false
        }
        loaded = ok
        return ok
    }

    internal fun set(newState: State) {
        if (state == newState) return
        state = newState
        notifyListeners()
    }

    fun notifyListeners() {
        for (l in listeners) l()
    }

    fun listen(l: () -> Unit) {
        listeners.add(l)
    }

    fun unlisten(l: () -> Unit) {
        listeners.remove(l)
    }

    /**
     * Runs [query] on the worker and hands its result (or the core's error message) to
     * [done] on the main thread.
     */
    fun <T> query(query: () -> T, done: (T?, String?) -> Unit) {
        worker.execute {
            val result = try {
                if (!ensureLoaded()) throw IllegalStateException(loadError ?: "core not loaded")
                Result.success(query())
            } catch (e: Exception) {
                // CoreException, or an IO error around an export: the screen shows the message.
                Result.failure(e)
            }
            main.post { done(result.getOrNull(), result.exceptionOrNull()?.message) }
        }
    }
}
