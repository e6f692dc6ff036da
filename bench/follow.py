"""What following server bytes costs (issue 12), `bench/run --follow BEFORE`: the same
plain HTTP/1 and h2c downloads through `phonehome watch` built before the change (BEFORE, a
binary) and after it (the one bench/run uses), interleaved run by run.

    cloud namespace: nginx-light serving a random file over plain HTTP/1.1; relay
    namespace: `phonehome watch` with the client agent (bench/agent.py) as CMD, detection
    on (--ids lab/ids.toml), no --out.

Per run and binary, curl fetches into sha256sum (checked against the file's):
  - length: the file as nginx sends it, with a Content-Length (the analyzer reads the
    head and 64 KiB of the body, then asks the tap for nothing until the body ends);
  - chunked: the file gzip-compressed on the fly (`curl --compressed`), which nginx sends
    chunked in small chunks: the worst case, as most bytes reach the analyzer and only
    its chunk parser steps over them;
  - h2c: the file over cleartext HTTP/2 (`curl --http2-prior-knowledge`, nginx `listen
    ... http2`), in nginx's 8 KiB DATA frames: past the stream's limit the analyzer reads
    only frame headers, but each relayed piece holds one, so most bytes are still handed
    to it.
Mbit/s from the agent's wall time and CPU seconds (utime+stime of all watch threads) per
GB relayed; best (lowest CPU, highest Mbit/s) of the runs, as the machine is shared.
"""

from __future__ import annotations

import datetime
import json
import shutil
import time
from pathlib import Path

from tls import make_file  # noqa: E402  (bench/tls.py, next to this script)

PORT = 8088
FILE_MB = 256
CONFIGS = ["before", "after"]
H2C_PORT = PORT + 1
CASES = {
    "length": "curl -sS http://{host}:%d/big.bin | sha256sum" % PORT,
    "chunked": "curl -sS --compressed http://{host}:%d/big.bin | sha256sum" % PORT,
    "h2c": "curl -sS --http2-prior-knowledge http://{host}:%d/big.bin | sha256sum" % H2C_PORT,
}


def nginx_conf(w: Path, cloud: str) -> str:
    return f"""
worker_processes 1;
pid {w}/nginx-follow.pid;
error_log {w}/nginx-follow-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {w}/nginx-tmp;
    proxy_temp_path {w}/nginx-tmp;
    fastcgi_temp_path {w}/nginx-tmp;
    uwsgi_temp_path {w}/nginx-tmp;
    scgi_temp_path {w}/nginx-tmp;
    default_type application/octet-stream;
    gzip on;
    gzip_types application/octet-stream;
    gzip_comp_level 1;
    server {{
        listen {cloud}:{PORT};
        root {w}/www-follow;
    }}
    server {{
        listen {cloud}:{H2C_PORT} http2;
        root {w}/www-follow;
    }}
}}
"""


