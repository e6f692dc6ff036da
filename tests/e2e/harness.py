"""Network namespaces, servers and the client runner for the end-to-end tests.

Topology (one per test module, removed again even when a test fails):

    ph-host-<pid>-<n>  veth  10.201.0.1/24  fd00:201::1/64   phonehome watch runs here
          |
    ph-cloud-<pid>-<n> veth  10.201.0.2/24  fd00:201::2/64   nginx, dnsmasq, iperf3, python servers

Neither namespace has a route beyond 10.201.0.0/24 and fd00:201::/64, so nothing a test
does can reach any other address. Clients run under `phonehome watch` in the host
namespace (or directly in it with PHONEHOME_E2E_DIRECT=1, for debugging the harness
against the kernel's own TCP/IP).
"""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "lab"))
import lab  # noqa: E402  (the lab bench/run shares)
from lab import IDS, sh, spawn, stop_group, tail, wait_until  # noqa: E402,F401  (for the test modules)
SERVERS = HERE / "servers"
CLIENTS = HERE / "clients"
PY = sys.executable

HOST_V4 = "10.201.0.1"
HOST_V6 = "fd00:201::1"
CLOUD_V4 = "10.201.0.2"
CLOUD_V6 = "fd00:201::2"
# The watched namespace, as `phonehome watch` sets it up.
WATCHED_V4 = "10.111.0.2"
WATCHED_V6 = "fd70:686f:6e65::2"
WATCHED_DNS = ["10.111.0.1", "fd70:686f:6e65::1"]
TUN_NAME = "phonehome0"

# The only addresses traffic may be sent to (besides loopback).
ALLOWED = {ipaddress.ip_address(a) for a in (HOST_V4, HOST_V6, CLOUD_V4, CLOUD_V6)}

DIRECT = os.environ.get("PHONEHOME_E2E_DIRECT") == "1"
# Harness self-check: cloud-side servers deliberately corrupt what they send, so every
# data-integrity assertion must fail. Never set in CI.
SABOTAGE = os.environ.get("PHONEHOME_E2E_SABOTAGE") == "1"

PHONEHOME_BIN = Path(os.environ.get("PHONEHOME_BIN", REPO / "target" / "release" / "phonehome"))

def _contract_list(name: str) -> set[str]:
    """A list of the generated contract the core and the app share (rust-core/jni/src/contract.rs)."""
    kt = (REPO / "android-app/src/main/java/org/phonehome/core/Contract.kt").read_text()
    block = re.search(rf"val {name} = listOf\((.*?)\)", kt, re.S)
    assert block, f"{name} is not in Contract.kt"
    return set(re.findall(r'"([^"]+)"', block.group(1)))


CLOSE_KINDS = _contract_list("CLOSE_REASONS")


def clean_env() -> dict[str, str]:
    """Environment for every child (lab.child_env), telling servers whether to sabotage."""
    return lab.child_env(PHONEHOME_E2E_SABOTAGE="1" if SABOTAGE else "0")


_counter = 0
# ph-host-, ph-cloud- (and test_jni's ph-phone-) namespaces, made by the run with that pid.
STALE = r"^ph-[a-z]+-(?P<pid>\d+)-\d+\b"


