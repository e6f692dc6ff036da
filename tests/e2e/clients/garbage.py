#!/usr/bin/env python3
"""Write garbage, truncated and malformed packets into the monitor's TUN device, and
check that traffic still flows: a download runs while garbage keeps arriving, and a new
connection is made afterwards.

The packets are sent on an AF_PACKET socket bound to the TUN interface, so the kernel
hands them to the TUN's reader (the monitor) as if a client had sent them.

Every packet that could parse as IP names as its destination one of the test's own
addresses (the cloud host or the monitor's DNS address); fully random bytes always carry
an IP version other than 4 or 6, or are too short to hold an IP header. So even a monitor
that wrongly accepted one could only ever reach the test's own hosts.

usage: garbage.py IFNAME OUT_DIR URL...   (each URL is downloaded with curl after and
                                           during the garbage; files OUT_DIR/dl<i>)
prints JSON: {"sent": n, "send_errors": {...}, "downloads": [{"url", "rc", "stderr"}]}
"""

import ipaddress
import json
import random
import socket
import struct
import subprocess
import sys
import time

from crafted import ETH_P_IP, ETH_P_IPV6, csum


SRC4 = ipaddress.ip_address("10.111.0.2").packed
SRC6 = ipaddress.ip_address("fd70:686f:6e65::2").packed
DST4 = [ipaddress.ip_address(a).packed for a in ("10.201.0.2", "10.111.0.1")]
DST6 = [ipaddress.ip_address(a).packed for a in ("fd00:201::2", "fd70:686f:6e65::1")]
MAX_LEN = 1280  # below any MTU the monitor may set
BUDGET = 40000  # packets in all

rng = random.Random(20240601)


def ip4(proto: int, payload: bytes, dst: bytes, *, ihl=5, total=None, ver=4, frag=0,
        good_csum=True, options=b"", ttl=64) -> bytes:
    opts = options.ljust((ihl - 5) * 4, b"\0")[: max(0, (ihl - 5) * 4)]
    total = 20 + len(opts) + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", (ver << 4) | (ihl & 0xF), 0, total & 0xFFFF,
                      rng.getrandbits(16), frag, ttl, proto, 0, SRC4, dst) + opts
    c = csum(hdr) if good_csum else (csum(hdr) ^ 0x1234)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def ip6(nh: int, payload: bytes, dst: bytes, *, plen=None, ver=6) -> bytes:
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", ver << 28, plen & 0xFFFF, nh, 64, SRC6, dst) + payload


def tcp(sport, dport, flags, *, doff=5, payload=b"", seq=None) -> bytes:
    seq = rng.getrandbits(32) if seq is None else seq
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (doff & 0xF) << 4, flags,
                       65535, rng.getrandbits(16), 0) + payload


def udp(sport, dport, payload=b"", *, length=None) -> bytes:
    length = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, length & 0xFFFF, rng.getrandbits(16)) + payload


