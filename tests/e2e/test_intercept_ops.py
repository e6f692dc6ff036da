"""Issue 13, operations of TLS interception: QUIC to intercepted hosts is dropped so that
clients fall back to TCP, and `--keylog` exports the session keys in the SSLKEYLOGFILE
format.

The test CA, nginx over TLS and the monitor's own CA come from test_intercept.py.
"""

import os
import re
import shutil
import tempfile

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, CURL, PY, SERVERS, sh
from test_intercept import (GOOD, IMEI, https, intercepting, pki, records,  # noqa: F401
                            resolve)


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


# The NSS key log format: a label, the client random and a secret, in lower-case hex.
KEYLOG_LINE = re.compile(r"(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|"
                         r"SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|"
                         r"SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}")


def decrypted_uris(capture, keylog=""):
    out = sh(["tshark", "-r", capture, "-o", f"tls.keylog_file:{keylog}", "-Y", "http.request",
              "-T", "fields", "-e", "http.request.uri"], timeout=120).stdout
    return out.split()


def test_the_keylog_file_alone_decrypts_a_capture_stripped_of_its_secrets(
        runner, https, pki, tmp_path):
    keylog = tmp_path / "keys.txt"
    url = f"https://{GOOD}/register?imei={IMEI}"
    res = runner.run(CURL + ["--cacert", pki["ours"], "--http1.1", *resolve(GOOD), url],
                     timeout=60, watch_args=intercepting(pki) + ["--keylog", keylog])
    assert res.returncode == 0 and res.stdout == "ok\n", res.describe()
    assert oct(keylog.stat().st_mode & 0o777) == "0o600"
    lines = keylog.read_text().splitlines()
    assert lines and all(KEYLOG_LINE.fullmatch(line) for line in lines), lines
    # TLS 1.3: both handshake and both traffic secrets of the one session.
    assert len({line.split()[1] for line in lines}) == 1 and len(lines) >= 4, lines

    stripped = tmp_path / "stripped.pcapng"
    sh(["editcap", "--discard-all-secrets", res.out_dir / "capture.pcapng", stripped])
    assert decrypted_uris(stripped) == [], "the secrets blocks were not stripped"
    assert f"/register?imei={IMEI}" in decrypted_uris(stripped, keylog)


def test_a_keylog_file_others_may_read_is_refused_before_cmd_runs(runner, pki, tmp_path):
    keylog = tmp_path / "keys.txt"
    keylog.write_text("")
    os.chmod(keylog, 0o644)
    marker = tmp_path / "ran"
    res = runner.run(["touch", marker], timeout=60,
                     watch_args=intercepting(pki) + ["--keylog", keylog])
    assert res.returncode == 125, res.describe()
    assert "key log" in res.stderr and "chmod 600" in res.stderr, res.stderr
    assert not marker.exists()
