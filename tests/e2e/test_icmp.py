"""Test 5: ping through the monitor (it answers echo with unprivileged ICMP sockets)."""

import re

import pytest

from harness import CLOUD_V4, CLOUD_V6


@pytest.mark.parametrize("args", [
    ["-c", "3", "-i", "0.2", "-W", "2", CLOUD_V4],
    ["-6", "-c", "3", "-i", "0.2", "-W", "2", CLOUD_V6],
    # A large payload with a pattern: ping itself reports any reply whose data differs.
    ["-c", "3", "-i", "0.2", "-W", "2", "-s", "1200", "-p", "a55aff00", CLOUD_V4],
    ["-6", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1200", "-p", "a55aff00", CLOUD_V6],
], ids=["v4", "v6", "v4-1200-pattern", "v6-1200-pattern"])
def test_ping(runner, topo, args):
    res = runner.run(["ping", *args], timeout=30)
    assert res.returncode == 0, res.describe()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", res.stdout)
    assert m and m.group(1) == m.group(2) == "3", res.stdout
    assert "wrong data byte" not in res.stdout and "DUP!" not in res.stdout, res.stdout
