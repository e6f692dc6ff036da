package org.phonehome.app

import android.app.PendingIntent
import android.content.Intent
import android.content.pm.PackageManager
import android.net.VpnService
import android.os.Build
import android.os.ParcelFileDescriptor
import org.phonehome.R
import org.phonehome.model.VpnPlan

/** Turns a [VpnPlan] into a TUN interface through the service's Builder. */
class VpnTunnel(private val service: VpnService) {
    /**
     * The new interface, or null when the system would not give one: no consent (nothing
     * said), or a refusal whose message goes to [refused].
     */
    fun establish(plan: VpnPlan, refused: (String?) -> Unit): ParcelFileDescriptor? {
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
        return try {
            b.establish()
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
