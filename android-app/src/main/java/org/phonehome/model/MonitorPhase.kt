package org.phonehome.model

/** Where the monitor is, from a start request to the end of its last session. */
enum class MonitorPhase { STOPPED, STARTING, RUNNING, STOPPING }
