"""Test 4: 1,000 UDP datagrams of 1,400 bytes echo back byte-identical."""

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, PY


@pytest.mark.parametrize("ip", [CLOUD_V4, CLOUD_V6], ids=["v4", "v6"])
def test_udp_echo_1000_datagrams_intact(runner, udp_echo, ip):
    res = runner.run([PY, CLIENTS / "udp_echo_client.py", ip, 7777, 1000, 1400], timeout=120)
    assert res.returncode == 0, res.describe()
    out = res.json()
    assert out["corrupted_count"] == 0, f"corrupted echoes: {out['corrupted']}"
    assert out["lost"] == [], f"never came back after retries: {out['lost']}"
    assert out["returned"] == 1000, out
