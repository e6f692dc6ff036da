"""Test 8: iperf3 runs to completion both ways (no speed assertion)."""

import json

import pytest

from harness import CLOUD_V4


@pytest.mark.parametrize("reverse", [False, True], ids=["upload", "reverse"])
def test_iperf3(runner, iperf_server, reverse):
    args = ["iperf3", "-c", CLOUD_V4, "-t", "5", "-J"] + (["-R"] if reverse else [])
    res = runner.run(args, timeout=60)
    assert res.returncode == 0, res.describe()
    out = json.loads(res.stdout)
    assert "error" not in out, out["error"]
    end = out["end"]
    assert end["sum_sent"]["bytes"] > 0 and end["sum_received"]["bytes"] > 0, end
    assert out["start"]["test_start"]["reverse"] == int(reverse)
