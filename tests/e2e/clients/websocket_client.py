#!/usr/bin/python3
"""Send a message in fragments over WebSocket (python3-websockets, permessage-deflate as
the server accepts it) and print, as JSON, what came back.

usage: websocket_client.py URL FRAGMENT...
"""

import asyncio
import json
import sys

from websockets.legacy.client import connect


async def main(url, fragments):
    async with connect(url, compression="deflate", max_size=None) as ws:
        # An iterable is sent as one message in several frames (fragments).
        await ws.send(fragments)
        first = await ws.recv()
        await ws.send(json.dumps({"type": "done"}))
        await ws.recv()
        return {"reply": first if isinstance(first, str) else first.decode()}


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2:]))))