class Topology:
    """Two namespaces joined by a veth pair, and the servers started in them."""

    def __init__(self, workdir: Path):
        global _counter
        _counter += 1
        tag = f"{os.getpid()}-{_counter}"
        self.host = f"ph-host-{tag}"
        self.cloud = f"ph-cloud-{tag}"
        # Interface names are limited to 15 bytes.
        self.veth_host = f"phh{os.getpid() % 10**7}x{_counter}"[:15]
        self.veth_cloud = f"phc{os.getpid() % 10**7}x{_counter}"[:15]
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.servers: list[lab.Proc] = []
        self.namespaces = lab.Namespaces()

    # -- lifecycle -------------------------------------------------------------------

    def create(self) -> "Topology":
        lab.remove_stale(STALE)
        try:
            self.namespaces.add(self.host)
            self.namespaces.add(self.cloud)
            self.namespaces.veth(self.host, self.veth_host, [f"{HOST_V4}/24", f"{HOST_V6}/64"],
                                 self.cloud, self.veth_cloud, [f"{CLOUD_V4}/24", f"{CLOUD_V6}/64"])
            # The monitor forwards echo requests with unprivileged ICMP sockets.
            sh(["ip", "netns", "exec", self.host,
                "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
            # The host namespace's resolver (and anything that falls back to it) is dnsmasq
            # in the cloud namespace, never the machine's real one.
            self.namespaces.resolv_conf(self.host, CLOUD_V4)
            self._check_isolated()
        except BaseException:
            self.destroy()
            raise
        return self

    def _check_isolated(self) -> None:
        for ns in (self.host, self.cloud):
            for fam in ("-4", "-6"):
                routes = sh(["ip", fam, "-n", ns, "route", "show", "table", "all"]).stdout
                for line in routes.splitlines():
                    if line.startswith(("local ", "broadcast ", "multicast ", "anycast ")):
                        continue
                    dest = line.split()[0]
                    if dest == "default":
                        raise RuntimeError(f"{ns} has a default route: {line}")
                    net = ipaddress.ip_network(dest, strict=False)
                    ok = any(net.subnet_of(ipaddress.ip_network(a)) for a in (
                        "10.201.0.0/24", "fd00:201::/64", "fe80::/64", "ff00::/8"
                    ) if ipaddress.ip_network(a).version == net.version)
                    if not ok:
                        raise RuntimeError(f"{ns} has an unexpected route: {line}")

    def destroy(self) -> None:
        for srv in reversed(self.servers):
            srv.stop()
        self.servers.clear()
        self.namespaces.destroy()

    # -- servers ---------------------------------------------------------------------

    def start(self, name: str, argv: list, ns: str | None = None,
              listen: list[tuple[str, int]] = (), timeout: float = 15) -> lab.Proc:
        """Start a server in the cloud namespace and wait until it listens.

        listen: (proto, port) pairs, proto "tcp" or "udp", to wait for.
        """
        ns = ns or self.cloud
        srv = lab.spawn(name, ns, argv, self.workdir, env=clean_env())
        self.servers.append(srv)
        for proto, port in listen:
            # Both families must be bound before tests start.
            def bound(proto=proto, port=port) -> bool:
                local = lab.listening(ns, proto, port)
                return bool(local & {f"{CLOUD_V4}:{port}", f"0.0.0.0:{port}", f"*:{port}"}
                            and local & {f"[{CLOUD_V6}]:{port}", f"[::]:{port}", f"*:{port}"})
            lab.wait_until(f"{name} listening on {proto}/{port}", bound, timeout, procs=[srv])
        return srv

    def start_nginx(self, name: str, http: str, listen: list[tuple[str, int]], *,
                    workers: int = 1, connections: int = 256) -> lab.Proc:
        """nginx in the cloud namespace with all its files under workdir/name; `http` is the
        inside of its http block (types, servers) after the paths every test shares."""
        d = self.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "nginx.conf"
        conf.write_text(f"""
user root;
worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{http}
}}
""")
        return self.start(name, ["nginx", "-e", d / "error.log", "-p", d, "-c", conf],
                          listen=listen)

    def check_servers(self) -> None:
        for srv in self.servers:
            if srv.died():
                raise AssertionError(f"server {srv.died()}")


# -- client runner -------------------------------------------------------------------


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    out_dir: Path | None
    watched: bool
    _flows: list[dict] | None = field(default=None, repr=False)

    def describe(self) -> str:
        return (f"command: {' '.join(self.argv)}\nexit: {self.returncode} after {self.elapsed:.2f}s\n"
                f"stdout (tail): {self.stdout[-3000:]}\nstderr (tail): {self.stderr[-3000:]}")

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError(f"client printed no JSON ({e})\n{self.describe()}") from None

    def flows(self) -> list[dict]:
        """The monitor's flow records of this run (watch mode only), validated."""
        assert self.watched, "flow records exist only when running through phonehome watch"
        if self._flows is None:
            path = self.out_dir / "flows.jsonl"
            assert path.is_file(), f"{path} was not written\n{self.describe()}"
            self._flows = parse_flows(path.read_text())
        return self._flows


def parse_endpoint(text: str) -> tuple[ipaddress._BaseAddress, int]:
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([0-9.]+):(\d+)", text)
    if not m:
        raise AssertionError(f"endpoint {text!r} is not ip:port or [v6]:port")
    ip = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    addr = ipaddress.ip_address(ip)
    if m.group(1) and addr.version != 6:
        raise AssertionError(f"bracketed endpoint {text!r} is not IPv6")
    if m.group(3) and addr.version != 4:
        raise AssertionError(f"unbracketed endpoint {text!r} is not IPv4")
    assert 0 <= port <= 65535, text
    return addr, port


def parse_time(text: str) -> datetime.datetime:
    assert isinstance(text, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text), text
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"timestamp {text!r} has no offset"
    return t


def parse_flows(text: str) -> list[dict]:
    """Parse flows.jsonl and check every record against the documented schema."""
    records = []
    ids = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"flows.jsonl line {n} is not JSON ({e}): {line[:200]}") from None
        where = f"flows.jsonl line {n}: {line[:300]}"
        assert isinstance(rec, dict), where
        for key in ("flow", "proto", "src", "dst", "bytes_out", "bytes_in", "start", "end", "close"):
            assert key in rec, f"missing {key!r} in {where}"
        assert rec["proto"] in ("tcp", "udp", "icmp"), where
        parse_endpoint(rec["src"])
        parse_endpoint(rec["dst"])
        for key in ("bytes_out", "bytes_in"):
            assert isinstance(rec[key], int) and not isinstance(rec[key], bool) and rec[key] >= 0, where
        assert parse_time(rec["start"]) <= parse_time(rec["end"]), f"end before start in {where}"
        assert rec["close"] in CLOSE_KINDS, f"unknown close {rec['close']!r} in {where}"
        assert rec["flow"] not in ids, f"duplicate flow id in {where}"
        ids.add(rec["flow"])
        records.append(rec)
    return records


def find_flow(records: list[dict], proto: str, dst_ip: str, dst_port: int,
              src_port: int | None = None) -> list[dict]:
    want = (ipaddress.ip_address(dst_ip), dst_port)
    out = []
    for rec in records:
        if rec["proto"] != proto or parse_endpoint(rec["dst"]) != want:
            continue
        if src_port is not None and parse_endpoint(rec["src"])[1] != src_port:
            continue
        out.append(rec)
    return out


class Runner:
    """Runs a client command in the host namespace: under `phonehome watch` by default,
    directly (kernel path) with PHONEHOME_E2E_DIRECT=1."""

    def __init__(self, topo: Topology, workdir: Path):
        self.topo = topo
        self.workdir = workdir
        self.watched = not DIRECT
        self._n = 0
        if self.watched and not os.access(PHONEHOME_BIN, os.X_OK):
            raise RuntimeError(
                f"phonehome binary not found at {PHONEHOME_BIN}: build it with "
                "`cargo build --release` or set PHONEHOME_BIN"
            )

    @property
    def resolvers(self) -> list[str]:
        """Nameservers a client sees in its /etc/resolv.conf."""
        return list(WATCHED_DNS) if self.watched else [CLOUD_V4]

    @property
    def client_v4(self) -> str:
        return WATCHED_V4 if self.watched else HOST_V4

    @property
    def client_v6(self) -> str:
        return WATCHED_V6 if self.watched else HOST_V6

    def command(self, argv: list, out_dir: Path, watch_args: list = (),
                dns: str = CLOUD_V4, keep_root: bool = True) -> list[str]:
        """watch_args: more `phonehome watch` options (e.g. `--ids FILE`); dns: the
        upstream resolver the monitor forwards to (`--dns`).

        keep_root: CMD runs as root (`--keep-root`). The clients write into the test's
        temporary directories, which are root's, and some write raw packets or firewall
        rules; test_isolation.py runs CMD the default way, without privileges."""
        argv = [str(a) for a in argv]
        base = ["ip", "netns", "exec", self.topo.host]
        if not self.watched:
            return base + argv
        root = ["--keep-root"] if keep_root else []
        return base + [str(PHONEHOME_BIN), "watch", *root, "--out", str(out_dir),
                       "--dns", dns, *map(str, watch_args), "--", *argv]

    def _out_dir(self) -> Path:
        self._n += 1
        d = self.workdir / f"run{self._n}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def run(self, argv: list, timeout: float, watch_args: list = (),
            dns: str = CLOUD_V4) -> Result:
        """Run to completion; a run that outlives `timeout` is killed and fails the test."""
        out_dir = self._out_dir()
        cmd = self.command(argv, out_dir, watch_args, dns)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env(), start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc, grace=2)
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # something outside the group holds the pipes
                out, err = b"", b"<output lost: pipes still held open after kill>"
            res = Result(cmd, proc.returncode, out.decode(errors="replace"),
                         err.decode(errors="replace"), time.monotonic() - start, out_dir, self.watched)
            raise AssertionError(f"did not finish within {timeout}s (hang)\n{res.describe()}") from None
        res = Result(cmd, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                     time.monotonic() - start, out_dir, self.watched)
        if self.watched and (out_dir / "flows.jsonl").exists():
            res.flows()  # every record a run writes must be well-formed
        self.topo.check_servers()
        return res

    def popen(self, argv: list, stdout, stderr,
              watch_args: list = ()) -> tuple[subprocess.Popen, Path]:
        out_dir = self._out_dir()
        proc = subprocess.Popen(self.command(argv, out_dir, watch_args), stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, env=clean_env(),
                                start_new_session=True)
        return proc, out_dir


def url_host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


CURL = ["curl", "-q", "--noproxy", "*", "-sS"]


def open_tun(name: str) -> int:
    """A TUN device in this (the root) namespace, as an fd, as `VpnService.establish()`
    hands one to the app; the caller moves the interface into the phone's namespace."""
    tunsetiff, iff_tun, iff_no_pi = 0x400454CA, 0x0001, 0x1000
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, tunsetiff, struct.pack("16sH22x", name.encode(), iff_tun | iff_no_pi))
    return fd
