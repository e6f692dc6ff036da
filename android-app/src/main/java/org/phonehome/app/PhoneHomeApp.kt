package org.phonehome.app

import android.app.Application
import android.content.Context

/** Owns what the service and the screens share: the monitor's state and the core's worker thread. */
class PhoneHomeApp : Application() {
    val monitor = MonitorState()
    val worker = CoreWorker()
}

/** The app's shared parts, from any of its components. */
val Context.phoneHome: PhoneHomeApp
    get() = applicationContext as PhoneHomeApp
