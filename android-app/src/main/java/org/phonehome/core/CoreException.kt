package org.phonehome.core

/**
 * Every error of the Rust core, and every panic inside it, reaches Kotlin as this one
 * exception: [code] says what kind of failure it was (the app decides on it), the
 * message says what was wrong (for people). The core constructs it by this signature.
 */
class CoreException(val code: ErrorCode, message: String) : RuntimeException(message)
