"""Building IP packets by hand and writing them into a TUN as if its client had sent them
(an AF_PACKET socket bound to the interface: the kernel hands them to the TUN's reader,
the monitor). Shared by the clients that craft packets."""

import ipaddress
import socket
import struct

ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
# The watched program's addresses, as `phonehome watch` sets them up.
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


def send(ifname: str, packets: list[bytes]) -> None:
    """Writes each packet into the interface's TUN."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
    try:
        for p in packets:
            s.sendto(p, (ifname, ETH_P_IP if p[0] >> 4 == 4 else ETH_P_IPV6))
    finally:
        s.close()
