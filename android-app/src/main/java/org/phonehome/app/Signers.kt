package org.phonehome.app

import android.content.pm.PackageManager
import android.content.pm.Signature
import android.os.Build
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.security.cert.CertificateException
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import javax.security.auth.x500.X500Principal

/**
 * The organisation an app is signed by: the O= of its signing certificate's subject
 * (`O=Google LLC` for YouTube). The core marks a destination first party when its company
 * is that organisation, which a package name often does not say.
 */
object Signers {
    /** O= of the certificate [packageName] is signed with, or null (not installed, no O=). */
    fun of(pm: PackageManager, packageName: String): String? {
        val signer = signatures(pm, packageName)?.firstOrNull() ?: return null
        return try {
            val cert = CertificateFactory.getInstance("X.509")
                .generateCertificate(ByteArrayInputStream(signer.toByteArray())) as X509Certificate
            organisation(cert.subjectX500Principal.getName(X500Principal.RFC2253))
        } catch (_: CertificateException) {
            null
        }
    }

    @Suppress("DEPRECATION") // GET_SIGNATURES: below API 28, and where signingInfo is absent
    private fun signatures(pm: PackageManager, packageName: String): Array<Signature>? = try {
        val current = if (Build.VERSION.SDK_INT >= 28) {
            pm.getPackageInfo(packageName, PackageManager.GET_SIGNING_CERTIFICATES).signingInfo?.apkContentsSigners
        } else {
            null
        }
        current?.takeIf { it.isNotEmpty() }
            ?: pm.getPackageInfo(packageName, PackageManager.GET_SIGNATURES).signatures
    } catch (_: PackageManager.NameNotFoundException) {
        null
    }

    /**
     * The first O= of an RFC 2253 name (`CN=x,O=Spotify AB\, Sweden,C=SE`), its escapes
     * undone (`\,` and `\2C` alike); null when there is none or it is empty.
     */
    fun organisation(rfc2253: String): String? {
        var i = 0
        while (i < rfc2253.length) {
            val eq = rfc2253.indexOf('=', i)
            if (eq < 0) return null
            val type = rfc2253.substring(i, eq).trim()
            val value = ByteArrayOutputStream()
            var j = eq + 1
            while (j < rfc2253.length && rfc2253[j] != ',' && rfc2253[j] != '+') {
                val c = rfc2253[j]
                if (c == '\\' && j + 1 < rfc2253.length) {
                    val hex = rfc2253.substring(j + 1, minOf(j + 3, rfc2253.length))
                    if (hex.length == 2 && hex.all { it.isDigit() || it.lowercaseChar() in 'a'..'f' }) {
                        value.write(hex.toInt(16))
                        j += 3
                    } else {
                        value.write(rfc2253[j + 1].toString().toByteArray())
                        j += 2
                    }
                } else {
                    value.write(c.toString().toByteArray())
                    j++
                }
            }
            if (type.equals("O", ignoreCase = true) || type == "2.5.4.10") {
                return value.toString(Charsets.UTF_8.name()).trim().ifEmpty { null }
            }
            i = j + 1
        }
        return null
    }
}
