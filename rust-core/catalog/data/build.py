#!/usr/bin/env python3
"""Generate rust-core/catalog/data/catalog.txt from the MIT-licensed host lists.

Usage (from the repository root):
    python3 rust-core/catalog/data/build.py ../shared/data/hosts > rust-core/catalog/data/catalog.txt

The argument is the directory holding `v2fly-domain-list-community/` and
`nextdns-native-tracking-domains/` (each with LICENSE and SOURCE.txt). The output is
deterministic, so re-running it on the same lists gives the same file; the crate embeds
the committed output and builds without the lists.

Precedence when several lists name the same suffix: the project's own curated layer
(CURATED below), then NextDNS (a list of tracking hosts, so more specific), then v2fly.
The `source` column names every list that mentions the suffix, first the one whose
vendor/category won.
"""

import os
import sys

# v2fly list file -> (vendor, category for plain entries, service for plain entries).
# Entries tagged `@ads` in a v2fly list are the vendor's ads/tracking hosts: telemetry.
V2FLY = [
    ("googlefcm", "Google", "cloud-messaging", "Firebase Cloud Messaging (FCM)"),
    ("xiaomi", "Xiaomi", "vendor", "Xiaomi / MIUI (any service)"),
    ("huawei", "Huawei", "vendor", "Huawei (any service)"),
    ("honor", "Honor", "vendor", "Honor (any service)"),
    ("oppo", "OPPO", "vendor", "OPPO / HeyTap / realme (any service)"),
    ("oneplus", "OnePlus", "vendor", "OnePlus (any service)"),
    ("vivo", "vivo", "vendor", "vivo / iQOO (any service)"),
    ("samsung", "Samsung", "vendor", "Samsung (any service)"),
    ("meizu", "Meizu", "vendor", "Meizu / Flyme (any service)"),
    ("apple", "Apple", "vendor", "Apple (any service)"),
    # Push SDK companies: their whole domains are the push service.
    ("getui", "Getui", "cloud-messaging", "Getui push SDK"),
    ("jiguang", "Jiguang", "cloud-messaging", "JPush / Jiguang push SDK"),
    # Umeng is first an analytics SDK; its push endpoints are curated below.
    ("umeng", "Umeng", "telemetry", "Umeng analytics SDK"),
]

# NextDNS native-tracking-domains file -> vendor. Every entry is telemetry.
NEXTDNS = [
    ("xiaomi", "Xiaomi", "Xiaomi / MIUI telemetry"),
    ("huawei", "Huawei", "Huawei telemetry"),
    ("samsung", "Samsung", "Samsung telemetry"),
    ("apple", "Apple", "Apple telemetry"),
]

# The project's own layer: hosts the lists only cover as a whole vendor domain (or not
# at all), each with the reason. Seed case = ../shared/seed-case.md.
CURATED = [
    # suffix, vendor, category, service, reason
    ("api.account.xiaomi.com", "Xiaomi", "cloud-messaging", "MIUI Cloud Messaging / Mi account",
     "seed case: MIUI Cloud Messaging sent IMEI, IMSI and phone numbers here (F-Secure 2014)"),
    ("account.xiaomi.com", "Xiaomi", "account", "Mi account",
     "seed case: Mi account sign-in host"),
    ("i.mi.com", "Xiaomi", "account", "Mi Cloud",
     "seed case: Mi Cloud sync (enabling it added IMSI/IMEI uploads)"),
    ("xmpush.xiaomi.com", "Xiaomi", "cloud-messaging", "Mi Push",
     "Xiaomi push service API host"),
    ("msg.xiaomi.net", "Xiaomi", "cloud-messaging", "Mi Push",
     "Mi Push SDK resolver/connection hosts"),
    ("tracking.miui.com", "Xiaomi", "telemetry", "MIUI tracking",
     "seed case: fcanr.tracking.miui.com posts MD5 of IMEI and MAC"),
    ("tracking.intl.miui.com", "Xiaomi", "telemetry", "MIUI tracking (international)",
     "seed case: /track/spock carries base64 (gzip) JSON"),
    ("data.mistat.xiaomi.com", "Xiaomi", "telemetry", "Mi Stats",
     "seed case: /mistats/v2 sends device_id in clear"),
    ("sa.api.intl.miui.com", "Xiaomi", "telemetry", "MIUI analytics (international)",
     "seed case: sends ANDROID_ID and a long-lived id"),
    ("mtalk.google.com", "Google", "cloud-messaging", "Firebase Cloud Messaging (FCM)",
     "FCM device connection (also in v2fly googlefcm)"),
    ("fcm.googleapis.com", "Google", "cloud-messaging", "Firebase Cloud Messaging (FCM)",
     "FCM HTTP API and web push endpoint"),
    ("push-api.cloud.huawei.com", "Huawei", "cloud-messaging", "HMS Push Kit",
     "Huawei Push Kit API host"),
    ("cloud.huawei.com", "Huawei", "account", "HUAWEI Cloud (user sync)",
     "Huawei ID and cloud sync"),
    ("push-api.cloud.honor.com", "Honor", "cloud-messaging", "Honor Push",
     "Honor push API host"),
    ("push.oppomobile.com", "OPPO", "cloud-messaging", "OPPO Push (HeyTap)",
     "OPPO/HeyTap push API hosts"),
    ("api-push.vivo.com.cn", "vivo", "cloud-messaging", "vivo Push",
     "vivo push API host"),
    ("server-api-push.meizu.com", "Meizu", "cloud-messaging", "Meizu Flyme Push",
     "Meizu push API host"),
    ("push.samsungosp.com", "Samsung", "cloud-messaging", "Samsung Push Service",
     "Samsung push service hosts"),
    ("account.samsung.com", "Samsung", "account", "Samsung account",
     "Samsung account sign-in"),
    ("samsungcloud.com", "Samsung", "account", "Samsung Cloud",
     "Samsung cloud sync (v2fly lists it as a plain vendor domain)"),
    ("push.apple.com", "Apple", "cloud-messaging", "Apple Push Notification service (APNs)",
     "APNs device and provider hosts"),
    ("icloud.com", "Apple", "account", "iCloud",
     "iCloud account and sync"),
    ("appleid.apple.com", "Apple", "account", "Apple ID",
     "Apple ID sign-in"),
    ("msgapi.umeng.com", "Umeng", "cloud-messaging", "Umeng U-Push",
     "Umeng U-Push API host"),
]

