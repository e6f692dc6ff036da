#!/usr/bin/env python3
"""Services only the monitor's own host should reach: TCP on 127.0.0.1 and ::1, UDP on
127.0.0.1, all on PORT. Every connection or datagram that arrives is a line in LOG.

usage: loopback_sentinel.py PORT LOG
"""

import json
import selectors
import socket
import sys

port, log = int(sys.argv[1]), sys.argv[2]
sel = selectors.DefaultSelector()
for family, addr, kind in [(socket.AF_INET, "127.0.0.1", socket.SOCK_STREAM),
                           (socket.AF_INET6, "::1", socket.SOCK_STREAM),
                           (socket.AF_INET, "127.0.0.1", socket.SOCK_DGRAM)]:
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    sel.register(s, selectors.EVENT_READ)

with open(log, "a", buffering=1) as out:
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s.type == socket.SOCK_STREAM:
                conn, peer = s.accept()
                out.write(json.dumps({"tcp": str(peer)}) + "\n")
                conn.close()
            else:
                _, peer = s.recvfrom(2048)
                out.write(json.dumps({"udp": str(peer)}) + "\n")
