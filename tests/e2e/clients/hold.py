#!/usr/bin/env python3
"""Open a TCP connection to the hold server (port 9004), send a little, write a marker
file, then sleep until killed.

usage: hold.py HOST MARKER
"""

import socket
import sys
import time
from pathlib import Path

host, marker = sys.argv[1], Path(sys.argv[2])
s = socket.create_connection((host, 9004), timeout=30)
s.sendall(bytes(24) + b"hello")
marker.write_text("connected\n")
while True:
    time.sleep(3600)
