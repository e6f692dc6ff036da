"""The lab both tests/e2e and bench/run build on: commands, process groups, port and
condition waits, network namespaces with veths, and Debian packages for missing tools.

Python 3 stdlib only. Import it with one line beside the importing file:

    sys.path.insert(0, str(REPO / "lab"))
    import lab

As a command (tests/run-all installs its tools with it, before pytest exists):

    python3 lab/lab.py apt-install TOOL=PACKAGE ...
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

# The device identity bench/run and the end-to-end tests pass to `phonehome watch --ids`.
IDS = Path(__file__).resolve().parent / "ids.toml"


def child_env(**extra: str) -> dict[str, str]:
    """Environment for every child: no proxies (curl and python obey them), the sbin
    directories on PATH (ip, ss, sysctl when run through sudo), no .pyc files."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/local/sbin:/usr/sbin:/sbin"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def sh(argv: list, timeout: float = 60, check: bool = True,
       env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a short command to completion; with check, a failure raises with its output."""
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, env=env or child_env(), stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}\n"
                           f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def tail(path: Path, n: int = 4000) -> str:
    try:
        return Path(path).read_bytes()[-n:].decode(errors="replace")
    except OSError:
        return "<no log>"


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- processes --------------------------------------------------------------------------


def stop_group(popen: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a child started in a session of its own, and everything in its process group:
    SIGTERM, then SIGKILL after `grace` seconds; then SIGKILL whatever else is left in the
    group (e.g. a client under `phonehome watch`)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if popen.poll() is not None:
            break
        try:
            os.killpg(popen.pid, sig)
        except ProcessLookupError:
            break
        try:
            popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Proc:
    """A program started by spawn(), with the log its output goes to."""
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        stop_group(self.popen, grace)

    def died(self) -> str | None:
        """None while running; else what to say about its end, with its log's tail."""
        if self.alive():
            return None
        return f"{self.name} exited {self.popen.returncode}:\n{tail(self.log)}"


def spawn(name: str, ns: str | None, argv: list, log_dir: Path, *, pipes: bool = False,
          quiet: bool = False, env: dict | None = None) -> Proc:
    """Start argv (in namespace ns, unless None) in a session of its own, its output
    appended to log_dir/NAME.log. `ip netns exec` execs the program, so the pid is the
    program's own (what /proc is read for). pipes: text stdin/stdout pipes, stderr logged;
    quiet: stdout discarded, stderr logged."""
    log = Path(log_dir) / f"{name}.log"
    prefix = ["ip", "netns", "exec", ns] if ns else []
    with open(log, "ab") as logf:
        popen = subprocess.Popen(
            [*prefix, *map(str, argv)],
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else subprocess.DEVNULL if quiet else logf,
            stderr=logf if pipes or quiet else subprocess.STDOUT,
            env=env or child_env(), start_new_session=True,
            text=pipes, bufsize=1 if pipes else -1,
        )
    return Proc(name, popen, log)


def wait_until(what: str, pred: Callable[[], bool], timeout: float = 15.0,
               procs: Iterable[Proc] = ()) -> None:
    """Poll pred until true; fail early when one of procs ends, or at the timeout."""
    deadline = time.monotonic() + timeout
    while not pred():
        for p in procs:
            if not p.alive():
                raise RuntimeError(f"{p.name} exited {p.popen.returncode} while waiting for "
                                   f"{what}:\n{tail(p.log)}")
        if time.monotonic() > deadline:
            logs = "".join(f"\n{p.name}'s log:\n{tail(p.log)}" for p in procs)
            raise RuntimeError(f"timed out waiting for {what}{logs}")
        time.sleep(0.05)


# -- sockets and links ------------------------------------------------------------------


def parse_ss_local(text: str) -> set[str]:
    """Local addresses ("10.0.0.2:80", "[::]:53", "*:5201") of `ss -H -l -n` output."""
    return {f[3] for f in (line.split() for line in text.splitlines()) if len(f) > 3}


def listening(ns: str, proto: str, port: int) -> set[str]:
    """The local addresses something in ns listens on (tcp) or is bound to (udp) at port."""
    flag = "-Hltn" if proto == "tcp" else "-Hlun"
    return parse_ss_local(sh(["ip", "netns", "exec", ns, "ss", flag, f"sport = :{port}"]).stdout)


def link_exists(ns: str, dev: str) -> bool:
    return sh(["ip", "-n", ns, "link", "show", dev], check=False).returncode == 0


# -- namespaces -------------------------------------------------------------------------


def kill_namespace(ns: str) -> None:
    """SIGKILL every process still in ns (all started by the lab that made it)."""
    for pid in sh(["ip", "netns", "pids", ns], check=False).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def delete_namespace(ns: str) -> None:
    # Deleting fails while the kernel still tears down a killed process's sockets.
    for _ in range(50):
        if sh(["ip", "netns", "del", ns], check=False).returncode == 0:
            break
        time.sleep(0.1)
    shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


def stale_namespaces(netns_list: str, pattern: str, alive: Callable[[int], bool]) -> list[str]:
    """Names in `ip netns list` output that match pattern (its group "pid" is the pid of
    the run that made them) and whose run is gone."""
    out = []
    for line in netns_list.splitlines():
        m = re.match(pattern, line)
        if m and not alive(int(m.group("pid"))):
            out.append(m.group(0))
    return out


def remove_stale(pattern: str) -> None:
    """Remove namespaces left behind by an earlier run that was killed outright."""
    listing = sh(["ip", "netns", "list"], check=False).stdout
    for ns in stale_namespaces(listing, pattern, pid_alive):
        kill_namespace(ns)
        delete_namespace(ns)


class Namespaces:
    """Network namespaces made by one run, and removed again by destroy() (processes in
    them killed, /etc/netns/NAME removed), also after a failure halfway through."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, ns: str) -> str:
        sh(["ip", "netns", "add", ns])
        self.names.append(ns)
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns

    def veth(self, ns_a: str, dev_a: str, addrs_a: list[str],
             ns_b: str, dev_b: str, addrs_b: list[str]) -> None:
        """A veth pair between two namespaces, addressed (CIDR; IPv6 without DAD) and up."""
        sh(["ip", "link", "add", dev_a, "netns", ns_a, "type", "veth",
            "peer", "name", dev_b, "netns", ns_b])
        for ns, dev, addrs in ((ns_a, dev_a, addrs_a), (ns_b, dev_b, addrs_b)):
            for addr in addrs:
                sh(["ip", "-n", ns, "addr", "add", addr, "dev", dev,
                    *(["nodad"] if ":" in addr else [])])
            sh(["ip", "-n", ns, "link", "set", dev, "up"])

    def resolv_conf(self, ns: str, nameserver: str) -> None:
        """`ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf."""
        etc = Path("/etc/netns") / ns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text(f"nameserver {nameserver}\n")

    def destroy(self) -> None:
        # Kill everything first: a process in one namespace may hold another's veth.
        for ns in self.names:
            kill_namespace(ns)
        for ns in reversed(self.names):
            delete_namespace(ns)
        self.names.clear()


# -- Debian packages --------------------------------------------------------------------


def missing_packages(pkg_for: dict[str, str], which: Callable[[str], str | None]) -> list[str]:
    """Packages of the tools (name -> Debian package) that `which` cannot find."""
    return sorted({pkg for tool, pkg in pkg_for.items() if not which(tool)})


def apt_install(pkg_for: dict[str, str], log: Callable[[str], None] = print) -> list[str]:
    """apt-get install the packages of the tools that are not on PATH; returns them.

    Installing nginx or iperf3 must not start their system services on this machine (the
    lab starts its own copies in namespaces): a policy-rc.d that says no is in place for
    the install, unless the machine has one already."""
    path = child_env()["PATH"]
    missing = missing_packages(pkg_for, lambda t: shutil.which(t, path=path))
    if not missing:
        return []
    log(f"installing {' '.join(missing)}")
    policy = Path("/usr/sbin/policy-rc.d")
    made = not policy.exists()
    if made:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = child_env(DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env,
                       stdin=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                        *missing], check=True, env=env, stdin=subprocess.DEVNULL)
    finally:
        if made:
            policy.unlink(missing_ok=True)
    return missing


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "apt-install" and all("=" in a for a in argv[1:]):
        apt_install(dict(a.split("=", 1) for a in argv[1:]),
                    log=lambda m: print(m, file=sys.stderr, flush=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
