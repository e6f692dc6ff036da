#!/usr/bin/python3
"""Send pipelined HTTP/1.1 requests in one write on one connection: a POST of BYTES
random bytes to /upload, then GET PATH; read both responses and print, as JSON, their
statuses and lengths. No body content is printed.

usage: pipelined_burst.py HOST PORT BYTES PATH
"""

import http.client
import json
import random
import socket
import sys

host, port, size, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
body = random.Random(7).randbytes(size)
burst = (f"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {size}\r\n"
         f"Content-Type: application/octet-stream\r\n\r\n").encode() + body
burst += f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
with socket.create_connection((host, port), timeout=60) as sock:
    # One write: the whole burst is in the kernel's hands before any answer comes.
    sock.sendall(burst)
    got = []
    for _ in range(2):
        r = http.client.HTTPResponse(sock)
        r.begin()
        got.append({"status": r.status, "bytes": len(r.read())})
print(json.dumps({"responses": got, "sent": len(burst)}))
