#!/usr/bin/env python3
"""Half-close checks against tcp_servers.py; prints JSON with what was seen.

usage: halfclose.py MODE HOST SIZE
  client-half   port 9001: send SIZE bytes, shutdown(SHUT_WR), then read the reply to EOF
                (sha256 of what the server read, then SIZE bytes).
  server-close  port 9002: the server sends SIZE bytes and closes; read to EOF.
  server-half   port 9003: the server sends SIZE bytes and shuts down its write side; read
                to EOF, then send SIZE bytes and shutdown(SHUT_WR). Then ask the server
                (port 9005) what it read after its half-close: "server_saw" is
                "<sha256 hex> <byte count>". (This also keeps the client alive until its
                bytes have arrived: `watch` ends when its command does.)
"""

import hashlib
import json
import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import datagen  # noqa: E402

MODE, HOST, SIZE = sys.argv[1], sys.argv[2], int(sys.argv[3])
PORT = {"client-half": 9001, "server-close": 9002, "server-half": 9003}[MODE]


def read_to_eof(sock):
    buf = bytearray()
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return bytes(buf)
        buf += chunk


seed = os.urandom(16)
result = {"mode": MODE, "seed": seed.hex(), "errors": []}
err = result["errors"]
with socket.create_connection((HOST, PORT), timeout=60) as s:
    s.sendall(seed + SIZE.to_bytes(4, "big") + SIZE.to_bytes(4, "big"))
    want = datagen.down(seed, SIZE)
    if MODE == "client-half":
        up = datagen.up(seed, SIZE)
        s.sendall(up)
        s.shutdown(socket.SHUT_WR)
        got = read_to_eof(s)
        if got[:32] != hashlib.sha256(up).digest():
            err.append("server's sha256 of what it read before our FIN differs from what we sent")
        if len(got) != 32 + SIZE:
            err.append(f"reply was {len(got)} bytes, expected {32 + SIZE}")
        elif got[32:] != want:
            err.append("reply data differs")
    else:
        got = read_to_eof(s)
        if len(got) != SIZE:
            err.append(f"received {len(got)} bytes before EOF, expected {SIZE}")
        elif got != want:
            err.append("data before EOF differs")
        if MODE == "server-half":
            up = datagen.up(seed, SIZE)
            s.sendall(up)
            result["sent_sha256"] = hashlib.sha256(up).hexdigest()
            s.shutdown(socket.SHUT_WR)
            with socket.create_connection((HOST, 9005), timeout=30) as q:
                q.sendall(seed)
                result["server_saw"] = read_to_eof(q).decode().strip()
print(json.dumps(result))
