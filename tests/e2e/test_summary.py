"""What `watch` tells its user when it ends (issue 15, newcomer's first hour): flows,
bytes, the identifier kinds sent to each destination, and where the records are, on
stderr; never an identifier's value."""

import subprocess

import pytest

from harness import CLOUD_V4, clean_env

IMEI = "861234567890127"


def test_watch_ends_with_a_summary_of_what_was_sent_where(runner, nginx, tmp_path):
    if not runner.watched:
        pytest.skip("the summary is watch's")
    ids = tmp_path / "ids.toml"
    ids.write_text(f'imei = ["{IMEI}"]\n')
    out = tmp_path / "records"
    cmd = runner.command(["curl", "-sS", "-o", "/dev/null", "-r", "0-99",
                          f"http://{CLOUD_V4}/mid.bin?device={IMEI}"], out, watch_args=["--ids", ids])
    res = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    head = [line for line in lines if line.startswith("phonehome: ") and " flows, " in line]
    assert head, res.stderr
    assert head[-1].endswith(" findings") and " 0 findings" not in head[-1], head
    assert f"  sent to {CLOUD_V4}: imei" in lines, res.stderr
    assert any(line.startswith(f"  records in {out}") for line in lines), res.stderr
    assert IMEI not in res.stderr
