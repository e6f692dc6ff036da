"""The app's screens over a real core session that relayed real traffic.

The phone is a network namespace whose default route is a real TUN device (as in
test_jni). A JVM runs the app under Robolectric (Android 16): LiveSessionTest
(android-app/src/test/java/org/phonehome/app) starts the app's own MonitorVpnService the
way Android starts an always-on VPN, and the service's VpnTunnel takes this TUN's fd
(its test-only seam: Robolectric's Builder.establish() gives no real interface). The core
is target/release/libphonehome_jni.so. When the monitor runs, curl, as an app uid of its
own, asks dnsmasq (through the core's DNS forwarding) for api.account.xiaomi.com and
sends the IMEI and the phone number to Python's http.server, whose answer names the phone
number back (not a leak: shown apart); the test then opens every
screen and checks what the user sees, the first-leak notification, the export, the stop,
and a restart after process death on a second TUN. With PHONEHOME_SCREENSHOTS=DIR it
also writes the screens as PNGs (android-app/screenshots).

Needs the release build of the JNI crate and `mvn -f android-app/host-checks/pom.xml
package` (its test.classpath), and a JDK >= 21 (Robolectric's Android 16).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from harness import CLOUD_V4, CLOUD_V6, WATCHED_DNS, WATCHED_V4, WATCHED_V6, clean_env, open_tun, sh
from jvm import junit_props, needs_junit, reaped, start_junit, wait_for_file

XIAOMI = "api.account.xiaomi.com"
# Luhn-valid: the settings screen refuses a mistyped IMEI (the core's check digit rule).
IMEI = "490154203237518"
PHONE = "+8613800138000"
# An app's uid as Android numbers them (10000 + n): curl runs as it in the phone namespace.
CLIENT_UID = 10123

pytestmark = needs_junit


@pytest.fixture(scope="module")
def phone(topo):
    """The phone namespace: its default route a TUN (the VPN's), and a second TUN for the
    session Android restarts after process death."""
    ns = topo.host.replace("ph-host", "ph-phone")
    names = [f"pha{os.getpid() % 10**6}"[:15], f"phb{os.getpid() % 10**6}"[:15]]
    fds = [open_tun(n) for n in names]
    topo.namespaces.add(ns)
    topo.namespaces.resolv_conf(ns, WATCHED_DNS[0])
    try:
        for n in names:
            sh(["ip", "link", "set", n, "netns", ns])
            sh(["ip", "-n", ns, "link", "set", n, "mtu", "16000", "up"])
        sh(["ip", "-n", ns, "addr", "add", f"{WATCHED_V4}/24", "dev", names[0]])
        sh(["ip", "-n", ns, "addr", "add", f"{WATCHED_V6}/64", "dev", names[0], "nodad"])
        sh(["ip", "-n", ns, "route", "add", "default", "dev", names[0]])
        sh(["ip", "-6", "-n", ns, "route", "add", "default", "dev", names[0]])
        # A process in the phone namespace: /proc/PID/net is that namespace's socket table,
        # where the app reads who owns a connection (as Android's getConnectionOwnerUid does).
        anchor = topo.start("app-phone-anchor", ["sleep", "3600"], ns=ns)
        yield ns, fds, anchor.pid
    finally:
        for fd in fds:
            os.close(fd)


@pytest.fixture(scope="module")
def cloud(topo):
    topo.start("app-dnsmasq", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--bind-interfaces", f"--listen-address={CLOUD_V4}",
        f"--listen-address={CLOUD_V6}", "--port=53", "--user=root", "--group=root",
        "--pid-file=", "--local=/xiaomi.com/", f"--host-record={XIAOMI},{CLOUD_V4},{CLOUD_V6}",
        "--cache-size=0",
    ], listen=[("udp", 53), ("tcp", 53)])
    www = topo.workdir / "app-www"
    www.mkdir()
    # The answer holds the phone number: what the app must show apart, as received.
    (www / "activate").write_text(f'{{"ok":true,"account":{{"phone":"{PHONE}"}}}}\n')
    topo.start("app-http", ["python3", "-m", "http.server", "80", "--bind", "::",
                            "--directory", www], listen=[("tcp", 80)])


@pytest.fixture(scope="module")
def run(topo, phone, cloud, tmp_path_factory):
    ns, (tun, tun2), pid = phone
    d = tmp_path_factory.mktemp("app")
    handshake = d / "handshake"
    handshake.mkdir()
    props = junit_props(tunFd=tun, tunFd2=tun2, handshake=handshake, dns=CLOUD_V4, phonePid=pid,
                        clientUid=CLIENT_UID, imei=IMEI, phone=PHONE, host=XIAOMI)
    curls = []
    with open(d / "jvm.out", "wb") as out, \
            reaped(start_junit(topo, "org.phonehome.app.LiveSessionTest", props, (tun, tun2), out)) as jvm:
        started = wait_for_file(handshake / "started", jvm, 300, "the app's monitor to start")
        assert started, (d / "jvm.out").read_text()
        for query in (f"imei={IMEI}", f"phone={PHONE.replace('+', '%2B')}"):
            curls.append(subprocess.run(
                ["ip", "netns", "exec", ns, "setpriv", f"--reuid={CLIENT_UID}",
                 f"--regid={CLIENT_UID}", "--clear-groups", "curl", "-sS", "--max-time", "20",
                 "-o", "/dev/null", "-w", "%{http_code}", f"http://{XIAOMI}/activate?{query}"],
                capture_output=True, text=True, timeout=30, env=clean_env()))
        (handshake / "sent").write_text("ok\n")
        jvm.wait(timeout=900)
    return {"out": (d / "jvm.out").read_text(), "rc": jvm.returncode, "curls": curls,
            "done": (handshake / "done").exists()}


def test_curl_got_its_answers_through_the_app(run):
    for c in run["curls"]:
        assert c.returncode == 0, c.stderr
        assert c.stdout == "200", c.stdout


def test_every_screen_shows_the_real_session(run):
    """LiveSessionTest's assertions: status with live counts, findings grouped, per-app
    view, flow detail, apps, export, the notification, stop, restart after process death,
    and the layout checks over every screen with these records."""
    assert run["rc"] == 0, run["out"][-6000:]
    assert re.search(r"^OK \(1 test\)", run["out"], re.M), run["out"][-6000:]
    assert run["done"], run["out"][-6000:]


def test_no_identifier_value_in_anything_the_app_printed(run):
    assert IMEI not in run["out"]
    assert PHONE not in run["out"] and PHONE[1:] not in run["out"]
