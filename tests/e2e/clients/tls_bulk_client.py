#!/usr/bin/python3
"""Connect over TLS (trusting CAFILE, naming NAME), read until the server closes, and
print, as JSON, how many bytes came and their sha256. No content is printed.

usage: tls_bulk_client.py HOST PORT NAME CAFILE
"""

import hashlib
import json
import socket
import ssl
import sys

host, port, name, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
digest, n = hashlib.sha256(), 0
with socket.create_connection((host, port), timeout=60) as raw:
    with ctx.wrap_socket(raw, server_hostname=name) as tls:
        while block := tls.recv(1 << 16):
            digest.update(block)
            n += len(block)
print(json.dumps({"bytes": n, "sha256": digest.hexdigest()}))
