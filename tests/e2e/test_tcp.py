"""Tests 2 and 7: many concurrent TCP connections stay intact; half-close works in both
directions."""

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, PY

MiB = 1 << 20
FAMILIES = {"v4": CLOUD_V4, "v6": CLOUD_V6}


@pytest.mark.parametrize("fam", FAMILIES)
def test_200_concurrent_connections_1mib_each_way(runner, tcp_servers, fam):
    res = runner.run([PY, CLIENTS / "tcp_bulk.py", FAMILIES[fam], 200, MiB], timeout=300)
    assert res.returncode == 0, res.describe()
    out = res.json()
    assert out["failed"] == 0, f"{out['failed']} connections failed, e.g. {out['failures']}"
    assert out["ok"] == 200, out


@pytest.mark.parametrize("fam", FAMILIES)
def test_client_half_close_still_receives_reply(runner, tcp_servers, fam):
    """Client sends 1 MiB and shuts down its write side; the server only replies after
    it has read to that FIN, and the client must still get the whole reply."""
    res = runner.run([PY, CLIENTS / "halfclose.py", "client-half", FAMILIES[fam], MiB], timeout=60)
    assert res.returncode == 0, res.describe()
    assert res.json()["errors"] == [], res.describe()


@pytest.mark.parametrize("fam", FAMILIES)
def test_server_close_seen_as_eof_after_all_data(runner, tcp_servers, fam):
    res = runner.run([PY, CLIENTS / "halfclose.py", "server-close", FAMILIES[fam], MiB], timeout=60)
    assert res.returncode == 0, res.describe()
    assert res.json()["errors"] == [], res.describe()


@pytest.mark.parametrize("fam", FAMILIES)
def test_server_half_close_client_keeps_sending(runner, tcp_servers, fam):
    """The server sends 1 MiB and shuts down its write side; after seeing EOF the client
    sends 1 MiB more, which must reach the server intact."""
    res = runner.run([PY, CLIENTS / "halfclose.py", "server-half", FAMILIES[fam], MiB], timeout=60)
    assert res.returncode == 0, res.describe()
    out = res.json()
    assert out["errors"] == [], res.describe()
    saw = out["server_saw"]
    assert saw != "none", "the server never read the client's data to EOF"
    digest, count = saw.split()
    assert int(count) == MiB, f"server received {count} of {MiB} bytes sent after its half-close"
    assert digest == out["sent_sha256"], "server received different bytes after its half-close"
