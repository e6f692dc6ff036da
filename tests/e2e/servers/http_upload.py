#!/usr/bin/env python3
"""HTTP upload sink (run in the cloud namespace): PUT or POST a body, get back
{"sha256": hex, "bytes": n} of what arrived.

usage: http_upload.py PORT ADDR...
"""

import hashlib
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SABOTAGE = os.environ.get("PHONEHOME_E2E_SABOTAGE") == "1"


class Handler(BaseHTTPRequestHandler):
    def _sink(self):
        length = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        n = 0
        while n < length:
            chunk = self.rfile.read(min(1 << 20, length - n))
            if not chunk:
                break
            if SABOTAGE and n == 0:
                chunk = bytes([chunk[0] ^ 1]) + chunk[1:]
            h.update(chunk)
            n += len(chunk)
        body = json.dumps({"sha256": h.hexdigest(), "bytes": n}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_PUT = _sink
    do_POST = _sink

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


port = int(sys.argv[1])
threads = []
for addr in sys.argv[2:]:
    cls = Server6 if ":" in addr else ThreadingHTTPServer
    cls.daemon_threads = True
    srv = cls((addr, port), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    threads.append(t)
print("listening", flush=True)
for t in threads:
    t.join()
