#!/usr/bin/env python3
"""Headless Chromium asked to speak QUIC (HTTP/3) to HOST on UDP/443 at ADDR, for SECONDS,
then closed with its profile removed. Prints JSON {"rc": exit status or null, "log": tail}.

Chromium runs as root here (under `phonehome watch --keep-root`), which needs --no-sandbox.
`--origin-to-force-quic-on` makes its first packets to the origin QUIC Initials, with no
Alt-Svc discovery over TCP first; the name maps to ADDR without DNS.

usage: chromium_quic.py HOST ADDR WORKDIR SECONDS
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

host, addr, workdir, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
profile = tempfile.mkdtemp(prefix="chromium-quic-", dir=workdir)
log_path = os.path.join(profile, "chromium.log")
env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile,
           TMPDIR=profile)
argv = [
    "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--enable-quic", f"--origin-to-force-quic-on={host}:443",
    f"--host-resolver-rules=MAP {host} {addr}", "--dump-dom", f"https://{host}/",
]
rc = None
with open(log_path, "wb") as log:
    chromium = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env, start_new_session=True)
    try:
        rc = chromium.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass
    finally:
        # Chromium's helpers share its process group.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(chromium.pid, sig)
                chromium.wait(timeout=5)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
with open(log_path, "rb") as f:
    tail = f.read()[-2000:].decode(errors="replace")
shutil.rmtree(profile, ignore_errors=True)
json.dump({"rc": rc, "log": tail}, sys.stdout)
