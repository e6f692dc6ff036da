"""TLS interception's cost (issue 13), `bench/run --tls`: `phonehome watch --intercept`
next to `phonehome watch` relaying the same TLS untouched (passthrough), in the same run,
the two interleaved run by run.

    cloud namespace: nginx-light over TLS 1.3 (bench.test, a certificate from a CA made
    here by openssl) serving a random file; relay namespace: `phonehome watch` with the
    client agent (bench/agent.py) as CMD, detection on (--ids lab/ids.toml), no --out.

Per run and configuration:
  - download: curl fetches the file over HTTPS/1.1, piped into sha256sum (checked against
    the file's); Mbit/s from the agent's wall time, and CPU seconds (utime+stime of the
    watch process, all threads) per GB over the download;
  - handshakes: python's ssl makes N new connections one after another; the time from TCP
    connected to TLS finished, per connection (p50 and p99 of all runs' connections);
  - memory: RSS of the watch process, then N TLS connections opened and held idle, RSS
    again; (difference) / N per connection.
With --intercept, the client trusts the monitor's exported CA and the monitor trusts the
test CA for the server (--upstream-ca); passthrough, the client trusts the test CA.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import ssl
import statistics
import time
from pathlib import Path

NAME = "bench.test"
TLS_PORT = 443
FILE_MB = 256
HANDSHAKES = 200
HELD = 500

CONFIGS = ["passthrough", "intercept"]
LABELS = {
    "passthrough": "phonehome watch, TLS passed through (no --intercept)",
    "intercept": "phonehome watch --intercept",
}


def make_pki(d: Path, sh) -> None:
    def openssl(*args):
        sh(["openssl", *map(str, args)], timeout=60)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d / "ca.key", "-out", d / "ca.pem", "-days", "2",
            "-subj", "/CN=PhoneHome bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d / "srv.key", "-out", d / "srv.csr", "-subj", f"/CN={NAME}")
    (d / "srv.ext").write_text(f"subjectAltName=DNS:{NAME}\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", d / "srv.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
            "-CAcreateserial", "-out", d / "srv.pem", "-days", "2", "-extfile", d / "srv.ext")


def make_file(path: Path, mb: int) -> str:
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(mb):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            f.write(chunk)
    return h.hexdigest()


def nginx_conf(w: Path, cloud: str) -> str:
    return f"""
