"""Issue 12: a client's burst that is over the tap's first 256 KiB before the inspection
thread has read its start is still read to the end.

The tap copies a direction past its first 256 KiB only if the analyzer follows it, and
the analyzer says so from the inspection thread, which runs behind the relay. A client
that writes a whole pipelined burst at once (an upload, then the next request) used to
have the bytes past 256 KiB cut before the thread had read the first request line that
makes it follow, and the second request was never read. Now the cap waits for the
analyzer's decision (up to 8 MiB). nginx answers both requests; python's socket writes
the burst in one `sendall`."""

import json

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, DIRECT, IDS, PY

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

PORT = 8190
IMEI = "861234567890123"  # lab/ids.toml


@pytest.fixture(scope="module")
def nginx(topo):
    return topo.start_nginx("nginx-burst", f"""
    server {{
        listen {CLOUD_V4}:{PORT};
        listen [{CLOUD_V6}]:{PORT};
        client_max_body_size 64m;
        location = /upload {{ return 200 "stored\\n"; }}
        location = /mine {{ return 200 "ok\\n"; }}
    }}""", listen=[("tcp", PORT)])


def test_a_request_after_a_one_mebibyte_upload_in_the_same_write_is_read(runner, nginx):
    # A large initial congestion window: the kernel sends the burst as fast as the
    # monitor's receive window (256 KiB) lets it, not in slow start's first few packets,
    # so the relay is past 256 KiB within a few of its rounds.
    client = f"{PY} {CLIENTS / 'pipelined_burst.py'} {CLOUD_V4} {PORT} {1 << 20} /mine?imei={IMEI}"
    res = runner.run(["sh", "-c", f"ip route change $(ip route show default) initcwnd 1000 "
                      f"&& exec {client}"], timeout=120, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    got = res.json()
    assert [r["status"] for r in got["responses"]] == [200, 200], got
    text = (res.out_dir / "findings.jsonl").read_text()
    assert IMEI not in text, "identifier values never appear unmasked in the records"
    found = {(f["kind"], f["where"], f["direction"])
             for f in map(json.loads, text.splitlines())}
    assert ("imei", "url", "out") in found, res.describe()
