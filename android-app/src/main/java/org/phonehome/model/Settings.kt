package org.phonehome.model

import org.phonehome.core.Contract

/**
 * What the user chose. Stored as `key=value` lines in app-private storage; unknown keys
 * are ignored and a bad value falls back to its default (and is reported), so an old or
 * damaged file never stops the monitor from starting.
 */
data class Settings(
    val ipv6: Boolean = true,
    val mtu: Int = DEFAULT_MTU,
    /** Bytes scanned per flow and direction (the core's scan_limit), in KiB. */
    val scanLimitKib: Int = 64,
    val capture: Boolean = true,
    val excludedApps: Set<String> = emptySet(),
    /** Read the phone's own identifiers through TelephonyManager (needs READ_PHONE_STATE). */
    val readPhone: Boolean = true,
    /** Consent toggles: only with these on are contacts and SMS read at all. */
    val readContacts: Boolean = false,
    val readSms: Boolean = false,
    val notifyDiscoveries: Boolean = true,
    /** TLS interception ("See inside HTTPS"): off unless the user turns it on. */
    val seeInsideHttps: Boolean = false,
    /** The packages whose HTTPS is seen inside while [seeInsideHttps] is on. */
    val interceptedApps: Set<String> = emptySet(),
) {
    fun serialise(): String = buildString {
        append("ipv6=").append(ipv6).append('\n')
        append("mtu=").append(mtu).append('\n')
        append("scan_limit_kib=").append(scanLimitKib).append('\n')
        append("capture=").append(capture).append('\n')
        append("excluded_apps=").append(excludedApps.sorted().joinToString(",")).append('\n')
        append("read_phone=").append(readPhone).append('\n')
        append("read_contacts=").append(readContacts).append('\n')
        append("read_sms=").append(readSms).append('\n')
        append("notify_discoveries=").append(notifyDiscoveries).append('\n')
        append("see_inside_https=").append(seeInsideHttps).append('\n')
        append("intercepted_apps=").append(interceptedApps.sorted().joinToString(",")).append('\n')
    }

    companion object {
        /**
         * Large packets: the kernel's cost per packet dominates relaying, so 16000 moved
         * 2-4x the bytes per CPU second of 1500 in bench/run (docs/benchmarks.md). Apps'
         * TCP never leaves the phone at this size (the core relays it over the real network's
         * own MSS), and UDP replies up to it (large DNS answers) are no longer dropped.
         */
        const val DEFAULT_MTU = 16_000
        /** IPv6 needs at least 1280 on every link; the core takes up to 65535. */
        const val MIN_MTU = Contract.MIN_MTU
        const val MAX_MTU = Contract.MAX_MTU
        const val MIN_SCAN_KIB = 1
        const val MAX_SCAN_KIB = 16 * 1024

        fun mtuProblem(text: String): String? {
            val v = text.trim().toIntOrNull() ?: return "the MTU is a whole number"
            return if (v in MIN_MTU..MAX_MTU) null else "the MTU is $MIN_MTU to $MAX_MTU"
        }

        fun scanLimitProblem(text: String): String? {
            val v = text.trim().toIntOrNull() ?: return "the scan depth is a whole number of KiB"
            return if (v in MIN_SCAN_KIB..MAX_SCAN_KIB) null else "the scan depth is $MIN_SCAN_KIB to $MAX_SCAN_KIB KiB"
        }

        /** Reads the stored lines; returns the settings and the keys whose values were not understood. */
        fun parse(text: String): Pair<Settings, List<String>> {
            val bad = ArrayList<String>()
            val map = text.lineSequence().map { it.trim() }.filter { it.isNotEmpty() && !it.startsWith("#") && '=' in it }
                .associate { it.substringBefore('=').trim() to it.substringAfter('=').trim() }
            val d = Settings()
            fun bool(key: String, default: Boolean): Boolean = when (val v = map[key]) {
                null -> default
                "true" -> true
                "false" -> false
                else -> { bad.add("$key=$v"); default }
            }
            fun int(key: String, default: Int, problem: (String) -> String?): Int {
                val v = map[key] ?: return default
                return if (problem(v) == null) v.toInt() else { bad.add("$key=$v"); default }
            }
            val settings = Settings(
                ipv6 = bool("ipv6", d.ipv6),
                mtu = int("mtu", d.mtu, ::mtuProblem),
                scanLimitKib = int("scan_limit_kib", d.scanLimitKib, ::scanLimitProblem),
                capture = bool("capture", d.capture),
                excludedApps = packages(map["excluded_apps"]),
                readPhone = bool("read_phone", d.readPhone),
                readContacts = bool("read_contacts", d.readContacts),
                readSms = bool("read_sms", d.readSms),
                notifyDiscoveries = bool("notify_discoveries", d.notifyDiscoveries),
                seeInsideHttps = bool("see_inside_https", d.seeInsideHttps),
                interceptedApps = packages(map["intercepted_apps"]),
            )
            return settings to bad
        }

        private fun packages(line: String?): Set<String> =
            line.orEmpty().split(',').map { it.trim() }.filter { it.isNotEmpty() }.toSet()
    }
}

