#!/usr/bin/env python3
"""Load a page in headless Chromium that trusts a CA (added to a fresh NSS database, as a
user would import it), and print, as JSON, whether the page's script said it finished
(its DOM holds DONE_MARK) with the tail of Chromium's log. Chromium and its profile are
gone when this exits.

Chromium runs as root here (under `phonehome watch --keep-root`), which needs
--no-sandbox; HOME (where Chromium's NSS database lives, ~/.pki/nssdb) is a fresh
directory under WORKDIR.

usage: chromium_dump.py CA_PEM PAGE_URL DONE_MARK WORKDIR TIMEOUT_S
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ca, page, mark, workdir, timeout = sys.argv[1:6]
profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile,
           TMPDIR=profile)
nssdb = os.path.join(profile, ".pki", "nssdb")
os.makedirs(nssdb)
for argv in (["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"],
             ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "PhoneHome CA",
              "-i", ca]):
    subprocess.run(argv, check=True, env=env, capture_output=True)
argv = [
    "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-features=MediaRouter,OptimizationHints",
    "--metrics-recording-only", "--virtual-time-budget=15000", "--dump-dom", page,
]
chromium = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
try:
    out, err = chromium.communicate(timeout=float(timeout))
except subprocess.TimeoutExpired:
    out, err = b"", b"timed out"
finally:
    # Chromium's helpers (zygote, renderers) share its process group.
    try:
        os.killpg(chromium.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    chromium.wait()
shutil.rmtree(profile, ignore_errors=True)
done = mark in out.decode(errors="replace")
json.dump({"done": done, "rc": chromium.returncode,
           "log": err.decode(errors="replace")[-3000:]}, sys.stdout)
sys.exit(0 if done else 1)
