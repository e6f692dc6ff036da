"""Issue 12 section 2: identifiers sent over WebSocket, and inside a CONNECT tunnel.

A real browser (Debian's headless Chromium) loads a page whose script sends identifiers
over WebSockets to a real server (python3-websockets) with permessage-deflate, once with
context takeover and once without; the server answers with a fragmented message that
carries one back. Client frames are masked and both sides compress, so none of it is
readable on the wire as sent. A python3-websockets client sends a message in fragments.
curl sends a request through tinyproxy with CONNECT (--proxytunnel): plain HTTP inside
the tunnel. Every finding must be found where it was: `websocket` (out and in), or the
URL of the tunnelled request."""

import json
import shutil
import subprocess

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, DIRECT, IDS, PY, SERVERS, wait_until

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

HTTP_PORT, WS_PORT, PROXY_PORT = 8000, 8765, 8888
# From lab/ids.toml.
IMEI, ANDROID_ID = "861234567890123", "9774d56d682e549c"
AD_ID, EMAIL = "38400000-8cf0-11bd-b23e-10b96e40000d", "someone@example.com"


def websockets_python() -> str:
    """A python3 that has the websockets module: this one, or Debian's (python3-websockets)."""
    for py in (PY, "/usr/bin/python3"):
        if shutil.which(py) and subprocess.run([py, "-c", "import websockets"],
                                               capture_output=True).returncode == 0:
            return py
    raise AssertionError("no python3 with the websockets module: apt-get install python3-websockets")


