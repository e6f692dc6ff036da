#!/usr/bin/env python3
"""Load a page in headless Chromium that trusts a CA (added to a fresh NSS database, as a
user would import it), and print, as JSON, whether the page's script said it finished
(its DOM holds DONE_MARK) with the tail of Chromium's log. Chromium and its profile are
gone when this exits.

usage: chromium_dump.py CA_PEM PAGE_URL DONE_MARK WORKDIR TIMEOUT_S
"""

import json
import os
import subprocess
import sys

from headless_chromium import Chromium

ca, page, mark, workdir, timeout = sys.argv[1:6]


def trust_ca(profile, env):
    """Chromium reads its NSS database from ~/.pki/nssdb."""
    nssdb = os.path.join(profile, ".pki", "nssdb")
    os.makedirs(nssdb)
    for argv in (["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"],
                 ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "PhoneHome CA",
                  "-i", ca]):
        subprocess.run(argv, check=True, env=env, capture_output=True)


flags = ["--virtual-time-budget=15000", "--dump-dom", page]
with Chromium(workdir, flags, pipes=True, setup=trust_ca) as chromium:
    try:
        out, err = chromium.proc.communicate(timeout=float(timeout))
    except subprocess.TimeoutExpired:
        out, err = b"", b"timed out"
done = mark in out.decode(errors="replace")
json.dump({"done": done, "rc": chromium.proc.returncode,
           "log": err.decode(errors="replace")[-3000:]}, sys.stdout)
sys.exit(0 if done else 1)
