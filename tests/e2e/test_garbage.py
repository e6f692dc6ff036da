"""Test 9: garbage, truncated and malformed packets written into the TUN device do not
stop traffic: downloads during and after them arrive intact."""

import hashlib

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, PY, TUN_NAME, sh


@pytest.fixture(scope="module")
def tun(runner, topo):
    """The interface to write into: the monitor's TUN (made by watch), or, on the direct
    path, a stand-in TUN with no reader so the script's own sending is still exercised."""
    if runner.watched:
        yield TUN_NAME
        return
    sh(["ip", "-n", topo.host, "tuntap", "add", "dev", TUN_NAME, "mode", "tun"])
    sh(["ip", "-n", topo.host, "link", "set", TUN_NAME, "up"])
    yield TUN_NAME
    sh(["ip", "-n", topo.host, "link", "del", TUN_NAME], check=False)


def test_garbage_into_tun_does_not_stop_traffic(runner, nginx, payloads, tun, outdir):
    urls = [f"http://{CLOUD_V4}/mid.bin", f"http://[{CLOUD_V6}]/mid.bin"]
    res = runner.run([PY, CLIENTS / "garbage.py", tun, outdir, *urls], timeout=300)
    assert res.returncode == 0, res.describe()
    out = res.json()
    assert out["sent"] >= 2000, f"too little garbage went out: {out['sent']}, errors {out['send_errors']}"
    assert len(out["downloads"]) == len(urls)
    for dl in out["downloads"]:
        assert dl["rc"] == 0, f"{dl['url']}: curl exit {dl['rc']}: {dl['stderr']}"
        digest = hashlib.sha256(open(dl["path"], "rb").read()).hexdigest()
        assert digest == payloads["mid.bin"].sha256, f"{dl['url']}: downloaded bytes differ"
