#!/usr/bin/env python3
"""Run several commands one after another (inside one `phonehome watch`) and print, as
JSON, each one's exit code, stdout, stderr and wall time.

usage: runmany.py JSON_LIST_OF_ARGV
"""

import json
import subprocess
import sys
import time

results = []
for argv in json.loads(sys.argv[1]):
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    results.append({
        "argv": argv,
        "rc": p.returncode,
        "stdout": p.stdout,
        "stderr": p.stderr,
        "elapsed": time.monotonic() - start,
    })
json.dump(results, sys.stdout)
