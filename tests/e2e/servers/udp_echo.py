#!/usr/bin/env python3
"""UDP echo server (run in the cloud namespace): every datagram goes back unchanged.

usage: udp_echo.py PORT ADDR...
"""

import os
import selectors
import socket
import sys

SABOTAGE = os.environ.get("PHONEHOME_E2E_SABOTAGE") == "1"
port = int(sys.argv[1])
sel = selectors.DefaultSelector()
for addr in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((addr, port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
n = 0
while True:
    for key, _ in sel.select():
        sock = key.fileobj
        while True:
            try:
                data, peer = sock.recvfrom(65535)
            except BlockingIOError:
                break
            n += 1
            if SABOTAGE and n % 100 == 0:
                data = data[:-1] + bytes([data[-1] ^ 1])
            try:
                sock.sendto(data, peer)
            except OSError as e:
                print(f"sendto {peer}: {e}", file=sys.stderr, flush=True)
