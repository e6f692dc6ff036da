#!/usr/bin/env python3
"""The scripted phone of the Redmi 1S replay: sends the requests of a plan, byte for
byte, one connection each, in order, and prints what happened as JSON.

usage: redmi_phone.py PLAN.json

PLAN is a list of {"name", "scheme" ("http"|"https"), "host", "port", "raw_b64" (the
whole request: request line, headers, body), "cafile" (for https), "family" (4, 6, or 0
for whatever the resolver lists first)}. Names are resolved with the system resolver
(the watched namespace's: the monitor), so DNS goes through the monitor as a phone's
would; https verifies the server against `cafile` and sends the host as SNI. Output: a
list of {"name", "local": [ip, port], "peer": [ip, port], "status", "sent", "received"}.
"""

import base64
import json
import socket
import ssl
import sys


def read_response(sock) -> tuple[int, int]:
    """Reads one response with a Content-Length body; returns (status, bytes read)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"connection closed before the response head: {buf!r}")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed in the response body")
        body += chunk
    return status, len(head) + 4 + len(body)


def send(req: dict) -> dict:
    raw = base64.b64decode(req["raw_b64"])
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(req.get("family", 0), socket.AF_UNSPEC)
    fam, kind, proto, _, addr = socket.getaddrinfo(req["host"], req["port"], family,
                                                   socket.SOCK_STREAM)[0]
    sock = socket.socket(fam, kind, proto)
    sock.settimeout(15)
    try:
        sock.connect(addr)
        if req["scheme"] == "https":
            ctx = ssl.create_default_context(cafile=req["cafile"])
            sock = ctx.wrap_socket(sock, server_hostname=req["host"])
        local = sock.getsockname()[:2]
        peer = sock.getpeername()[:2]
        sock.sendall(raw)
        status, received = read_response(sock)
    finally:
        sock.close()
    return {"name": req["name"], "local": list(local), "peer": list(peer), "status": status,
            "sent": len(raw), "received": received}


def main() -> int:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    results = [send(req) for req in plan]
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
