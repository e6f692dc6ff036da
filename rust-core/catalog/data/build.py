#!/usr/bin/env python3
"""Generate rust-core/catalog/data/catalog.txt from the lists beside this script.

Usage (from the repository root):
    python3 rust-core/catalog/data/build.py > rust-core/catalog/data/catalog.txt

Inputs, all in this directory (licences and attribution in SOURCES.md):
  lists/v2fly-domain-list-community/  MIT; which domains belong to which company, '@ads'
                                      marking a company's advertising/tracking hosts
  lists/nextdns-native-tracking-domains/  MIT; phone makers' telemetry hosts
  lists/adguard-companiesdb/          CC BY-SA 4.0; AdGuard's companies DB (WhoTracks.me
                                      with AdGuard's additions): tracker hosts, their
                                      company and category
  lists/disconnect-services/          GPL-3.0-or-later (at the commit used); Disconnect's
                                      services.json of June 2020: tracker domains by
                                      company and category
  lists/webxray-domain-owners/        GPL-3.0; Timothy Libert's webXray domain owner list
                                      (2018): domains -> owner with its parent chain, and
                                      what the owner's service is used for
  lists/nextdns-cname-cloaking-blocklist/  MIT; the hosts CNAME-cloaked aliases point at,
                                      by company (NextDNS, January 2022)
  lists/adguard-cname-trackers/       MIT; AdGuard's cname-trackers of March 2021: first
                                      parties' subdomains that are CNAME aliases of a
                                      tracker's host (CNAME cloaking), by tracker
  curated.tsv                         the project's own entries, each with its public source
  sdk-hosts.tsv                       hosts read from SDK artifacts' string constants
                                      (sdk_hosts.py), reviewed by hand, each citing the
                                      artifact and version

The output is deterministic; the crate embeds the committed output and a test checks it
is what this script makes of the inputs.

Precedence when several inputs name the same suffix: curated.tsv, then sdk-hosts.tsv, then NextDNS's native
tracking list, then its CNAME cloaking list (trackers' hosts that the v2fly and AdGuard
files call a company's other hosts: Adobe's omtrdc.net), then a v2fly '@ads' line, then a plain v2fly line, then AdGuard's companies DB (it files a
company's whole web domain under its tracker: google.com as advertising), then
Disconnect's services.json (2020), then the webXray owner list (last: 2018 data, and a
category only where it says what an owner is used for). AdGuard's cname-trackers names
exact hosts (a first party's subdomain), so its entries are deeper than the others and
win by the longest match; on the same name only curated.tsv beats it. A v2fly line below a curated suffix of another
company is dropped: the lists sometimes file a third party's host under the company whose
app uses it (v2fly's unity file lists api2.amplitude.com), and the curated entry knows better.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "2026.12.03.16"

# Companies behind the v2fly files: file -> (company, parent chain or "-", category of
# plain lines, category of '@ads' lines). A file not listed inherits from the file that
# includes it (youtube from google), with the file's name as the service.
PHONE = "telemetry"  # a phone maker's '@ads' hosts are its system telemetry
COMPANIES = {
    # phone makers and their push services
    "googlefcm": ("Google", "Alphabet", "cloud-messaging", "advertising"),
    "xiaomi": ("Xiaomi", "-", "vendor", PHONE),
    "huawei": ("Huawei", "-", "vendor", PHONE),
    "honor": ("Honor", "-", "vendor", PHONE),
    "oppo": ("OPPO", "BBK Electronics", "vendor", PHONE),
    "oneplus": ("OnePlus", "OPPO > BBK Electronics", "vendor", PHONE),
    "vivo": ("vivo", "BBK Electronics", "vendor", PHONE),
    "samsung": ("Samsung", "-", "vendor", PHONE),
    "meizu": ("Meizu", "-", "vendor", PHONE),
    "apple": ("Apple", "-", "vendor", PHONE),
    "getui": ("Getui", "-", "cloud-messaging", "cloud-messaging"),
    "jiguang": ("Jiguang", "-", "cloud-messaging", "cloud-messaging"),
    "umeng": ("Umeng", "Alibaba", "analytics", "analytics"),
    # whole tracker companies (data/category-ads-all includes them without '@ads')
    "addthis": ("AddThis", "Oracle", "advertising", "advertising"),
    "adjust": ("Adjust", "AppLovin", "attribution", "attribution"),
    "clearbit": ("Clearbit", "HubSpot", "analytics", "analytics"),
    "growingio": ("GrowingIO", "-", "analytics", "analytics"),
    "ogury": ("Ogury", "-", "advertising", "advertising"),
    "openx": ("OpenX", "-", "advertising", "advertising"),
    "pubmatic": ("PubMatic", "-", "advertising", "advertising"),
    "segment": ("Segment", "Twilio", "analytics", "analytics"),
    "sentry": ("Sentry", "Functional Software", "crash-reporting", "crash-reporting"),
    "supersonic": ("ironSource", "Unity", "advertising", "advertising"),
    "taboola": ("Taboola", "-", "advertising", "advertising"),
    "tendcloud": ("TalkingData", "-", "analytics", "analytics"),
    "carrotquest": ("Carrot quest", "-", "messaging", "analytics"),
    "mindbox": ("Mindbox", "-", "messaging", "analytics"),
    # companies with advertising or tracking hosts among their own (data/category-ads)
    "36kr": ("36Kr", "-", "vendor", "advertising"),
    "adobe": ("Adobe", "-", "vendor", "analytics"),
    "alibaba": ("Alibaba", "-", "vendor", "advertising"),
    "amazon": ("Amazon", "-", "vendor", "advertising"),
    "avito": ("Avito", "-", "vendor", "advertising"),
    "baidu": ("Baidu", "-", "vendor", "advertising"),
    "bytedance": ("ByteDance", "-", "vendor", "advertising"),
    "tiktok": ("TikTok", "ByteDance", "vendor", "advertising"),
    "cctv": ("CCTV", "-", "vendor", "advertising"),
    "disney": ("Disney", "-", "vendor", "advertising"),
    "dmm": ("DMM", "-", "vendor", "advertising"),
    "duolingo": ("Duolingo", "-", "vendor", "advertising"),
    "gamersky": ("Gamersky", "-", "vendor", "advertising"),
    "gog": ("GOG", "CD Projekt", "vendor", "advertising"),
    "google": ("Google", "Alphabet", "vendor", "advertising"),
    "hetzner": ("Hetzner", "-", "vendor", "advertising"),
    "hunantv": ("Mango TV", "Hunan Broadcasting System", "vendor", "advertising"),
    "iqiyi": ("iQIYI", "Baidu", "vendor", "advertising"),
    "jd": ("JD.com", "-", "vendor", "advertising"),
    "kontur": ("SKB Kontur", "-", "vendor", "advertising"),
    "kuaishou": ("Kuaishou", "-", "vendor", "advertising"),
    "kurogames": ("Kuro Games", "-", "vendor", "advertising"),
    "le": ("LeEco", "-", "vendor", "advertising"),
    "mailru-group": ("VK", "-", "vendor", "advertising"),
    "meta": ("Meta", "-", "vendor", "advertising"),
    "microsoft": ("Microsoft", "-", "vendor", "advertising"),
    "github": ("GitHub", "Microsoft", "vendor", "advertising"),
    "mihoyo": ("miHoYo", "-", "vendor", "advertising"),
    "moji": ("Moji Weather", "-", "vendor", "advertising"),
    "mozilla": ("Mozilla", "-", "vendor", "telemetry"),
    "mts-ru": ("MTS", "-", "vendor", "advertising"),
    "netease": ("NetEase", "-", "vendor", "advertising"),
    "nicegram": ("Nicegram", "-", "vendor", "advertising"),
    "ookla-speedtest": ("Ookla", "Ziff Davis", "vendor", "advertising"),
    "openai": ("OpenAI", "-", "vendor", "analytics"),
    "ozon": ("Ozon", "-", "vendor", "advertising"),
    "picacg": ("PicACG", "-", "vendor", "advertising"),
    "pikpak": ("PikPak", "-", "vendor", "advertising"),
    "pixiv": ("pixiv", "-", "vendor", "advertising"),
    "qihoo360": ("Qihoo 360", "-", "vendor", "advertising"),
    "rostelecom": ("Rostelecom", "-", "vendor", "advertising"),
    "sber": ("Sber", "-", "vendor", "advertising"),
    "2gis": ("2GIS", "Sber", "vendor", "advertising"),
    "sina": ("Sina", "-", "vendor", "advertising"),
    "snap": ("Snap", "-", "vendor", "advertising"),
    "sohu": ("Sohu", "-", "vendor", "advertising"),
    "spotify": ("Spotify", "-", "vendor", "advertising"),
    "tcl": ("TCL", "-", "vendor", "telemetry"),
    "tencent": ("Tencent", "-", "vendor", "advertising"),
    "twitter": ("X (Twitter)", "-", "vendor", "advertising"),
    "unity": ("Unity", "-", "vendor", "advertising"),
    "unitychina": ("Unity China", "Unity", "vendor", "advertising"),
    "wildberries": ("Wildberries", "-", "vendor", "advertising"),
    "x5": ("X5 Group", "-", "vendor", "advertising"),
    "xhamster": ("xHamster", "-", "vendor", "advertising"),
    "yahoo": ("Yahoo", "Apollo Global Management", "vendor", "advertising"),
    "flickr": ("Flickr", "SmugMug", "vendor", "advertising"),
    "yandex": ("Yandex", "-", "vendor", "advertising"),
    "zhihu": ("Zhihu", "-", "vendor", "advertising"),
    "zuoyebang": ("Zuoyebang", "-", "vendor", "advertising"),
    "mcdonalds": ("McDonald's", "-", "vendor", "advertising"),
    "starbucks": ("Starbucks", "-", "vendor", "advertising"),
    "lkcoffee": ("Luckin Coffee", "-", "vendor", "advertising"),
    "bestore": ("Bestore", "-", "vendor", "advertising"),
}
# v2fly roots walked, in order; files reached from them inherit as said above.
ROOTS = ["category-ads-all", "googlefcm", "getui", "jiguang", "umeng", "xiaomi", "huawei",
         "honor", "oppo", "oneplus", "vivo", "samsung", "meizu", "apple"]

NEXTDNS = [
    ("xiaomi", "Xiaomi", "-", "Xiaomi / MIUI telemetry"),
    ("huawei", "Huawei", "-", "Huawei telemetry"),
    ("samsung", "Samsung", "-", "Samsung telemetry"),
    ("apple", "Apple", "-", "Apple telemetry"),
]

# AdGuard companies DB categories -> ours. What a site or app needs to work (players,
# comments, consent, tag managers, social widgets, customer interaction, which holds both
# support chats and Google Maps, "misc", "unknown") is the company's own `vendor` host,
# not a tracker: calling a site a tracker wrongly costs more than naming no category.
ADGUARD_CATEGORY = {
    "advertising": "advertising",
    "pornvertising": "advertising",
    "site_analytics": "analytics",
    "mobile_analytics": "analytics",
    "telemetry": "telemetry",
    "cdn": "cdn",
    "hosting": "cdn",
    "email": "messaging",
}
# AdGuard's names for companies the other inputs spell differently (after the legal
# suffix is cut), so that a report groups all of a company's hosts together.
ADGUARD_NAMES = {
    "Meta Platforms": "Meta",
    "X (formerly Twitter)": "X (Twitter)",
    "Unity Technologies": "Unity",
    "Amazon Associates": "Amazon",
    "Oracle Corporation": "Oracle",
}
# webXray's "uses" of an owner -> our category, first match in this order; an owner with
# none of these (or none at all) is the company's `vendor` host. A use of "general" marks
# an owner whose domains are mainly its own sites (Blogger, Amazon Web Services), whose
# hosts are not trackers whatever else it is used for.
WEBXRAY_USES = [
    ("general", "vendor"),
    ("marketing", "advertising"),
    ("audience measurement", "analytics"),
    ("design optimization", "analytics"),
    ("hosting", "cdn"),
    ("content hosting", "cdn"),
]
# Disconnect's categories -> ours. Fingerprinting lists companies that track by
# fingerprinting (ad networks, audience measurement): tracking, filed as analytics.
# Content, Social, Cryptomining and Disconnect (Facebook's, Google's and Twitter's own
# domains) are the companies' other hosts.
DISCONNECT_CATEGORY = {
    "Advertising": "advertising",
    "Analytics": "analytics",
    "Fingerprinting": "analytics",
}
# Disconnect's names for companies the other inputs spell differently.
DISCONNECT_NAMES = {
    "Facebook": "Meta",
    "Twitter": "X (Twitter)",
    "Amazon.com": "Amazon",
    "Segment.io": "Segment",
    "Salesforce.com": "Salesforce",
    "Yahoo!": "Yahoo",
    "Teads.tv": "Teads",
}
# webXray's names for companies the other inputs spell differently.
WEBXRAY_NAMES = {
    "Adobe Systems": "Adobe",
    "Facebook": "Meta",
    "Twitter": "X (Twitter)",
}
LEGAL_SUFFIX = re.compile(r"(,? +(inc|ltd|llc|fz-llc|gmbh|corp|corporation|co|limited|s\.a|sa|ag|plc)\.?)+ *$", re.I)

CATEGORIES = {"advertising", "attribution", "analytics", "crash-reporting", "cloud-messaging",
              "messaging", "telemetry", "account", "cdn", "first-party", "vendor"}


def v2fly_lines(path):
    """(rule, attrs) of one v2fly data file, comments dropped."""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                parts = line.split()
                yield parts[0], parts[1:]


def v2fly_tree(v2dir):
    """Every file reached from ROOTS with the company it belongs to: its own COMPANIES
    entry or its includer's."""
    owner = {}

    def walk(name, inherited):
        if name in owner:
            return
        mine = COMPANIES.get(name, inherited)
        owner[name] = mine
        for rule, _attrs in v2fly_lines(os.path.join(v2dir, name)):
            if rule.startswith("include:"):
                walk(rule[len("include:"):], mine)

    for root in ROOTS:
        walk(root, None)
    return owner


