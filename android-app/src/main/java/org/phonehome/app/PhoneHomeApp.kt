package org.phonehome.app

import android.app.Application
import android.content.Context

/**
 * Owns what the service and the screens share: the monitor's state, the core's worker
 * thread, and the records store (one per process: the core's event thread writes to it
 * while the screens read).
 */
class PhoneHomeApp : Application() {
    val monitor = MonitorState()
    val worker = CoreWorker()
    val records: RecordStore by lazy { RecordStore(this) }
}

/** The app's shared parts, from any of its components. */
val Context.phoneHome: PhoneHomeApp
    get() = applicationContext as PhoneHomeApp
