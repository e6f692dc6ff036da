"""Issue 15, defect 3: spoofed SYNs do not hold the flow table.

200 SYNs whose SYN-ACKs nobody answers, against `--max-flows 50`: a real connection made
right after still gets through (the oldest half-open flow gives way), and the half-open
flows end within seconds ("handshake_timeout"), not at the 2-hour idle limit."""

import collections

import pytest

from harness import CLIENTS, CLOUD_V4, PY, TUN_NAME


def test_half_open_flows_neither_block_new_connections_nor_linger(runner, nginx):
    if not runner.watched:
        pytest.skip("the kernel path has no flow table")
    url = f"http://{CLOUD_V4}/mid.bin"
    res = runner.run([PY, CLIENTS / "synflood.py", TUN_NAME, url, 200, 12], timeout=90,
                     watch_args=["--max-flows", "50"])
    assert res.returncode == 0, res.describe()
    out = res.json()
    assert out == {"at_once": 0, "later": 0}, f"curl was refused: {out}\n{res.describe()}"
    flood = [f for f in res.flows()
             if f["proto"] == "tcp" and 29952 <= int(f["src"].rsplit(":", 1)[1]) < 30208]
    closes = collections.Counter(f["close"] for f in flood)
    assert sum(closes.values()) == 200, closes
    assert closes["handshake_timeout"] >= 1, closes
    assert set(closes) <= {"flow_limit", "handshake_timeout"}, closes
