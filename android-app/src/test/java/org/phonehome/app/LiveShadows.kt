package org.phonehome.app

import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.VpnService
import java.io.File
import java.net.InetAddress
import java.net.InetSocketAddress
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowConnectivityManager
import org.robolectric.shadows.ShadowService

/**
 * The two things of the phone that the end-to-end test's machine provides in its own way
 * (LiveSessionTest, tests/e2e/test_app_screens.py). Everything else is the app's code.
 */

/**
 * protect(): on a phone it keeps the core's sockets out of the VPN. In the test the core
 * runs in the host namespace, where no VPN routes anything, so its sockets already leave
 * by the real network and there is nothing to protect them from. Robolectric's own
 * VpnService.protect(int) is a no-op returning false, which would make the core give up
 * every flow. (It replaces ShadowVpnService, whose static prepare() a subclass would not inherit.)
 */
@Implements(VpnService::class)
class HostVpnService : ShadowService() {
    companion object {
        /** The user accepted the VPN once: no consent to ask for (ShadowVpnService's default too). */
        @JvmStatic
        @Implementation
        fun prepare(context: android.content.Context): android.content.Intent? = null
    }

    @Implementation
    protected fun protect(fd: Int): Boolean = fd >= 0
}

/**
 * The real network (its resolver: the test's DNS server) and the owner of a connection,
 * which Android answers from the kernel's socket table: here read from the phone
 * namespace's own table (/proc/PID/net/{tcp,udp}{,6} of a process in it), where the
 * socket's uid is the client's.
 */
@Implements(ConnectivityManager::class)
class PhoneConnectivity : ShadowConnectivityManager() {
    companion object {
        var phonePid: Int = 0

        /** The real network's resolvers, as its LinkProperties list them. */
        fun useDns(cm: ConnectivityManager, dns: List<String>) {
            val lp = LinkProperties()
            for (d in dns) lp.addDnsServer(InetAddress.getByName(d))
            org.robolectric.Shadows.shadowOf(cm).setLinkProperties(cm.activeNetwork, lp)
        }
    }

    @Implementation(minSdk = 29)
    protected fun getConnectionOwnerUid(protocol: Int, local: InetSocketAddress, remote: InetSocketAddress): Int {
        // Asked once, as Android answers: the core asks as the flow starts, while the
        // client's socket exists.
        val uid = SocketTable.uid(File("/proc/$phonePid/net"), protocol, local, remote)
        if (uid >= 0) return uid
        // Said in the test's output (addresses and ports only), to tell a missed socket from a late question.
        val net = File("/proc/$phonePid/net")
        val rows = listOf("tcp", "tcp6", "udp", "udp6").flatMap { n -> runCatching { File(net, n).readLines().drop(1).map { "$n ${it.trim()}" } }.getOrDefault(emptyList()) }
        System.err.println("owner not found: proto $protocol $local -> $remote; the phone's sockets:\n" + rows.joinToString("\n"))
        return -1
    }
}

/** Reads the kernel's socket tables (/proc/net/tcp format) for the uid of one connection. */
object SocketTable {
    fun uid(net: File, protocol: Int, local: InetSocketAddress, remote: InetSocketAddress): Int {
        val name = if (protocol == 6) "tcp" else "udp"
        for (file in listOf(File(net, name), File(net, name + "6"))) {
            val lines = try {
                file.readLines().drop(1)
            } catch (_: java.io.IOException) {
                continue
            }
            for (line in lines) {
                val f = line.trim().split(Regex("\\s+"))
                if (f.size < 8) continue
                if (matches(f[1], local) && (protocol != 6 || matches(f[2], remote))) return f[7].toInt()
            }
        }
        return -1
    }

    /** "0200720A:A1B2": the address in the kernel's byte order (32-bit words, little-endian here), then the port. */
    private fun matches(field: String, want: InetSocketAddress): Boolean {
        val (hex, port) = field.split(':').let { it[0] to it[1].toInt(16) }
        if (port != want.port) return false
        val bytes = ByteArray(hex.length / 2)
        for (w in 0 until hex.length / 8) {
            for (b in 0 until 4) bytes[w * 4 + b] = hex.substring(w * 8 + (3 - b) * 2, w * 8 + (3 - b) * 2 + 2).toInt(16).toByte()
        }
        val addr = InetAddress.getByAddress(bytes)
        val w = want.address
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
        return addr == w || (bytes.size == 16 && w.address.size == 4 && bytes.copyOfRange(12, 16).contentEquals(w.address) &&
            bytes.copyOfRange(10, 12).all { it == 0xFF.toByte() })
    }
}

/**
 * VpnService.Builder's String overloads parse with Android's libcore
 * (InetAddress.parseNumericAddress), which a JVM lacks: the same addresses go to the
 * Builder's InetAddress overloads instead (numeric strings only, so nothing is resolved).
 * In the test the TUN itself is configured by the test (addresses, routes, MTU).
 */
@Implements(VpnService.Builder::class)
class JvmVpnBuilder {
    @org.robolectric.annotation.RealObject
    private lateinit var real: VpnService.Builder

    private fun numeric(a: String): InetAddress = InetAddress.getByName(a.also { require(it.all { c -> c.isLetterOrDigit() || c == '.' || c == ':' } && it.none { c -> c in 'g'..'z' || c in 'G'..'Z' }) { "not numeric: $it" } })

    @Implementation
    fun addAddress(address: String, prefixLength: Int): VpnService.Builder = real.addAddress(numeric(address), prefixLength)

    @Implementation
    fun addRoute(address: String, prefixLength: Int): VpnService.Builder = real.addRoute(numeric(address), prefixLength)

    @Implementation
    fun addDnsServer(address: String): VpnService.Builder = real.addDnsServer(numeric(address))

    /** The platform asks the system's package service (absent here); the app's PackageManager knows the same. */
    @Implementation
    fun addDisallowedApplication(packageName: String): VpnService.Builder {
        org.robolectric.RuntimeEnvironment.getApplication().packageManager.getApplicationInfo(packageName, 0)
        return real
    }
}
