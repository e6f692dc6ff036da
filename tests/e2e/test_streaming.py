"""Issue 12, section 3: a streamed answer is read while it streams.

Push APIs answer once and keep the connection open: server-sent events, JSON lines, a
long chunked answer. Since responses are read whole, such an answer was scanned only
when it ended, which may be hours later or never (the app killed, the VPN stopped). Now
each event or line is scanned as it arrives, decoded as it comes even when gzip was
flushed in the middle of the IMEI. Each test asserts the finding is in the records
while curl still holds the stream open, then lets the server end it. A real client
(curl -N) and a real server (python's http.server) in the test's namespaces."""

import json
import subprocess
import time

import pytest

from harness import CLOUD_V4, CURL, DIRECT, IDS, PY, SERVERS, stop_group

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

PORT = 8191
IMEI = "861234567890123"  # lab/ids.toml
WAIT = 30


@pytest.fixture(scope="module")
def server(topo):
    return topo.start("streamed-responses", [PY, SERVERS / "streamed_responses.py", PORT, IMEI],
                      listen=[("tcp", PORT)])


def received(out_dir) -> list[tuple[str, str]]:
    path = out_dir / "findings.jsonl"
    text = path.read_text() if path.exists() else ""
    assert IMEI not in text, "values never appear in the records"
    return [(f["kind"], f["where"]) for f in map(json.loads, text.splitlines())
            if f["direction"] == "in" and f["dst"] == f"{CLOUD_V4}:{PORT}"]


def release(topo):
    subprocess.run(["ip", "netns", "exec", topo.host, *CURL, "--max-time", "10",
                    f"http://{CLOUD_V4}:{PORT}/release"], check=True)


@pytest.mark.parametrize("path", ["/events", "/events.gz", "/lines"])
def test_an_imei_in_a_stream_is_in_the_records_while_the_stream_is_still_open(
        runner, topo, server, path, tmp_path):
    out = (tmp_path / "stdout").open("wb")
    proc, out_dir = runner.popen(CURL + ["-N", "--compressed", f"http://{CLOUD_V4}:{PORT}{path}"],
                                 stdout=out, stderr=subprocess.PIPE, watch_args=["--ids", IDS])
    try:
        deadline = time.monotonic() + WAIT
        while not received(out_dir) and time.monotonic() < deadline:
            assert proc.poll() is None, "the stream ended before the server was released"
            time.sleep(0.2)
        found = received(out_dir)
        # Still open: the server holds the stream until it is released.
        assert proc.poll() is None, "the stream ended before the server was released"
        assert found == [("imei", "body")], found
        release(topo)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            release(topo)
            stop_group(proc, grace=5)
    # curl got the IMEI whole: there was something to find, and no second finding.
    assert IMEI in (tmp_path / "stdout").read_text()
    assert received(out_dir) == [("imei", "body")]
