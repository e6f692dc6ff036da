#!/usr/bin/env python3
"""Counts UDP datagrams (run in the cloud namespace): each one that arrives adds a line
`LENGTH FIRST_BYTE_HEX` to LOG. Nothing is answered: a QUIC client talking to it only
shows whether its packets got this far.

usage: udp_count.py LOG PORT ADDR...
"""

import selectors
import socket
import sys

log_path, port = sys.argv[1], int(sys.argv[2])
sel = selectors.DefaultSelector()
for addr in sys.argv[3:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
with open(log_path, "a", buffering=1) as log:
    while True:
        for key, _ in sel.select():
            data, _peer = key.fileobj.recvfrom(65535)
            log.write(f"{len(data)} {data[:1].hex()}\n")
