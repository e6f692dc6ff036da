"""Issue 15, defect 8: records survive failed runs and kills.

- A run that fails before its program starts (a program that does not exist, an
  identifiers file that does not load) leaves the previous run's records in --out as they
  were.
- A monitor killed with SIGKILL mid-run leaves JSONL files of whole lines that agree with
  the SQLite store, and `report` and `analyze` read what it left.
- `report` and `analyze` skip a cut last line or block with a warning."""

import json
import signal
import sqlite3
import subprocess
import time

import pytest

from harness import CLOUD_V4, PHONEHOME_BIN, clean_env, stop_group

RECORDS = ["flows.jsonl", "findings.jsonl", "phonehome.sqlite", "capture.pcapng",
           "discovered.jsonl"]


def snapshot(d):
    return {name: (d / name).read_bytes() for name in RECORDS if (d / name).exists()}


def phonehome(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(PHONEHOME_BIN), *map(str, args)], capture_output=True, text=True,
                          env=clean_env(), timeout=120)


def test_a_run_that_cannot_start_leaves_the_previous_records_alone(runner, nginx, tmp_path):
    if not runner.watched:
        pytest.skip("records are watch's")
    out = tmp_path / "records"
    base = runner.command(["curl", "-sS", "-o", "/dev/null", "-r", "0-99",
                           f"http://{CLOUD_V4}/mid.bin"], out)
    first = subprocess.run(base, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    assert before["flows.jsonl"], "the first run recorded nothing"

    missing = runner.command(["no-such-program-phonehome"], out)
    res = subprocess.run(missing, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert res.returncode == 127, res.stderr
    assert "no-such-program-phonehome" in res.stderr
    assert snapshot(out) == before, "a run whose program does not exist replaced the records"

    bad_ids = tmp_path / "ids.toml"
    bad_ids.write_text("imei = [\n")
    broken = runner.command(["true"], out, watch_args=["--ids", bad_ids])
    res = subprocess.run(broken, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert res.returncode != 0
    assert snapshot(out) == before, "a run with a broken identifiers file replaced the records"


def test_a_killed_monitor_leaves_whole_lines_that_agree_with_the_store(runner, nginx, tmp_path):
    if not runner.watched:
        pytest.skip("records are watch's")
    out = tmp_path / "records"
    loop = (f"while true; do curl -sS -o /dev/null -r 0-99 http://{CLOUD_V4}/mid.bin; "
            "sleep 0.02; done")
    proc = subprocess.Popen(runner.command(["sh", "-c", loop], out), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env(),
                            start_new_session=True)
    try:
        flows = out / "flows.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if flows.exists() and flows.read_bytes().count(b"\n") >= 30:
                break
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
            time.sleep(0.1)
        else:
            raise AssertionError("no flow records were written while the program ran")
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            stop_group(proc, grace=2)

    text = flows.read_text()
    assert text.endswith("\n"), "flows.jsonl ends in a cut line"
    lines = [json.loads(line) for line in text.splitlines()]
    db = sqlite3.connect(out / "phonehome.sqlite")
    stored = [row[0] for row in db.execute("SELECT id FROM flows ORDER BY rowid")]
    db.close()
    jsonl = [flow["flow"] for flow in lines]
    assert stored, "the store holds nothing of the killed run"
    # The store commits first: it may be ahead by the last batch, never behind.
    assert stored[:len(jsonl)] == jsonl, (len(stored), len(jsonl))

    report = phonehome("report", out)
    assert report.returncode == 0, report.stderr
    analyze = phonehome("analyze", out / "capture.pcapng")
    assert analyze.returncode == 0, analyze.stderr


def test_report_and_analyze_skip_a_cut_last_line_or_block(runner, nginx, tmp_path):
    if not runner.watched:
        pytest.skip("records are watch's")
    out = tmp_path / "records"
    ids = tmp_path / "ids.toml"
    ids.write_text('imei = ["861234567890128"]\n')
    cmd = runner.command(["curl", "-sS", "-o", "/dev/null",
                          f"http://{CLOUD_V4}/mid.bin?imei=861234567890128"], out,
                         watch_args=["--ids", ids])
    res = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert res.returncode == 0, res.stderr
    findings = out / "findings.jsonl"
    whole = findings.read_text()
    assert whole.count("\n") >= 1
    findings.write_text(whole + '{"ts":"2026-01-01T00:0')
    report = phonehome("report", out)
    assert report.returncode == 0, report.stderr
    assert "incomplete line" in report.stderr
    assert "imei" in report.stdout

    capture = out / "capture.pcapng"
    data = capture.read_bytes()
    capture.write_bytes(data[:-7])
    analyze = phonehome("analyze", capture)
    assert analyze.returncode == 0, analyze.stderr
    assert "incomplete" in analyze.stderr
