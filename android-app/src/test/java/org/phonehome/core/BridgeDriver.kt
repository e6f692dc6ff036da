package org.phonehome.core

import org.phonehome.model.Contact
import org.phonehome.model.CoreConfig
import org.phonehome.model.Finding
import org.phonehome.model.Flow
import org.phonehome.model.Grouping
import org.phonehome.model.Identifiers
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
 * Arguments: TUN_FD SPARE_FD EXPORT_JSONL_FD EXPORT_PCAPNG_FD RECORDS_DIR UPSTREAM_DNS IMEI
 * PHONE. The configuration is built by the app's own code (`CoreConfig.json`, API 29+),
 * and the core's answers are read by the app's own parsers, so app and core are checked
 * against each other. Protocol on stdout: one `key<TAB>value` line per result; on stdin
 * the test says `stop <min findings>` once its client is done.
 */
fun main(args: Array<String>) {
    val (tunFd, spareFd, jsonlFd, pcapFd) = args.take(4).map { it.toInt() }
    val recordsDir = args[4]
    val identifiers = Identifiers(
        region = "CN",
        imei = listOf(args[6]),
        phone = listOf(args[7]),
        email = listOf("someone@example.com"),
        contacts = listOf(Contact("Li Wei", phone = listOf("+8613912345678"))),
        sms = listOf(Sms("+8613700000000", "See you at the station at five")),
    )
    val config = CoreConfig.json(recordsDir, identifiers, Settings(), listOf(args[5]), sdkInt = 34)
    NativeCore.load()
    val out = { key: String, value: Any? -> println("$key\t$value"); System.out.flush() }

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
    expectFailure("bad_filter") { NativeCore.findings(recordsDir, "{\"colour\": 1}", 0, 10) }
    expectFailure("bad_page") { NativeCore.flows(recordsDir, "{}", 0, -5) }
    expectFailure("bad_format") { NativeCore.export(recordsDir, jsonlFd, "docx") }
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
    // Findings are recorded by the core's inspection thread a moment after the bytes pass.
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
    while (host.findings.get() < wanted && System.nanoTime() < deadline) Thread.sleep(20)
    val stats = NativeCore.stats(handle)
    out("stats", stats)
    out("stats.app", Stats.fromJson(stats).summary())
    val page = NativeCore.findings(recordsDir, "{}", 0, 50)
    out("findings.page", page)
    // What the findings screen would show: app, then destination, then kinds.
    for (app in Grouping.group(Finding.listFromJson(page))) {
        for (d in app.destinations) {
            out("grouped", "${app.app}|${d.host}|${d.vendorLabel}|${d.kinds.joinToString(",") { it.kind }}")
        }
    }
    out("findings.second", NativeCore.findings(recordsDir, "{}", 1, 1))

    NativeCore.stop(handle)
    out("stopped", if (host.stopped.await(20, TimeUnit.SECONDS)) "${host.reason}: ${host.message}" else "NO onStopped")
    expectFailure("stats_after_stop") { NativeCore.stats(handle) }
    val flows = NativeCore.flows(recordsDir, "{}", 0, 100)
    out("flows.page", flows)
    out("flows.app", Flow.listFromJson(flows).size)
    out("export.jsonl", NativeCore.export(recordsDir, jsonlFd, "findings.jsonl"))
    out("export.pcapng", NativeCore.export(recordsDir, pcapFd, "pcapng"))
    out("host.protect_calls", host.protectCalls.get())
    out("host.protect_not_socket", host.protectNotSocket.get())
    out("host.owner_calls", host.ownerCalls.get())
    out("host.finding_events", host.findings.get())
    out("host.event_threads", host.eventThreads.joinToString(","))
    out("host.reentrant_stats", host.reentrant.get())
    out("done", "ok")
}

private class DriverHost : CoreHost {
    val handle = AtomicLong(0)
    val protectCalls = AtomicInteger()
    val protectNotSocket = AtomicInteger()
    val ownerCalls = AtomicInteger()
    val findings = AtomicInteger()
    val reentrant = AtomicInteger()
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

    override fun onFinding(findingJson: String) {
        eventThreads.add(Thread.currentThread().name)
        // A callback may call back into the core without deadlock.
        if (NativeCore.stats(handle.get()).contains("\"running\"")) reentrant.incrementAndGet()
        findings.incrementAndGet()
    }

    override fun onStopped(reason: StopReason, message: String) {
        eventThreads.add(Thread.currentThread().name)
        this.reason = reason
        this.message = message
        stopped.countDown()
    }
}
