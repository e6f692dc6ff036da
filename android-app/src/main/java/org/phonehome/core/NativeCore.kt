package org.phonehome.core

/**
 * The bridge to the Rust core (`libphonehome_jni.so`, crate `rust-core/jni`).
 *
 * A running monitor is an opaque handle. Every function throws [CoreException] on bad
 * input, on failure, and if the core panics, with an [ErrorCode]; nothing else crosses
 * the boundary. What both sides share is in the generated [Contract].
 *
 * Configuration (`start`), as JSON; every key but `records_dir` is optional:
 * ```
 * {
 *   "records_dir": "/data/.../files/records",   // the captures live here
 *   "state_dir": "/data/.../files/discovery",   // discovery's state between sessions
 *   "identifiers": { "imei": ["..."], ... },     // the identifiers file's structure
 *   "catalog": "example.org\tExample\tcloud-messaging\tpush\n", // extra catalog lines
 *   "scan_limit": 65536,                         // bytes scanned per flow and direction
 *   "capture": true,                             // keep the first packets of each flow
 *   "mtu": 1500,                                 // the TUN's MTU, Contract.MIN_MTU-MAX_MTU
 *   "max_flows": 8192,                           // flows at once; more are refused
 *   "dns": { "listen": ["10.111.0.1"], "upstream": ["192.0.2.53:53"] },
 *   "owner_lookup": "host" | "proc" | "none",    // API 29+: host; below: /proc/net
 *   "intercept": {                               // TLS interception; absent: off
 *     "ca_dir": "/data/.../files/ca",            // the per-install CA (made on first use)
 *     "apps": [10123],                           // uids intercepted; absent: every app
 *     "roots": ["/apex/com.android.conscrypt/cacerts", "/system/etc/security/cacerts"]
 *   }                                            // roots: the system CA dirs (default), first existing read
 * }
 * ```
 *
 * Flow records, findings and discovered identifiers are not kept by the core: they go to the app in batches
 * ([CoreHost.onRecords]), which keeps them in its own SQLite store (`RecordStore`).
 */
object NativeCore {
    /** Loads the core; the JVM tests put it on `java.library.path`. */
    fun load() {
        System.loadLibrary("phonehome_jni")
    }

    /**
     * Starts monitoring the TUN [tunFd] (the core takes ownership and closes it at the
     * end: pass `ParcelFileDescriptor.detachFd()`). Returns the session's handle.
     */
    @JvmStatic external fun start(tunFd: Int, configJson: String, host: CoreHost): Long

    /**
     * Stops the session and waits until its records are handed to the event thread, which
     * delivers the last batches ([CoreHost.onRecords]) and then [CoreHost.onStopped].
     */
    @JvmStatic external fun stop(handle: Long)

    /**
     * Live counts as JSON: `running`, `flows_open`, `flows_total`, `bytes_out`, `bytes_in`,
     * `findings` (in what the device sent: leaks), `findings_received` (in what servers sent
     * back: not leaks), `dropped` (inspection bytes dropped under load), `protect_failures`,
     * `records_dropped` (records the app did not take in time, see [CoreHost.onRecords]).
     */
    @JvmStatic external fun stats(handle: Long): String

    /**
     * Writes every session's capture of [recordsDir] to [fd] (which stays the caller's to
     * close), oldest first, one pcapng section each. Returns the bytes written.
     */
    @JvmStatic external fun exportCapture(recordsDir: String, fd: Int): Long

    /**
     * The TLS interception CA's certificate as PEM (never its key), making the CA in
     * [caDir] (absolute, the app's private files) if it has none yet. Throws
     * [CoreException] with [ErrorCode.INTERCEPT] if the CA there cannot be used.
     */
    @JvmStatic external fun caCertificate(caDir: String): String

    /**
     * Checks identifiers value by value with the rules the core applies to them (the
     * identifiers file's), so that the app never starts the core with a value it refuses.
     * [identifiersJson] has the structure of the configuration's `identifiers`. Returns
     * `{"identifiers": {...}, "problems": [{"field", "value", "message"}]}`: the values
     * that pass, normalised as the core keeps them (E.164 numbers, `aa:bb:..` MACs, upper
     * case region) and each once, and one problem per value that does not, `field` being
     * the key (`imei`, `contact.phone`, `location.lat`) and `message` why, without the value.
     */
    @JvmStatic external fun validateIdentifiers(identifiersJson: String): String

    /** Panics inside the core on purpose, to prove a panic arrives as [CoreException]. */
    @JvmStatic external fun panicForTest()
}
