package org.phonehome.model

import java.io.ByteArrayInputStream
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class InterceptionTest {
    companion object {
        /** A P-256 CA certificate made by `openssl req -x509` for these tests (its key was discarded). */
        const val TEST_CA_PEM =
            "-----BEGIN CERTIFICATE-----\n" +
            "MIIBjjCCATOgAwIBAgIUPEUTzUCjvmcCSLCV8mTbU1/wEsgwCgYIKoZIzj0EAwIw\n" +
            "HDEaMBgGA1UEAwwRUGhvbmVIb21lIHRlc3QgQ0EwHhcNMjYxMjAzMTI1NzM1WhcN\n" +
            "MzYxMTMwMTI1NzM1WjAcMRowGAYDVQQDDBFQaG9uZUhvbWUgdGVzdCBDQTBZMBMG\n" +
            "ByqGSM49AgEGCCqGSM49AwEHA0IABIZ7L79vF1me+NrQFLtHcdQaoDOnXgWsrHwJ\n" +
            "btp0YtUZIbMPP++RPMsKdCpOGpjDIXsmHMvJXKeRbjjUu1GVbRSjUzBRMB0GA1Ud\n" +
            "DgQWBBQPtx7e8alQh3BI7J4OGRobU5U/wDAfBgNVHSMEGDAWgBQPtx7e8alQh3BI\n" +
            "7J4OGRobU5U/wDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQD/\n" +
            "Ifx+pGCLjGoTvbE3dwJhyza7Q3Aw2BleMDMPqYEg6AIhANuWB8NlgaBWS8KgV2OA\n" +
            "vl6rVe38VUr1SetDVqZ+cnEw\n" +
            "-----END CERTIFICATE-----\n"
    }

    @Test
    fun `see inside HTTPS is off by default and its choices survive the settings file`() {
        assertFalse(Settings().seeInsideHttps)
        assertEquals(emptySet<String>(), Settings().interceptedApps)
        val s = Settings(seeInsideHttps = true, interceptedApps = setOf("com.b", "com.a"))
        val (back, bad) = Settings.parse(s.serialise())
        assertEquals(s, back)
        assertEquals(emptyList<String>(), bad)
        assertTrue(s.serialise(), "intercepted_apps=com.a,com.b\n" in s.serialise())
        // An older settings file has neither key: off.
        assertFalse(Settings.parse("ipv6=true\n").first.seeInsideHttps)
    }

    @Test
    fun `nothing is intercepted while it is off or when no chosen app is installed`() {
        val uids = mapOf("com.a" to 10123, "com.b" to 10456)
        val on = Settings(seeInsideHttps = true, interceptedApps = setOf("com.b", "com.a", "com.gone"))
        assertNull(Interception.of(on.copy(seeInsideHttps = false), "/ca", uids::get))
        assertNull(Interception.of(on.copy(interceptedApps = setOf("com.gone")), "/ca", uids::get))
        assertEquals(Interception("/ca", listOf(10123, 10456)), Interception.of(on, "/ca", uids::get))
    }

    @Test
    fun `the core is given the CA directory and the chosen uids, and nothing when off`() {
        val off = CoreConfig.json("/r", Identifiers(), Settings(), emptyList(), 34)
        assertNull((Json.parse(off) as Json.Obj)["intercept"])
        val on = CoreConfig.json(
            "/r", Identifiers(), Settings(), emptyList(), 34,
            intercept = Interception("/data/user/0/org.phonehome/files/ca", listOf(10123)),
        )
        assertTrue(on, on.endsWith(""","owner_lookup":"host","intercept":{"ca_dir":"/data/user/0/org.phonehome/files/ca","apps":[10123]}}"""))
    }

    @Test
    fun `the DER export is the certificate inside the PEM`() {
        val der = CaCertificate.der(TEST_CA_PEM)!!
        val cert = CertificateFactory.getInstance("X.509").generateCertificate(ByteArrayInputStream(der)) as X509Certificate
        assertEquals("CN=PhoneHome test CA", cert.subjectX500Principal.name)
        assertEquals(-1, String(der, Charsets.ISO_8859_1).indexOf("BEGIN"))
        assertNull(CaCertificate.der("no certificate here"))
        assertNull(CaCertificate.der("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"))
    }

    @Test
    fun `the install steps follow the Android version`() {
        val s = CaGuidance.Step.entries
        fun steps(sdk: Int) = CaGuidance.steps(sdk)
        // Before 7, every app trusts user CAs.
        assertEquals(listOf(s[1], s[3], s[4], s[6]), steps(23))
        // 7 to 10: user store by opening the file; apps must opt in.
        assertEquals(
            listOf(CaGuidance.Step.USER_STORE_OPEN_FILE, CaGuidance.Step.APPS_MUST_OPT_IN, CaGuidance.Step.SYSTEM_STORE_ROOTED, CaGuidance.Step.PINNING_PASSES_THROUGH),
            steps(29),
        )
        // 11+: through Settings only; 14+: the Conscrypt APEX note.
        assertEquals(CaGuidance.Step.USER_STORE_SETTINGS, steps(30).first())
        assertFalse(CaGuidance.Step.SYSTEM_STORE_APEX in steps(33))
        assertTrue(CaGuidance.Step.SYSTEM_STORE_APEX in steps(34))
        assertTrue(CaGuidance.Step.SYSTEM_STORE_APEX in steps(36))
    }
}
