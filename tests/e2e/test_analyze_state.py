"""`phonehome analyze --state DIR` keeps discovery's state between captures, as `watch
--state` keeps it between runs.

Three real captures: `watch --no-state` (which discovers nothing on its own) records curl
sending the same OAID-like token, with fresh nonces, to two servers under names of two
registrable domains (test_discovery's requests). `analyze --state S` over the three
captures in turn discovers the token in the third, as three watch runs would; the same
three analyses without `--state` discover nothing, since each capture is then a session
of its own.
"""

import os
import stat
import subprocess

import pytest

from harness import PHONEHOME_BIN, clean_env
from test_discovery import OAID, lines, sdk_requests


@pytest.fixture(scope="module")
def captures(runner, nginx, upload_server):
    if not runner.watched:
        pytest.skip("no monitor, no capture (PHONEHOME_E2E_DIRECT=1)")
    out = []
    for _ in range(3):
        argv, nonces = sdk_requests()
        res = runner.run(argv, timeout=60, watch_args=["--no-state"])
        assert res.returncode == 0, res.describe()
        assert lines(res.out_dir / "discovered.jsonl") == []
        out.append((res.out_dir / "capture.pcapng", nonces))
    return out


def analyze(capture, out_dir, *extra):
    res = subprocess.run([str(PHONEHOME_BIN), "analyze", *map(str, extra), "--out", str(out_dir),
                          str(capture)], capture_output=True, text=True, env=clean_env(),
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return out_dir


def discovered(out_dir):
    return [f for f in lines(out_dir / "findings.jsonl") if f["confidence"] == "discovered"]


def test_the_third_capture_analyzed_with_kept_state_discovers_the_token(captures, tmp_path):
    state = tmp_path / "state"
    outs = [analyze(c, tmp_path / f"a{i}", "--state", state) for i, (c, _) in enumerate(captures)]
    for out in outs[:2]:
        assert discovered(out) == []
        assert lines(out / "discovered.jsonl") == []
    found = discovered(outs[2])
    assert found, (outs[2] / "findings.jsonl").read_text()
    assert {f["kind"] for f in found} == {"device_id"}
    for f in found:
        assert OAID not in f["evidence"]
    records = lines(outs[2] / "discovered.jsonl")
    assert {r["value"] for r in records} == {OAID}
    assert records[-1]["sessions"] == 3
    assert records[-1]["domains"] == ["ads-one.test", "metrics-two.test"]
    text = (outs[2] / "discovered.jsonl").read_text()
    for _, nonces in captures:
        for nonce in nonces:
            assert nonce not in text
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "discovery.json").st_mode) == 0o600


def test_without_state_each_capture_is_a_session_of_its_own(captures, tmp_path):
    for i, (capture, _) in enumerate(captures):
        out = analyze(capture, tmp_path / f"n{i}")
        assert discovered(out) == []
        assert lines(out / "discovered.jsonl") == []
    assert not (tmp_path / "state").exists()
