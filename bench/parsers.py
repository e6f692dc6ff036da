"""What bench/run reads from its tools' output: pure functions, text in, numbers out.

Each raises ValueError when the output lacks the main number (the tool failed); numbers
that are only sometimes printed (wrk's socket errors, ab's failed requests) are left out
or zero. tests: bench/test_parsers.py, on real outputs saved in bench/testdata/.
"""

from __future__ import annotations

import json
import re


def iperf3(text: str) -> dict:
    """`iperf3 -c ... -J`: received rate and bytes, the sender's retransmits, the MSS."""
    try:
        j = json.loads(text or "{}")
    except ValueError as e:
        raise ValueError(f"iperf3 printed no JSON ({e})") from None
    if "error" in j:
        raise ValueError(j["error"])
    try:
        got = j["end"]["sum_received"]
        return {"mbps": got["bits_per_second"] / 1e6, "bytes": got["bytes"],
                "retransmits": j["end"].get("sum_sent", {}).get("retransmits"),
                "mss": j.get("start", {}).get("tcp_mss_default")}
    except KeyError as e:
        raise ValueError(f"iperf3 JSON without {e}") from None


def _num(pattern: str, text: str, conv=int):
    m = re.search(pattern, text, re.S)
    return conv(m.group(1)) if m else None


def _some(**values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def sockperf(text: str) -> dict:
    """`sockperf ping-pong --full-rtt` (stdout and stderr together): round trips in µs."""
    res = _some(
        p50_us=_num(r"percentile 50\.000 =\s*([\d.]+)", text, float),
        p99_us=_num(r"percentile 99\.000 =\s*([\d.]+)", text, float),
        avg_us=_num(r"avg-rtt=([\d.]+)", text, float),
        messages=_num(r"\[Valid Duration\].*?ReceivedMessages=(\d+)", text),
    )
    if "p50_us" not in res:
        raise ValueError("sockperf printed no percentiles")
    return res


def wrk(text: str) -> dict:
    """`wrk`: requests per second; errors = socket errors + non-2xx/3xx responses."""
    rps = _num(r"Requests/sec:\s+([\d.]+)", text, float)
    if rps is None:
        raise ValueError("wrk printed no Requests/sec")
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(int(x) for x in m.groups()) if m else 0
    errors += _num(r"Non-2xx or 3xx responses: (\d+)", text) or 0
    return {"rps": rps, "errors": errors}


def ab(text: str) -> dict:
    """ApacheBench: requests per second, complete and failed requests."""
    rps = _num(r"Requests per second:\s+([\d.]+)", text, float)
    if rps is None:
        raise ValueError("ab printed no Requests per second")
    return _some(rps=rps, complete=_num(r"Complete requests:\s+(\d+)", text),
                 failed=_num(r"Failed requests:\s+(\d+)", text))


def dnsperf(text: str) -> dict:
    """dnsperf: queries per second, sent/lost/completed, average latency in ms."""
    qps = _num(r"Queries per second:\s+([\d.]+)", text, float)
    if qps is None:
        raise ValueError("dnsperf printed no Queries per second")
    latency = _num(r"Average Latency \(s\):\s+([\d.]+)", text, float)
    return _some(qps=qps, sent=_num(r"Queries sent:\s+(\d+)", text),
                 lost=_num(r"Queries lost:\s+(\d+)", text),
                 completed=_num(r"Queries completed:\s+(\d+)", text),
                 avg_latency_ms=None if latency is None else latency * 1000)


def proc_stat_ticks(stat: str) -> int:
    """/proc/PID/stat: utime + stime + cutime + cstime, in clock ticks. The command name
    (in parentheses) may hold spaces, so fields are counted after its last ')'; state is
    field 3 of the line, utime..cstime fields 14-17."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])


def proc_status(status: str) -> dict:
    """/proc/PID/status or /proc/PID/task/TID/status: VmRSS and VmHWM in kB (absent for
    threads and kernel threads: 0), voluntary + nonvoluntary context switches."""
    out = {"rss_kb": 0, "hwm_kb": 0, "ctx": 0}
    keys = {"VmRSS:": "rss_kb", "VmHWM:": "hwm_kb",
            "voluntary_ctxt_switches:": "ctx", "nonvoluntary_ctxt_switches:": "ctx"}
    for line in status.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in keys:
            out[keys[f[0]]] += int(f[1])
    return out
