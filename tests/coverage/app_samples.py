"""Samples of hosts that apps send tracking to, from studies of real apps, read from a
checkout of TrackerControl (GPL-3.0), which ships both. Neither is stored here nor read
by the catalog's build.py; README "Coverage of the catalog" says how to get the checkout.

  X-Ray 2020   the tracker domains Binns et al. found contacted by ~1,000,000 Android apps
               ("Third Party Tracking in the Mobile Ecosystem", WebSci 2018; data at
               https://osf.io/4nu9e/), each with the company that owns it
  Exodus       Exodus Privacy's network signatures of the tracker SDKs it finds in apps
               (https://reports.exodus-privacy.eu.org/api/trackers), plain host patterns

Each sample is split into a development half, whose misses the curators may read, and a
test half nobody reads: the test half is the honest figure. X-Ray is split by owner,
Exodus by tracker SDK name (SHA-256 of the name, so all hosts of one SDK fall on one side;
a company with several SDKs in Exodus, such as Google's, may have some on each side).
"""

import hashlib
import json
import os
import re

XRAY = "app/src/main/assets/xray-blacklist.json"
EXODUS = "app/src/main/assets/trackers.json"
# The files measured (TrackerControl commit 8c119b04ae2e, 2026-08-22).
SHA256 = {
    XRAY: "b43d11e9bfd3afe8c3637fa09e5872ebab71a1b2da1866bc886f138788d008cd",
    EXODUS: "4fe6319f60286db64cf71b93597610a0b676135162b009b2845fe271dff905b7",
}
HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+")


def _read(checkout, rel):
    with open(os.path.join(checkout, rel), "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[rel]:
        raise SystemExit(f"{rel}: sha256 {digest}, measured file was {SHA256[rel]}")
    return json.loads(data)


def half(owner):
    """'dev' or 'test': a fixed split by name (X-Ray's owner, Exodus' tracker), so all hosts
    of one name are on one side."""
    return "dev" if hashlib.sha256(owner.encode()).hexdigest()[0] in "01234567" else "test"


def xray(checkout):
    """{host: (owner, [parents])} of X-Ray 2020."""
    out = {}
    for entry in _read(checkout, XRAY):
        owners = [p for p in (entry.get("parent"), entry.get("root_parent")) if p]
        for dom in entry["doms"]:
            out[dom.lower().rstrip(".")] = (entry["owner_name"], owners)
    return out


def exodus(checkout):
    """{host: tracker name} of the Exodus signatures that are plain host names."""
    return exodus_hosts(_read(checkout, EXODUS))


def exodus_hosts(data):
    """{host: tracker name} of Exodus' trackers.json as parsed; the first tracker listing a
    host keeps it."""
    out = {}
    for tracker in data["trackers"].values():
        for pattern in (tracker.get("network_signature") or "").split("|"):
            host = pattern.strip().replace("\\.", ".").replace("\\-", "-").lstrip(".").lower()
            if HOST.fullmatch(host):
                out.setdefault(host, tracker["name"])
    return out


def key(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def agrees(company, parent, names):
    """Whether the catalog's company (or an owner of it) is one of the sample's names for
    the host, spelled loosely (legal suffixes and punctuation aside)."""
    ours = [key(company)] + [key(p) for p in parent.split(" > ") if p and p != "-"]
    theirs = [key(n) for n in names if n]
    return any(a and b and (a in b or b in a) for a in ours for b in theirs)
