"""`phonehome watch` passes on CMD's exit status, and SIGTERM ends CMD while the flow
records are still written."""

import os
import signal
import subprocess
import time
import uuid

import pytest

from harness import CLIENTS, CLOUD_V4, PY, find_flow, parse_flows


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_status_is_cmds(runner, topo, code):
    res = runner.run(["sh", "-c", f"exit {code}"], timeout=30)
    assert res.returncode == code, res.describe()


def pids_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def test_sigterm_ends_cmd_and_writes_flows(runner, tcp_servers, tmp_path):
    marker = tmp_path / f"connected-{uuid.uuid4().hex}"
    token = marker.name
    log = open(tmp_path / "watch.log", "wb")
    proc, out_dir = runner.popen([PY, CLIENTS / "hold.py", CLOUD_V4, marker], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            log_text = (tmp_path / "watch.log").read_text()
            assert proc.poll() is None, f"exited early ({proc.returncode}): {log_text}"
            assert time.monotonic() < deadline, "client never connected"
            time.sleep(0.05)
        assert pids_with(token), "the held client is not running"
        # `ip netns exec` execs the command, so proc.pid is phonehome itself (or, on the
        # direct path, the client).
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("watch did not exit within 10 s of SIGTERM")
        deadline = time.monotonic() + 5
        while pids_with(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pids_with(token), "CMD still runs after watch got SIGTERM"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in pids_with(token):
            os.kill(pid, signal.SIGKILL)
        log.close()
    if not runner.watched:
        return
    path = out_dir / "flows.jsonl"
    assert path.is_file(), "flows.jsonl was not written after SIGTERM"
    records = parse_flows(path.read_text())
    assert find_flow(records, "tcp", CLOUD_V4, 9004), f"the held connection is not recorded: {records}"
