#!/usr/bin/env python3
"""Headless Chromium asked to speak QUIC (HTTP/3) to HOST on UDP/443 at ADDR, for SECONDS,
then closed with its profile removed. Prints JSON {"rc": exit status or null, "log": tail}.

`--origin-to-force-quic-on` makes its first packets to the origin QUIC Initials, with no
Alt-Svc discovery over TCP first; the name maps to ADDR without DNS.

usage: chromium_quic.py HOST ADDR WORKDIR SECONDS
"""

import json
import subprocess
import sys

from headless_chromium import Chromium

host, addr, workdir, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
flags = ["--enable-quic", f"--origin-to-force-quic-on={host}:443",
         f"--host-resolver-rules=MAP {host} {addr}", "--dump-dom", f"https://{host}/"]
rc = None
with Chromium(workdir, flags, log_tail=2000) as chromium:
    try:
        rc = chromium.proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass
json.dump({"rc": rc, "log": chromium.log}, sys.stdout)
