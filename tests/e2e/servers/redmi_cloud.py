#!/usr/bin/env python3
"""The cloud side of the Redmi 1S replay (run in the cloud namespace): plain HTTP on port
80 and HTTPS on port 443 for every name dnsmasq points here (api.account.xiaomi.com,
benign.test). Every request gets 200 and a small JSON answer; keep-alive and chunked
request bodies work. Each request is appended to LOG as one JSON line (method, target,
headers, raw body in base64 after de-chunking, tls, server name), so the test can check
that what left the phone is what arrived.

usage: redmi_cloud.py LOG CERT KEY ADDR...
"""

import base64
import hashlib
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG, CERT, KEY = sys.argv[1:4]
ADDRS = sys.argv[4:]
log_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Tengine"
    sys_version = ""

    def setup(self):
        self.sni = None
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
            self.sni = getattr(self.request, "sni", None)
        super().setup()

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def _answer(self):
        body = self._body()
        entry = {
            "tls": isinstance(self.request, ssl.SSLSocket),
            "sni": self.sni,
            "method": self.command,
            "target": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_b64": base64.b64encode(body).decode(),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        with log_lock, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
        reply = b'{"code":0,"description":"ok"}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_HEAD = _answer

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)

    def remember_sni(sock, name, _ctx):
        sock.sni = name

    ctx.sni_callback = remember_sni
    return ctx


def server(addr: str, port: int, ctx: ssl.SSLContext | None):
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        daemon_threads = True

        def get_request(self):
            sock, peer = self.socket.accept()
            if ctx is not None:
                # The handshake runs in the handler's thread (Handler.setup).
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            return sock, peer

    return Server((addr, port), Handler)


threads = []
ctx = tls_context()
for addr in ADDRS:
    for port, c in ((80, None), (443, ctx)):
        srv = server(addr, port, c)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        threads.append(t)
print("listening", flush=True)
for t in threads:
    t.join()