CATEGORIES = {"cloud-messaging", "telemetry", "account", "vendor"}


def v2fly_entries(path):
    """Yield (suffix, is_ads) from one v2fly data file; `include:` lines are not followed
    (only the files copied into shared/ are used) and regexp/keyword rules cannot be
    expressed as suffixes, so both are skipped."""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            rule, attrs = parts[0], parts[1:]
            if rule.startswith(("include:", "regexp:", "keyword:")):
                continue
            # `full:` names one exact host; as a suffix it also covers names below it,
            # which belong to the same service.
            for prefix in ("full:", "domain:"):
                if rule.startswith(prefix):
                    rule = rule[len(prefix):]
            yield rule.lower().rstrip("."), "@ads" in attrs


def nextdns_entries(path):
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                yield line.lower().rstrip(".")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: build.py HOSTS_DIR  (e.g. ../shared/data/hosts)")
    root = sys.argv[1]
    v2dir = os.path.join(root, "v2fly-domain-list-community")
    nddir = os.path.join(root, "nextdns-native-tracking-domains")

    # suffix -> [vendor, category, service, [sources]] ; lower rank wins
    table = {}

    def add(rank, suffix, vendor, category, service, source):
        assert category in CATEGORIES, category
        cur = table.get(suffix)
        if cur is None:
            table[suffix] = [rank, vendor, category, service, [source]]
            return
        if source not in cur[4]:
            if rank < cur[0]:
                cur[4].insert(0, source)
            else:
                cur[4].append(source)
        if rank < cur[0]:
            cur[:4] = [rank, vendor, category, service]

    for name, vendor, category, service in V2FLY:
        for suffix, ads in v2fly_entries(os.path.join(v2dir, name)):
            if ads:
                add(2, suffix, vendor, "telemetry", f"{vendor} ads/tracking", f"v2fly:{name}")
            else:
                add(2, suffix, vendor, category, service, f"v2fly:{name}")
    for name, vendor, service in NEXTDNS:
        for suffix in nextdns_entries(os.path.join(nddir, name)):
            add(1, suffix, vendor, "telemetry", service, f"nextdns:{name}")
    for suffix, vendor, category, service, _reason in CURATED:
        add(0, suffix, vendor, category, service, "phonehome")

    def source_line(d):
        with open(os.path.join(root, d, "SOURCE.txt"), encoding="utf-8") as f:
            return [l.rstrip() for l in f if l.startswith(("Source:", "Snapshot commit:"))]

    out = sys.stdout
    out.write(
        "# PhoneHome vendor catalog: which hosts belong to which vendor's cloud-messaging/push,\n"
        "# telemetry/analytics or account/cloud service.\n"
        "# GENERATED by rust-core/catalog/data/build.py from ../shared/data/hosts; do not edit\n"
        "# by hand, change build.py (or the lists) and regenerate.\n"
        "#\n"
        "# Format: one entry a line, five TAB-separated columns:\n"
        "#   suffix  vendor  category  service  source\n"
        "# suffix matches the host itself and every name below it (on label boundaries).\n"
        "# category is one of: cloud-messaging, telemetry, account, vendor (vendor = any other\n"
        "# host of the vendor's domain). source lists, comma-separated, every list naming the\n"
        "# suffix, first the one whose vendor/category/service this line uses:\n"
        "#   v2fly:NAME    v2fly domain-list-community, data/NAME (MIT License,\n"
        "#                 Copyright (c) 2018-2019 V2Ray; see LICENSES/v2fly-domain-list-community.txt)\n"
        "#   nextdns:NAME  NextDNS native-tracking-domains, domains/NAME (MIT License,\n"
        "#                 Copyright (c) 2022 NextDNS; see LICENSES/nextdns-native-tracking-domains.txt)\n"
        "#   phonehome     the project's own curated entries (reasons below)\n"
        "# v2fly 'full:' hosts are kept as suffixes; v2fly '@ads' entries are telemetry;\n"
        "# NextDNS entries are all telemetry.\n"
        "#\n"
    )
    for d in ("v2fly-domain-list-community", "nextdns-native-tracking-domains"):
        for l in source_line(d):
            out.write(f"# {d}: {l}\n")
    out.write("#\n# phonehome curated entries and why:\n")
    for suffix, vendor, category, _service, reason in CURATED:
        out.write(f"#   {suffix} ({vendor}, {category}): {reason}\n")
    out.write("#\n")
    for suffix in sorted(table, key=lambda s: (list(reversed(s.split("."))), s)):
        _rank, vendor, category, service, sources = table[suffix]
        out.write(f"{suffix}\t{vendor}\t{category}\t{service}\t{','.join(sources)}\n")


if __name__ == "__main__":
    main()
