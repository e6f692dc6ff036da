#!/usr/bin/env python3
"""Write crafted packets into the monitor's TUN (an AF_PACKET socket bound to it, so the
kernel hands them to the monitor as if a client had sent them): SYNs and a datagram to
the loopback addresses of the monitor's own host, in every spelling, and a SYN from a
source address that is not the program's. A monitor that forwarded them would connect
to services its caller keeps on loopback only.

usage: martian.py IFNAME PORT CLOUD_V4   prints JSON {"sent": [label, ...]}
"""

import json
import sys
import time

from crafted import ME4, ME6, packet, send, syn, udp


def main() -> None:
    ifname, port, cloud = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    crafted = [
        ("tcp 127.0.0.1", packet(ME4, "127.0.0.1", 6, syn(41001, port))),
        ("tcp 127.1.2.3", packet(ME4, "127.1.2.3", 6, syn(41002, port))),
        ("tcp ::1", packet(ME6, "::1", 6, syn(41003, port))),
        ("tcp ::ffff:127.0.0.1", packet(ME6, "::ffff:127.0.0.1", 6, syn(41004, port))),
        ("udp 127.0.0.1", packet(ME4, "127.0.0.1", 17, udp(41005, port, b"hello loopback"))),
        ("tcp spoofed source", packet("10.111.0.77", cloud, 6, syn(41006, 80))),
        ("tcp loopback source", packet("127.0.0.1", cloud, 6, syn(41007, 80))),
    ]
    for _ in range(3):  # as a client's retransmissions would
        send(ifname, [p for _, p in crafted])
        time.sleep(0.3)
    time.sleep(1)  # give a wrongly forwarded connection time to arrive
    print(json.dumps({"sent": [label for label, _ in crafted]}))


main()
