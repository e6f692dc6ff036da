#!/usr/bin/env python3
"""Open N TCP connections at once to the bulk server (port 9000); on each, send and
receive SIZE bytes concurrently and check both directions.

usage: tcp_bulk.py HOST N SIZE
prints JSON: {"ok": count, "failures": [...]}
"""

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import datagen  # noqa: E402

HOST, N, SIZE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
CHUNK = 64 * 1024
connected = [0]
TIMEOUT = 120  # per connection, once data starts moving


async def one(i: int, ready: asyncio.Event):
    seed = os.urandom(16)
    up = datagen.up(seed, SIZE)
    want_down = datagen.down(seed, SIZE)
    try:
        reader, writer = await asyncio.open_connection(HOST, 9000)
    finally:
        connected[0] += 1
        if connected[0] == N:
            ready.set()
    # Every connection is established before any starts moving data.
    await ready.wait()

    async def send():
        writer.write(seed + SIZE.to_bytes(4, "big") + SIZE.to_bytes(4, "big"))
        for off in range(0, SIZE, CHUNK):
            writer.write(up[off:off + CHUNK])
            await writer.drain()

    async def recv():
        buf = bytearray()
        while True:
            chunk = await reader.read(CHUNK)
            if not chunk:
                return bytes(buf)
            buf += chunk

    _, got = await asyncio.wait_for(asyncio.gather(send(), recv()), TIMEOUT)
    writer.close()
    errors = []
    if len(got) != SIZE + 32:
        errors.append(f"received {len(got)} bytes, expected {SIZE + 32}")
    if got[:SIZE] != want_down:
        bad = next((j for j, (a, b) in enumerate(zip(got, want_down, strict=False)) if a != b), None)
        errors.append(f"server->client data differs (first difference at byte {bad})")
    if got[SIZE:SIZE + 32] != hashlib.sha256(up).digest():
        errors.append("server's sha256 of client->server data differs")
    return errors


async def main():
    ready = asyncio.Event()
    tasks = [asyncio.create_task(one(i, ready)) for i in range(N)]
    await asyncio.wait(tasks)
    ok, failures = 0, []
    for i, t in enumerate(tasks):
        try:
            errs = t.result()
        except Exception as e:  # noqa: BLE001 -- every failure is reported
            errs = [repr(e)]
        if errs:
            failures.append({"conn": i, "errors": errs})
        else:
            ok += 1
    print(json.dumps({"ok": ok, "failures": failures[:20], "failed": len(failures)}))


asyncio.run(main())
