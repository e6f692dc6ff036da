package org.phonehome.app

import android.app.PendingIntent
import android.content.Intent
import android.content.pm.PackageManager
import android.net.VpnService
import android.os.Build
import android.os.ParcelFileDescriptor
import org.phonehome.R
import org.phonehome.model.VpnPlan

/** An established TUN interface: fds for the core, which owns and closes each one it takes. */
interface Tun : java.io.Closeable {
    /** A new fd of the interface, for one start of the core. */
    fun takeFd(): Int
}

private class ParcelTun(private val pfd: ParcelFileDescriptor) : Tun {
    override fun takeFd(): Int = pfd.dup().detachFd()
    override fun close() = pfd.close()
}

/** Turns a [VpnPlan] into a TUN interface through the service's Builder. */
class VpnTunnel(private val service: VpnService) {
    companion object {
        /**
         * Tests only. Under Robolectric, Builder.establish() gives no real interface and a
         * ParcelFileDescriptor carries no real fd, so the end-to-end test (tests/e2e,
         * test_app_screens) hands in the fd of a real TUN device here; everything else on
         * the path (the Builder calls, the core, the records) is the app's own. Never set
         * in the app. The fd is handed out once: the core owns it after that.
         */
        @Volatile
        var testFd: Int? = null
    }

    /**
     * The new interface, or null when the system would not give one: no consent (nothing
     * said), or a refusal whose message goes to [refused].
     */
    fun establish(plan: VpnPlan, refused: (String?) -> Unit): Tun? {
        val b = service.Builder()
            .setSession(service.getString(R.string.app_name))
            .setMtu(plan.mtu)
            .setBlocking(false)
            .setConfigureIntent(
                PendingIntent.getActivity(service, 0, Intent(service, StatusActivity::class.java), PendingIntent.FLAG_IMMUTABLE),
            )
        for ((addr, prefix) in plan.addresses) b.addAddress(addr, prefix)
        // Without an IPv6 address and route Android blocks IPv6 for the VPN's apps, so they
        // fall back to IPv4 and stay monitored instead of leaking around the TUN.
        for ((addr, prefix) in plan.routes) b.addRoute(addr, prefix)
        for (dns in plan.dnsServers) b.addDnsServer(dns)
        for (pkg in plan.disallowedApps) {
            try {
                b.addDisallowedApplication(pkg)
            } catch (_: PackageManager.NameNotFoundException) {
                // Uninstalled since it was excluded: nothing to exclude.
            }
        }
        // Follow whatever network is the default (Wi-Fi, mobile) instead of pinning one.
        b.setUnderlyingNetworks(null)
        // Apps targeting Q+ see a VPN as metered unless told otherwise; let meteredness follow the real network.
        if (Build.VERSION.SDK_INT >= 29) b.setMetered(false)
        testFd?.let { fd ->
            testFd = null
            return object : Tun {
                override fun takeFd(): Int = fd
                override fun close() = Unit
            }
        }
        return try {
            b.establish()?.let { ParcelTun(it) }
        } catch (e: IllegalStateException) {
            refused(e.message)
            null
        } catch (e: IllegalArgumentException) {
            refused(e.message)
            null
        } catch (e: SecurityException) {
            refused(e.message)
            null
        }
    }
}
