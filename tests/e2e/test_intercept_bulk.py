"""Issue 12: an intercepted stream the analyzer never follows is not copied whole.

The tap copies a direction past its first 256 KiB only if the analyzer follows it. For
decrypted bytes it used to copy everything while the analyzer had not said what it
follows, and for a stream it cannot tell apart (here a TLS server that speaks first,
and no HTTP) it never says: every decrypted byte went to the inspection thread. Now
the tap waits for the analyzer's decision only up to 8 MiB per direction, and caps
at 256 KiB once it is made. A python ssl server in the cloud namespace sends 64 MiB
through `watch --intercept` to a python ssl client trusting the monitor's CA; the
client's sha256 proves the bytes arrived intact, and the tap's count (logged at info
level when `watch` ends) shows how few of them were copied."""

import hashlib
import random
import re
import shutil

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, DIRECT, PY, SERVERS
from tlslab import GOOD, intercepting, make_pki, tls_flows

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

MIB, SEED = 64, 11
UNDECIDED = 8 << 20  # TapLimits::undecided
COUNT = re.compile(r"tap: (\d+) of (\d+) relayed stream bytes copied to inspection")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    yield make_pki(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def bulk(topo, pki):
    d = pki["dir"]
    return topo.start("tls-bulk", [PY, SERVERS / "tls_bulk.py", 443, d / "good.pem",
                                   d / "good.key", MIB, SEED, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", 443)])


def expected_sha256() -> str:
    rng, digest = random.Random(SEED), hashlib.sha256()
    for _ in range(MIB):
        digest.update(rng.randbytes(1 << 20))
    return digest.hexdigest()


def test_an_intercepted_64_mib_stream_of_no_http_arrives_intact_and_is_not_copied_whole(
        runner, bulk, pki, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "warn,phonehome_inspector=info")
    res = runner.run([PY, CLIENTS / "tls_bulk_client.py", CLOUD_V4, 443, GOOD, pki["ours"]],
                     timeout=300, watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    got = res.json()
    assert (got["bytes"], got["sha256"]) == (MIB << 20, expected_sha256()), got
    assert [f["tls"] for f in tls_flows(res.out_dir)] == ["intercepted"], res.describe()
    count = COUNT.search(res.stderr)
    assert count, res.describe()
    copied, relayed = map(int, count.groups())
    assert relayed >= MIB << 20, (copied, relayed)
    # What came before the analyzer's decision, the handshake and the DNS lookup.
    assert copied <= UNDECIDED + (1 << 20), (copied, relayed)
