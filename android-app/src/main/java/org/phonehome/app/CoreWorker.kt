package org.phonehome.app

import android.os.Handler
import android.os.Looper
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import org.phonehome.core.NativeCore

/**
 * One background thread for the core's calls (start, stop, exports) and the screens'
 * queries of the records store, so the UI never waits on SQLite or the core's threads;
 * results come back through [main].
 */
class CoreWorker {
    val main = Handler(Looper.getMainLooper())
    private val executor: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "phonehome-worker") }

    /** Whether libphonehome_jni loaded; null until tried. */
    private var loaded: Boolean? = null
    var loadError: String? = null
        private set

    fun execute(task: () -> Unit) = executor.execute(task)

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

    /** Throws, saying why, unless the core is loaded: for work that calls [NativeCore]. */
    fun requireCore() {
        if (!ensureLoaded()) throw IllegalStateException(loadError ?: "core not loaded")
    }

    /**
     * Runs [query] on the worker and hands its result (or the error's message) to [done] on
     * the main thread. Reading the records store needs no core; what calls [NativeCore]
     * calls [requireCore] first.
     */
    fun <T> query(query: () -> T, done: (T?, String?) -> Unit) {
        executor.execute {
            val result = try {
                Result.success(query())
            } catch (e: Exception) {
                // CoreException, or an IO error around an export: the screen shows the message.
                Result.failure(e)
            }
            main.post { done(result.getOrNull(), result.exceptionOrNull()?.message) }
        }
    }
}
