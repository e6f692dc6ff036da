#!/usr/bin/env python3
"""How many hosts of public tracker lists the catalog names, and whether it names any
first-party or CDN host as a tracker.

Usage (from the repository root):
    python3 tests/coverage/coverage.py [--catalog FILE] [--misses N] [--trackercontrol DIR]

Samples (none was used to build the catalog; see README "Coverage of the catalog"):
  perflyst-android-tracking.txt  Perflyst PiHoleBlocklist android-tracking.txt (MIT):
                                 hosts Android apps and the OS were seen sending tracking to
  adaway-hosts.txt               AdAway's default hosts file (CC BY 3.0): mobile ad and
                                 analytics hosts
  --trackercontrol DIR           X-Ray 2020 and Exodus Privacy's hosts of tracker SDKs in
                                 apps, read from a TrackerControl checkout (app_samples.py)
  precision.tsv                  hosts checked by hand: first-party and CDN hosts that must
                                 not be named as trackers, and a seeded random draw of
                                 AdAway hosts with the company and category a person found

A host is *named* when the catalog gives it a company; *named as a tracker* when the
category is one of TRACKER below. The lookup is the core's (rust-core/catalog): the entry
of the longest listed suffix, on label boundaries.
"""

import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CATALOG = os.path.join(ROOT, "rust-core", "catalog", "data", "catalog.txt")
TRACKER = {"advertising", "attribution", "analytics", "crash-reporting", "telemetry"}
# The draw of AdAway hosts whose naming was checked by hand (precision.tsv, `drawn` rows).
DRAW_SEED = 16
DRAW_SIZE = 40


def load_catalog(path):
    entries = {}
    version = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("# version:"):
                version = version or line.split(":", 1)[1].strip()
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            entries[fields[0].lower().rstrip(".")] = (fields[1], fields[2])
    return entries, version


def load_parents(path):
    """{suffix: parent chain} of a catalog file ('-' for none)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                fields = line.rstrip("\r\n").split("\t")
                out[fields[0].lower().rstrip(".")] = fields[5] if len(fields) > 5 else "-"
    return out


def suffix_of(entries, host):
    """The longest listed suffix of host, or None."""
    name = host.lower().rstrip(".")
    while name not in entries:
        if "." not in name:
            return None
        name = name.split(".", 1)[1]
    return name


def lookup(entries, host):
    """(company, category) of the longest listed suffix of host, or None."""
    name = host.lower().rstrip(".")
    while True:
        if name in entries:
            return entries[name]
        if "." not in name:
            return None
        name = name.split(".", 1)[1]


def hosts_of(path):
    """Host names of a hosts file or a plain list; comments, localhost and IPs dropped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            host = parts[1] if len(parts) > 1 and parts[0] in ("127.0.0.1", "0.0.0.0", "::1") else parts[0]
            host = host.lower().rstrip(".")
            if host in ("localhost", "localhost.localdomain") or host.replace(".", "").isdigit():
                continue
            out.append(host)
    return sorted(set(out))


def coverage(entries, hosts):
    named = [h for h in hosts if lookup(entries, h)]
    tracker = [h for h in named if lookup(entries, h)[1] in TRACKER]
    return named, tracker


def drawn(hosts):
    """The seeded draw of AdAway hosts whose names were checked by hand."""
    return sorted(random.Random(DRAW_SEED).sample(hosts, DRAW_SIZE))


