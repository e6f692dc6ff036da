"""Issue 15, defect 1: a UDP flow costs the monitor about what a TCP flow does.

A phone opens thousands of DNS and QUIC flows. The monitor's resident memory is read
with 200 UDP flows open and again with 3,200: the 3,000 more must cost under 24 KiB
each (a TCP connection costs ~17.5 KiB, docs/benchmarks.md). With a 64 KiB receive buffer
per flow they cost ~48 KiB."""

import subprocess
import time

import pytest

from harness import CLIENTS, CLOUD_V4, PY, stop_group

FEW, MANY = 200, 3200


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def wait_for(marker, value: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text() == value:
            return
        if proc.poll() is not None:
            raise AssertionError(f"watch exited early with {proc.returncode}: "
                                 f"{proc.stderr.read().decode(errors='replace')[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"the client did not reach {value} flows")


def test_thousands_of_udp_flows_cost_what_tcp_flows_cost(runner, udp_echo, tmp_path):
    if not runner.watched:
        pytest.skip("measures the monitor")
    marker = tmp_path / "crowd"
    proc, _ = runner.popen([PY, CLIENTS / "udp_crowd.py", CLOUD_V4, 7777, marker, FEW, MANY],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(marker, str(FEW), proc)
        time.sleep(0.5)
        few = rss_kib(proc.pid)
        marker.with_suffix(".go").touch()
        wait_for(marker, str(MANY), proc)
        time.sleep(0.5)
        many = rss_kib(proc.pid)
        marker.with_suffix(".go").touch()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            stop_group(proc, grace=2)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    assert b'"echoed": %d' % MANY in out, out
    per_flow = (many - few) / (MANY - FEW)
    print(f"{per_flow:.1f} KiB per UDP flow ({few} KiB -> {many} KiB)")
    assert per_flow < 24, f"{per_flow:.1f} KiB per UDP flow ({few} KiB -> {many} KiB)"
