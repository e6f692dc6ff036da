#!/usr/bin/env python3
"""Find the hosts mobile SDKs talk to in the SDKs' own published artifacts.

The evidence behind `sdk-hosts.tsv`. Three steps, the first two by this script, the third
by a person:

1. enumerate: the SDKs are not picked by us. Each repository given (a git checkout of an
   ad mediation platform's adapters, or of an analytics platform's integration kits) names,
   in its build files over its whole history, the Maven coordinates of the SDKs it wraps.
   Those coordinates, less generic libraries (GENERIC), are written to sdk-artifacts.tsv
   with the repository and commit they were read from.

       sdk_hosts.py enumerate CHECKOUT... > sdk-artifacts.tsv

2. extract: for each coordinate, the newest release on the Maven repository given (Maven
   Central's base URL, the one `mvn` uses), its POM's dependencies in the same vendor's
   group (the core module an umbrella artifact pulls in), and the AAR or JAR of each. Host
   names are read from string constants: the constant pool of every class file (classes.jar
   and the jars an AAR bundles) and the string table of any classes.dex. Output, one line a
   host: host, the artifacts that mention it (coordinate:version), and how many times.

       sdk_hosts.py extract --maven-repo URL --cache DIR sdk-artifacts.tsv > candidates.tsv

3. review (by hand): `sdk-hosts.tsv` keeps only hosts under the SDK vendor's own domains,
   with the company, its owners and the category. A host of another company that an SDK
   mentions (play.google.com, a CDN, a partner network) is never attributed to the SDK's
   vendor; the candidates file is not committed, the reviewed rows are, each citing the
   artifact version it was seen in.

Nothing of the SDKs' code is kept: only the host names, which are facts.
"""

import argparse
import collections
import io
import os
import re
import struct
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
import zlib

# Libraries an adapter depends on that are not an SDK of a tracking or ad company.
GENERIC = re.compile(
    r"^(androidx\.|com\.android\.|org\.jetbrains|junit:|org\.mockito|com\.google\.truth|"
    r"com\.github\.bumptech|com\.squareup|io\.coil-kt|org\.jacoco|com\.google\.ads\.mediation:|"
    r"com\.mparticle:|org\.robolectric|com\.google\.code\.gson|com\.google\.guava|"
    r"com\.google\.android\.material|org\.json|com\.google\.android\.gms:play-services-(base|basement|location|plus|tasks|ads-identifier|ads-lite)$|"
    r"com\.google\.android\.gms:play-services$|com\.google\.android\.instantapps|com\.google\.gms:|"
    r"com\.google\.(protobuf|googlejavaformat|testparameterinjector)|org\.(powermock|hamcrest|projectlombok|"
    r"slf4j|codehaus|easytesting|apache|kuali|springframework)|io\.mockk|net\.sf\.proguard|com\.guardsquare|"
    r"com\.github\.(tomakehurst|dcendents)|com\.jfrog|com\.vanniktech|com\.archinamon|com\.facebook\.fresco|"
    r"com\.iabtcf|com\.mparticle\.|[^:]*gradle|.*:[^:]*gradle|com\.jakewharton|com\.kaspersky|"
    r"com\.fasterxml|com\.f2prateek|com\.nhaarman|com\.eclipsesource|com\.google\.android\.exoplayer|"
    r"com\.google\.mlkit|com\.kezong|com\.tencent\.shadow|com\.google\.dexmaker|android\.arch\.|"
    r"com\.google\.android\.gms:play-services-(auth|wearable|gcm)|com\.google\.android\.support:|"
    r"com\.segment\.(backo|analytics\.android:analytics-tests))")
COORD = re.compile(r"""["']([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+):[^"'\s]*["']""")
BUILD_FILE = re.compile(r"(^|/)build\.gradle(\.kts)?$")


def origin_of(checkout):
    """owner/name of a checkout laid out as .../owner+name/repo[/.git], else its path."""
    parts = [p for p in checkout.rstrip("/").split("/") if "+" in p]
    return parts[-1].replace("+", "/", 1) if parts else checkout


