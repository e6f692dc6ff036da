package org.phonehome.core

/**
 * What the core asks of the platform, and where its events go.
 *
 * The core calls these on its own threads (attached to the JVM), never on the caller's
 * thread, and holds no lock of its own while it does: a callback may call [NativeCore]
 * again (even [NativeCore.stop]). Each must return quickly.
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

    /** A new finding: one JSON object, as a line of `findings.jsonl` has it. */
    fun onFinding(findingJson: String)

    /**
     * The session ended: [StopReason.STOPPED] when asked to, otherwise why (the VPN
     * interface closed, the relay failed). [message] says it in words, for people.
     */
    fun onStopped(reason: StopReason, message: String)
}
