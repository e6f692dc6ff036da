"""The app's JNI bridge, from a real JVM through the app's own bridge class.

`BridgeDriver` (android-app/src/test/java/org/phonehome/core) loads libphonehome_jni.so
and calls `NativeCore` exactly as the app's VpnService does. Here the phone is a network
namespace whose default route is a real TUN device; the test opens that TUN and hands
its fd to the JVM (as `VpnService.establish()` hands one to the app). curl in the phone
namespace asks dnsmasq (through the core's DNS forwarding) for api.account.xiaomi.com and
sends the IMEI to Python's http.server in the cloud namespace. The core sends its flow
records and findings to the driver in batches (`CoreHost.onRecords`, which the app stores in
its own SQLite); the driver collects every line as it came.

Needs the release build of the workspace and the Maven build of android-app/host-checks
(`tests/run-all` does both first).
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from harness import (CLOUD_V4, CLOUD_V6, PY, WATCHED_DNS, WATCHED_V4, WATCHED_V6, clean_env, open_tun,
                     sh)
from jvm import needs_driver, reaped, start_driver, until_started

XIAOMI = "api.account.xiaomi.com"
IMEI = "861234567890128"
PHONE = "+8613800138000"

pytestmark = needs_driver


@pytest.fixture(scope="module")
def phone(topo):
    """The phone: its own namespace behind a TUN, like every app behind the VPN."""
    ns = topo.host.replace("ph-host", "ph-phone")
    tun = f"phj{os.getpid() % 10**6}"[:15]
    fd = open_tun(tun)
    # Removed with the topology's namespaces, /etc/netns/NS included.
    topo.namespaces.add(ns)
    topo.namespaces.resolv_conf(ns, WATCHED_DNS[0])
    try:
        sh(["ip", "link", "set", tun, "netns", ns])
        # What Builder.setMtu gives the app's TUN by default (Settings.DEFAULT_MTU).
        sh(["ip", "-n", ns, "link", "set", tun, "mtu", "16000", "up"])
        sh(["ip", "-n", ns, "addr", "add", f"{WATCHED_V4}/24", "dev", tun])
        sh(["ip", "-n", ns, "addr", "add", f"{WATCHED_V6}/64", "dev", tun, "nodad"])
        sh(["ip", "-n", ns, "route", "add", "default", "dev", tun])
        sh(["ip", "-6", "-n", ns, "route", "add", "default", "dev", tun])
        yield ns, fd
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def cloud(topo):
    log = topo.workdir / "jni-dnsmasq.log"
    topo.start("jni-dnsmasq", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--bind-interfaces", f"--listen-address={CLOUD_V4}",
        f"--listen-address={CLOUD_V6}", "--port=53",
        "--user=root", "--group=root", "--pid-file=", "--local=/xiaomi.com/",
        f"--host-record={XIAOMI},{CLOUD_V4},{CLOUD_V6}", "--log-queries",
        f"--log-facility={log}", "--cache-size=0",
    ], listen=[("udp", 53), ("tcp", 53)])
    www = topo.workdir / "jni-www"
    www.mkdir()
    (www / "activate").write_text("ok\n")
    # http.server binds one address; "::" takes IPv4 too (as mapped addresses).
    topo.start("jni-http", [PY, "-m", "http.server", "80", "--bind", "::",
                            "--directory", www], listen=[("tcp", 80)])


@pytest.fixture(scope="module")
def session(topo, phone, cloud, tmp_path_factory):
    """One run of the driver: errors first, then a session carrying curl's requests."""
    ns, tun_fd = phone
    d = tmp_path_factory.mktemp("jni")
    records = d / "records"
    spare = os.open("/dev/null", os.O_RDONLY)
    pcap = os.open(d / "export.pcapng", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(d / "jvm.stderr", "wb") as stderr, reaped(start_driver(
            topo, [tun_fd, spare, pcap, records, CLOUD_V4, IMEI, PHONE], (tun_fd, spare, pcap),
            stderr)) as jvm:
        for fd in (spare, pcap):
            os.close(fd)
        lines = until_started(jvm, d / "jvm.stderr")
        curls = []
        for query in (f"imei={IMEI}", f"phone={PHONE.replace('+', '%2B')}"):
            curls.append(subprocess.run(
                ["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "20", "-o", "/dev/null",
                 "-w", "%{http_code} %{size_request}", f"http://{XIAOMI}/activate?{query}"],
                capture_output=True, text=True, timeout=30, env=clean_env()))
        rest, _ = jvm.communicate("stop 2\n", timeout=90)
        lines.extend(rest.splitlines(keepends=True))
    results = {}
    for line in lines:
        key, _, value = line.rstrip("\n").partition("\t")
        results[key] = value
    results["_stderr"] = (d / "jvm.stderr").read_text()
    results["_stdout"] = "".join(lines)
    results["_curls"] = curls
    results["_dir"] = d
    results["_jvm_exit"] = jvm.returncode
    return results


def test_the_driver_ran_to_the_end(session):
    assert session.get("done") == "ok", session["_stdout"] + session["_stderr"]
    assert session["_jvm_exit"] == 0, session["_stderr"]


def test_curl_got_its_answers_through_the_core(session):
    for c in session["_curls"]:
        assert c.returncode == 0, c.stderr
        assert c.stdout.startswith("200 "), c.stdout


@pytest.mark.parametrize("case, code, says", [
    ("closed_fd", "TUN", "tunFd -1 is not an open file descriptor"),
    ("bad_config", "BAD_CONFIG", "records_dir: invalid type: integer `5`"),
    ("unknown_handle", "BAD_HANDLE", "no session with handle 123456789"),
    ("export_closed_fd", "BAD_ARGUMENT", "fd -1 is not an open file descriptor"),
    ("panic", "PANIC", "internal error (a bug in the core): panicForTest was called"),
    ("stats_after_stop", "BAD_HANDLE", "no session with handle"),
])
def test_bad_input_and_a_panic_arrive_as_core_exception(session, case, code, says):
    """Each with its typed code (the app decides on it) and its message (for people)."""
    got = session[f"error.{case}"]
    assert got.startswith(f"CoreException({code}): "), got
    assert says in got, got


def test_the_app_checks_identifiers_by_the_core_rules(session):
    """Validation.parse through NativeCore.validateIdentifiers: normalised values kept,
    the rest refused with the identifiers file's own words."""
    assert session["validate.kept"] == \
        "CN|[490154203237518]|[+8613700001111]|[02:00:00:44:55:66]", session["validate.kept"]
    assert session["validate.problems"] == "imei|12ab|is not 14 to 16 digits"


def test_stats_count_the_live_session(session):
    stats = json.loads(session["stats"])
    assert stats["running"] is True
    assert stats["session"] == int(session["started"])
    assert stats["findings"] >= 2
    # Two DNS lookups at least (A and AAAA may be one or two flows) and two HTTP connections.
    assert stats["flows_total"] >= 3
    sizes = sum(int(c.stdout.split()[1]) for c in session["_curls"])
    assert stats["bytes_out"] >= sizes
    assert stats["protect_failures"] == 0
    assert stats["records_dropped"] == 0


def records(session, kind: str) -> list[dict]:
    """Every record line the host got, in arrival order (each parsed on its own)."""
    return json.loads(session[f"records.{kind}"])


FINDING_FIELDS = {"ts", "flow", "app", "proto", "src", "dst", "host", "host_source", "domain", "company",
                  "parent", "category", "service", "party", "kind", "encoding", "digest_form", "truncated", "where",
                  "direction", "confidence", "evidence"}
FLOW_FIELDS = {"flow", "proto", "src", "dst", "bytes_out", "bytes_in", "start", "end", "close",
               "app", "host", "host_source", "domain", "company", "parent", "category", "service", "party"}


def test_findings_name_the_app_the_company_and_the_identifier(session):
    findings = records(session, "findings")
    kinds = {(f["kind"], f["encoding"], f["where"]) for f in findings}
    assert ("imei", "plain", "url") in kinds, findings
    assert ("phone", "url", "url") in kinds or ("phone", "plain", "url") in kinds, findings
    for f in findings:
        assert FINDING_FIELDS <= set(f), f
        assert f["app"] == "org.example.curl", f
        assert f["host"] == XIAOMI, f
        # The registrable domain of the host, from the core's suffix rules.
        assert f["domain"] == "xiaomi.com", f
        assert f["company"] == "Xiaomi", f
        # The driver says the app is signed by O=Xiaomi Inc.: Xiaomi's host is its own.
        assert f["party"] == "first", f
        assert f["proto"] == "tcp" and f["dst"] in (f"{CLOUD_V4}:80", f"[{CLOUD_V6}]:80"), f
        assert f["direction"] == "out" and f["confidence"] == "exact", f
        assert IMEI not in json.dumps(f), "evidence must be masked"


def test_every_finding_arrived_once(session):
    findings = records(session, "findings")
    stats = json.loads(session["stats"])
    # Each form of each kind is reported once per flow: a repeat would be a batch sent twice.
    keys = [(f["flow"], f["kind"], f["encoding"], f["digest_form"], f["truncated"], f["where"],
             f["direction"]) for f in findings]
    assert len(keys) == len(set(keys)), findings
    # All the core counted while running (more may come from flows closed by the stop).
    assert len(findings) >= stats["findings"] >= 2
    # They came in a batch while the session ran, without waiting for the stop.
    assert int(session["records.findings_before_stop"]) >= 2


def test_records_came_in_batches_on_the_core_event_thread_before_on_stopped(session):
    sizes = [int(n) for n in session["records.batches"].split(",")]
    assert sum(sizes) == len(records(session, "flows")) + len(records(session, "findings"))
    assert all(0 < n <= 256 for n in sizes), sizes  # Contract.MAX_BATCH, nothing empty
    assert session["records.sessions"] == session["started"]
    assert int(session["records.after_stopped"]) == 0
    assert int(session["records.unterminated"]) == 0, "each JSON line ends with a newline"
    assert session["host.event_threads"] == "phonehome-events"
    # Each onRecords called NativeCore.stats from inside the callback without deadlock.
    assert int(session["host.reentrant_stats"]) == len(sizes)


def test_the_app_reads_the_core_answers_with_its_own_parsers(session):
    """The app's model code parsed the stats and every record the core sent, and grouped
    the findings as its findings screen does."""
    stats = json.loads(session["stats"])
    summary = session["stats.app"]
    assert f"{stats['flows_total']} flows" in summary and f"{stats['findings']} findings" in summary, \
        summary
    assert int(session["findings.app"]) == len(records(session, "findings"))
    assert int(session["flows.app"]) == len(records(session, "flows"))
    grouped = [v for k, v in (line.split("\t", 1) for line in session["_stdout"].splitlines()
                              if "\t" in line) if k == "grouped"]
    assert len(grouped) == 1, grouped
    app, host, label, kinds = grouped[0].split("|")
    assert (app, host) == ("org.example.curl", XIAOMI)
    assert label.startswith("Xiaomi"), label
    assert {"imei", "phone"} <= set(kinds.split(",")), kinds


def test_the_app_groups_the_core_findings_by_company(session):
    """Issue 16: the findings screen's default grouping over the real core's records:
    Xiaomi, its category, first party (the driver's app is signed O=Xiaomi Inc.), from the
    one app, through the one host, with both kinds."""
    rows = [v for k, v in (line.split("\t", 1) for line in session["_stdout"].splitlines()
                           if "\t" in line) if k == "by_company"]
    assert len(rows) == 1, rows
    name, what, party, apps, hosts, kinds = rows[0].split("|")
    assert (name, party, apps, hosts) == ("Xiaomi", "first party", "org.example.curl", XIAOMI), rows
    assert what != "null", rows
    assert {"imei", "phone"} <= set(kinds.split(",")), kinds


def test_stop_sends_every_flow_once_and_reports_why(session):
    assert session["stopped"] == "STOPPED: stopped"
    flows = records(session, "flows")
    ids = [f["flow"] for f in flows]
    assert len(ids) == len(set(ids)), flows
    # Every flow the relay started (curl was done before the count) ended in one record.
    assert len(flows) == json.loads(session["stats"])["flows_total"], flows
    for f in flows:
        assert FLOW_FIELDS <= set(f), f
    http = [f for f in flows if f["dst"] in (f"{CLOUD_V4}:80", f"[{CLOUD_V6}]:80")]
    dns = [f for f in flows if f["dst"] in (f"{WATCHED_DNS[0]}:53",)]
    assert len(http) == 2, flows
    assert dns, flows
    assert all(f["app"] == "org.example.curl" for f in http + dns), flows
    assert {f["host"] for f in http} == {XIAOMI}
    assert all(f["proto"] == "tcp" and f["bytes_out"] > 0 and f["bytes_in"] > 0 for f in http), http
    assert {f["flow"] for f in records(session, "findings")} <= {f["flow"] for f in http}


def test_protect_is_called_for_every_outbound_socket(session):
    flows = records(session, "flows")
    relayed = [f for f in flows if f["proto"] in ("tcp", "udp")]
    assert int(session["host.protect_calls"]) == len(relayed), flows
    assert int(session["host.protect_not_socket"]) == 0
    assert int(session["host.owner_calls"]) >= len(relayed)
    # The signer is asked once per app and session, however many flows the app makes.
    assert int(session["host.signer_calls"]) == 1


def test_the_capture_export_names_the_flows_that_were_sent(session):
    d = session["_dir"]
    assert int(session["export.pcapng"]) == len((d / "export.pcapng").read_bytes())
    got = subprocess.run(["tshark", "-r", str(d / "export.pcapng"), "-T", "fields",
                          "-e", "tcp.dstport", "-e", "frame.comment"],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    http = [row for row in got.stdout.splitlines() if row.startswith("80\t")]
    assert http, got.stdout
    assert all("app=org.example.curl" in row and f"host={XIAOMI}" in row for row in http[2:]), http
    # The capture and the records are two paths out of the core: the same flows.
    captured = {int(m) for m in re.findall(r"flow=(\d+)", got.stdout)}
    assert captured and captured <= {f["flow"] for f in records(session, "flows")}


def test_no_identifier_value_in_anything_the_core_printed(session):
    for text in (session["_stderr"], session["_stdout"]):
        assert IMEI not in text
        assert PHONE not in text and PHONE[1:] not in text
