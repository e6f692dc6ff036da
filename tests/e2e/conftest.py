"""Fixtures: payload files (once per session), a topology per test module, the servers in
its cloud namespace, and the runner that puts clients under `phonehome watch`."""

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness
from harness import CLOUD_V4, CLOUD_V6, PY, SERVERS, Runner, Topology

MiB = 1 << 20


@dataclass
class Payload:
    name: str
    path: Path
    size: int
    sha256: str


def pytest_report_header(config):
    mode = "DIRECT (kernel path, no monitor)" if harness.DIRECT else f"through {harness.PHONEHOME_BIN} watch"
    lines = [f"phonehome e2e: clients run {mode}"]
    if harness.SABOTAGE:
        lines.append("phonehome e2e: SABOTAGE on: servers corrupt data, integrity tests must fail")
    return lines


def _make(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def discovery_state(tmp_path_factory):
    """`watch` keeps discovery's state in $XDG_STATE_HOME/phonehome by default: a
    directory of the test session's, never the user's."""
    d = tmp_path_factory.mktemp("xdg-state")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(d)
    yield d
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def payloads(tmp_path_factory) -> dict:
    """Random files the clients upload and the web server serves (from `www`)."""
    d = tmp_path_factory.mktemp("payloads")
    www = d / "www"
    www.mkdir()
    out = {}
    for name, size in (("big.bin", 100 * MiB), ("mid.bin", 16 * MiB)):
        path = d / name
        out[name] = Payload(name, path, size, _make(path, size))
        if harness.SABOTAGE:
            data = bytearray(path.read_bytes())
            data[size // 3] ^= 0x01
            (www / name).write_bytes(data)
        else:
            os.link(path, www / name)
    out["www"] = www
    yield out
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def topo(tmp_path_factory, request):
    t = Topology(tmp_path_factory.mktemp(f"topo-{request.module.__name__}"))
    t.create()
    try:
        yield t
    finally:
        t.destroy()


@pytest.fixture(scope="module")
def runner(topo, tmp_path_factory):
    return Runner(topo, tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def nginx(topo, payloads):
    """nginx on port 80 of both cloud addresses, serving the payload files."""
    return topo.start_nginx("nginx", f"""
    default_type application/octet-stream;
    sendfile on;
    server {{
        listen {CLOUD_V4}:80;
        listen [{CLOUD_V6}]:80;
        root {payloads["www"]};
    }}""", listen=[("tcp", 80)], workers=2, connections=1024)


@pytest.fixture(scope="module")
def upload_server(topo):
    """HTTP sink on port 8080 that answers with the sha256 of the body it received."""
    return topo.start("http-upload", [PY, SERVERS / "http_upload.py", 8080, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", 8080)])


@pytest.fixture(scope="module")
def tcp_servers(topo):
    """Python TCP servers on ports 9000-9005 (see servers/tcp_servers.py)."""
    return topo.start("tcp-servers", [PY, SERVERS / "tcp_servers.py", CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", p) for p in range(9000, 9006)])


@pytest.fixture(scope="module")
def udp_echo(topo):
    return topo.start("udp-echo", [PY, SERVERS / "udp_echo.py", 7777, CLOUD_V4, CLOUD_V6],
                      listen=[("udp", 7777)])


@pytest.fixture(scope="module")
def dns_server(topo):
    """dnsmasq answering only for *.test, with no upstream at all."""
    log = topo.workdir / "dnsmasq-queries.log"
    v4, v6 = ("10.201.0.3", "fd00:201::3") if harness.SABOTAGE else (CLOUD_V4, CLOUD_V6)
    srv = topo.start("dnsmasq", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--bind-interfaces", f"--listen-address={CLOUD_V4}",
        f"--listen-address={CLOUD_V6}", "--port=53", "--user=root", "--group=root",
        "--pid-file=", "--local=/test/", f"--host-record=cloud.test,{v4},{v6}",
        "--log-queries", f"--log-facility={log}", "--cache-size=0",
    ], listen=[("udp", 53), ("tcp", 53)])
    srv.query_log = log
    return srv


@pytest.fixture(scope="module")
def iperf_server(topo):
    return topo.start("iperf3", ["iperf3", "-s", "-p", 5201], listen=[("tcp", 5201)])


@pytest.fixture
def outdir(tmp_path):
    """A directory clients write their downloads to."""
    d = tmp_path / "client"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)
