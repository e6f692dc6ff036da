#!/usr/bin/env python3
"""Spoofed SYNs against a small flow table, then a real connection.

The program's kernel would answer the monitor's SYN-ACKs with RST (it has no socket for
them), which a spoofing attacker's victims would not; an nftables rule in the program's
namespace drops those SYN-ACKs, so the flood's flows stay half open as they would. Then
curl connects for real, at once and again after the half-open flows' timeout.

usage: synflood.py IFNAME URL COUNT WAIT   prints JSON {"at_once": rc, "later": rc}
"""

import json
import subprocess
import sys
import time

from crafted import ME4, packet, send, syn

FIRST_PORT = 29952  # 29952..30207: one nftables range, below Linux's ephemeral ports


def curl(url: str) -> int:
    argv = ["curl", "-q", "--noproxy", "*", "-sS", "-o", "/dev/null", "-r", "0-999",
            "--max-time", "10", url]
    return subprocess.run(argv, stdin=subprocess.DEVNULL).returncode


def main() -> None:
    ifname, url, count, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    assert count <= 256
    host = url.split("/")[2]
    rules = f"""table inet synflood {{
  chain input {{
    type filter hook input priority 0;
    tcp sport 80 tcp dport {FIRST_PORT}-{FIRST_PORT + 255} tcp flags & (syn|ack) == syn|ack drop
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)
    send(ifname, [packet(ME4, host, 6, syn(FIRST_PORT + i, 80)) for i in range(count)])
    time.sleep(1)  # the monitor connects upstream and sends its SYN-ACKs
    at_once = curl(url)
    time.sleep(wait)
    later = curl(url)
    print(json.dumps({"at_once": at_once, "later": later}))


main()
