#!/usr/bin/python3
"""Servers whose identifier comes late on a long connection (run in the cloud namespace
with Debian's python3 and python3-websockets).

HTTP/1.1 with keep-alive on HTTP_PORT (both families):
  GET /small        a short JSON body
  GET /big          1 MiB of pseudo-random bytes with a Content-Length
  GET /chunked      the same 1 MiB sent chunked, in 64 KiB chunks
  GET /account      JSON holding IMEI

WebSocket on WS_PORT (no compression) and WS_PORT + 1 (permessage-deflate with context
takeover): on connecting, the server sends 3 binary messages of 512 KiB of pseudo-random
bytes and 64 text messages of 8 KiB, then one text message holding IMEI, then closes.

usage: long_connection.py HTTP_PORT WS_PORT IMEI ADDR...
"""

import asyncio
import json
import random
import sys
import threading
from http.server import BaseHTTPRequestHandler

from websockets.legacy.server import serve

from dual_stack import DualStack

HTTP_PORT, WS_PORT, IMEI = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ADDRS = sys.argv[4:]
BIG = random.Random(12).randbytes(1 << 20)
ACCOUNT = json.dumps({"account": {"device": {"imei": IMEI}}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for at in range(0, len(BIG), 64 * 1024):
                chunk = BIG[at:at + 64 * 1024]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = {"/small": b'{"ok":true}', "/big": BIG, "/account": ACCOUNT}.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def stream(ws, _path=None):
    rng = random.Random(34)
    for _ in range(3):
        await ws.send(rng.randbytes(512 * 1024))
    for i in range(64):
        await ws.send(f"{i:04d}" + "x" * (8 * 1024 - 4))
    await ws.send(json.dumps({"device": {"imei": IMEI}}))
    await ws.close()


async def main():
    http = DualStack(("::", HTTP_PORT), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    plain = serve(stream, host=ADDRS, port=WS_PORT, compression=None, max_size=None)
    deflate = serve(stream, host=ADDRS, port=WS_PORT + 1, compression="deflate", max_size=None)
    async with plain, deflate:
        await asyncio.Future()


asyncio.run(main())
