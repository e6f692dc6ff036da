#!/usr/bin/python3
"""A web page that talks WebSocket, and the WebSocket servers it talks to (run in the cloud
namespace with Debian's python3 and python3-websockets).

HTTP on port HTTP_PORT (both families):
  GET /             the page (page.html beside this file); its script connects to each
                    WebSocket port, sends the messages, and fetches /done at the end
  GET /status       JSON: per WebSocket port, what arrived (types, sizes, sha256), and
                    whether /done was fetched; no message content
  GET /done         the page says it finished
  GET /echo?...     200 with a short fixed body (a target for requests through a proxy)

WebSocket on WS_PORT (permessage-deflate with context takeover, the library's default) and
WS_PORT + 1 (permessage-deflate with no context takeover either way), path /socket. Every
message that arrives is answered; the answer to the first is a message sent in fragments
that carries an identifier, so the monitor sees one coming back too.

usage: websocket_page.py HTTP_PORT WS_PORT REPLY_TEXT ADDR...
"""

import asyncio
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.legacy.server import serve

from dual_stack import DualStack

HTTP_PORT, WS_PORT = int(sys.argv[1]), int(sys.argv[2])
REPLY = sys.argv[3]
ADDRS = sys.argv[4:]
PAGE = (Path(__file__).resolve().parent / "page.html").read_bytes()

lock = threading.Lock()
received: dict[int, list[dict]] = {WS_PORT: [], WS_PORT + 1: []}
done = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, "text/html", PAGE)
        elif path == "/status":
            with lock:
                status = {"done": done.is_set(), "received": {str(k): v for k, v in received.items()}}
            self._send(200, "application/json", json.dumps(status).encode())
        elif path == "/done":
            done.set()
            self._send(200, "text/plain", b"ok\n")
        elif path == "/echo":
            self._send(200, "text/plain", b"echo\n")
        else:
            self._send(404, "text/plain", b"not found\n")

    def _send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def handler_for(port):
    async def handler(ws, path=None):
        n = 0
        async for message in ws:
            data = message.encode() if isinstance(message, str) else message
            with lock:
                received[port].append({
                    "type": "text" if isinstance(message, str) else "binary",
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                })
            n += 1
            if n == 1:
                # A fragmented answer: the identifier is split across the fragments.
                half = len(REPLY) // 2
                await ws.send([f"known: {REPLY[:half]}", f"{REPLY[half:]} (from the server)"])
            else:
                await ws.send(json.dumps({"ack": n}))
    return handler


async def main():
    http = DualStack(("::", HTTP_PORT), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    takeover = serve(handler_for(WS_PORT), host=ADDRS, port=WS_PORT, compression="deflate",
                     max_size=None)
    fresh = serve(handler_for(WS_PORT + 1), host=ADDRS, port=WS_PORT + 1, compression=None,
                  max_size=None, extensions=[ServerPerMessageDeflateFactory(
                      server_no_context_takeover=True, client_no_context_takeover=True)])
    async with takeover, fresh:
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
