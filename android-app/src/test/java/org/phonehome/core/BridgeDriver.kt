package org.phonehome.core

import org.phonehome.model.ByCompany
import org.phonehome.model.CompanyLine
import org.phonehome.model.Contact
import org.phonehome.model.CoreConfig
import org.phonehome.model.Finding
import org.phonehome.model.Flow
import org.phonehome.model.Grouping
import org.phonehome.model.Identifiers
import org.phonehome.model.Interception
import org.phonehome.model.Json
import org.phonehome.model.Settings
import org.phonehome.model.Sms
import org.phonehome.model.Stats
import org.phonehome.model.TypedIdentifiers
import org.phonehome.model.Validation
import java.nio.file.Files
import java.nio.file.Paths
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/**
 * Drives the real core through the app's own bridge class from a plain JVM, for the
 * end-to-end test `tests/e2e/test_jni.py` (which owns the network namespaces, the TUN and
 * the client). Not a unit test: it needs the native library and a TUN fd.
 *
 * Arguments: TUN_FD SPARE_FD EXPORT_PCAPNG_FD RECORDS_DIR UPSTREAM_DNS IMEI PHONE
 * [CA_DIR ROOTS_DIR CA_OUT]: with the last three, "See inside HTTPS" is on for curl's uid
 * (tests/e2e/test_jni_intercept.py): the CA is made in CA_DIR and its certificate written
 * to CA_OUT (as the export screen gets it), and servers are verified against ROOTS_DIR
 * (a test CA as `<hash>.0`, standing in for Android's system store). The
 * configuration is built by the app's own code (`CoreConfig.json`, API 29+), and the
 * core's answers are read by the app's own parsers, so app and core are checked against
 * each other. The records the core sends (`CoreHost.onRecords`) are collected as they come,
 * batch by batch (the app's store, on android.database.sqlite, is tested under Robolectric).
 * Protocol on stdout: one `key<TAB>value` line per result; on stdin the test says
 * `stop <min findings>` once its client is done.
 */
fun main(args: Array<String>) {
    val (tunFd, spareFd, pcapFd) = args.take(3).map { it.toInt() }
    val recordsDir = args[3]
    val identifiers = Identifiers(
        region = "CN",
        imei = listOf(args[5]),
        phone = listOf(args[6]),
        email = listOf("someone@example.com"),
        contacts = listOf(Contact("Li Wei", phone = listOf("+8613912345678"))),
        sms = listOf(Sms("+8613700000000", "See you at the station at five")),
    )
    NativeCore.load()
    val out = { key: String, value: Any? -> println("$key\t$value"); System.out.flush() }
    val intercept = if (args.size >= 10) {
        // Made on first use; only the certificate comes back.
        java.io.File(args[9]).writeText(NativeCore.caCertificate(args[7]))
        Interception.of(Settings(seeInsideHttps = true, interceptedApps = setOf("org.example.curl")), args[7]) { 10123 }
    } else {
        null
    }
    var config = CoreConfig.json(recordsDir, identifiers, Settings(), listOf(args[4]), sdkInt = 34, intercept = intercept)
    if (intercept != null) {
        // The app never sets `roots` (the core reads Android's store); this host has none.
        config = config.removeSuffix("}}") + ",\"roots\":[${Json.Str(args[8])}]}}"
        out("config.intercept", (Json.parse(config) as Json.Obj)["intercept"])
    }

    // Every kind of bad input and a panic arrive as the one exception type.
    fun expectFailure(name: String, call: () -> Unit) {
        try {
            call()
            out("error.$name", "NO EXCEPTION")
        } catch (e: CoreException) {
            out("error.$name", "CoreException(${e.code}): ${e.message}")
        } catch (e: Throwable) {
            out("error.$name", "WRONG TYPE ${e.javaClass.name}: ${e.message}")
        }
    }
    val host = DriverHost()
    expectFailure("closed_fd") { NativeCore.start(-1, config, host) }
    expectFailure("bad_config") { NativeCore.start(spareFd, "{\"records_dir\": 5}", host) }
    expectFailure("unknown_handle") { NativeCore.stats(123456789L) }
    expectFailure("export_closed_fd") { NativeCore.exportCapture(recordsDir, -1) }
    expectFailure("panic") { NativeCore.panicForTest() }

    // The settings screen's check, by the core's rules: what passes and why the rest not.
    val typed = TypedIdentifiers(region = "cn", imei = "12ab\n49-015420-323751-8", phone = "137 0000 1111", mac = "0200.0044.5566")
    val (checked, problems) = Validation.parse(typed, NativeCore::validateIdentifiers)
    out("validate.kept", "${checked.region}|${checked.imei}|${checked.phone}|${checked.mac}")
    out("validate.problems", problems.joinToString(";") { "${it.field}|${it.value}|${it.message}" })

    val handle = NativeCore.start(tunFd, config, host)
    host.handle.set(handle)
    out("started", handle)

    val command = readlnOrNull() ?: "stop 0"
    val wanted = command.removePrefix("stop ").trim().toInt()
    // Findings are recorded by the core's inspection thread a moment after the bytes pass,
    // and reach the host in a batch at most Contract.BATCH_INTERVAL_MS later: no stop needed.
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
    while (host.findingCount() < wanted && System.nanoTime() < deadline) Thread.sleep(20)
    out("records.findings_before_stop", host.findingCount())
    val stats = NativeCore.stats(handle)
    out("stats", stats)
    out("stats.app", Stats.fromJson(stats).summary())

    NativeCore.stop(handle)
    out("stopped", if (host.stopped.await(20, TimeUnit.SECONDS)) "${host.reason}: ${host.message}" else "NO onStopped")
    expectFailure("stats_after_stop") { NativeCore.stats(handle) }
    // Every line exactly as the core sent it, in arrival order, as one JSON array per kind.
    out("records.flows", host.flowLines().joinToString(",", "[", "]"))
    out("records.findings", host.findingLines().joinToString(",", "[", "]"))
    out("records.batches", host.batchSizes().joinToString(","))
    out("records.sessions", host.sessions.joinToString(","))
    out("records.after_stopped", host.afterStopped.get())
    out("records.unterminated", host.unterminated.get())
    // The app's own parsers read every line, and the findings screen's grouping of them.
    val findings = host.findingLines().mapNotNull { Finding.fromJson(Json.parse(it)) }
    out("findings.app", findings.size)
    out("flows.app", host.flowLines().mapNotNull { Flow.fromJson(Json.parse(it)) }.size)
    for (app in Grouping.group(findings)) {
        for (d in app.destinations) {
            out("grouped", "${app.app}|${d.host}|${d.companyLabel}|${d.kinds.joinToString(",") { it.kind }}")
        }
    }
    // And as the findings screen shows them by default: by company.
    for (c in ByCompany.group(findings)) {
        val party = CompanyLine.party(c.parties) { it ?: "?" }
        out("by_company", "${c.name}|${c.what}|$party|${c.apps.joinToString(",") { "${it.app}" }}|${c.destinations.joinToString(",") { it.host }}|${c.kinds.joinToString(",")}")
    }
    out("export.pcapng", NativeCore.exportCapture(recordsDir, pcapFd))
    out("host.protect_calls", host.protectCalls.get())
    out("host.protect_not_socket", host.protectNotSocket.get())
    out("host.owner_calls", host.ownerCalls.get())
    out("host.signer_calls", host.signerCalls.get())
    out("host.event_threads", host.eventThreads.joinToString(","))
    out("host.reentrant_stats", host.reentrant.get())
    out("done", "ok")
}