worker_processes 1;
pid {w}/nginx-tls.pid;
error_log {w}/nginx-tls-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {w}/nginx-tmp;
    proxy_temp_path {w}/nginx-tmp;
    fastcgi_temp_path {w}/nginx-tmp;
    uwsgi_temp_path {w}/nginx-tmp;
    scgi_temp_path {w}/nginx-tmp;
    keepalive_timeout 600s;
    server {{
        listen {cloud}:{TLS_PORT} ssl backlog=4096;
        server_name {NAME};
        ssl_protocols TLSv1.3;
        ssl_certificate {w}/pki/srv.pem;
        ssl_certificate_key {w}/pki/srv.key;
        root {w}/www-tls;
    }}
}}
"""


def percentile(values: list[float], p: float):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


class Bench:
    """Runs the comparison; `rt` is bench/run's module (its topology, sessions, samples)."""

    def __init__(self, rt, tools: dict, work: Path, runs: int, log):
        self.rt, self.tools, self.work, self.runs, self.log = rt, tools, work, runs, log
        self.results: dict[str, list[dict]] = {c: [] for c in CONFIGS}
        self.errors: list[str] = []

    def setup(self, topo) -> None:
        w = self.work
        (w / "pki").mkdir(exist_ok=True)
        make_pki(w / "pki", self.rt.sh)
        (w / "www-tls").mkdir(exist_ok=True)
        (w / "nginx-tmp").mkdir(exist_ok=True)
        self.log(f"writing a {FILE_MB} MiB random file")
        self.sha256 = make_file(w / "www-tls" / "big.bin", FILE_MB)
        (w / "nginx-tls.conf").write_text(nginx_conf(w, self.rt.CLOUD))
        topo.start_server("nginx-tls", ["nginx", "-c", w / "nginx-tls.conf", "-p", w,
                                        "-g", "daemon off;"], "tcp", TLS_PORT)
        self.ca_dir = w / "phonehome-ca"
        self.rt.sh([self.tools["phonehome"], "ca", "export", "--dir", w / "export",
                    "--ca-dir", self.ca_dir])
        self.ours = w / "export" / "phonehome-ca.pem"

    def start(self, config: str, topo):
        rt = self.rt
        extra = []
        if config == "intercept":
            extra = ["--intercept", "--ca-dir", self.ca_dir,
                     "--upstream-ca", self.work / "pki" / "ca.pem"]
        agent = rt.spawn(f"watch-tls-{config}", topo.relay, [
            self.tools["phonehome"], "watch", "--keep-root", "--ids", rt.lab.IDS,
            "--dns", rt.CLOUD, *extra, "--", rt.sys.executable, rt.AGENT, "client"],
            self.work, pipes=True)
        session = rt.Session(f"tls-{config}", topo, self.tools, self.work)
        session.agent = agent
        session.relays = [agent]
        session.cmd(op="ping", wait=30)
        return session

    def measure(self, config: str, session) -> dict:
        rt = self.rt
        cafile = str(self.ours if config == "intercept" else self.work / "pki" / "ca.pem")
        out: dict = {}
        url = f"https://{NAME}/big.bin"
        curl = (f"curl -sS --http1.1 --cacert {cafile} --resolve {NAME}:{TLS_PORT}:{rt.CLOUD} "
                f"{url} | sha256sum")
        before = rt.sample(session.pids())
        reply = session.run(["sh", "-c", curl], timeout=300)
        after = rt.sample(session.pids())
        got = (reply.get("out") or "").split()[:1]
        if got != [self.sha256]:
            raise RuntimeError(f"download corrupted or failed: {reply}")
        size = FILE_MB << 20
        out["mbit"] = size * 8 / reply["secs"] / 1e6
        out["cpu_per_gb"] = (after.cpu - before.cpu) / (size / 1e9)

        reply = session.cmd(op="tls_handshakes", name=NAME, ip=rt.CLOUD, port=TLS_PORT,
                            cafile=cafile, n=HANDSHAKES, wait=300)
        if not reply.get("ok") or reply["failed"]:
            raise RuntimeError(f"handshakes failed: {reply}")
        out["handshake_ms"] = reply["ms"]

        time.sleep(1)
        base = rt.sample(session.pids())
        reply = session.cmd(op="tls_hold", name=NAME, ip=rt.CLOUD, port=TLS_PORT,
                            cafile=cafile, n=HELD, wait=300)
        if not reply.get("ok") or reply["held"] != HELD:
            raise RuntimeError(f"holding {HELD} TLS connections failed: {reply}")
        time.sleep(2)
        held = rt.sample(session.pids())
        out["kib_per_conn"] = (held.rss_kb - base.rss_kb) / HELD
        out["rss_base_mib"] = base.rss_kb / 1024
        session.cmd(op="release", wait=60)
        return out

    def run(self, topo) -> None:
        for run in range(self.runs):
            order = CONFIGS[run % 2:] + CONFIGS[:run % 2]
            for config in order:
                self.log(f"run {run + 1}/{self.runs}: {config}")
                session = None
                try:
                    session = self.start(config, topo)
                    self.results[config].append(self.measure(config, session))
                except Exception as e:  # recorded in the report; the others go on
                    self.errors.append(f"run {run + 1}, {config}: {e}")
                    self.log(f"  failed: {e}")
                finally:
                    if session is not None:
                        try:
                            session.cmd(op="exit", wait=10)
                        except Exception:
                            pass
                        session.agent.stop(grace=5)

    def render(self, started: float, load: str, machine: list[str]) -> str:
        def med(config, key):
            vals = [r[key] for r in self.results[config]]
            return statistics.median(vals) if vals else None

        def all_ms(config):
            return [ms for r in self.results[config] for ms in r["handshake_ms"]]

        def f(v, digits=0):
            return "–" if v is None else f"{v:,.{digits}f}"

        def ratio(a, b):
            return "–" if a is None or not b else f"{a / b:.2f}×"

        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        took = (time.monotonic() - started) / 60
        lines = [
            "## 9. TLS interception (issue 13): `watch --intercept` vs TLS passed through",
            "",
            f"Generated by `bench/run --tls` on {now}; {self.runs} run(s), the two "
            f"configurations interleaved run by run (order alternating); took {took:.1f} min. "
            f"Load average when it started: {load}.",
            "",
            *machine,
            "",
            f"nginx-light over TLS 1.3 (P-256 certificate) in the cloud namespace; "
            f"`phonehome watch` (MTU 1500, detection on with lab/ids.toml, no --out) with the "
            f"client agent as CMD. Download: curl over HTTP/1.1 of a {FILE_MB} MiB random file "
            f"piped into sha256sum (checked in every run), Mbit/s and CPU seconds (utime+stime "
            f"of all watch threads) per GB, median of runs. Handshakes: {HANDSHAKES} new "
            f"connections per run from python's ssl, TCP connected to TLS finished, "
            f"percentiles over all runs' connections. Memory: RSS of watch with {HELD} idle "
            f"TLS connections held open minus RSS just before, ÷ {HELD}, median of runs.",
            "",
            "| configuration | download Mbit/s | ×passthrough | CPU s/GB | ×passthrough "
            "| handshake p50 ms | p99 ms | KiB per idle connection | RSS before, MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        base = {k: med("passthrough", k) for k in ("mbit", "cpu_per_gb")}
        for c in CONFIGS:
            ms = all_ms(c)
            lines.append(
                f"| {LABELS[c]} | {f(med(c, 'mbit'))} | {ratio(med(c, 'mbit'), base['mbit'])} "
                f"| {f(med(c, 'cpu_per_gb'), 2)} | "
                f"{ratio(med(c, 'cpu_per_gb'), base['cpu_per_gb'])} "
                f"| {f(percentile(ms, 50), 2)} | {f(percentile(ms, 99), 2)} "
                f"| {f(med(c, 'kib_per_conn'), 1)} | {f(med(c, 'rss_base_mib'), 1)} |")
        i_ms, p_ms = all_ms("intercept"), all_ms("passthrough")
        if i_ms and p_ms:
            lines += ["", f"Added by interception: handshake p50 "
                      f"+{percentile(i_ms, 50) - percentile(p_ms, 50):.2f} ms, p99 "
                      f"+{percentile(i_ms, 99) - percentile(p_ms, 99):.2f} ms (the monitor "
                      f"completes the server's handshake before answering the client's)."]
        if self.errors:
            lines += ["", "Failures during the run:", ""] + [f"- {e}" for e in self.errors]
        return "\n".join(lines) + "\n"


def main(rt, tools: dict, runs: int, out: Path, work: Path, log) -> int:
    started = time.monotonic()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    topo = rt.Topology(work)
    bench = Bench(rt, tools, work, runs, log)
    try:
        topo.create()
        bench.setup(topo)
        bench.run(topo)
    finally:
        topo.destroy()
        shutil.rmtree(work / "www-tls", ignore_errors=True)
    machine = rt.machine(tools) + [
        f"- nginx-light {rt.dpkg_version('nginx-light')}, curl {rt.dpkg_version('curl')}, "
        f"Python {rt.sys.version.split()[0]} (ssl: {ssl.OPENSSL_VERSION})"]
    report = bench.render(started, load, machine)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    raw = {c: [{k: v for k, v in r.items() if k != "handshake_ms"} for r in rs]
           for c, rs in bench.results.items()}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1))
    log(f"report written to {out}")
    return 1 if bench.errors else 0
