#!/usr/bin/env python3
"""Open UDP flows in steps and hold them: for each count in COUNTS, open sockets until
that many exist, each sending one datagram to HOST:PORT and waiting for its echo, then
write the count to MARKER and wait for MARKER.go before the next step. Exits after the
last step's go.

usage: udp_crowd.py HOST PORT MARKER COUNT...   prints JSON {"echoed": n}
"""

import json
import resource
import selectors
import socket
import sys
import time
from pathlib import Path

host, port, marker = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
counts = [int(c) for c in sys.argv[4:]]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, counts[-1] + 256)), hard))

sockets, echoed = [], 0
for count in counts:
    batch = []
    while len(sockets) < count:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, port))
        s.send(b"flow %d" % len(sockets))
        sockets.append(s)
        batch.append(s)
    # Every flow of this step answered (a lost datagram is sent again).
    waiting, deadline = selectors.DefaultSelector(), time.monotonic() + 60
    for s in batch:
        waiting.register(s, selectors.EVENT_READ)
    while waiting.get_map() and time.monotonic() < deadline:
        ready = waiting.select(timeout=1)
        for key, _ in ready:
            key.fileobj.recv(2048)
            waiting.unregister(key.fileobj)
            echoed += 1
        if not ready:
            for key in list(waiting.get_map().values()):
                key.fileobj.send(b"again")
    waiting.close()
    marker.write_text(str(count))
    go = marker.with_suffix(".go")
    while not go.exists():
        time.sleep(0.05)
    go.unlink()
print(json.dumps({"echoed": echoed}))
