package org.phonehome.core

/**
 * What the core asks of the platform, and where its events go.
 *
 * The core calls these on its own threads (attached to the JVM), never on the caller's
 * thread, and holds no lock of its own while it does: a callback may call [NativeCore]
 * again (even [NativeCore.stop]). Each must return quickly ([onRecords] may take one
 * database transaction). [onRecords] and [onStopped] come on one thread, `phonehome-events`,
 * one at a time.
 */
interface CoreHost {
    /**
     * Keeps an outbound socket out of the VPN (`VpnService.protect`). Called for every
     * socket before it connects or sends; `false` makes the core give up that flow.
     */
    fun protect(fd: Int): Boolean

    /**
     * The uid owning a connection from the TUN's point of view (API 29+:
     * `ConnectivityManager.getConnectionOwnerUid`), or -1 when unknown. [protocol] is
     * 6 (TCP) or 17 (UDP); addresses are numeric strings. Only called when the
     * configuration's `owner_lookup` is `"host"`.
     */
    fun connectionOwnerUid(
        protocol: Int,
        localAddress: String,
        localPort: Int,
        remoteAddress: String,
        remotePort: Int,
    ): Int

    /** The app name recorded for a uid (`PackageManager.getNameForUid`), or null. */
    fun appForUid(uid: Int): String?

    /**
     * The organisation (subject O=) of the certificate [packageName] is signed with
     * (`PackageManager` signing info), or null. Asked once per app and session, for names
     * [appForUid] gave; the core marks a destination first party when its company is it.
     */
    fun signerOfApp(packageName: String): String?

    /**
     * Flow records, findings and discovered identifiers of session [session] (the handle
     * [NativeCore.start] returned), for the app to keep: [flowsJsonl], [findingsJsonl] and
     * [discoveredJsonl] are JSON lines exactly as `flows.jsonl`, `findings.jsonl` and
     * `discovered.jsonl` have them (each line ends with `\n`; any may be empty), each in the
     * order the core recorded them. A discovered identifier comes again, with newer sums,
     * when it is seen in a later session (the app keeps one row per value). Every record comes once. A batch
     * holds at most [Contract.MAX_BATCH] records and goes out when full or when its oldest
     * record has waited [Contract.BATCH_INTERVAL_MS]; the last ones come before [onStopped].
     *
     * This may take the time one database transaction takes (the core queues meanwhile);
     * if the app falls [Contract.MAX_QUEUED_RECORDS] records behind, the core drops newer
     * ones and counts them (`records_dropped` in [NativeCore.stats]).
     */
    fun onRecords(session: Long, flowsJsonl: String, findingsJsonl: String, discoveredJsonl: String)

    /**
     * The session ended: [StopReason.STOPPED] when asked to, otherwise why (the VPN
     * interface closed, the relay failed). [message] says it in words, for people. Every
     * record of the session came through [onRecords] before this.
     */
    fun onStopped(reason: StopReason, message: String)
}
