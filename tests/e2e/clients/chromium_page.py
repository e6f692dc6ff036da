#!/usr/bin/env python3
"""Open a page in headless Chromium and wait until its server says the page finished, then
close Chromium and remove its profile. Prints JSON: {"done": bool, "status": ..., "log": ...}.

usage: chromium_page.py PAGE_URL STATUS_URL WORKDIR TIMEOUT_S
"""

import json
import sys
import time
import urllib.request

from headless_chromium import Chromium

page, status_url, workdir, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
status = None
with Chromium(workdir, [page]) as chromium:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and chromium.proc.poll() is None:
        try:
            with urllib.request.urlopen(status_url, timeout=5) as r:
                status = json.load(r)
            if status["done"]:
                break
        except OSError:
            pass
        time.sleep(0.3)
done = bool(status and status["done"])
json.dump({"done": done, "status": status, "log": chromium.log}, sys.stdout)
sys.exit(0 if done else 1)
