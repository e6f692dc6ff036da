#!/usr/bin/env python3
"""Helpers that bench/run starts inside its network namespaces (Python 3 stdlib only).

    agent.py client           the long-lived client: reads one JSON command per line on
                              stdin, answers one JSON line on stdout
    agent.py holdserver IP PORT
                              in the cloud namespace: accepts TCP connections and holds
                              them open, reading and discarding, until the peer closes

The client agent exists so that one process lives in the client namespace for a whole
session: under `phonehome watch` the monitor then runs from the first to the last
measurement, and its RSS, CPU time and context switches can be read per phase. Commands:

    {"op": "ping"}                                -> {"ok": true}
    {"op": "run", "argv": [...], "timeout": S}    -> {"ok", "rc", "out", "err", "secs"}
    {"op": "hold", "ip": IP, "port": P, "n": N}   -> {"ok", "held", "failed", "secs"}
        open connections until N are held (those from earlier "hold"s count)
    {"op": "release"}                             -> {"ok", "closed"}
    {"op": "tls_handshakes", "name", "ip", "port", "cafile", "n"}
                                                  -> {"ok", "ms": [...], "failed"}
    {"op": "tls_hold", "name", "ip", "port", "cafile", "n"}
                                                  -> {"ok", "held", "failed", "secs"}
    {"op": "exit"}                                -> {"ok": true}, then exits

End of stdin also ends the agent (so it never outlives bench/run).
"""

import errno
import json
import resource
import selectors
import socket
import ssl
import subprocess
import sys
import time


def raise_nofile():
    # Thousands of held connections need thousands of descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def open_connections(ip, port, count, held, batch=128, timeout=20.0):
    """Open `count` more TCP connections to ip:port, `batch` handshakes at a time.

    Non-blocking connects in batches: opening them one by one through a relay would take
    minutes, opening all at once would overflow listen backlogs. Returns how many failed.
    """
    sel = selectors.DefaultSelector()
    failed = 0
    remaining = count
    pending = 0
    deadline = time.monotonic() + timeout + count / 100
    while remaining > 0 or pending > 0:
        while remaining > 0 and pending < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((ip, port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                failed += 1
            else:
                sel.register(s, selectors.EVENT_WRITE)
                pending += 1
            remaining -= 1
        if time.monotonic() > deadline:
            break
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                held.append(s)
            else:
                s.close()
                failed += 1
    # Handshakes still unfinished at the deadline count as failed.
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()
        failed += 1
    sel.close()
    return failed


def tls_connect(name, ip, port, ctx, timeout=20.0):
    """One TLS connection to ip:port for `name`; returns (socket, handshake seconds), the
    handshake timed from the TCP connection's establishment to its end."""
    raw = socket.create_connection((ip, port), timeout=timeout)
    start = time.perf_counter()
    tls = ctx.wrap_socket(raw, server_hostname=name)
    return tls, time.perf_counter() - start


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def client():
    raise_nofile()
    held = []
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.get("op")
        reply = {"ok": True}
        try:
            if op == "ping":
                pass
            elif op == "run":
                start = time.monotonic()
                try:
                    proc = subprocess.run(cmd["argv"], capture_output=True, text=True,
                                          timeout=cmd.get("timeout", 60),
                                          stdin=subprocess.DEVNULL)
                    reply.update(rc=proc.returncode, out=proc.stdout, err=proc.stderr)
                except subprocess.TimeoutExpired as e:
                    reply.update(ok=False, rc=None, out=str(e.stdout or ""),
                                 err=f"timed out after {cmd.get('timeout', 60)} s")
                except OSError as e:
                    reply.update(ok=False, rc=None, out="", err=str(e))
                reply["secs"] = time.monotonic() - start
            elif op == "hold":
                start = time.monotonic()
                want = max(0, cmd["n"] - len(held))
                failed = open_connections(cmd["ip"], cmd["port"], want, held)
                reply.update(held=len(held), failed=failed, secs=time.monotonic() - start)
            elif op == "tls_handshakes":
                ctx, ms, failed = tls_context(cmd["cafile"]), [], 0
                for _ in range(cmd["n"]):
                    try:
                        tls, secs = tls_connect(cmd["name"], cmd["ip"], cmd["port"], ctx)
                        ms.append(secs * 1000)
                        tls.close()
                    except OSError:
                        failed += 1
                reply.update(ms=ms, failed=failed)
            elif op == "tls_hold":
                start, ctx, failed = time.monotonic(), tls_context(cmd["cafile"]), 0
                for _ in range(max(0, cmd["n"] - len(held))):
                    try:
                        held.append(tls_connect(cmd["name"], cmd["ip"], cmd["port"], ctx)[0])
                    except OSError:
                        failed += 1
                reply.update(held=len(held), failed=failed, secs=time.monotonic() - start)
            elif op == "release":
                for s in held:
                    s.close()
                reply["closed"] = len(held)
                held.clear()
            elif op == "exit":
                out.write(json.dumps(reply) + "\n")
                out.flush()
                return
            else:
                reply = {"ok": False, "err": f"unknown op {op!r}"}
        except Exception as e:  # report, keep serving: the harness decides what to do
            reply = {"ok": False, "err": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def holdserver(ip, port):
    raise_nofile()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((ip, port))
    lsock.listen(4096)
    lsock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is lsock:
                # Accept everything queued; each connection then only waits for EOF.
                while True:
                    try:
                        conn, _ = lsock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:  # EMFILE and the like: log, keep going
                        print(f"accept: {e}", file=sys.stderr, flush=True)
                        break
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        client()
    elif sys.argv[1:2] == ["holdserver"] and len(sys.argv) == 4:
        holdserver(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
