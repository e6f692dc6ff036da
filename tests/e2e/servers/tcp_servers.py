#!/usr/bin/env python3
"""TCP servers for the end-to-end tests (run in the cloud namespace).

Every connection starts with a 24-byte header from the client:
    seed (16 bytes) | up_len (u32 BE) | down_len (u32 BE)

port 9000 bulk:          sends down(seed, down_len) while reading up_len bytes; then sends
                         sha256 of what it read (32 bytes) and closes.
port 9001 read-to-EOF:   reads until the client's FIN, then sends sha256 of everything
                         read after the header, then down(seed, down_len), and closes.
port 9002 server-close:  sends down(seed, down_len) and closes (full close).
port 9003 server-half:   sends down(seed, down_len), shuts down its write side, reads until
                         the client's FIN, and keeps "<sha256 hex> <byte count>" of what it
                         read under the seed.
port 9004 hold:          reads and discards until EOF (a long-lived flow).
port 9005 query:         (no header) reads a seed, waits up to 20 s for port 9003's result
                         for it, and answers "<sha256 hex> <byte count>\n" or "none\n".

usage: tcp_servers.py ADDR...
"""

import asyncio
import hashlib
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import datagen  # noqa: E402

SABOTAGE = os.environ.get("PHONEHOME_E2E_SABOTAGE") == "1"
ADDRS = sys.argv[1:]
RESULTS: dict = {}  # seed -> "<sha256 hex> <byte count>" from server_half
CHUNK = 64 * 1024


def payload(seed: bytes, n: int) -> bytes:
    data = datagen.down(seed, n)
    return datagen.corrupt(data) if SABOTAGE else data


async def header(reader):
    hdr = await reader.readexactly(24)
    return hdr[:16], int.from_bytes(hdr[16:20], "big"), int.from_bytes(hdr[20:24], "big")


async def send(writer, data: bytes):
    for i in range(0, len(data), CHUNK):
        writer.write(data[i:i + CHUNK])
        await writer.drain()


async def read_all(reader, h, limit=None):
    n = 0
    while limit is None or n < limit:
        chunk = await reader.read(CHUNK if limit is None else min(CHUNK, limit - n))
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    return n


async def bulk(reader, writer):
    seed, up_len, down_len = await header(reader)
    h = hashlib.sha256()
    sender = asyncio.create_task(send(writer, payload(seed, down_len)))
    got = await read_all(reader, h, up_len)
    await sender
    digest = h.digest() if got == up_len else bytes(32)
    writer.write(digest)
    await writer.drain()


async def read_to_eof(reader, writer):
    seed, _, down_len = await header(reader)
    h = hashlib.sha256()
    await read_all(reader, h)
    writer.write(h.digest())
    await send(writer, payload(seed, down_len))


async def server_close(reader, writer):
    seed, _, down_len = await header(reader)
    await send(writer, payload(seed, down_len))


async def server_half(reader, writer):
    seed, _, down_len = await header(reader)
    await send(writer, payload(seed, down_len))
    writer.write_eof()
    h = hashlib.sha256()
    n = await read_all(reader, h)
    RESULTS[seed] = f"{h.hexdigest()} {n}"


async def query(reader, writer):
    seed = await reader.readexactly(16)
    for _ in range(400):
        if seed in RESULTS:
            break
        await asyncio.sleep(0.05)
    writer.write(RESULTS.get(seed, "none").encode() + b"\n")
    await writer.drain()


async def hold(reader, writer):
    while await reader.read(CHUNK):
        pass


def wrap(handler):
    async def run(reader, writer):
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            print(f"{handler.__name__}: {e!r}", file=sys.stderr, flush=True)
        except Exception:
            traceback.print_exc()
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except Exception:
                pass
    return run


async def main():
    servers = []
    for port, handler in ((9000, bulk), (9001, read_to_eof), (9002, server_close),
                          (9003, server_half), (9004, hold), (9005, query)):
        servers.append(await asyncio.start_server(wrap(handler), host=ADDRS, port=port,
                                                  backlog=1024, reuse_address=True))
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