def read_precision():
    rows = []
    with open(os.path.join(HERE, "precision.tsv"), encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            kind, host, company, category, note = (line.split("\t") + [""] * 5)[:5]
            rows.append((n, kind, host, company, category, note))
    return rows


def check_precision(entries, adaway):
    """Problems with the hand-checked sample, as lines of text (none: all good)."""
    problems = []
    rows = read_precision()
    for n, kind, host, company, category, _note in rows:
        got = lookup(entries, host)
        if kind == "not-tracker":
            if got and got[1] in TRACKER:
                problems.append(f"precision.tsv:{n}: {host} is named as a tracker: {got}")
        elif kind in ("drawn", "sdk-host"):
            want = None if company == "-" else (company, category)
            if got != want:
                problems.append(f"precision.tsv:{n}: {host}: checked by hand {want}, catalog says {got}")
        else:
            problems.append(f"precision.tsv:{n}: unknown row kind {kind!r}")
    want_drawn = drawn(adaway)
    have_drawn = sorted(h for _, k, h, *_ in rows if k == "drawn")
    if have_drawn != want_drawn:
        problems.append(
            "precision.tsv: the drawn rows are not the seeded draw; these should be there: "
            + ", ".join(sorted(set(want_drawn) - set(have_drawn)))
        )
    return problems


def pct(n, total):
    return f"{n}/{total} ({100 * n / total:.1f}%)" if total else "0/0"


def report_app_samples(path, entries, checkout, misses):
    """Coverage of X-Ray and Exodus (each: all, dev half, test half); how many named hosts
    the catalog gives the company X-Ray gives (or one of its owners), or, for Exodus, a
    company found in the tracker SDK's name ("Google Firebase Analytics")."""
    import app_samples

    parents = load_parents(path)
    xray = app_samples.xray(checkout)
    for part in ("all", "dev", "test"):
        hosts = sorted(h for h, (owner, _) in xray.items() if part == "all" or app_samples.half(owner) == part)
        named, tracker = coverage(entries, hosts)
        agree = [
            h
            for h in named
            if app_samples.agrees(lookup(entries, h)[0], parents[suffix_of(entries, h)], [xray[h][0]] + xray[h][1])
        ]
        print(
            f"X-Ray 2020 ({part}): named {pct(len(named), len(hosts))}, as a tracker "
            f"{pct(len(tracker), len(hosts))}, same company as X-Ray {pct(len(agree), len(named))} of named"
        )
        if part == "dev":
            for h in [h for h in hosts if h not in named][:misses]:
                print(f"  unnamed (dev): {h}\t{xray[h][0]}")
    exodus = app_samples.exodus(checkout)
    for part in ("all", "dev", "test"):
        hosts = sorted(h for h, tracker in exodus.items() if part == "all" or app_samples.half(tracker) == part)
        named, tracker = coverage(entries, hosts)
        agree = [
            h for h in named if app_samples.agrees(lookup(entries, h)[0], parents[suffix_of(entries, h)], [exodus[h]])
        ]
        note = " (optimistic: includes the development half)" if part == "all" else ""
        print(
            f"Exodus signatures ({part}): named {pct(len(named), len(hosts))}, as a tracker "
            f"{pct(len(tracker), len(hosts))}, company in the tracker's name {pct(len(agree), len(named))} "
            f"of named{note}"
        )
        if part == "dev":
            for h in [h for h in hosts if h not in named][:misses]:
                print(f"  unnamed (dev): {h}\t{exodus[h]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=CATALOG)
    ap.add_argument("--misses", type=int, default=0, help="list up to N unnamed hosts per sample")
    ap.add_argument("--trackercontrol", metavar="DIR", help="a TrackerControl checkout (app_samples.py)")
    ap.add_argument("--draw", action="store_true", help="print the seeded draw to check by hand")
    args = ap.parse_args()
    entries, version = load_catalog(args.catalog)
    adaway = hosts_of(os.path.join(HERE, "adaway-hosts.txt"))
    if args.draw:
        for h in drawn(adaway):
            got = lookup(entries, h)
            print(f"{h}\t{got[0] if got else '-'}\t{got[1] if got else '-'}")
        return 0
    print(f"catalog {version}: {len(entries)} suffixes")
    for name in ("perflyst-android-tracking.txt", "adaway-hosts.txt"):
        hosts = hosts_of(os.path.join(HERE, name))
        named, tracker = coverage(entries, hosts)
        print(
            f"{name}: named {len(named)}/{len(hosts)} ({100 * len(named) / len(hosts):.1f}%), "
            f"as a tracker {len(tracker)}/{len(hosts)} ({100 * len(tracker) / len(hosts):.1f}%)"
        )
        for h in [h for h in hosts if h not in named][: args.misses]:
            print(f"  unnamed: {h}")
    if args.trackercontrol:
        report_app_samples(args.catalog, entries, args.trackercontrol, args.misses)
    problems = check_precision(entries, adaway)
    rows = read_precision()
    print(
        f"precision sample: {sum(1 for r in rows if r[1] == 'not-tracker')} first-party/CDN hosts, "
        f"{sum(1 for r in rows if r[1] == 'drawn')} drawn AdAway hosts and "
        f"{sum(1 for r in rows if r[1] == 'sdk-host')} hosts read from SDKs checked by hand: "
        f"{len(problems)} problems"
    )
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
