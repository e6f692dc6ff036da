#!/usr/bin/env python3
"""POSTs a file with Python's own HTTP client (urllib) and prints the server's answer.

usage: post_file.py URL FILE CONTENT_TYPE
"""

import sys
import urllib.request


def main() -> None:
    url, path, content_type = sys.argv[1:4]
    with open(path, "rb") as f:
        body = f.read()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=30) as resp:
        sys.stdout.write(resp.read().decode())


if __name__ == "__main__":
    main()
