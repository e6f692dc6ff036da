#!/usr/bin/python3
"""GET each path in turn on one HTTP/1.1 connection (python's http.client) and print, as
JSON, per response its status, length and sha256, and whether the connection was the
same throughout. No body content is printed.

usage: keepalive_get.py HOST PORT PATH...
"""

import hashlib
import http.client
import json
import sys

host, port, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
conn = http.client.HTTPConnection(host, port, timeout=60)
got, socks = [], set()
for path in paths:
    conn.request("GET", path)
    socks.add(id(conn.sock))
    r = conn.getresponse()
    body = r.read()
    got.append({"path": path, "status": r.status, "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest()})
print(json.dumps({"responses": got, "one_connection": len(socks) == 1}))