@pytest.fixture(scope="module")
def page_server(topo):
    return topo.start("websocket-page", [websockets_python(), SERVERS / "websocket_page.py",
                                         HTTP_PORT, WS_PORT, EMAIL, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", HTTP_PORT), ("tcp", WS_PORT), ("tcp", WS_PORT + 1)])


@pytest.fixture(scope="module")
def tinyproxy(topo):
    d = topo.workdir / "tinyproxy"
    d.mkdir()
    conf = d / "tinyproxy.conf"
    conf.write_text(f"""
Port {PROXY_PORT}
Timeout 30
MaxClients 16
Allow 10.201.0.0/24
Allow fd00:201::/64
ConnectPort {HTTP_PORT}
LogFile "{d}/tinyproxy.log"
LogLevel Info
PidFile "{d}/tinyproxy.pid"
""")
    srv = topo.start("tinyproxy", ["tinyproxy", "-d", "-c", conf], listen=[("tcp", PROXY_PORT)])
    srv.requests = d / "tinyproxy.log"
    return srv


def findings(res) -> list[dict]:
    text = (res.out_dir / "findings.jsonl").read_text()
    for value in (IMEI, ANDROID_ID, AD_ID, EMAIL):
        assert value not in text, "identifier values never appear unmasked in the records"
    return [json.loads(line) for line in text.splitlines()]


def seen_at(found: list[dict], port: int) -> set[tuple[str, str, str]]:
    return {(f["kind"], f["where"], f["direction"]) for f in found
            if f["dst"] == f"{CLOUD_V4}:{port}"}


@pytest.fixture(scope="module")
def browser_run(runner, page_server, tmp_path_factory):
    work = tmp_path_factory.mktemp("chromium")
    base = f"http://{CLOUD_V4}:{HTTP_PORT}"
    res = runner.run([PY, CLIENTS / "chromium_page.py", f"{base}/?ports={WS_PORT},{WS_PORT + 1}",
                      f"{base}/status", work, 120], timeout=240, watch_args=["--ids", IDS])
    yield res
    shutil.rmtree(work, ignore_errors=True)


def test_chromium_page_talks_websocket_through_the_monitor_intact(browser_run):
    assert browser_run.returncode == 0, browser_run.describe()
    status = browser_run.json()["status"]
    for port in (WS_PORT, WS_PORT + 1):
        got = status["received"][str(port)]
        assert [m["type"] for m in got] == ["text", "binary", "text", "text"], got
        assert got[2]["bytes"] > 100_000, "the big message arrived whole"


def frames(capture, port: int) -> list[dict]:
    """WebSocket frames of the capture to or from `port`, as Wireshark's dissector reads them."""
    fields = ["tcp.dstport", "websocket.fin", "websocket.rsv", "websocket.opcode",
              "websocket.mask", "websocket.payload_length"]
    got = subprocess.run(
        ["tshark", "-r", str(capture), "-d", f"tcp.port=={port},http", "-Y", "websocket",
         "-T", "fields", *[x for f in fields for x in ("-e", f)]],
        capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    out = []
    for line in got.stdout.splitlines():
        dport, *cols = line.split("\t")
        # A segment with several frames lists each field comma-separated.
        for fin, rsv, op, mask, length in zip(*(c.split(",") for c in cols), strict=True):
            out.append({"out": int(dport) == port, "fin": fin == "1", "compressed": rsv == "0x04",
                        "opcode": int(op), "masked": mask == "1", "length": int(length)})
    return out


def test_the_wire_carried_what_the_test_claims(browser_run):
    """Read by tshark, not by us: Chromium's frames are masked and compressed, the big one
    has a 64-bit length, the server's first answer comes in fragments, and context
    takeover shrinks the second message."""
    assert browser_run.returncode == 0, browser_run.describe()
    sizes = {}
    for port in (WS_PORT, WS_PORT + 1):
        fs = frames(browser_run.out_dir / "capture.pcapng", port)
        data_out = [f for f in fs if f["out"] and f["opcode"] in (1, 2)]
        assert data_out and all(f["masked"] and f["compressed"] for f in data_out), fs
        assert any(f["length"] == 127 for f in data_out), "a 64-bit length"
        assert any(not f["out"] and not f["fin"] and f["opcode"] == 1 for f in fs), "fragmented"
        assert any(not f["out"] and f["opcode"] == 0 for f in fs), "a continuation frame"
        sizes[port] = next(f["length"] for f in data_out if f["opcode"] == 2)
    assert sizes[WS_PORT] < sizes[WS_PORT + 1], f"context takeover shortens the repeat: {sizes}"


@pytest.mark.parametrize("port", [WS_PORT, WS_PORT + 1], ids=["context-takeover", "no-context-takeover"])
def test_identifiers_in_chromium_websocket_messages_are_found_as_websocket(browser_run, port):
    assert browser_run.returncode == 0, browser_run.describe()
    seen = seen_at(findings(browser_run), port)
    want = {("imei", "websocket", "out"), ("android_id", "websocket", "out"),
            ("ad_id", "websocket", "out"), ("email", "websocket", "in")}
    assert want <= seen, f"missing {want - seen}; found {seen}"
    assert all(where == "websocket" for _, where, _ in seen), seen


@pytest.mark.parametrize("port", [WS_PORT, WS_PORT + 1], ids=["context-takeover", "no-context-takeover"])
def test_a_message_sent_in_fragments_is_joined_before_it_is_scanned(runner, page_server, port):
    # The IMEI is split across the frames: no single frame holds it.
    res = runner.run([websockets_python(), CLIENTS / "websocket_client.py",
                      f"ws://{CLOUD_V4}:{port}/socket", '{"imei":"8612345', '67890123","n":1}'],
                     timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    assert "known: " in res.json()["reply"]
    seen = seen_at(findings(res), port)
    assert ("imei", "websocket", "out") in seen, seen
    assert ("email", "websocket", "in") in seen, seen


def test_plain_http_inside_a_connect_tunnel_is_read(runner, page_server, tinyproxy):
    url = f"http://{CLOUD_V4}:{HTTP_PORT}/echo?imei={IMEI}&android_id={ANDROID_ID}"
    # Not harness.CURL: its --noproxy would bypass the proxy.
    res = runner.run(["curl", "-q", "-sS", "--proxytunnel", "--proxy",
                      f"http://{CLOUD_V4}:{PROXY_PORT}", url],
                     timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0 and res.stdout == "echo\n", res.describe()
    wait_until("tinyproxy logs the CONNECT",
               lambda: f"CONNECT {CLOUD_V4}:{HTTP_PORT}" in tinyproxy.requests.read_text(), 10)
    found = [f for f in findings(res) if f["dst"] == f"{CLOUD_V4}:{PROXY_PORT}"]
    seen = {(f["kind"], f["where"], f["direction"]) for f in found}
    assert {("imei", "url", "out"), ("android_id", "url", "out")} <= seen, seen
    assert all(f["host"] == CLOUD_V4 for f in found), found