private class DriverHost : CoreHost {
    val handle = AtomicLong(0)
    val protectCalls = AtomicInteger()
    val protectNotSocket = AtomicInteger()
    val ownerCalls = AtomicInteger()
    val reentrant = AtomicInteger()
    val sessions = java.util.concurrent.ConcurrentSkipListSet<Long>()
    val afterStopped = AtomicInteger()
    val unterminated = AtomicInteger()
    private val flows = mutableListOf<String>()
    private val findings = mutableListOf<String>()
    private val batches = mutableListOf<Int>()
    val eventThreads = java.util.concurrent.ConcurrentSkipListSet<String>()
    val stopped = CountDownLatch(1)
    @Volatile var reason: StopReason? = null
    @Volatile var message: String = ""

    override fun protect(fd: Int): Boolean {
        protectCalls.incrementAndGet()
        // What VpnService.protect would get: an open socket, not yet connected anywhere.
        val target = runCatching { Files.readSymbolicLink(Paths.get("/proc/self/fd/$fd")).toString() }
        if (target.getOrNull()?.startsWith("socket:") != true) protectNotSocket.incrementAndGet()
        return true
    }

    override fun connectionOwnerUid(
        protocol: Int,
        localAddress: String,
        localPort: Int,
        remoteAddress: String,
        remotePort: Int,
    ): Int {
        ownerCalls.incrementAndGet()
        // The only client in the test's phone namespace is curl (and its resolver).
        return if (protocol == 6 || protocol == 17) 10123 else -1
    }

    override fun appForUid(uid: Int): String? = if (uid == 10123) "org.example.curl" else null

    /** Asked once per app: the organisation the test's "app" is signed by. */
    val signerCalls = AtomicInteger()

    override fun signerOfApp(packageName: String): String? {
        signerCalls.incrementAndGet()
        return if (packageName == "org.example.curl") "Xiaomi Inc." else null
    }

    @Synchronized fun findingCount() = findings.size
    @Synchronized fun flowLines() = flows.toList()
    @Synchronized fun findingLines() = findings.toList()
    @Synchronized fun batchSizes() = batches.toList()

    override fun onRecords(session: Long, flowsJsonl: String, findingsJsonl: String, discoveredJsonl: String) {
        eventThreads.add(Thread.currentThread().name)
        sessions.add(session)
        if (stopped.count == 0L) afterStopped.incrementAndGet()
        for (text in listOf(flowsJsonl, findingsJsonl, discoveredJsonl)) if (text.isNotEmpty() && !text.endsWith("\n")) unterminated.incrementAndGet()
        // A callback may call back into the core without deadlock: stats while the session
        // runs, a BAD_HANDLE once stop has taken the session out (the last batches).
        val answered = try {
            NativeCore.stats(handle.get()).contains("\"running\"")
        } catch (e: CoreException) {
            e.code == ErrorCode.BAD_HANDLE
        }
        if (answered) reentrant.incrementAndGet()
        synchronized(this) {
            val f = flowsJsonl.lines().filter { it.isNotEmpty() }
            val x = findingsJsonl.lines().filter { it.isNotEmpty() }
            flows.addAll(f)
            findings.addAll(x)
            batches.add(f.size + x.size)
        }
    }

    override fun onStopped(reason: StopReason, message: String) {
        eventThreads.add(Thread.currentThread().name)
        this.reason = reason
        this.message = message
        stopped.countDown()
    }
}
