"""Discovery in the app: a discovered identifier reaches the app's store over the real JNI.

The phone is a network namespace; each of four monitoring sessions gets a real TUN device
of its own (the core closes the fd it is given when its session ends). A JVM runs the app
under Robolectric (Android 16): LiveDiscoveryTest (android-app/src/test/java/org/phonehome/app)
starts the app's own MonitorVpnService over target/release/libphonehome_jni.so. In each
session curl, as an app's uid, sends the same OAID, with fresh nonces, to two names of two
registrable domains (Python's http.server answers). The core keeps discovery's state in the
app's files between sessions: the third session discovers the OAID, whose record the app
stores and shows; the test adds it to the identifiers, and the fourth session finds it exact.
With PHONEHOME_SCREENSHOTS=DIR it writes the discovered screen as PNGs.

Needs the release build of the JNI crate and `mvn -f android-app/host-checks/pom.xml
package` (its test.classpath), and a JDK >= 21.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from harness import CLOUD_V4, WATCHED_DNS, WATCHED_V4, clean_env, open_tun, sh
from jvm import junit_props, needs_junit, reaped, start_junit, wait_for_file

OAID = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"
ADS = "sdk.ads-one.test"
METRICS = "log.metrics-two.test"
CLIENT_UID = 10124
SESSIONS = 4

pytestmark = needs_junit


@pytest.fixture(scope="module")
def phone(topo):
    """The phone namespace with one TUN per session, each brought up when its session runs."""
    ns = topo.host.replace("ph-host", "ph-phone")
    names = [f"pd{n}{os.getpid() % 10**6}"[:15] for n in range(SESSIONS)]
    fds = [open_tun(n) for n in names]
    topo.namespaces.add(ns)
    topo.namespaces.resolv_conf(ns, WATCHED_DNS[0])
    try:
        for n in names:
            sh(["ip", "link", "set", n, "netns", ns])
            sh(["ip", "-n", ns, "link", "set", n, "mtu", "16000", "up"])
        anchor = topo.start("disc-phone-anchor", ["sleep", "3600"], ns=ns)
        yield ns, names, fds, anchor.pid
    finally:
        for fd in fds:
            os.close(fd)


@pytest.fixture(scope="module")
def cloud(topo):
    www = topo.workdir / "disc-www"
    www.mkdir()
    topo.start("disc-http", ["python3", "-m", "http.server", "80", "--bind", "::",
                             "--directory", www], listen=[("tcp", 80)])


def route_to(ns: str, names: list, n: int):
    """Session n's TUN carries the phone's address and default route (the one before it is gone)."""
    for other in names[:n]:
        subprocess.run(["ip", "-n", ns, "addr", "flush", "dev", other], capture_output=True)
    sh(["ip", "-n", ns, "addr", "add", f"{WATCHED_V4}/24", "dev", names[n]])
    sh(["ip", "-n", ns, "route", "replace", "default", "dev", names[n]])


def sdk_requests(ns: str) -> list:
    """Three connections as an ad SDK and an analytics SDK make them: the OAID is the same
    each time, the nonces never are."""
    out = []
    for host, path in [(ADS, f"/sdk/config?oaid={OAID}&nonce={secrets.token_hex(16)}"),
                       (METRICS, f"/collect?device_id={OAID}&nonce={secrets.token_hex(16)}"),
                       (ADS, f"/sdk/ad?oaid={OAID}")]:
        out.append(subprocess.run(
            ["ip", "netns", "exec", ns, "setpriv", f"--reuid={CLIENT_UID}", f"--regid={CLIENT_UID}",
             "--clear-groups", "curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}",
             "-H", f"Host: {host}", f"http://{CLOUD_V4}{path}"],
            capture_output=True, text=True, timeout=30, env=clean_env()))
    return out


@pytest.fixture(scope="module")
def run(topo, phone, cloud, tmp_path_factory):
    ns, names, fds, pid = phone
    d = tmp_path_factory.mktemp("app-discovery")
    handshake = d / "handshake"
    handshake.mkdir()
    props = junit_props(**{"discovery.tunFds": ",".join(map(str, fds))}, handshake=handshake,
                        dns=CLOUD_V4, phonePid=pid, clientUid=CLIENT_UID, oaid=OAID)
    curls = []
    with open(d / "jvm.out", "wb") as out, \
            reaped(start_junit(topo, "org.phonehome.app.LiveDiscoveryTest", props, tuple(fds), out)) as jvm:
        for n in range(SESSIONS):
            if not wait_for_file(handshake / f"started-{n + 1}", jvm, 300, f"session {n + 1} to start"):
                return {"out": (d / "jvm.out").read_text(), "rc": jvm.returncode,
                        "curls": curls, "done": False}
            route_to(ns, names, n)
            curls += sdk_requests(ns)
            (handshake / f"sent-{n + 1}").write_text("ok\n")
        jvm.wait(timeout=900)
    return {"out": (d / "jvm.out").read_text(), "rc": jvm.returncode, "curls": curls,
            "done": (handshake / "done").exists()}


def test_curl_reached_the_servers_in_every_session(run):
    assert len(run["curls"]) == 3 * SESSIONS, run["out"][-6000:]
    for c in run["curls"]:
        assert c.returncode == 0, c.stderr
        assert c.stdout == "404", c.stdout


def test_the_discovered_oaid_reaches_the_store_the_screen_and_then_the_identifiers(run):
    """LiveDiscoveryTest's assertions: nothing after two sessions, the state file owner-only
    in the app's files, the record in the store after the third, the screen masked, Add,
    and exact findings in the fourth."""
    assert run["rc"] == 0, run["out"][-6000:]
    assert "OK (1 test)" in run["out"], run["out"][-6000:]
    assert run["done"], run["out"][-6000:]


def test_the_oaid_never_appears_in_what_the_app_printed(run):
    assert OAID not in run["out"]
