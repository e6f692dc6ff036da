"""Issue 12, section 4: identifiers nobody configured are discovered.

A client (curl) sends the same OAID-like token, under the key names SDKs use, to two real
servers under two names of different registrable domains, with a fresh nonce and a
timestamp in every request. `phonehome watch` runs three times with the same `--state`
(restarts stand in for time passing; two are not enough, since a token rotating every half
hour is often seen on both sides of one restart): after the third run the token is a
discovered device identifier (findings with confidence
"discovered", `discovered.jsonl`, `report`'s section with a snippet for the identifiers
file); the nonces never are. Without the state kept between runs, nothing is discovered.
"""

import json
import os
import secrets
import shlex
import stat
import subprocess

import pytest

from harness import CLOUD_V4, CURL, PHONEHOME_BIN, clean_env

OAID = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"
ADS = "sdk.ads-one.test"
METRICS = "log.metrics-two.test"


def sdk_requests():
    """Three requests, as an ad SDK and an analytics SDK would send them: the OAID
    is the same each time, the nonce and the timestamp never are."""
    nonces = [secrets.token_hex(16) for _ in range(3)]
    body = json.dumps({"device_id": OAID, "nonce": nonces[1], "ts": 1764745200123,
                       "event": "app_open"})
    curl = [*CURL, "-o", "/dev/null", "--max-time", "20"]
    script = " && ".join(shlex.join(c) for c in [
        [*curl, "-H", f"Host: {ADS}", f"http://{CLOUD_V4}/sdk/config?oaid={OAID}&nonce={nonces[0]}"],
        [*curl, "-H", f"Host: {METRICS}", "-H", "Content-Type: application/json",
         "--data-binary", body, f"http://{CLOUD_V4}:8080/collect"],
        [*curl, "-H", f"Host: {ADS}", "-H", f"X-Request-Nonce: {nonces[2]}",
         f"http://{CLOUD_V4}/sdk/ad?oaid={OAID}"],
    ])
    return ["sh", "-c", script], nonces


def lines(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def discovered_findings(out_dir):
    return [f for f in lines(out_dir / "findings.jsonl") if f["confidence"] == "discovered"]


@pytest.fixture(scope="module")
def three_runs(runner, nginx, upload_server, tmp_path_factory):
    """Three `watch` runs sharing one state directory."""
    if not runner.watched:
        pytest.skip("no monitor, nothing to discover (PHONEHOME_E2E_DIRECT=1)")
    state = tmp_path_factory.mktemp("discovery") / "state"
    runs = []
    for _ in range(3):
        argv, nonces = sdk_requests()
        res = runner.run(argv, timeout=60, watch_args=["--state", state])
        assert res.returncode == 0, res.describe()
        runs.append((res, nonces))
    return state, runs


def test_two_runs_discover_nothing_yet(three_runs):
    _, runs = three_runs
    for res, _ in runs[:2]:
        assert discovered_findings(res.out_dir) == []
        assert lines(res.out_dir / "discovered.jsonl") == []


def test_the_third_run_reports_the_token_as_a_discovered_device_id(three_runs):
    _, runs = three_runs
    third, _ = runs[2]
    found = discovered_findings(third.out_dir)
    assert found, (third.out_dir / "findings.jsonl").read_text()
    assert {f["kind"] for f in found} == {"device_id"}
    assert {f["host"] for f in found} <= {ADS, METRICS}
    for f in found:
        assert OAID not in f["evidence"], "findings carry the value masked"
        assert f["evidence"].endswith(OAID[-4:])
    records = lines(third.out_dir / "discovered.jsonl")
    assert {r["value"] for r in records} == {OAID}, records
    newest = records[-1]
    assert newest["domains"] == ["ads-one.test", "metrics-two.test"]
    assert newest["apps"] == ["sh"]
    assert newest["sessions"] == 3 and newest["flows"] >= 7
    assert set(newest["keys"]) >= {"oaid", "deviceid"}


def test_nonces_are_never_discovered(three_runs):
    _, runs = three_runs
    for res, nonces in runs:
        text = (res.out_dir / "discovered.jsonl").read_text()
        for nonce in nonces:
            assert nonce not in text


def test_the_state_is_owner_only_and_report_offers_the_identifier(three_runs):
    state, runs = three_runs
    mode = stat.S_IMODE(os.stat(state / "discovery.json").st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    third, _ = runs[2]
    rep = subprocess.run([str(PHONEHOME_BIN), "report", str(third.out_dir)],
                         capture_output=True, text=True, env=clean_env(), timeout=30)
    assert rep.returncode == 0, rep.stderr
    assert "Discovered identifiers" in rep.stdout, rep.stdout
    assert "from sh to ads-one.test, metrics-two.test" in rep.stdout, rep.stdout
    assert f'device_id = ["{OAID}"]' in rep.stdout, rep.stdout
    assert "(discovered)" in rep.stdout, rep.stdout


def test_without_kept_state_nothing_is_discovered(runner, nginx, upload_server):
    if not runner.watched:
        pytest.skip("no monitor (PHONEHOME_E2E_DIRECT=1)")
    for _ in range(3):
        argv, _ = sdk_requests()
        res = runner.run(argv, timeout=60, watch_args=["--no-state"])
        assert res.returncode == 0, res.describe()
        assert discovered_findings(res.out_dir) == []
