"""Issue 15, defect 6: nothing the watched program started outlives `watch`.

CMD leaves processes behind (in the background, in a new session, with no terminal): they
are gone once `watch` ends, whether CMD exits, `watch` gets SIGTERM, or `watch` is killed
with SIGKILL."""

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import stop_group


def sleepers(marker: int) -> list[int]:
    """Host pids of `sleep MARKER` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == b"sleep\0%d\0" % marker:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def gone_within(marker: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = sleepers(marker)
        if not left:
            return []
        time.sleep(0.1)
    return sleepers(marker)


def leaver(marker: int, then: str) -> list[str]:
    """A shell that leaves two sleepers behind (one in its own session), then `then`."""
    quiet = "</dev/null >/dev/null 2>&1"
    return ["sh", "-c", f"sleep {marker} {quiet} & setsid sleep {marker} {quiet} & {then}"]


@pytest.fixture
def marker():
    return random.randrange(400_000, 900_000)


def kill_leftovers(marker: int) -> None:
    for pid in sleepers(marker):
        os.kill(pid, signal.SIGKILL)


def test_what_the_program_left_running_ends_with_it(runner, marker):
    if not runner.watched:
        pytest.skip("the namespaces are watch's")
    try:
        res = runner.run(leaver(marker, "sleep 0.5; exit 3"), timeout=30)
        assert res.returncode == 3, res.describe()
        assert gone_within(marker, 5) == [], "the program's processes outlived watch"
    finally:
        kill_leftovers(marker)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopping_or_killing_watch_ends_every_process_of_the_program(runner, marker, sig):
    if not runner.watched:
        pytest.skip("the namespaces are watch's")
    proc, _ = runner.popen(leaver(marker, "sleep 600"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while len(sleepers(marker)) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
            time.sleep(0.1)
        assert len(sleepers(marker)) == 2, "the program did not start its sleepers"
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert gone_within(marker, 5) == [], f"the program's processes outlived watch ({sig.name})"
    finally:
        if proc.poll() is None:
            stop_group(proc, grace=2)
        kill_leftovers(marker)