/** The TUN interface as VpnService.Builder is told to set it up. */
data class VpnPlan(
    val addresses: List<Pair<String, Int>>,
    val routes: List<Pair<String, Int>>,
    /** Empty when the upstream resolvers are unknown: then apps keep using the network's own, through the TUN. */
    val dnsServers: List<String>,
    val mtu: Int,
    val disallowedApps: List<String>,
)

/** Builds the TUN plan and the core's configuration from the settings and what the network says. */
object CoreConfig {
    const val TUN_V4 = Contract.TUN_V4
    const val DNS_V4 = Contract.DNS_V4
    const val TUN_V6 = Contract.TUN_V6
    const val DNS_V6 = Contract.DNS_V6

    /**
     * The routes cover everything. Traffic Android keeps off VPNs anyway (IMS for VoLTE and
     * Wi-Fi calling on its own network, tethered clients, MMS on some carriers) is not ours
     * to route: adding carrier routes here would break calls, so none are added.
     */
    fun plan(settings: Settings, ownPackage: String, upstreamDns: List<String>): VpnPlan {
        val addresses = mutableListOf(TUN_V4 to Contract.TUN_V4_PREFIX)
        val routes = mutableListOf("0.0.0.0" to 0)
        val dns = ArrayList<String>()
        if (upstreamDns(upstreamDns).isNotEmpty()) dns.add(DNS_V4)
        if (settings.ipv6) {
            addresses.add(TUN_V6 to Contract.TUN_V6_PREFIX)
            routes.add("::" to 0)
            if (dns.isNotEmpty()) dns.add(DNS_V6)
        }
        // Our own traffic (the core's protected sockets aside) must never loop through the TUN.
        val disallowed = (listOf(ownPackage) + settings.excludedApps.sorted()).distinct()
        return VpnPlan(addresses, routes, dns, settings.mtu, disallowed)
    }

    /**
     * The resolvers as the core reads them (ip:53, [ipv6]:53). Scoped link-local IPv6
     * resolvers (fe80::1%wlan0) are left out: the scope does not survive the trip.
     */
    fun upstreamDns(servers: List<String>): List<String> =
        servers.map { it.trim().removePrefix("/") }.filter { it.isNotEmpty() && '%' !in it }
            .map { if (':' in it) "[$it]:53" else "$it:53" }.distinct()

    /**
     * The JSON NativeCore.start takes (see its documentation). [stateDir] is where discovery
     * keeps what it learned between sessions; null keeps nothing. [intercept] null: no TLS
     * interception (the default).
     */
    fun json(
        recordsDir: String,
        identifiers: Identifiers,
        settings: Settings,
        upstreamDns: List<String>,
        sdkInt: Int,
        catalog: String = "",
        stateDir: String? = null,
        intercept: Interception? = null,
    ): String {
        val fields = LinkedHashMap<String, Json>()
        fields["records_dir"] = Json.Str(recordsDir)
        stateDir?.let { fields["state_dir"] = Json.Str(it) }
        if (identifiers.count > 0 || identifiers.region != null) fields["identifiers"] = identifiers.toJson()
        if (catalog.isNotBlank()) fields["catalog"] = Json.Str(catalog)
        fields["scan_limit"] = Json.of(settings.scanLimitKib.toLong() * 1024)
        fields["capture"] = Json.of(settings.capture)
        fields["mtu"] = Json.of(settings.mtu)
        val upstream = upstreamDns(upstreamDns)
        if (upstream.isNotEmpty()) {
            val listen = if (settings.ipv6) listOf(DNS_V4, DNS_V6) else listOf(DNS_V4)
            fields["dns"] = Json.obj("listen" to Json.strings(listen), "upstream" to Json.strings(upstream))
        }
        // getConnectionOwnerUid exists from API 29; below it the core reads /proc/net.
        fields["owner_lookup"] = Json.Str(if (sdkInt >= 29) "host" else "proc")
        intercept?.let { fields["intercept"] = it.toJson() }
        return Json.Obj(fields).toString()
    }
}
