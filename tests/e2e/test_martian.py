"""Issue 15, defect 2: the watched program cannot reach the caller's loopback.

Crafted packets written to the TUN name 127.0.0.1, ::1 and ::ffff:127.0.0.1 as their
destination, or a source that is not the program's. A sentinel listens on the loopback of
the namespace `watch` runs in (the caller's): nothing may arrive there, and every refusal
is in the records."""

import json
import time

import pytest

import lab
from harness import CLIENTS, CLOUD_V4, PY, SERVERS, TUN_NAME, clean_env

PORT = 2323


@pytest.fixture(scope="module")
def sentinel(topo):
    log = topo.workdir / "loopback-sentinel.log"
    log.touch()
    srv = lab.spawn("loopback-sentinel", topo.host,
                    [PY, SERVERS / "loopback_sentinel.py", PORT, log], topo.workdir, env=clean_env())
    topo.servers.append(srv)
    lab.wait_until("sentinel on loopback",
                   lambda: {f"127.0.0.1:{PORT}", f"[::1]:{PORT}"} <= lab.listening(topo.host, "tcp", PORT),
                   15, procs=[srv])
    return log


def test_packets_for_the_callers_loopback_are_refused_and_recorded(runner, sentinel):
    if not runner.watched:
        pytest.skip("the kernel path has no monitor to refuse anything")
    res = runner.run([PY, CLIENTS / "martian.py", TUN_NAME, PORT, CLOUD_V4], timeout=60)
    assert res.returncode == 0, res.describe()
    assert len(res.json()["sent"]) == 7
    time.sleep(0.5)
    arrived = [json.loads(line) for line in sentinel.read_text().splitlines()]
    assert arrived == [], f"the monitor reached its caller's loopback: {arrived}"

    flows = res.flows()
    forbidden = {(f["proto"], f["dst"]) for f in flows if f["close"] == "forbidden"}
    assert forbidden >= {
        ("tcp", f"127.0.0.1:{PORT}"), ("tcp", f"127.1.2.3:{PORT}"), ("tcp", f"[::1]:{PORT}"),
        ("tcp", f"[::ffff:127.0.0.1]:{PORT}"), ("udp", f"127.0.0.1:{PORT}"),
    }, flows
    spoofed = {f["src"].rsplit(":", 1)[0] for f in flows if f["close"] == "spoofed"}
    assert spoofed == {"10.111.0.77", "127.0.0.1"}, flows
    # Nothing from a spoofed source was relayed to the cloud.
    relayed = [f for f in flows if f["dst"] == f"{CLOUD_V4}:80"]
    assert all(f["close"] == "spoofed" for f in relayed), relayed
