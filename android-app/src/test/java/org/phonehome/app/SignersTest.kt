package org.phonehome.app

import android.content.pm.PackageInfo
import android.content.pm.Signature
import java.util.Base64
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf

/** The organisation an app is signed by, from PackageManager's signing certificate. */
@RunWith(RobolectricTestRunner::class)
class SignersTest {
    @Test
    fun the_organisation_of_an_installed_apps_certificate_is_its_subjects_o() {
        val context = RuntimeEnvironment.getApplication()
        @Suppress("DEPRECATION")
        shadowOf(context.packageManager).installPackage(
            PackageInfo().apply {
                packageName = "com.spotify.music"
                signatures = arrayOf(Signature(CERT))
            },
        )
        assertEquals("Spotify AB, Sweden", Signers.of(context.packageManager, "com.spotify.music"))
        assertNull(Signers.of(context.packageManager, "com.example.not.installed"))
    }

    @Test
    fun rfc2253_names_give_their_o_with_escapes_undone() {
        assertEquals("Google LLC", Signers.organisation("CN=Android,OU=Android,O=Google LLC,L=Mountain View,C=US"))
        assertEquals("Spotify AB, Sweden", Signers.organisation("CN=x,O=Spotify AB\\, Sweden,C=SE"))
        assertEquals("Spotify AB, Sweden", Signers.organisation("O=Spotify AB\\2C Sweden"))
        assertEquals("Example", Signers.organisation("CN=a+O=Example"))
        assertNull(Signers.organisation("CN=Debug key,C=US"))
        assertNull(Signers.organisation("O=,C=US"))
        assertNull(Signers.organisation(""))
    }

    companion object {
        /** A self-signed certificate made with openssl, subject C=SE, O=Spotify AB\, Sweden, CN=Release key. */
        private val CERT: ByteArray = Base64.getDecoder().decode(
            "MIIB1zCCAX2gAwIBAgIUF/Gtxdt7oRYNRi3Xw8Kf8nEd+k0wCgYIKoZIzj0EAwIwQDELMAkGA1UEBhMCU0UxGzAZBgNVBAoMElNwb3RpZnkgQUIsIFN3ZWRlbjEUMBIGA1UEAwwLUmVsZWFzZSBrZXkwIBcNMjYxMjAzMTI1MjA5WhgPMjEyNjExMDkxMjUyMDlaMEAxCzAJBgNVBAYTAlNFMRswGQYDVQQKDBJTcG90aWZ5IEFCLCBTd2VkZW4xFDASBgNVBAMMC1JlbGVhc2Uga2V5MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5BBK4NQMloIgdh+rJOsBi73YMfjoH4PtV4n/4slklLZ9sNTxAY3A5X1TKBBHiOiWT5jNxvMEDItM+PVNJ5tTdqNTMFEwHQYDVR0OBBYEFJnVg6pv5Lx9a6/jfU7I86Gzw+FSMB8GA1UdIwQYMBaAFJnVg6pv5Lx9a6/jfU7I86Gzw+FSMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAIqMq/o1O2fVU3zUYuxaisiLAIlmTJ3FuTjIXg3Q/+ttAiByuAtiTwCPbM7XYYMv+ME+GfR/sSrktyjmE8zcmn1aJA==",
        )
    }
}
