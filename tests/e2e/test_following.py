"""Issue 12, section 3, on long connections: what a server sends late is read too.

The monitor used to copy only a flow's first 256 KiB of server bytes for inspection, so
an identifier a server sent back after that was never seen. Now every HTTP/1 response
and WebSocket message is read (each up to the scan limit) for the whole connection, and
the rest of a long body or frame is stepped over without being copied. Real clients
(python's http.client, python3-websockets, curl) and real servers (python's http.server,
python3-websockets, nginx) in the test's namespaces:

- three responses on one kept-alive connection, the third holding the IMEI after a
  1 MiB body (with a Content-Length, and chunked);
- a WebSocket server that sends 2 MiB of messages, then one holding the IMEI (without
  compression, where long frames are stepped over, and with permessage-deflate and
  context takeover, where every byte must be inflated);
- a 200 MiB download through the monitor arrives intact and the inspection thread does
  not fall behind, and a response after it on the same connection is still read."""

import hashlib
import json
import random

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, CURL, DIRECT, IDS, PY, SERVERS
from test_websocket import websockets_python

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

HTTP_PORT, WS_PORT, NGINX_PORT = 8100, 8865, 8180
IMEI = "861234567890123"  # lab/ids.toml
FELL_BEHIND = "inspection fell behind"


@pytest.fixture(scope="module")
def server(topo):
    return topo.start("long-connection", [websockets_python(), SERVERS / "long_connection.py",
                                          HTTP_PORT, WS_PORT, IMEI, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", HTTP_PORT), ("tcp", WS_PORT), ("tcp", WS_PORT + 1)])


def findings(res) -> list[dict]:
    text = (res.out_dir / "findings.jsonl").read_text()
    assert IMEI not in text, "identifier values never appear unmasked in the records"
    return [json.loads(line) for line in text.splitlines()]


def received(res, port: int) -> set[tuple[str, str]]:
    return {(f["kind"], f["where"]) for f in findings(res)
            if f["direction"] == "in" and f["dst"] == f"{CLOUD_V4}:{port}"}


BIG = random.Random(12).randbytes(1 << 20)


@pytest.mark.parametrize("long_one", ["/big", "/chunked"])
def test_the_third_response_on_a_kept_alive_connection_is_read_after_a_long_body(
        runner, server, long_one):
    res = runner.run([PY, CLIENTS / "keepalive_get.py", CLOUD_V4, HTTP_PORT,
                      "/small", long_one, "/account"], timeout=120, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    got = res.json()
    assert got["one_connection"], got
    assert [r["status"] for r in got["responses"]] == [200, 200, 200], got
    assert got["responses"][1]["sha256"] == hashlib.sha256(BIG).hexdigest(), "arrived intact"
    assert ("imei", "body") in received(res, HTTP_PORT), res.describe()
    assert FELL_BEHIND not in res.stderr, res.describe()


def ws_messages() -> tuple[int, int]:
    count = 3 + 64 + 1
    size = 3 * 512 * 1024 + 64 * 8 * 1024 + len(json.dumps({"device": {"imei": IMEI}}))
    return count, size


@pytest.mark.parametrize("port", [WS_PORT, WS_PORT + 1], ids=["plain", "deflate"])
def test_a_websocket_message_after_two_mebibytes_of_others_is_read(runner, server, port):
    res = runner.run([websockets_python(), CLIENTS / "websocket_listen.py",
                      f"ws://{CLOUD_V4}:{port}/"], timeout=120, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    got = res.json()
    assert (got["messages"], got["bytes"]) == ws_messages(), got
    assert ("imei", "websocket") in received(res, port), findings(res)
    assert FELL_BEHIND not in res.stderr, res.describe()


@pytest.fixture(scope="module")
def download_server(topo):
    d = topo.workdir / "nginx-download"
    www = d / "www"
    www.mkdir(parents=True)
    digest = hashlib.sha256()
    rng = random.Random(56)
    with open(www / "big.bin", "wb") as f:
        for _ in range(200):
            block = rng.randbytes(1 << 20)
            digest.update(block)
            f.write(block)
    (www / "account.json").write_text(json.dumps({"device": {"imei": IMEI}}) + "\n")
    srv = topo.start_nginx("nginx-download", f"""
    default_type application/octet-stream;
    keepalive_requests 100;
    server {{
        listen {CLOUD_V4}:{NGINX_PORT};
        listen [{CLOUD_V6}]:{NGINX_PORT};
        root {www};
    }}""", listen=[("tcp", NGINX_PORT)])
    srv.sha256 = digest.hexdigest()
    yield srv
    (www / "big.bin").unlink()


def test_a_200_mib_download_arrives_intact_and_inspection_keeps_up(
        runner, download_server, tmp_path):
    base = f"http://{CLOUD_V4}:{NGINX_PORT}"
    big, account = tmp_path / "big.bin", tmp_path / "account.json"
    # One curl, one connection: the account is the second response on it.
    res = runner.run(CURL + ["--fail", "-o", big, f"{base}/big.bin", "-o", account,
                             f"{base}/account.json", "-w", "%{num_connects}\n"],
                     timeout=300, watch_args=["--ids", IDS])
    try:
        assert res.returncode == 0, res.describe()
        assert res.stdout.split() == ["1", "0"], f"the second transfer reused the connection: {res.stdout}"
        digest = hashlib.sha256()
        with open(big, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        assert digest.hexdigest() == download_server.sha256
    finally:
        big.unlink(missing_ok=True)
    assert FELL_BEHIND not in res.stderr, res.describe()
    assert ("imei", "body") in received(res, NGINX_PORT), findings(res)
