#!/usr/bin/env python3
"""Write crafted packets into the monitor's TUN (an AF_PACKET socket bound to it, so the
kernel hands them to the monitor as if a client had sent them): SYNs and a datagram to
the loopback addresses of the monitor's own host, in every spelling, and a SYN from a
source address that is not the program's. A monitor that forwarded them would connect
to services its caller keeps on loopback only.

usage: martian.py IFNAME PORT CLOUD_V4   prints JSON {"sent": [label, ...]}
"""

import ipaddress
import json
import socket
import struct
import sys
import time

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
ME4, ME6 = "10.111.0.2", "fd70:686f:6e65::2"


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src: str, dst: str, proto: int, l4: bytes) -> bytes:
    """An IP packet around l4, with its transport checksum filled in (offset 16 for TCP,
    6 for UDP)."""
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(l4), proto)
    at = 16 if proto == 6 else 6
    l4 = l4[:at] + struct.pack("!H", csum(pseudo + l4)) + l4[at + 2:]
    if len(s) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, s, d)
        return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + l4
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, s, d) + l4


def syn(sport: int, dport: int) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


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
    sent = []
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
    for _ in range(3):  # as a client's retransmissions would
        for label, p in crafted:
            s.sendto(p, (ifname, ETH_P_IP if p[0] >> 4 == 4 else ETH_P_IPV6))
            if label not in sent:
                sent.append(label)
        time.sleep(0.3)
    time.sleep(1)  # give a wrongly forwarded connection time to arrive
    print(json.dumps({"sent": sent}))


main()
