package org.phonehome.model

import java.util.Base64

/**
 * TLS interception as the core's configuration takes it (`intercept`): the CA's directory
 * in the app's private files and the uids of the apps chosen.
 */
data class Interception(val caDir: String, val uids: List<Int>) {
    fun toJson(): Json = Json.obj(
        "ca_dir" to Json.Str(caDir),
        "apps" to Json.Arr(uids.map { Json.of(it) }),
    )

    companion object {
        /**
         * What the settings ask for: null (nothing intercepted) while "See inside HTTPS" is
         * off or no chosen app is installed. [uidOf] is PackageManager's answer for a package
         * (null when it is not installed).
         */
        fun of(settings: Settings, caDir: String, uidOf: (String) -> Int?): Interception? {
            if (!settings.seeInsideHttps) return null
            val uids = settings.interceptedApps.sorted().mapNotNull(uidOf).distinct()
            return if (uids.isEmpty()) null else Interception(caDir, uids)
        }
    }
}

/** The CA certificate in the two forms Android's installers take. */
object CaCertificate {
    /** The DER bytes of a PEM certificate (the first one); null if [pem] holds none. */
    fun der(pem: String): ByteArray? {
        val begin = "-----BEGIN CERTIFICATE-----"
        val start = pem.indexOf(begin).takeIf { it >= 0 } ?: return null
        val end = pem.indexOf("-----END CERTIFICATE-----", start).takeIf { it >= 0 } ?: return null
        val body = pem.substring(start + begin.length, end).filterNot { it.isWhitespace() }
        return try {
            Base64.getDecoder().decode(body).takeIf { it.isNotEmpty() }
        } catch (_: IllegalArgumentException) {
            null
        }
    }
}

/**
 * How to install the CA on this phone, step by step, by Android version. The steps are
 * names; the screen words them (strings `ca_step_*`).
 */
object CaGuidance {
    enum class Step {
        /** Android 11+: Settings > Security > Encryption & credentials > Install a certificate > CA certificate. */
        USER_STORE_SETTINGS,
        /** Android 7 to 10: opening the exported file (or Settings > Security > Install from storage) installs it. */
        USER_STORE_OPEN_FILE,
        /** Android 7+: apps targeting API 24+ trust user CAs only if their network security config says so. */
        APPS_MUST_OPT_IN,
        /** Before Android 7 every app trusts user CAs. */
        ALL_APPS_TRUST_USER_CAS,
        /** Rooted phones and emulators: the system store (`<hash>.0` in /system/etc/security/cacerts). */
        SYSTEM_STORE_ROOTED,
        /** Android 14+: system CAs come from the Conscrypt APEX (/apex/com.android.conscrypt/cacerts), which must be overlaid instead. */
        SYSTEM_STORE_APEX,
        /** Chrome and apps that pin their servers' keys refuse it anyway: they pass through after one failure. */
        PINNING_PASSES_THROUGH,
    }

    fun steps(sdkInt: Int): List<Step> = buildList {
        when {
            sdkInt >= 30 -> add(Step.USER_STORE_SETTINGS)
            else -> add(Step.USER_STORE_OPEN_FILE)
        }
        add(if (sdkInt >= 24) Step.APPS_MUST_OPT_IN else Step.ALL_APPS_TRUST_USER_CAS)
        add(Step.SYSTEM_STORE_ROOTED)
        if (sdkInt >= 34) add(Step.SYSTEM_STORE_APEX)
        add(Step.PINNING_PASSES_THROUGH)
    }
}