def crafted():
    """Malformed packets, each aimed at a test address."""
    d4, d6 = rng.choice(DST4), rng.choice(DST6)
    sp = rng.randrange(1024, 65535)
    dp = rng.choice([80, 9, 53, 7777, 9000, rng.randrange(1, 65535)])
    syn = tcp(sp, dp, 0x02)
    good4 = ip4(6, syn, d4)
    good6 = ip6(6, syn, d6)
    dns = bytes.fromhex("abcd01000001000000000000") + b"\x05cloud\x04test\x00\x00\x01\x00\x01"
    yield "trunc4", good4[: rng.randrange(1, 20)]
    yield "trunc6", good6[: rng.randrange(1, 40)]
    yield "trunc4-tcp", good4[: rng.randrange(20, 40)]
    yield "trunc6-tcp", good6[: rng.randrange(40, 60)]
    yield "ihl<5", ip4(6, syn, d4, ihl=rng.randrange(0, 5))
    yield "ihl>len", ip4(17, b"", d4, ihl=15)[:24]
    yield "total>len", ip4(6, syn, d4, total=rng.randrange(41, 65535))
    yield "total<hdr", ip4(6, syn, d4, total=rng.randrange(0, 20))
    yield "bad-csum4", ip4(6, syn, d4, good_csum=False)
    yield "options", ip4(17, udp(sp, 7777, b"x" * 20), d4, ihl=rng.randrange(6, 16),
                         options=bytes(rng.getrandbits(8) for _ in range(40)))
    yield "frag-first", ip4(17, udp(sp, 7777, b"y" * 64), d4, frag=0x2000)
    yield "frag-middle", ip4(17, b"z" * 64, d4, frag=0x2000 | rng.randrange(1, 0x1FFF))
    yield "frag-last", ip4(17, b"z" * 64, d4, frag=rng.randrange(1, 0x1FFF))
    yield "ttl0", ip4(6, syn, d4, ttl=0)
    yield "tcp-doff<5", ip4(6, tcp(sp, dp, 0x02, doff=rng.randrange(0, 5)), d4)
    yield "tcp-doff>len", ip4(6, tcp(sp, dp, 0x02, doff=15), d4)
    yield "tcp-8-bytes", ip4(6, syn[:8], d4)
    yield "tcp-all-flags", ip4(6, tcp(sp, dp, 0xFF, payload=b"data"), d4)
    yield "tcp-syn-fin", ip4(6, tcp(sp, 80, 0x03), d4)
    yield "tcp-rst-nowhere", ip4(6, tcp(sp, dp, 0x04), d4)
    yield "tcp-ack-nowhere", ip4(6, tcp(sp, dp, 0x10, payload=b"hello"), d4)
    yield "tcp-null", ip4(6, tcp(sp, dp, 0x00), d4)
    yield "udp-len>payload", ip4(17, udp(sp, 7777, b"abc", length=rng.randrange(12, 65535)), d4)
    yield "udp-len<8", ip4(17, udp(sp, 7777, b"abc", length=rng.randrange(0, 8)), d4)
    yield "udp-4-bytes", ip4(17, udp(sp, 7777)[:4], d4)
    yield "dns-truncated", ip4(17, udp(sp, 53, dns[: rng.randrange(0, len(dns))]), DST4[1])
    yield "dns-garbage", ip4(17, udp(sp, 53, rng.randbytes(rng.randrange(0, 512))), DST4[1])
    yield "icmp-trunc", ip4(1, b"\x08", d4)
    yield "icmp-bad-csum", ip4(1, b"\x08\x00\xde\xad" + b"\0\1\0\1" + b"p" * 32, d4)
    yield "icmp-unknown-type", ip4(1, bytes([rng.randrange(0, 256), 0, 0, 0]) + b"q" * 8, d4)
    yield "proto-unknown4", ip4(rng.choice([0, 2, 47, 50, 132, 253, 255]), b"w" * 32, d4)
    yield "plen>len6", ip6(6, syn, d6, plen=rng.randrange(len(syn) + 1, 65535))
    yield "plen<len6", ip6(17, udp(sp, 7777, b"v" * 32), d6, plen=rng.randrange(0, 8))
    yield "nh-unknown6", ip6(rng.choice([59, 253, 254, 255, 2]), b"u" * 32, d6)
    yield "hbh-trunc6", ip6(0, b"\x06", d6)
    yield "hbh-overlong6", ip6(0, bytes([6, 255]) + b"\0" * 6, d6)
    yield "frag6", ip6(44, bytes([17, 0, 0, 1]) + rng.randbytes(4) + udp(sp, 7777, b"t" * 16), d6)
    yield "icmp6-trunc", ip6(58, b"\x80", d6)
    yield "udp6-len0", ip6(17, udp(sp, 7777, b"s" * 16, length=0), d6)
    for ver in (0, 1, 5, 7, 15):
        yield f"version{ver}", ip4(6, syn, d4, ver=ver)
    yield "version6-in-4", ip4(6, syn, d4, ver=6)[:39]


def mutated():
    """A valid packet with random bytes changed, never the version, protocol or
    destination fields (so it can only ever be aimed at a test address)."""
    if rng.random() < 0.5:
        pkt = bytearray(ip4(6, tcp(rng.randrange(1024, 65535), 80, 0x02), rng.choice(DST4)))
        keep = {0, 9} | set(range(16, 20))
    else:
        pkt = bytearray(ip6(17, udp(rng.randrange(1024, 65535), 7777, rng.randbytes(40)),
                            rng.choice(DST6)))
        keep = {0, 6} | set(range(24, 40))
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(len(pkt))
        if i not in keep:
            pkt[i] = rng.getrandbits(8)
    return bytes(pkt)


def random_blob():
    n = rng.randrange(1, MAX_LEN)
    data = bytearray(rng.randbytes(n))
    if n >= 20:
        # Not an IP version anyone parses further.
        data[0] = (rng.choice([0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15]) << 4) | (data[0] & 0xF)
    return bytes(data)


def packets():
    """The garbage stream, endless: (kind, bytes)."""
    while True:
        r = rng.random()
        if r < 0.1:
            yield from crafted()
        elif r < 0.55:
            yield "mutated", mutated()
        else:
            yield "random", random_blob()


def main():
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    stream = packets()
    sent = 0
    errors, kinds = {}, {}

    def burst(n):
        nonlocal sent
        for _ in range(n):
            if sent >= BUDGET:
                return
            kind, pkt = next(stream)
            ver = pkt[0] >> 4 if pkt else 4
            try:
                sock.sendto(pkt, (IFNAME, ETH_P_IPV6 if ver == 6 else ETH_P_IP))
                sent += 1
                kinds[kind] = kinds.get(kind, 0) + 1
            except OSError as e:
                key = f"{kind}: {e.strerror}"
                errors[key] = errors.get(key, 0) + 1

    downloads = []
    burst(2000)                                  # before any real traffic
    for i, url in enumerate(URLS):
        path = f"{OUT}/dl{i}"
        p = subprocess.Popen(
            ["curl", "-q", "--noproxy", "*", "-sS", "--fail", "--max-time", "120", "-o", path, url],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while p.poll() is None:                  # while the download runs
            burst(10)
            time.sleep(0.005)
        downloads.append({"url": url, "path": path, "rc": p.returncode, "stderr": p.stderr.read()})
        burst(1000)                              # between and after downloads

    print(json.dumps({"sent": sent, "send_errors": errors, "kinds": kinds, "downloads": downloads}))


if __name__ == "__main__":
    IFNAME, OUT = sys.argv[1], sys.argv[2]
    URLS = sys.argv[3:]
    main()