class Bench:
    def __init__(self, rt, tools: dict, binaries: dict, work: Path, runs: int, log):
        self.rt, self.tools, self.binaries = rt, tools, binaries
        self.work, self.runs, self.log = work, runs, log
        self.results: dict[str, list[dict]] = {c: [] for c in CONFIGS}
        self.errors: list[str] = []

    def setup(self, topo) -> None:
        w = self.work
        (w / "www-follow").mkdir(exist_ok=True)
        (w / "nginx-tmp").mkdir(exist_ok=True)
        self.log(f"writing a {FILE_MB} MiB random file")
        self.sha256 = make_file(w / "www-follow" / "big.bin", FILE_MB)
        (w / "nginx-follow.conf").write_text(nginx_conf(w, self.rt.CLOUD))
        topo.start_server("nginx-follow", ["nginx", "-c", w / "nginx-follow.conf", "-p", w,
                                           "-g", "daemon off;"], "tcp", PORT)

    def start(self, config: str, topo):
        rt = self.rt
        agent = rt.spawn(f"watch-follow-{config}", topo.relay, [
            self.binaries[config], "watch", "--keep-root", "--ids", rt.lab.IDS,
            "--dns", rt.CLOUD, "--", rt.sys.executable, rt.AGENT, "client"],
            self.work, pipes=True)
        session = rt.Session(f"follow-{config}", topo, self.tools, self.work)
        session.agent = agent
        session.relays = [agent]
        session.cmd(op="ping", wait=30)
        return session

    def measure(self, session) -> dict:
        rt = self.rt
        out: dict = {}
        for case, curl in CASES.items():
            before = rt.sample(session.pids())
            reply = session.run(["sh", "-c", curl.format(host=rt.CLOUD)], timeout=600)
            after = rt.sample(session.pids())
            if (reply.get("out") or "").split()[:1] != [self.sha256]:
                raise RuntimeError(f"{case} download corrupted or failed: {reply}")
            size = FILE_MB << 20
            out[f"{case}_mbit"] = size * 8 / reply["secs"] / 1e6
            out[f"{case}_cpu_per_gb"] = (after.cpu - before.cpu) / (size / 1e9)
        return out

    def run(self, topo) -> None:
        for run in range(self.runs):
            order = CONFIGS[run % 2:] + CONFIGS[:run % 2]
            for config in order:
                self.log(f"run {run + 1}/{self.runs}: {config}")
                session = None
                try:
                    session = self.start(config, topo)
                    self.results[config].append(self.measure(session))
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
        def best(config, key, pick):
            vals = [r[key] for r in self.results[config]]
            return pick(vals) if vals else None

        def f(v, digits=0):
            return "–" if v is None else f"{v:,.{digits}f}"

        def ratio(a, b):
            return "–" if a is None or not b else f"{a / b:.2f}×"

        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        took = (time.monotonic() - started) / 60
        lines = [
            "## Following server bytes (issue 12): before and after",
            "",
            f"Generated by `bench/run --follow BEFORE` on {now}; {self.runs} run(s), the two "
            f"binaries interleaved run by run (order alternating); took {took:.1f} min. "
            f"Load average when it started: {load}.",
            "",
            *machine,
            f"- before: `{self.binaries['before']}`; after: `{self.binaries['after']}`",
            "",
            f"nginx-light over plain HTTP/1.1 in the cloud namespace; `phonehome watch` (MTU "
            f"1500, detection on with lab/ids.toml, no --out) with the client agent as CMD. "
            f"curl fetches a {FILE_MB} MiB random file into sha256sum (checked in every run): "
            f"as sent, with a Content-Length, and gzip-compressed on the fly (`--compressed`; "
            f"nginx sends it chunked in small chunks), and over cleartext HTTP/2 "
            f"(`--http2-prior-knowledge`; nginx's 8 KiB DATA frames). Best of the runs "
            f"(lowest CPU seconds per GB, utime+stime of all watch threads; highest Mbit/s).",
            "",
            "| binary | Content-Length: Mbit/s | CPU s/GB | ×before | chunked: Mbit/s "
            "| CPU s/GB | ×before | h2c: Mbit/s | CPU s/GB | ×before |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        base = {k: best("before", f"{k}_cpu_per_gb", min) for k in CASES}
        for c in CONFIGS:
            row = [c]
            for k in CASES:
                cpu = best(c, f"{k}_cpu_per_gb", min)
                row += [f(best(c, f"{k}_mbit", max)), f(cpu, 2), ratio(cpu, base[k])]
            lines.append("| " + " | ".join(row) + " |")
        if self.errors:
            lines += ["", "Failures during the run:", ""] + [f"- {e}" for e in self.errors]
        return "\n".join(lines) + "\n"


def main(rt, tools: dict, before: Path, runs: int, out: Path, work: Path, log) -> int:
    started = time.monotonic()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    topo = rt.Topology(work)
    binaries = {"before": before, "after": tools["phonehome"]}
    bench = Bench(rt, tools, binaries, work, runs, log)
    try:
        topo.create()
        bench.setup(topo)
        bench.run(topo)
    finally:
        topo.destroy()
        shutil.rmtree(work / "www-follow", ignore_errors=True)
    machine = rt.machine(tools) + [
        f"- nginx-light {rt.dpkg_version('nginx-light')}, curl {rt.dpkg_version('curl')}"]
    report = bench.render(started, load, machine)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    out.with_suffix(".json").write_text(json.dumps(bench.results, indent=1))
    log(f"report written to {out}")
    return 1 if bench.errors else 0
