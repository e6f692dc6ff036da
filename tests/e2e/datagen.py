"""Deterministic test data shared by clients and servers (both sides regenerate it
from a seed, so neither has to trust the bytes the other side says it sent)."""

import random


def stream(seed: bytes, label: bytes, n: int) -> bytes:
    return random.Random(label + seed).randbytes(n)


def down(seed: bytes, n: int) -> bytes:
    """Bytes a server sends to the client for this seed."""
    return stream(seed, b"down:", n)


def up(seed: bytes, n: int) -> bytes:
    """Bytes a client sends to the server for this seed."""
    return stream(seed, b"up:", n)


def corrupt(data: bytes) -> bytes:
    """Flip one byte in the middle (harness self-check only)."""
    if not data:
        return data
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:]
