package org.phonehome.app

import android.content.Context
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.os.Build
import android.os.Handler

/**
 * The real network underneath the VPN: its resolvers and Private DNS mode now, and a call
 * of [settled] once a change of the default network (or of its properties) has settled.
 * Our own package is excluded from the VPN, so our default network is the real one.
 */
class NetworkWatcher(context: Context, private val main: Handler, private val settled: () -> Unit) {
    companion object {
        /** Wait for a network change to settle before acting on it. */
        private const val SETTLE_MS = 2_000L
    }

    /** [strictPrivateDns]: the Private DNS server while it runs in strict mode, else null. */
    data class Underlying(val dns: List<String>, val strictPrivateDns: String?)

    private val cm = context.getSystemService(Context.CONNECTIVITY_SERVICE) as ConnectivityManager
    private val afterChange = Runnable { settled() }
    private var callback: ConnectivityManager.NetworkCallback? = null

    fun current(): Underlying {
        val lp = cm.activeNetwork?.let { cm.getLinkProperties(it) }
        return Underlying(lp?.dnsServers?.mapNotNull { it.hostAddress }.orEmpty(), strictPrivateDns(lp))
    }

    /**
     * Private DNS in strict mode sends every name inside DNS-over-TLS to a fixed server:
     * the core then learns names only from TLS SNI and QUIC. "Automatic" falls back to
     * plain DNS through the TUN, which the core answers.
     */
    private fun strictPrivateDns(lp: LinkProperties?): String? {
        if (Build.VERSION.SDK_INT < 28 || lp == null) return null
        val server = lp.privateDnsServerName
        return if (lp.isPrivateDnsActive && server != null) server else null
    }

    fun watch() {
        if (callback != null) return
        val cb = object : ConnectivityManager.NetworkCallback() {
            override fun onLinkPropertiesChanged(network: Network, linkProperties: LinkProperties) = changed()

            override fun onAvailable(network: Network) = changed()
        }
        try {
            cm.registerDefaultNetworkCallback(cb)
            callback = cb
        } catch (_: RuntimeException) {
            // Too many callbacks registered by this app: resolvers then stay as they were at start.
        }
    }

    fun stop() {
        main.removeCallbacks(afterChange)
        callback?.let {
            try {
                cm.unregisterNetworkCallback(it)
            } catch (_: IllegalArgumentException) {
            }
        }
        callback = null
    }

    private fun changed() {
        main.removeCallbacks(afterChange)
        main.postDelayed(afterChange, SETTLE_MS)
    }
}