def git(checkout, *args):
    return subprocess.run(["git", "-C", checkout, *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def enumerate_sdks(checkouts):
    """(group:artifact, repository@commit) of every dependency named in any version of
    any build file of each checkout."""
    seen = {}
    for checkout in checkouts:
        head = git(checkout, "rev-parse", "--short=12", "HEAD").strip()
        name = f"{origin_of(checkout)}@{head}"
        log = git(checkout, "log", "-p", "--all", "--format=", "--", "*build.gradle",
                  "*build.gradle.kts")
        for line in log.splitlines():
            if not line.startswith(("+", "-", " ")) or line.startswith(("+++", "---")):
                continue
            for group, artifact in COORD.findall(line):
                key = f"{group}:{artifact}"
                if "." not in group or GENERIC.match(key):
                    continue
                seen.setdefault(key, name)
    return sorted(seen.items())


# --- class files and dex: string constants -------------------------------------------

class FormatError(Exception):
    pass


def class_strings(data):
    """The CONSTANT_Utf8 entries of a Java class file's constant pool."""
    if len(data) < 10 or data[:4] != b"\xca\xfe\xba\xbe":
        raise FormatError("not a class file")
    (count,) = struct.unpack_from(">H", data, 8)
    pos, i, out = 10, 1, []
    sizes = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2,
             17: 4, 18: 4, 19: 2, 20: 2}
    while i < count:
        if pos >= len(data):
            raise FormatError("constant pool runs past the end")
        tag = data[pos]
        if tag == 1:
            if pos + 3 > len(data):
                raise FormatError("truncated utf8 constant")
            (n,) = struct.unpack_from(">H", data, pos + 1)
            if pos + 3 + n > len(data):
                raise FormatError("truncated utf8 constant")
            out.append(data[pos + 3:pos + 3 + n].decode("utf-8", "replace"))
            pos += 3 + n
        elif tag in sizes:
            pos += 1 + sizes[tag]
        else:
            raise FormatError(f"unknown constant tag {tag}")
        i += 2 if tag in (5, 6) else 1
    return out


def uleb128(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 28:
            raise FormatError("bad uleb128")
        b = data[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if b < 0x80:
            return value, pos
        shift += 7


def dex_strings(data):
    """The string table of a classes.dex."""
    if len(data) < 0x70 or data[:4] != b"dex\n":
        raise FormatError("not a dex file")
    size, offset = struct.unpack_from("<II", data, 0x38)
    if offset + 4 * size > len(data):
        raise FormatError("string ids past the end")
    out = []
    for k in range(size):
        (at,) = struct.unpack_from("<I", data, offset + 4 * k)
        n, pos = uleb128(data, at)
        end = data.find(b"\0", pos)
        if end < 0:
            raise FormatError("unterminated string")
        out.append(data[pos:end].decode("utf-8", "replace"))
    return out


# What a damaged archive raises while it is opened or a member is read.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError,
              OSError, RuntimeError, struct.error, UnicodeDecodeError)


def archive_strings(data, depth=0):
    """String constants of every class file and dex in a jar or aar, nested jars too."""
    out = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as e:
        raise FormatError(f"not a zip archive: {e}") from e
    for info in zf.infolist():
        name = info.filename
        if name.endswith((".class", ".dex", ".jar")) and info.file_size < 64 << 20:
            try:
                body = zf.read(info)
            except ZIP_ERRORS as e:
                print(f"  skip {name}: unreadable member ({e})", file=sys.stderr)
                continue
            try:
                if name.endswith(".class"):
                    out += class_strings(body)
                elif name.endswith(".dex"):
                    out += dex_strings(body)
                elif depth < 2:
                    out += archive_strings(body, depth + 1)
            except FormatError as e:
                print(f"  skip {name}: {e}", file=sys.stderr)
    return out


HOST = re.compile(r"(?<![A-Za-z0-9_.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                  r"(?:com|net|org|io|co|cn|ru|de|fr|jp|kr|in|me|tv|ai|app|ads|info|biz|"
                  r"mobi|cloud|tech|xyz|us|uk|com\.cn|co\.kr|co\.jp|com\.br|com\.tr|asia|"
                  r"network|media|ly|to|sg|hk|tw|vn|id|eu|nl|pl|es|it|be|se|ch|at|dk|no|fi|"
                  r"il|ae|sa|ir|ua|by|kz|br|mx|ar|cl|au|nz|ca|za|pro|link|one|world|plus|"
                  r"global|live|site|online|top|dev|gg|so|im|ms|ac|do))(?![A-Za-z0-9_-])")
# Names that are Java/Android identifiers rather than hosts (package names, file names).
NOT_HOST = re.compile(r"^(com|org|net|io|android|java|javax|kotlin|dalvik)\.[a-z0-9_]+\.[a-z0-9_]+"
                      r"|\.(java|kt|xml|json|png|jpg|js|html|so|dex|jar|class|txt|properties)$")


def hosts_in(strings):
    """Host names in string constants: a URL's host anywhere, or a bare string that is a
    host name and not a Java package (com.vendor.sdk)."""
    found = collections.Counter()
    for s in strings:
        for m in re.finditer(r"(?:https?|wss?)://([A-Za-z0-9.-]+)", s):
            host = m.group(1).lower().strip(".")
            if HOST.fullmatch(host):
                found[host] += 1
        bare = s.strip().lower()
        if HOST.fullmatch(bare) and not NOT_HOST.search(bare) and bare.count(".") >= 1:
            found[bare] += 1
    return found


# --- Maven -------------------------------------------------------------------------

def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def cached(cache, repo, path):
    dest = os.path.join(cache, path)
    if not os.path.exists(dest):
        data = get(f"{repo.rstrip('/')}/{path}")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest + ".part", "wb") as f:
            f.write(data)
        os.replace(dest + ".part", dest)
    with open(dest, "rb") as f:
        return f.read()


def newest(cache, repo, group, artifact):
    meta = ET.fromstring(get(f"{repo.rstrip('/')}/{group.replace('.', '/')}/{artifact}/maven-metadata.xml"))
    versions = [v.text for v in meta.iter("version")]
    release = meta.findtext("versioning/release")
    stable = [v for v in versions if not re.search(r"(?i)alpha|beta|rc|snapshot|preview|test", v)]
    return release if release in stable else (stable or versions)[-1]


def pom_deps(pom):
    root = ET.fromstring(pom)
    ns = {"m": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    q = (lambda t: f"m:{t}") if ns else (lambda t: t)
    out = []
    for dep in root.iterfind(f".//{q('dependencies')}/{q('dependency')}", ns):
        g = dep.findtext(q("groupId"), namespaces=ns) or ""
        a = dep.findtext(q("artifactId"), namespaces=ns) or ""
        scope = dep.findtext(q("scope"), namespaces=ns) or "compile"
        if scope in ("compile", "runtime") and "$" not in g + a:
            out.append((g, a))
    packaging = root.findtext(q("packaging"), namespaces=ns) or "jar"
    return packaging, out


def vendor_of(group):
    return ".".join(group.split(".")[:2])


def extract(repo, cache, artifacts):
    per_host = collections.defaultdict(collections.Counter)
    done = set()
    queue = [tuple(c.split(":")) for c in artifacts]
    while queue:
        group, artifact = queue.pop(0)
        if (group, artifact) in done:
            continue
        done.add((group, artifact))
        try:
            version = newest(cache, repo, group, artifact)
            base = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}"
            packaging, deps = pom_deps(cached(cache, repo, base + ".pom"))
        except Exception as e:  # not served, or no such artifact: say so and go on
            print(f"{group}:{artifact}: not available ({e})", file=sys.stderr)
            continue
        # An umbrella artifact pulls in its vendor's core module; an adapter of a mediation
        # platform pulls in the ad network's SDK it adapts.
        adapter = "adapter" in artifact or ".mediation" in group or "-kit" in artifact
        for g, a in deps:
            if (g, a) in done or GENERIC.match(f"{g}:{a}"):
                continue
            if vendor_of(g) == vendor_of(group) or adapter:
                queue.append((g, a))
        data = None
        for ext in (["aar", "jar"] if packaging != "jar" else ["jar", "aar"]):
            try:
                data = cached(cache, repo, f"{base}.{ext}")
                break
            except Exception:
                continue
        if data is None:
            print(f"{group}:{artifact}:{version}: no aar or jar ({packaging})", file=sys.stderr)
            continue
        try:
            hosts = hosts_in(archive_strings(data))
        except FormatError as e:
            print(f"{group}:{artifact}:{version}: {e}", file=sys.stderr)
            continue
        print(f"{group}:{artifact}:{version}: {len(hosts)} hosts", file=sys.stderr)
        for host, n in hosts.items():
            per_host[host][f"{group}:{artifact}:{version}"] += n
    for host in sorted(per_host, key=lambda h: (list(reversed(h.split("."))), h)):
        arts = per_host[host]
        print(f"{host}\t{','.join(sorted(arts))}\t{sum(arts.values())}")


# SDK binaries a repository keeps that are not an ad, analytics or push SDK.
NOT_SDK = re.compile(r"(?i)gradle-wrapper|dex-method-counts|buildSrc|android-query|/build/|"
                     r"omsdk|moat|junit|robolectric|support-v4|appcompat|javadoc|-sources\.jar|"
                     r"(^|/)(com\.android\.|android\.arch|androidx|kotlin|okhttp|okio|gson|glide|"
                     r"exoplayer|com\.google\.android\.gms|com\.google\.firebase|lint)|"
                     r"(^|/)(sdkbox|Plugin[A-Za-z]*|android-async-http[^/]*|google-play-services|"
                     r"classes)\.jar$")


def extract_git(checkouts):
    """Hosts in the SDK binaries (.aar, .jar) that mediation repositories keep in any
    commit: the SDKs of ad networks that publish on no Maven repository. Each binary is
    cited as repository@commit:path, the first commit that holds it."""
    per_host = collections.defaultdict(collections.Counter)
    for checkout in checkouts:
        origin = origin_of(checkout)
        seen = set()
        for commit in git(checkout, "rev-list", "--reverse", "--all").split():
            for line in git(checkout, "ls-tree", "-r", commit).splitlines():
                meta, path = line.split("\t", 1)
                blob = meta.split()[2]
                if not path.endswith((".aar", ".jar")) or NOT_SDK.search(path) or blob in seen:
                    continue
                seen.add(blob)
                try:
                    data = subprocess.run(["git", "-C", checkout, "cat-file", "blob", blob],
                                          check=True, capture_output=True).stdout
                    hosts = hosts_in(archive_strings(data))
                except (subprocess.CalledProcessError, FormatError) as e:
                    print(f"{origin}:{path}: not readable ({str(e)[:80]})", file=sys.stderr)
                    continue
                where = f"{origin}@{commit[:12]}:{path}"
                print(f"{where}: {len(hosts)} hosts", file=sys.stderr)
                for host, n in hosts.items():
                    per_host[host][where] += n
    for host in sorted(per_host, key=lambda h: (list(reversed(h.split("."))), h)):
        print(f"{host}\t{','.join(sorted(per_host[host]))}\t{sum(per_host[host].values())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    en = sub.add_parser("enumerate")
    en.add_argument("checkouts", nargs="+")
    ex = sub.add_parser("extract")
    ex.add_argument("--maven-repo", required=True, help="Maven Central's base URL (the one mvn uses)")
    ex.add_argument("--cache", required=True)
    ex.add_argument("artifacts", help="sdk-artifacts.tsv")
    eg = sub.add_parser("extract-git")
    eg.add_argument("checkouts", nargs="+")
    args = ap.parse_args()
    if args.cmd == "enumerate":
        print("# SDK artifacts named by the build files of mediation adapters and integration kits")
        print("# (rust-core/catalog/data/sdk_hosts.py enumerate). coordinate<TAB>named by (repository@commit)")
        for coord, where in enumerate_sdks(args.checkouts):
            print(f"{coord}\t{where}")
    elif args.cmd == "extract-git":
        extract_git(args.checkouts)
    else:
        with open(args.artifacts, encoding="utf-8") as f:
            coords = [l.split("\t")[0] for l in f if l.strip() and not l.startswith("#")]
        extract(args.maven_repo, args.cache, coords)


if __name__ == "__main__":
    main()
