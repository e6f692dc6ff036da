#!/usr/bin/env python3
"""A TLS server that speaks first and no HTTP: to each client, as soon as the handshake
is done, MIB mebibytes of seeded random bytes (random.Random(SEED)), then it closes.

usage: tls_bulk.py PORT CERT KEY MIB SEED ADDR...
"""

import random
import socket
import ssl
import sys
import threading

port, cert, key, mib, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


def serve(conn: socket.socket) -> None:
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            rng = random.Random(seed)
            for _ in range(mib):
                tls.sendall(rng.randbytes(1 << 20))
    except OSError as e:
        print(f"client gone: {e}", file=sys.stderr, flush=True)


def listen(addr: str) -> None:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


for addr in sys.argv[6:]:
    threading.Thread(target=listen, args=(addr,), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
