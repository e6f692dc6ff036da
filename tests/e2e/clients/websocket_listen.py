#!/usr/bin/python3
"""Receive every message a WebSocket server sends until it closes (python3-websockets,
permessage-deflate if the server accepts it) and print, as JSON, how many there were,
their bytes and the sha256 of all of them in order. No message content is printed.

usage: websocket_listen.py URL
"""

import asyncio
import hashlib
import json
import sys

from websockets.exceptions import ConnectionClosedOK
from websockets.legacy.client import connect


async def main(url):
    h, count, size = hashlib.sha256(), 0, 0
    async with connect(url, compression="deflate", max_size=None) as ws:
        try:
            while True:
                m = await ws.recv()
                m = m.encode() if isinstance(m, str) else m
                h.update(m)
                count, size = count + 1, size + len(m)
        except ConnectionClosedOK:
            pass
    return {"messages": count, "bytes": size, "sha256": h.hexdigest()}


print(json.dumps(asyncio.run(main(sys.argv[1]))))
