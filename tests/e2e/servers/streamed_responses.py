#!/usr/bin/python3
"""HTTP/1.1 answers that stream and stay open, the way push APIs send them (run in the
cloud namespace with Debian's python3). Each stream sends a harmless record, then one
holding the IMEI, then holds the connection open until GET /release (or a minute).

  GET /events      server-sent events (text/event-stream), chunked
  GET /events.gz   the same gzip-compressed (Content-Encoding: gzip); the compressor is
                   flushed in the middle of the IMEI, each half a chunk of its own, apart
  GET /lines       JSON lines (application/x-ndjson), chunked, the IMEI's line in two
                   chunks sent apart
  GET /release     ends the stream that is being held (204)

usage: streamed_responses.py PORT IMEI
"""

import json
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler

from dual_stack import DualStack

PORT, IMEI = int(sys.argv[1]), sys.argv[2]
RELEASE = threading.Event()
HOLD = 60


def halves(text: str) -> list[bytes]:
    """`text` cut in the middle of the IMEI."""
    at = text.index(IMEI) + len(IMEI) // 2
    return [text[:at].encode(), text[at:].encode()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
        # Pieces sent apart cross the network apart.
        time.sleep(0.2)

    def do_GET(self):
        if self.path == "/release":
            RELEASE.set()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        device = json.dumps({"device": {"imei": IMEI}})
        if self.path in ("/events", "/events.gz"):
            media = "text/event-stream"
            records = ["event: tick\ndata: {\"n\": 1}\n\n", f"event: device\ndata: {device}\n\n"]
        elif self.path == "/lines":
            media = "application/x-ndjson"
            records = ['{"n": 1}\n', device + "\n"]
        else:
            self.send_error(404)
            return
        RELEASE.clear()
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Cache-Control", "no-cache")
        gz = self.path.endswith(".gz")
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        self.chunk(z.compress(records[0].encode()) + z.flush(zlib.Z_SYNC_FLUSH) if gz
                   else records[0].encode())
        for half in halves(records[1]):
            self.chunk(z.compress(half) + z.flush(zlib.Z_SYNC_FLUSH) if gz else half)
        RELEASE.wait(HOLD)
        if gz:
            self.chunk(z.flush())
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


DualStack(("::", PORT), Handler).serve_forever()