def suffix_of(rule):
    """The suffix a v2fly rule names, or None for rules a suffix cannot express."""
    if rule.startswith(("include:", "regexp:", "keyword:")):
        return None
    for prefix in ("full:", "domain:"):
        if rule.startswith(prefix):
            rule = rule[len(prefix):]
    return rule.lower().rstrip(".")


def read_curated(path):
    name = os.path.basename(path)
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 6 or not all(fields):
                sys.exit(f"{name} line {n}: expected 6 non-empty TAB-separated fields")
            suffix, company, parent, category, service, source = fields
            if category not in CATEGORIES:
                sys.exit(f"{name} line {n}: unknown category {category}")
            out.append((suffix.lower(), company, parent, category, service, source))
    return out


def name_key(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def adguard_entries(agdir, known):
    """(suffix, company, category, service, tracker id) of AdGuard's companies DB. Company
    names are those of `known` (name_key -> name) where they are the same company."""
    names = {}
    with open(os.path.join(agdir, "companies.tsv"), encoding="utf-8") as f:
        for raw in f:
            if not raw.startswith("#") and raw.strip():
                cid, name, _site = raw.rstrip("\n").split("\t")
                names[cid] = name
    with open(os.path.join(agdir, "trackers.json"), encoding="utf-8") as f:
        db = json.load(f)
    cats = db["categories"]
    for suffix, tid in sorted(db["trackerDomains"].items()):
        tracker = db["trackers"].get(tid)
        suffix = suffix.lower().rstrip(".")
        if tracker is None or not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", suffix):
            continue
        company = names.get(tracker.get("companyId")) or tracker["name"]
        company = LEGAL_SUFFIX.sub("", company.strip()).strip()
        company = ADGUARD_NAMES.get(company, company)
        company = known.get(name_key(company), company)
        category = ADGUARD_CATEGORY.get(cats.get(str(tracker["categoryId"])), "vendor")
        yield suffix, company, category, tracker["name"], tid


def disconnect_entries(dcdir, known):
    """(suffix, company, category, Disconnect category) of Disconnect's services.json."""
    with open(os.path.join(dcdir, "services.json"), encoding="utf-8") as f:
        db = json.load(f)
    for dcat, companies in sorted(db["categories"].items()):
        category = DISCONNECT_CATEGORY.get(dcat, "vendor")
        for entry in companies:
            for name, sites in sorted(entry.items()):
                company = LEGAL_SUFFIX.sub("", name.strip()).strip()
                company = DISCONNECT_NAMES.get(company, company)
                company = known.get(name_key(company), company)
                for domains in sites.values():
                    if not isinstance(domains, list):
                        continue  # flags such as "performance": "true"
                    for dom in domains:
                        suffix = dom.lower().rstrip(".")
                        if re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", suffix):
                            yield suffix, company, category, dcat


def read_lenient_json(path):
    """JSON that may end its top-level list with a trailing comma (the owner list's
    last commit does); nothing else is forgiven."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return json.loads(re.sub(r",\s*\]\s*$", "]", text))


def webxray_entries(wxdir, known):
    """(suffix, company, parent chain, category, service) of the webXray owner lists.
    An owner whose name begins with its parent's first word is a service of the parent
    (Amazon Marketing Services of Amazon); other owners are companies of their own with
    their owners as parents (Admeld, owned by Google)."""
    def normal(name):
        name = LEGAL_SUFFIX.sub("", name.strip()).strip()
        name = WEBXRAY_NAMES.get(name, name)
        return known.get(name_key(name), name)

    uses_of = {}
    seen = set()
    for fname in ("webxray-domain_owners.json", "owner-list-domain_owners.json"):
        owners = read_lenient_json(os.path.join(wxdir, fname))
        by_id = {o["id"]: o for o in owners}
        for o in owners:
            if o.get("uses"):
                uses_of.setdefault(o["owner_name"], o["uses"])
        for o in owners:
            chain, p = [], o.get("parent_id")
            while p is not None and p in by_id and len(chain) < 8:
                chain.append(normal(by_id[p]["owner_name"]))
                p = by_id[p].get("parent_id")
            name = normal(o["owner_name"])
            company, service = name, name
            if chain and name_key(name).startswith(name_key(chain[0].split()[0])):
                company, chain = chain[0], chain[1:]
                service = f"{company} ({name})"
            uses = set(uses_of.get(o["owner_name"], []))
            category = next((c for u, c in WEBXRAY_USES if u in uses), "vendor")
            for dom in o["domains"]:
                suffix = dom.lower().rstrip(".")
                if (suffix, fname) in seen or not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", suffix):
                    continue
                if re.fullmatch(r"[0-9.]+", suffix):
                    continue  # an address, not a name
                seen.add((suffix, fname))
                yield suffix, company, " > ".join(chain) or "-", category, service


HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+")

# AdGuard cname-trackers' tracker names -> (company, category when the catalog's entry of
# the CNAME target gives no tracker category of its own).
CNAME_TRACKERS = {
    "A8.net": ("A8", "advertising"),
    "Act-On": ("Act-On", "analytics"),
    "AD EBiS": ("AD EBiS", "advertising"),
    "Adobe Experience Cloud (formerly Omniture)": ("Adobe", "analytics"),
    "AT Internet (formerly XiTi)": ("AT Internet", "analytics"),
    "Commanders Act": ("Commanders Act", "analytics"),
    "Criteo": ("Criteo", "advertising"),
    "Eulerian": ("Eulerian Technologies", "analytics"),
    "GENIEE": ("GENIEE", "advertising"),
    "GMO Internet Group": ("GMO Internet Group", "advertising"),
    "Ingenious Technologies": ("Ingenious Technologies", "advertising"),
    "Keyade": ("Keyade", "advertising"),
    "Lead Forensics": ("Lead Forensics", "analytics"),
    "NP6": ("NP6", "analytics"),
    "Oracle Eloqua": ("Oracle", "analytics"),
    "Otto Group": ("Otto Group", "analytics"),
    "Pardot": ("Pardot", "analytics"),
    "TraceDock": ("TraceDock", "analytics"),
    "Webtrekk": ("Webtrekk", "analytics"),
    "Wizaly": ("Wizaly", "attribution"),
    # NextDNS's CNAME cloaking list spells some differently or names more
    "actionlink": ("actionlink", "advertising"),
    "AdSpyglass": ("AdSpyglass", "advertising"),
    "adcloud": ("GMO Internet Group", "advertising"),
    "Branch": ("Branch", "attribution"),
    "DataUnlocker": ("DataUnlocker", "analytics"),
    "Fathom": ("Fathom", "analytics"),
    "NP6 by ChapsVision": ("NP6", "analytics"),
    "Plausible Analytics": ("Plausible Analytics", "analytics"),
}


def nextdns_cname_entries(path):
    """(host, company name as the list spells it) of NextDNS's CNAME cloaking list: blocks
    of "# COMPANY", "# https://site" and the hosts cloaked aliases point at."""
    company = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line:
                company = None
            elif line.startswith("#"):
                text = line.lstrip("# ").strip()
                if company is None and text and not text.startswith(("http", "Note:")):
                    company = text
            elif company is not None and HOST.fullmatch(line.lower()):
                yield line.lower(), company
TRACKING = {"advertising", "attribution", "analytics", "crash-reporting", "telemetry"}


def cname_tracker_entries(cndir):
    """(alias, CNAME target, tracker name, file stem) of AdGuard's cname-trackers: each
    tracker's Markdown page has a table of `| Disguise | Tracker |` rows."""
    tdir = os.path.join(cndir, "trackers")
    for fname in sorted(os.listdir(tdir)):
        with open(os.path.join(tdir, fname), encoding="utf-8") as f:
            text = f.read()
        tracker = re.search(r"^# Tracker: (.+)$", text, re.M).group(1).strip()
        for alias, target in re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|$", text, re.M):
            alias, target = alias.lower().rstrip("."), target.lower().rstrip(".")
            if HOST.fullmatch(alias) and HOST.fullmatch(target):
                yield alias, target, tracker, fname[: -len(".md")]


def is_site_name(host):
    """Whether host is a site's own name, `example.com`, `example.co.uk` or `www.` before
    one (by a rough rule: a two-letter country code under a short generic second level)."""
    labels = host.split(".")
    if labels[0] == "www":
        labels = labels[1:]
    if len(labels) <= 2:
        return True
    return len(labels) == 3 and len(labels[2]) == 2 and labels[1] in ("co", "com", "ne", "or", "ac", "org", "net", "gov", "edu")


def under(suffix, other):
    return suffix == other or suffix.endswith("." + other)


def main():
    if len(sys.argv) != 1:
        sys.exit("usage: build.py > catalog.txt  (reads the lists beside it)")
    v2dir = os.path.join(HERE, "lists", "v2fly-domain-list-community")
    nddir = os.path.join(HERE, "lists", "nextdns-native-tracking-domains")
    agdir = os.path.join(HERE, "lists", "adguard-companiesdb")
    curated = read_curated(os.path.join(HERE, "curated.tsv"))
    curated_by_suffix = {c[0]: c for c in curated}
    sdk_hosts = read_curated(os.path.join(HERE, "sdk-hosts.tsv"))

    # suffix -> [rank, company, category, service, [sources], parent]; lower rank wins
    table = {}

    def add(rank, suffix, company, category, service, source, parent):
        assert category in CATEGORIES, category
        cur = table.get(suffix)
        if cur is None:
            table[suffix] = [rank, company, category, service, [source], parent]
            return
        if source not in cur[4]:
            if rank < cur[0]:
                cur[4].insert(0, source)
            else:
                cur[4].append(source)
        if rank < cur[0]:
            cur[0:4] = [rank, company, category, service]
            cur[5] = parent

    def overruled(suffix, company, is_ads):
        """Whether the nearest curated suffix at or above `suffix` says more than this
        v2fly line: it does, unless it only names a CDN or a company's own domain and
        the line is an ads host below it or another company's host on that CDN."""
        labels = suffix.split(".")
        for i in range(len(labels)):
            entry = curated_by_suffix.get(".".join(labels[i:]))
            if entry is not None:
                if i == 0:
                    return False  # the same suffix: curated wins, the list is credited
                if entry[3] not in ("cdn", "vendor"):
                    return True
                return not is_ads and entry[1] == company
        return False

    dropped = {"unowned": 0, "curated": 0, "adguard": 0, "disconnect": 0, "webxray": 0, "cname": 0, "site": 0}
    owner = v2fly_tree(v2dir)
    for name in sorted(owner):
        info = owner[name]
        for rule, attrs in v2fly_lines(os.path.join(v2dir, name)):
            suffix = suffix_of(rule)
            if suffix is None:
                continue
            if info is None:
                # data/category-ads lists some hosts inline without their company;
                # only curated.tsv can name them.
                dropped["unowned"] += 1
                continue
            company, parent, plain, ads = info
            is_ads = "@ads" in attrs
            if overruled(suffix, company, is_ads):
                dropped["curated"] += 1
                continue
            category = ads if is_ads else plain
            service = f"{company} ({name}{', ads' if is_ads else ''})"
            add(2 if is_ads else 3, suffix, company, category, service, f"v2fly:{name}", parent)
    for name, company, parent, service in NEXTDNS:
        with open(os.path.join(nddir, name), encoding="utf-8") as f:
            for raw in f:
                suffix = raw.split("#", 1)[0].strip().lower().rstrip(".")
                if suffix:
                    add(1, suffix, company, "telemetry", service, f"nextdns:{name}", parent)
    for suffix, company, parent, category, service, _source in curated:
        add(0, suffix, company, category, service, "phonehome", parent)
    for suffix, company, parent, category, service, source in sdk_hosts:
        if not source.startswith(("maven:", "git:")):
            sys.exit(f"sdk-hosts.tsv: {suffix}: the source must be maven:GROUP:ARTIFACT:VERSION"
                     " or git:OWNER/NAME@COMMIT:PATH")
        add(0.25, suffix, company, category, service, source, parent)

    # A company's owners as the other inputs give them, for AdGuard's entries (it has none).
    parents = {}
    for company, parent in [(c[1], c[2]) for c in curated] + [v[:2] for v in COMPANIES.values()]:
        if parent != "-":
            parents.setdefault(company, parent)
    known = {name_key(c): c for c in [c[1] for c in curated] + [v[0] for v in COMPANIES.values()]}
    ncpath = os.path.join(HERE, "lists", "nextdns-cname-cloaking-blocklist", "domains")
    for suffix, name in nextdns_cname_entries(ncpath):
        company, category = CNAME_TRACKERS.get(name, (name, "analytics"))
        company = known.get(name_key(company), company)
        add(1.5, suffix, company, category, f"{name} (a CNAME cloaking target, NextDNS)",
            "nextdns-cname", parents.get(company, "-"))
    for suffix, company, category, service, tid in adguard_entries(agdir, known):
        if overruled(suffix, company, category not in ("cdn", "vendor")):
            dropped["adguard"] += 1
            continue
        if name_key(service) != name_key(company):
            service = f"{company} ({service})"
        add(4, suffix, company, category, service, f"adguard:{tid}",
            parents.get(company, "-"))

    dcdir = os.path.join(HERE, "lists", "disconnect-services")
    for suffix, company, category, dcat in disconnect_entries(dcdir, known):
        if overruled(suffix, company, category not in ("cdn", "vendor")):
            dropped["disconnect"] += 1
            continue
        add(5, suffix, company, category, f"{company} ({dcat}, Disconnect)",
            f"disconnect:{dcat}", parents.get(company, "-"))

    wxdir = os.path.join(HERE, "lists", "webxray-domain-owners")
    for suffix, company, parent, category, service in webxray_entries(wxdir, known):
        if overruled(suffix, company, category not in ("cdn", "vendor")):
            dropped["webxray"] += 1
            continue
        if parent == "-":
            parent = parents.get(company, "-")
        add(6, suffix, company, category, service, "webxray", parent)

    # CNAME cloaking: the alias is the first party's name, the company the target's. The
    # catalog's entry of the target names it where it gives a tracker category (not a
    # hosting platform's name: Lead Forensics' targets are Azure Traffic Manager names).
    def lookup(host):
        labels = host.split(".")
        for i in range(len(labels)):
            cur = table.get(".".join(labels[i:]))
            if cur is not None:
                return cur
        return None

    aliases = {}
    cndir = os.path.join(HERE, "lists", "adguard-cname-trackers")
    for alias, target, tracker, stem in list(cname_tracker_entries(cndir)):
        company, category = CNAME_TRACKERS[tracker]
        company = known.get(name_key(company), company)
        parent = parents.get(company, "-")
        hit = lookup(target)
        if hit is not None and hit[2] in TRACKING:
            company, category, parent = hit[1], hit[2], hit[5]
        if is_site_name(alias):
            dropped["site"] += 1
            continue  # never a whole site's name: that would make a first party a tracker
        cur = table.get(alias)
        if cur is not None and cur[0] == 0:
            dropped["cname"] += 1
            continue  # curated.tsv says what this very name is
        service = f"{tracker} behind the first party's name (a CNAME to {target})"
        add(0.5, alias, company, category, service, f"adguard-cname:{stem}", parent)
        aliases[alias] = target

    def source_lines(d):
        with open(os.path.join(HERE, "lists", d, "SOURCE.txt"), encoding="utf-8") as f:
            return [l.rstrip() for l in f if l.startswith(("Source:", "Snapshot commit:"))]

    out = sys.stdout
    out.write(
        f"# version: {VERSION}\n"
        "# PhoneHome catalog: the company behind a host, its owners, and what the host is for.\n"
        "# GENERATED by rust-core/catalog/data/build.py from lists/ and curated.tsv; do not\n"
        "# edit by hand, change those and regenerate. Sources and licences: SOURCES.md.\n"
        "#\n"
        "# Format: one entry a line, TAB-separated:\n"
        "#   suffix  company  category  service  source  parent  [alias-of]\n"
        "# suffix matches the host itself and every name below it (on label boundaries).\n"
        "# category: advertising, attribution, analytics, crash-reporting, cloud-messaging\n"
        "# (push), messaging, telemetry, account, cdn, first-party, vendor (any other host of\n"
        "# the company: its own services, not a tracker).\n"
        "# parent: the owners of the company, nearest first, ' > ' between them; '-' for none.\n"
        "# alias-of (only on names a first party points at a tracker by CNAME): the tracker's\n"
        "# host the name is an alias of; the company is that host's, and the name is a third\n"
        "# party's even under the app's own domain.\n"
        "# source lists, comma-separated, every input naming the suffix, first the one whose\n"
        "# company/category/service this line uses:\n"
        "#   v2fly:NAME    v2fly domain-list-community, data/NAME (MIT License,\n"
        "#                 Copyright (c) 2018-2019 V2Ray; see LICENSES/v2fly-domain-list-community.txt)\n"
        "#   nextdns:NAME  NextDNS native-tracking-domains, domains/NAME (MIT License,\n"
        "#                 Copyright (c) 2022 NextDNS; see LICENSES/nextdns-native-tracking-domains.txt)\n"
        "#   adguard:ID    AdGuard companies DB, tracker ID of dist/trackers.json (CC BY-SA 4.0,\n"
        "#                 AdGuard, from WhoTracks.me by Ghostery, CC BY 4.0; see\n"
        "#                 LICENSES/adguard-companiesdb.txt)\n"
        "#   disconnect:CATEGORY  Disconnect's services.json of 2020-06-17, that category\n"
        "#                 (GPL-3.0-or-later at that commit, Copyright 2010-2019 Disconnect, Inc.;\n"
        "#                 see LICENSES/disconnect-services.txt)\n"
        "#   webxray       webXray domain owner lists by Timothy Libert (GPL-3.0; see\n"
        "#                 lists/webxray-domain-owners/SOURCE.txt)\n"
        "#   nextdns-cname NextDNS CNAME cloaking blocklist, domains (MIT License, Copyright (c)\n"
        "#                 2022 NextDNS; see LICENSES/nextdns-cname-cloaking-blocklist.txt)\n"
        "#   adguard-cname:TRACKER  AdGuard cname-trackers, trackers/TRACKER.md (MIT License,\n"
        "#                 Copyright 2021 Adguard Software Ltd; see LICENSES/adguard-cname-trackers.txt)\n"
        "#   phonehome     the project's curated entries; curated.tsv gives each one's public source\n"
        "#   maven:GROUP:ARTIFACT:VERSION  a host named by a string constant of that SDK artifact\n"
        "#   git:OWNER/NAME@COMMIT:PATH  a host named by a string constant of the SDK binary at\n"
        "#                 PATH in that public repository (an SDK on no Maven repository)\n"
        "#                 (both: sdk-hosts.tsv, found by sdk_hosts.py and reviewed by hand)\n"
        f"# Left out: {dropped['unowned']} v2fly lines without a company; below a curated suffix\n"
        f"# that says more (see build.py): {dropped['curated']} v2fly lines, {dropped['adguard']} AdGuard,\n"
        f"# {dropped['disconnect']} Disconnect and {dropped['webxray']} webXray entries; of the cname-trackers\n"
        f"# aliases, {dropped['cname']} curated.tsv names itself and {dropped['site']} that are a whole site's name\n"
        "# (example.com, www.example.com).\n"
        "#\n"
    )
    for d in ("v2fly-domain-list-community", "nextdns-native-tracking-domains", "adguard-companiesdb",
              "disconnect-services", "webxray-domain-owners", "nextdns-cname-cloaking-blocklist",
              "adguard-cname-trackers"):
        for l in source_lines(d):
            out.write(f"# {d}: {l}\n")
    out.write("#\n")
    for suffix in sorted(table, key=lambda s: (list(reversed(s.split("."))), s)):
        _rank, company, category, service, sources, parent = table[suffix]
        alias = f"\t{aliases[suffix]}" if suffix in aliases else ""
        out.write(f"{suffix}\t{company}\t{category}\t{service}\t{','.join(sources)}\t{parent}{alias}\n")


if __name__ == "__main__":
    main()
