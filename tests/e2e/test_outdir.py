"""The records directory (`--out DIR`) as a root monitor must treat it: record files are
never opened through a planted symbolic or hard link (the link's target is left alone
and the run is refused, naming the path), a directory that is itself a link, belongs to
another user or that others may write to is refused, and what is written is owner-only
(a new directory 0700, every record file 0600). A rerun into the same directory works."""

import os
import stat
import subprocess

import pytest

from harness import CLOUD_V4, DIRECT, PHONEHOME_BIN, REPO

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

RECORDS = ["flows.jsonl", "findings.jsonl", "phonehome.sqlite", "phonehome.sqlite-wal",
           "phonehome.sqlite-shm", "capture.pcapng", "discovered.jsonl"]
VICTIM_TEXT = "root-owned content that must survive\n"


def watch(out, *cmd, timeout=60):
    """CMD keeps root: one test has it look at the records while they are written, which
    an unprivileged CMD cannot (test_isolation.py)."""
    cmd = cmd or ("true",)
    return subprocess.run([str(PHONEHOME_BIN), "watch", "--keep-root", "--out", str(out),
                           "--dns", CLOUD_V4, "--", *cmd], capture_output=True, text=True,
                          timeout=timeout)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def victim(tmp_path):
    v = tmp_path / "victim"
    v.write_text(VICTIM_TEXT)
    v.chmod(0o644)
    return v


@pytest.mark.parametrize("name", RECORDS)
def test_a_symlink_planted_at_a_record_path_is_refused_and_its_target_untouched(tmp_path, name):
    target = victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    (out / name).symlink_to(target)
    got = watch(out)
    assert target.read_bytes() == VICTIM_TEXT.encode(), "the link's target was written through"
    assert mode(target) == 0o644, "the link's target had its mode changed"
    assert got.returncode == 125, got
    assert str(out / name) in got.stderr and "link" in got.stderr, got.stderr
    assert os.path.islink(out / name), "the planted link should be left for the user to see"


def test_a_hard_link_planted_at_a_record_path_is_refused_and_its_target_untouched(tmp_path):
    target = victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    os.link(target, out / "flows.jsonl")
    got = watch(out)
    assert target.read_bytes() == VICTIM_TEXT.encode(), "the hard link's target was truncated"
    assert got.returncode == 125, got
    assert str(out / "flows.jsonl") in got.stderr and "link" in got.stderr, got.stderr


def test_analyze_refuses_a_planted_symlink_too(tmp_path):
    target = victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    (out / "findings.jsonl").symlink_to(target)
    # A real capture: a file that is not one is refused before --out is looked at.
    cap = REPO / "rust-core" / "capture" / "tests" / "data" / "lo-ethernet-editcap.pcap"
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", "--out", str(out), str(cap)],
                         capture_output=True, text=True, timeout=60)
    assert target.read_bytes() == VICTIM_TEXT.encode()
    assert got.returncode == 125, got
    assert str(out / "findings.jsonl") in got.stderr, got.stderr


def test_an_out_dir_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "out"
    link.symlink_to(real)
    got = watch(link)
    assert got.returncode == 125, got
    assert str(link) in got.stderr and "link" in got.stderr, got.stderr
    assert list(real.iterdir()) == [], "records were written through the link"


def test_an_out_dir_owned_by_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    os.chown(out, 65534, 65534)
    got = watch(out)
    assert got.returncode == 125, got
    assert str(out) in got.stderr and "owned by" in got.stderr, got.stderr
    assert list(out.iterdir()) == []


def test_an_out_dir_others_may_write_to_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    got = watch(out)
    assert got.returncode == 125, got
    assert str(out) in got.stderr and "writable" in got.stderr, got.stderr
    assert list(out.iterdir()) == []


def test_records_are_owner_only_while_written_and_after(tmp_path):
    out = tmp_path / "new" / "out"
    # CMD looks at the records while the monitor has them open (the SQLite -wal/-shm
    # files exist only then).
    got = watch(out, "sh", "-c", f'cd "{out}" && stat -c "%n %a %F" *')
    assert got.returncode == 0, got
    assert mode(out) == 0o700
    during = dict((line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in got.stdout.splitlines())
    assert set(during) == set(RECORDS), got.stdout
    for name, desc in during.items():
        assert desc == "600 regular file" or desc == "600 regular empty file", (name, desc)
    after = sorted(p.name for p in out.iterdir())
    assert {"flows.jsonl", "findings.jsonl", "phonehome.sqlite", "capture.pcapng"} <= set(after)
    for name in after:
        assert mode(out / name) == 0o600, (name, oct(mode(out / name)))


def test_a_rerun_into_the_same_directory_replaces_the_records_owner_only(tmp_path):
    out = tmp_path / "out"
    assert watch(out).returncode == 0
    # As an earlier version left them: world-readable, with stale contents.
    for p in out.iterdir():
        p.chmod(0o644)
    (out / "flows.jsonl").write_text("stale\n")
    got = watch(out)
    assert got.returncode == 0, got
    assert "stale" not in (out / "flows.jsonl").read_text()
    for p in out.iterdir():
        assert mode(p) == 0o600, (p.name, oct(mode(p)))
