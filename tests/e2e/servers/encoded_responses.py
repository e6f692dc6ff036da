#!/usr/bin/python3
"""HTTP/1.1 answers that hold the user's own identifiers the way API servers send them:
chunked, and gzip-compressed (run in the cloud namespace with Debian's python3).

  GET /account.json      the JSON sent chunked as it is, a chunk boundary inside the
                         IMEI and another inside the e-mail
  GET /account.json.gz   the same JSON gzip-compressed (Content-Encoding: gzip), sent
                         chunked; the compressor is flushed in the middle of the IMEI so
                         that its halves lie in two chunks of the compressed stream too
  GET /account-late.json the JSON with a Content-Length, a second after it is asked for
                         (behind a proxy, it comes after what the connection carries first)

usage: encoded_responses.py PORT IMEI EMAIL
"""

import json
import sys
import time
import zlib
from http.server import BaseHTTPRequestHandler

from dual_stack import DualStack

PORT, IMEI, EMAIL = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ACCOUNT = json.dumps({"account": {"email": EMAIL, "device": {"imei": IMEI}},
                      "plan": "free", "padding": "x" * 3000}).encode()


def cut_inside(data: bytes, *values: str) -> list[bytes]:
    """`data` cut in the middle of each value."""
    cuts = sorted(data.index(v.encode()) + len(v) // 2 for v in values)
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def gzip_cut_inside(data: bytes, value: str) -> list[bytes]:
    """gzip of `data` in two pieces: the compressor flushed mid-`value`."""
    first, second = cut_inside(data, value)
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return [z.compress(first) + z.flush(zlib.Z_SYNC_FLUSH), z.compress(second) + z.flush()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/account-late.json":
            time.sleep(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ACCOUNT)))
            self.end_headers()
            self.wfile.write(ACCOUNT)
            return
        if self.path == "/account.json":
            chunks, coding = cut_inside(ACCOUNT, IMEI, EMAIL), None
        elif self.path == "/account.json.gz":
            chunks, coding = gzip_cut_inside(ACCOUNT, IMEI), "gzip"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if coding:
            self.send_header("Content-Encoding", coding)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            # Each chunk its own write: the halves cross the network apart.
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


DualStack(("::", PORT), Handler).serve_forever()
