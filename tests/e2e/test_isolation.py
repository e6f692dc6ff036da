"""Issue 15, defect 7: by default a root CMD cannot escape or tamper.

`watch` runs as root here. Without `--keep-root`, CMD is root only of a user namespace of
its own, mapped to an unprivileged uid: it still reaches the network through the monitor,
but cannot enter the namespace `watch` runs in (to send traffic the monitor never sees) or
touch the records. With `--keep-root` it can do both: the same commands then succeed,
which shows the checks below can fail."""

import subprocess

import pytest

from harness import CLOUD_V4, clean_env


def run(runner, argv, out, keep_root):
    env = clean_env()
    env.pop("SUDO_UID", None)
    env.pop("SUDO_GID", None)
    cmd = runner.command(argv, out, keep_root=keep_root)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def watched_only(runner):
    if not runner.watched:
        pytest.skip("the isolation is watch's")


def test_cmd_is_root_only_of_its_own_user_namespace(runner, watched_only, tmp_path):
    res = run(runner, ["cat", "/proc/self/uid_map", "/proc/self/gid_map"], tmp_path / "r", False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["0", "65534", "1", "0", "65534", "1"], res.stdout


def test_an_unprivileged_cmd_still_has_the_network(runner, watched_only, nginx, payloads, tmp_path):
    res = run(runner, ["sh", "-c", f"curl -sS http://{CLOUD_V4}/mid.bin | sha256sum"],
              tmp_path / "r", False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0] == payloads["mid.bin"].sha256


@pytest.mark.parametrize("keep_root", [False, True], ids=["default", "keep-root"])
def test_cmd_cannot_enter_the_callers_namespace_unless_kept_root(runner, topo, watched_only,
                                                                 tmp_path, keep_root):
    # `ip netns` keeps the namespace watch runs in at /run/netns/NAME.
    res = run(runner, ["nsenter", f"--net=/run/netns/{topo.host}", "true"], tmp_path / "r",
              keep_root)
    if keep_root:
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode != 0, "an unprivileged CMD entered the caller's network namespace"


@pytest.mark.parametrize("keep_root", [False, True], ids=["default", "keep-root"])
def test_cmd_cannot_touch_the_records_unless_kept_root(runner, watched_only, tmp_path,
                                                       keep_root):
    out = tmp_path / "records"
    res = run(runner, ["sh", "-c", f"echo forged >> {out}/flows.jsonl"], out, keep_root)
    if keep_root:
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode != 0, "an unprivileged CMD wrote into the records"
        assert "forged" not in (out / "flows.jsonl").read_text()
