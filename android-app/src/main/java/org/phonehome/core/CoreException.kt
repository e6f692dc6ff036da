package org.phonehome.core

/**
 * Every error of the Rust core, and every panic inside it, reaches Kotlin as this one
 * exception, with a message that says what was wrong.
 */
class CoreException(message: String) : RuntimeException(message)
