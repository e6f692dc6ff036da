#!/usr/bin/env python3
"""Open a page in headless Chromium and wait until its server says the page finished, then
close Chromium and remove its profile. Prints JSON: {"done": bool, "status": ..., "log": ...}.

Chromium runs as root here (under `phonehome watch --keep-root`), which needs
--no-sandbox; the profile and HOME are a fresh directory under WORKDIR.

usage: chromium_page.py PAGE_URL STATUS_URL WORKDIR TIMEOUT_S
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

page, status_url, workdir, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
log_path = os.path.join(profile, "chromium.log")
# TMPDIR too: Chromium keeps its singleton socket in a temporary directory of its own.
env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile,
           TMPDIR=profile)
argv = [
    "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-features=MediaRouter,OptimizationHints",
    "--metrics-recording-only", page,
]
status = None
with open(log_path, "wb") as log:
    chromium = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and chromium.poll() is None:
            try:
                with urllib.request.urlopen(status_url, timeout=5) as r:
                    status = json.load(r)
                if status["done"]:
                    break
            except OSError:
                pass
            time.sleep(0.3)
    finally:
        # Chromium's helpers (zygote, GPU, renderers) share its process group.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(chromium.pid, sig)
            except ProcessLookupError:
                break
            try:
                chromium.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(chromium.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
with open(log_path, "rb") as f:
    tail = f.read()[-3000:].decode(errors="replace")
shutil.rmtree(profile, ignore_errors=True)
done = bool(status and status["done"])
json.dump({"done": done, "status": status, "log": tail}, sys.stdout)
sys.exit(0 if done else 1)
