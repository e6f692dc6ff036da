"""Test 6: a closed port is refused at once; an unroutable address fails without a hang."""

import json

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, CURL, PY, url_host

UNROUTABLE = {"v4": "203.0.113.1", "v6": "2001:db8::1"}  # documentation ranges, no route


def curl_to(ip, port):
    return CURL + ["--connect-timeout", "5", "-o", "/dev/null", "-w", "%{json}",
                   f"http://{url_host(ip)}:{port}/"]


def test_closed_port_refused_within_1s(runner, topo):
    res = runner.run([PY, CLIENTS / "runmany.py",
                      json.dumps([curl_to(CLOUD_V4, 9), curl_to(CLOUD_V6, 9)])], timeout=30)
    assert res.returncode == 0, res.describe()
    for r in res.json():
        where = f"{r['argv'][-1]}: rc={r['rc']} after {r['elapsed']:.2f}s, {r['stderr'].strip()}"
        assert r["rc"] == 7, f"expected 'connection refused' (curl exit 7): {where}"
        assert r["elapsed"] < 1.0, f"refusal took too long: {where}"


@pytest.mark.parametrize("fam", UNROUTABLE)
def test_unroutable_address_fails_without_hang(runner, topo, fam):
    # The whole watched command, monitor start and stop included, must end within 10 s.
    res = runner.run(curl_to(UNROUTABLE[fam], 80), timeout=10)
    assert res.returncode in (7, 28), res.describe()
