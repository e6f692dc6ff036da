"""Issue 13, operations of TLS interception: QUIC to intercepted hosts is dropped so that
clients fall back to TCP, and `--keylog` exports the session keys in the SSLKEYLOGFILE
format.

The test CA, nginx over TLS and the monitor's own CA come from test_intercept.py.
"""

import shutil
import tempfile

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, PY, SERVERS
from test_intercept import GOOD, https, intercepting, pki, records  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def udp_443(topo):
    """A UDP listener on port 443 of the server that logs every datagram reaching it."""
    log = topo.workdir / "udp-443.log"
    log.write_text("")
    topo.start("udp-443", [PY, SERVERS / "udp_count.py", log, 443, CLOUD_V4, CLOUD_V6],
               listen=[("udp", 443)])
    return log


@pytest.fixture(scope="module")
def short_dir():
    """Chromium's singleton socket path must fit in 108 bytes: a short directory."""
    d = tempfile.mkdtemp(prefix="phq-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def chromium_quic(runner, workdir, log, watch_args):
    """Chromium tries HTTP/3 to cloud.test for a few seconds under `watch`; returns the
    run and the datagrams that reached the server meanwhile."""
    before = len(log.read_text().splitlines())
    res = runner.run([PY, CLIENTS / "chromium_quic.py", GOOD, CLOUD_V4, workdir, "6"],
                     timeout=90, watch_args=watch_args)
    assert res.returncode == 0, res.describe()
    arrived = log.read_text().splitlines()[before:]
    quic = [f for f in records(res.out_dir, "flows.jsonl")
            if f["proto"] == "udp" and f["dst"] == f"{CLOUD_V4}:443"]
    return res, arrived, quic


def test_quic_to_an_intercepted_host_never_reaches_the_server_and_is_recorded(
        runner, short_dir, udp_443, pki):
    res, arrived, quic = chromium_quic(runner, short_dir, udp_443, intercepting(pki))
    assert arrived == [], f"QUIC reached the server: {arrived}\n{res.stdout}"
    assert quic, (records(res.out_dir, "flows.jsonl"), res.stdout)
    assert {(f.get("tls"), f.get("host")) for f in quic} == {("quic-dropped", GOOD)}, quic
    assert all(f["bytes_out"] >= 1200 for f in quic), "Initials are padded to 1200 bytes"


def test_quic_passes_when_interception_is_off(runner, short_dir, udp_443):
    res, arrived, quic = chromium_quic(runner, short_dir, udp_443, [])
    # Long header, fixed bit: the first byte of a QUIC v1 Initial is 0xc0 to 0xcf.
    assert arrived and all(line.split()[1][0] == "c" for line in arrived[:1]), arrived
    assert quic and all("tls" not in f for f in quic), quic
