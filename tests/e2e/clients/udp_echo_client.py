#!/usr/bin/env python3
"""Send COUNT datagrams of SIZE bytes to the UDP echo server with a bounded window in
flight, and check every echo byte for byte. A datagram that does not come back is sent
again (at most RETRIES times); one that comes back different is corruption.

usage: udp_echo_client.py HOST PORT COUNT SIZE
prints JSON: {"returned": n, "lost": [...], "corrupted": [...], "resent": n, ...}
"""

import json
import os
import socket
import sys
import time

HOST, PORT, COUNT, SIZE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
WINDOW = 16
TIMEOUT = 0.5
RETRIES = 5

fam = socket.AF_INET6 if ":" in HOST else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.connect((HOST, PORT))
s.settimeout(0.05)

seed = os.urandom(8)
payloads = [seed + i.to_bytes(4, "big") + os.urandom(SIZE - 12) for i in range(COUNT)]
sent_at = {}      # seq -> time of last send, for datagrams in flight
tries = {}        # seq -> sends so far
done = set()
lost, corrupted, foreign = [], [], 0
resent = duplicates = refused = 0


def send(seq):
    global refused
    try:
        s.send(payloads[seq])
    except ConnectionRefusedError:
        refused += 1
next_seq = 0

while len(done) + len(lost) < COUNT:
    now = time.monotonic()
    for seq, t in list(sent_at.items()):
        if now - t > TIMEOUT:
            if tries[seq] > RETRIES:
                del sent_at[seq]
                lost.append(seq)
            else:
                send(seq)
                sent_at[seq] = now
                tries[seq] += 1
                resent += 1
    while len(sent_at) < WINDOW and next_seq < COUNT:
        send(next_seq)
        sent_at[next_seq] = time.monotonic()
        tries[next_seq] = 1
        next_seq += 1
    try:
        data = s.recv(65535)
    except socket.timeout:
        continue
    except ConnectionRefusedError:  # an ICMP port unreachable came back
        refused += 1
        continue
    if len(data) < 12 or data[:8] != seed:
        foreign += 1
        corrupted.append({"seq": None, "len": len(data)})
        continue
    seq = int.from_bytes(data[8:12], "big")
    if seq >= COUNT:
        corrupted.append({"seq": seq, "len": len(data)})
        continue
    if data != payloads[seq]:
        first = next((j for j, (a, b) in enumerate(zip(data, payloads[seq], strict=False)) if a != b), None)
        corrupted.append({"seq": seq, "len": len(data), "first_diff": first})
        continue
    if seq in done:
        duplicates += 1
        continue
    if seq in sent_at:
        del sent_at[seq]
        done.add(seq)

print(json.dumps({
    "count": COUNT,
    "returned": len(done),
    "lost": sorted(lost),
    "corrupted": corrupted[:20],
    "corrupted_count": len(corrupted),
    "resent": resent,
    "duplicates": duplicates,
    "refused": refused,
}))
