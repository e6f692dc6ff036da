"""Issue 13, operations of TLS interception: QUIC to intercepted hosts is dropped so that
clients fall back to TCP, `--keylog` exports the session keys in the SSLKEYLOGFILE
format, and TLS is intercepted on any port, told by the client's first bytes.

The test CA, nginx over TLS and the monitor's own CA come from test_intercept.py.
"""

import json
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


# A server that speaks first (as SMTP, FTP, SSH do): a banner on connect, then it echoes
# one line and closes.
BANNER_SERVER = """
import socket, sys, threading
def serve(conn):
    with conn:
        conn.sendall(b"220 banner\\r\\n")
        conn.sendall(conn.makefile("rb").readline())
def accept(listener):
    while True:
        threading.Thread(target=serve, args=(listener.accept()[0],)).start()
for addr in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(sys.argv[1])))
    s.listen()
    threading.Thread(target=accept, args=(s,)).start()
"""

# Waits for the banner (giving up after 8 s, before the monitor's 10 s wait for a
# ClientHello would end), then sends a line and prints what came back.
BANNER_CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=8)
f = c.makefile("rwb")
banner = f.readline()
f.write(b"hello\\n"); f.flush()
print((banner + f.readline()).decode(), end="")
"""

TLS_PORT, BANNER_PORT = 8443, 2525


@pytest.fixture(scope="module")
def https_8443(topo, pki):
    """nginx over TLS on port 8443 for cloud.test, certified by the test CA."""
    p = pki["dir"]
    return topo.start_nginx("nginx-8443", f"""
    server {{
        listen {CLOUD_V4}:{TLS_PORT} ssl http2;
        listen [{CLOUD_V6}]:{TLS_PORT} ssl http2;
        ssl_certificate {p}/good.pem;
        ssl_certificate_key {p}/good.key;
        location / {{ return 200 "ok\\n"; }}
    }}""", listen=[("tcp", TLS_PORT)])


@pytest.fixture(scope="module")
def banner(topo):
    return topo.start("banner", [PY, "-c", BANNER_SERVER, BANNER_PORT, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", BANNER_PORT)])


def test_tls_on_another_port_is_intercepted_and_a_server_that_speaks_first_is_not_held_up(
        runner, https_8443, banner, pki):
    url = f"https://{GOOD}:{TLS_PORT}/register?imei={IMEI}"
    cmds = [
        CURL + ["--cacert", str(pki["ours"]), "--http1.1", "--resolve",
                f"{GOOD}:{TLS_PORT}:{CLOUD_V4}", url],
        [PY, "-c", BANNER_CLIENT, CLOUD_V4, str(BANNER_PORT)],
    ]
    res = runner.run([PY, CLIENTS / "runmany.py", json.dumps(cmds)], timeout=120,
                     watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    tls, plain = res.json()
    assert tls["rc"] == 0 and tls["stdout"] == "ok\n", tls["stderr"]
    found = [f for f in records(res.out_dir, "findings.jsonl") if f["kind"] == "imei"]
    assert [(f["tls"], f["host"], f["where"]) for f in found] == [("intercepted", GOOD, "url")]
    flows = records(res.out_dir, "flows.jsonl")
    on_8443 = [f for f in flows if f["dst"] == f"{CLOUD_V4}:{TLS_PORT}"]
    assert [f.get("tls") for f in on_8443] == ["intercepted"], on_8443

    assert plain["rc"] == 0 and plain["stdout"] == "220 banner\nhello\n", plain
    on_banner = [f for f in flows if f["dst"] == f"{CLOUD_V4}:{BANNER_PORT}"]
    assert len(on_banner) == 1 and "tls" not in on_banner[0], on_banner
