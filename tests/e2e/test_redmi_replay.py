"""The Redmi 1S replay (issue 3; the case in ../shared/seed-case.md).

A scripted phone (clients/redmi_phone.py) runs under `phonehome watch --ids` and replays
what F-Secure saw a Redmi 1S send to api.account.xiaomi.com in 2014, against real
servers in the cloud namespace (dnsmasq answering api.account.xiaomi.com and
benign.test with the cloud host; servers/redmi_cloud.py on ports 80 and 443 with a
certificate made here with the openssl CLI):

1. no account, no Mi Cloud (plain HTTP): the decompiled contact lookup
   `/pass/user@id?type=MXPH&externalId=<number, raw>` for the new contact (national) and
   the SMS peer (E.164), the device activation `/pass/activate/dev/<H(IMEI)>/activating
   ?imsi=<H(IMSI)>` with H(x) = the first 16 characters of base64url(SHA-1(x)), and a form
   POST carrying the carrier name, IMEI, own number and SMS peer;
2. Mi Cloud on (plain HTTP): a gzip-compressed, chunked JSON POST with IMSI, IMEI and the
   own number, and the MD5 of the IMEI in an X-Device-Id header;
3. after the fix: the same data, base64 encoded, over TLS with SNI.

Benign requests run in between (random bodies, base64 of random bytes, prices,
timestamps, order numbers, near misses of the configured numbers, a 15-digit number that
fails the Luhn check; to benign.test over HTTP and TLS and to the Xiaomi host itself).

Every request goes over its own connection, so each finding maps to exactly one request
through its source port. The test asserts the exact findings of every request (kind,
encoding, where, truncated, digest form), the exact (kind, encoding, host, company) set of
the run, one encrypted-flow finding per TLS connection to Xiaomi (named by SNI), none for
anything else, masked evidence, the SQLite store holding the same findings, and that
`phonehome analyze` over a tshark capture of the same traffic (taken on the host
namespace's veth) finds the same.
"""

import base64
import collections
import gzip
import hashlib
import ipaddress
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

import harness
from harness import (
    CLIENTS, CLOUD_V4, CLOUD_V6, PY, SERVERS, clean_env, parse_endpoint,
    parse_time, sh, spawn, tail, wait_until,
)

XIAOMI = "api.account.xiaomi.com"
BENIGN = "benign.test"

# The test phone's identifiers (China Mobile SIM, as in the seed case).
IMEI = "867451023891465"      # Luhn-valid, reporting body 86
IMSI = "460007123985046"      # MCC 460 (China), MNC 00 (China Mobile)
OWN = "+8613811734052"
CONTACT = "+8613925067731"    # the newly added contact
CONTACT_AS_STORED = "139 2506 7731"  # as the Contacts app formats and stores it (CN)
SMS_PEER = "+8615001847296"
CARRIER = "China Mobile"
CONTACT_NAME = "Li Wei"
SMS_TEXT = "See you at the station at five"

IDS_TOML = f"""\
region = "CN"
imei = ["{IMEI}"]
imsi = ["{IMSI}"]
phone = ["{OWN}"]
carrier = ["{CARRIER}"]

[[contact]]
name = "{CONTACT_NAME}"
phone = ["{CONTACT}"]

[[sms]]
peer = "{SMS_PEER}"
text = "{SMS_TEXT}"
"""

UA = "Dalvik/1.6.0 (Linux; U; Android 4.4.2; 2014011 MIUI/KHHCNBF5.0)"
VENDOR = "Xiaomi"
CATEGORY = "cloud-messaging"


def national(e164: str) -> str:
    assert e164.startswith("+86")
    return e164[3:]


def h16(value: str) -> str:
    """H(x) of the decompiled activation request: base64url(SHA-1(x))[:16]."""
    return base64.urlsafe_b64encode(hashlib.sha1(value.encode()).digest()).decode()[:16]


def md5_hex(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def compact_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def chunked(body: bytes, size: int) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


# (kind, encoding, where, truncated, digest_form) of one finding.
def hit(kind, encoding, where, truncated=False, digest_form=None):
    return (kind, encoding, where, truncated, digest_form)


@dataclass
class Req:
    name: str
    phase: str  # "1", "2", "3" or "benign"
    scheme: str
    host: str
    method: str
    target: str
    headers: list
    # The entity body as the server must receive it (after de-chunking).
    body: bytes = b""
    chunk: int = 0  # send the body chunked in pieces of this size
    family: int = 0  # 4 or 6: connect over that IP version; 0: the resolver's first
    # Findings this request must produce (plain HTTP); TLS requests to Xiaomi produce
    # one encrypted-flow finding per connection instead.
    expect: set = field(default_factory=set)

    @property
    def port(self) -> int:
        return 443 if self.scheme == "https" else 80

    def raw(self) -> bytes:
        head = [f"{self.method} {self.target} HTTP/1.1", f"Host: {self.host}"]
        head += [f"{k}: {v}" for k, v in self.headers]
        wire = self.body
        if self.chunk:
            head.append("Transfer-Encoding: chunked")
            wire = chunked(self.body, self.chunk)
        elif self.body or self.method == "POST":
            head.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + wire


def make_plan() -> list[Req]:
    android = [("User-Agent", UA), ("Connection", "Keep-Alive"), ("Accept-Encoding", "gzip")]
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    reqs = []

    # -- phase 1: no Mi account, no Mi Cloud; plain HTTP ---------------------------------
    reqs.append(Req(
        "p1-contact-lookup", "1", "http", XIAOMI, "GET",
        f"/pass/user@id?type=MXPH&externalId={national(CONTACT)}", android,
        expect={hit("contact", "plain", "url")}))
    # The same lookup with the number as the contact was stored ("raw" in the decompiled
    # code), percent-encoded as Android's Uri.Builder does: 139%202506%207731.
    reqs.append(Req(
        "p1-contact-lookup-as-stored", "1", "http", XIAOMI, "GET",
        "/pass/user@id?" + urllib.parse.urlencode(
            {"type": "MXPH", "externalId": CONTACT_AS_STORED}, quote_via=urllib.parse.quote),
        android, expect={hit("contact", "url", "url")}))
    reqs.append(Req(
        "p1-sms-peer-lookup", "1", "http", XIAOMI, "GET",
        f"/pass/user@id?type=MXPH&externalId={SMS_PEER}", android,
        expect={hit("sms", "plain", "url")}))
    reqs.append(benign_orders())
    reqs.append(Req(
        "p1-activate", "1", "http", XIAOMI, "GET",
        f"/pass/activate/dev/{h16(IMEI)}/activating?imsi={h16(IMSI)}", android,
        expect={hit("imei", "sha1", "url", True, "base64url"),
                hit("imsi", "sha1", "url", True, "base64url")}))
    register = urllib.parse.urlencode([
        ("simOperatorName", CARRIER),   # China+Mobile
        ("deviceId", IMEI),
        ("line1Number", OWN),           # %2B86...
        ("address", SMS_PEER),          # %2B86...
        ("model", "2014011"),
        ("miuiVersion", "KHHCNBF5.0"),
        ("ts", "1408924861123"),
    ]).encode()
    reqs.append(Req(
        "p1-register", "1", "http", XIAOMI, "POST", "/mx/v2/device/register", android + form,
        register,
        expect={hit("carrier", "url", "body"), hit("imei", "plain", "body"),
                hit("phone", "url", "body"), hit("sms", "url", "body")}))
    reqs.append(Req(
        "p1-service-login", "benign", "http", XIAOMI, "GET",
        "/pass/serviceLogin?sid=micloud&_locale=zh_CN&_t=1408924862000"
        "&callback=https%3A%2F%2Fapi.account.xiaomi.com%2Fsts%3Fv%3D20140825", android))
    reqs.append(Req(
        "b-upload", "benign", "http", BENIGN, "POST", "/upload",
        android + [("Content-Type", "application/octet-stream")], os.urandom(8192)))

    # -- phase 2: Mi Cloud on; plain HTTP, gzip-compressed chunked JSON ------------------
    doc = compact_json({"imsi": IMSI, "imei": IMEI, "phone": OWN, "micloud": True,
                        "sid": "micloud", "ts": 1408925000123})
    reqs.append(Req(
        "p2-cloud-activate", "2", "http", XIAOMI, "POST", "/mic/cloudmsg/v2/activate",
        android + [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("X-Device-Id", md5_hex(IMEI)),
            ("Cookie", f"serviceToken={b64(os.urandom(48))}; userId=1502837461"),
        ],
        gzip.compress(doc), chunk=40,
        expect={hit("imsi", "plain", "body"), hit("imei", "plain", "body"),
                hit("phone", "plain", "body"), hit("imei", "md5", "header", False, "hex")}))
    reqs.append(Req(
        "b-sync", "benign", "http", BENIGN, "POST", "/sync",
        android + [("Content-Type", "application/json")],
        compact_json({"blob": b64(os.urandom(3000)),
                      "blobUrl": base64.urlsafe_b64encode(os.urandom(600)).decode(),
                      "seq": 20140825, "ts": 1408925100456})))
    reqs.append(Req(
        "b-tls", "benign", "https", BENIGN, "GET", "/config?v=2014082501&ts=1408925200",
        android))

    # -- phase 3: after the fix: the same data, base64, over TLS -------------------------
    reqs.append(Req(
        "p3-contact-lookup", "3", "https", XIAOMI, "GET",
        f"/pass/user@id?type=MXPH&externalId={urllib.parse.quote(b64(CONTACT.encode()))}",
        android))
    reqs.append(Req(
        "p3-cloud-activate", "3", "https", XIAOMI, "POST", "/mic/cloudmsg/v3/activate",
        android + [("Content-Type", "text/plain")],
        b64(compact_json({"imsi": IMSI, "imei": IMEI, "phone": OWN, "carrier": CARRIER,
                          "address": SMS_PEER, "externalId": CONTACT})).encode()))

    reqs.append(Req(
        "b-xiaomi-report", "benign", "http", XIAOMI, "POST", "/mic/status/v2/report",
        android + form,
        urllib.parse.urlencode([("data", b64(os.urandom(1500))), ("v", "2"),
                                ("ts", "1408925300789")]).encode()))
    # The phone of 2014 had IPv4 only; later phases take what the resolver lists first.
    for r in reqs:
        if r.phase == "1" or r.name in ("b-orders", "p1-service-login"):
            r.family = 4
    return reqs


def benign_orders() -> Req:
    """Numbers that are not identifiers, including near misses of the configured ones."""
    assert not luhn_ok("867451023891466")
    body = compact_json({
        "orderId": "2014082512345678",
        "orderNo": "2138117340527",             # the own number's digits inside a longer one
        "price": "12.99", "total": "1380.00", "currency": "CNY", "qty": 3,
        "ts": 1408924800123, "createdAt": "2014-08-25T10:40:00+08:00",
        "contactPhone": "+8613811734053",       # one digit off the own number
        "courierPhone": "139-2506-7732",        # one digit off the contact, with dashes
        "hotline": "400-820-5555",
        "tracking": "867451023891466",          # 15 digits, TAC-like, fails Luhn
        "coupon": "MI2014AUG25",
    })
    return Req("b-orders", "benign", "http", BENIGN, "POST", "/api/v1/orders",
               [("User-Agent", UA), ("Content-Type", "application/json")], body)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


ENCRYPTED = ("encrypted-flow", "tls")

# The (kind, encoding, host, company) of every finding the run must produce, and no other.
EXPECTED_SET = {
    # phase 1
    ("contact", "plain", XIAOMI, VENDOR),    # externalId=<national> in the lookup URL
    ("contact", "url", XIAOMI, VENDOR),      # externalId=139%202506%207731
    ("sms", "plain", XIAOMI, VENDOR),        # externalId=+86... in the lookup URL
    ("imei", "sha1", XIAOMI, VENDOR),        # H(IMEI) in the activation path, truncated
    ("imsi", "sha1", XIAOMI, VENDOR),        # H(IMSI) in the activation query, truncated
    ("carrier", "url", XIAOMI, VENDOR),      # simOperatorName=China+Mobile
    ("imei", "plain", XIAOMI, VENDOR),       # deviceId= (and phase 2's JSON)
    ("phone", "url", XIAOMI, VENDOR),        # line1Number=%2B86...
    ("sms", "url", XIAOMI, VENDOR),          # address=%2B86...
    # phase 2
    ("imsi", "plain", XIAOMI, VENDOR),
    ("phone", "plain", XIAOMI, VENDOR),
    ("imei", "md5", XIAOMI, VENDOR),         # X-Device-Id: md5 hex
    # phase 3
    ("encrypted-flow", "tls", XIAOMI, VENDOR),
}

FINDING_KEYS = {
    "ts", "flow", "app", "proto", "src", "dst", "host", "host_source", "company", "category",
    "kind", "encoding", "digest_form", "truncated", "where", "direction", "confidence",
    "evidence",
}
KINDS = {"imei", "imsi", "iccid", "phone", "carrier", "android_id", "ad_id", "serial", "mac",
         "email", "contact", "sms", "location", "encrypted-flow"}


def parse_findings(text: str) -> list[dict]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"findings.jsonl line {n}: {line[:400]}"
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"{where} is not JSON ({e})") from None
        missing = FINDING_KEYS - rec.keys()
        assert not missing, f"missing {sorted(missing)} in {where}"
        parse_time(rec["ts"])
        parse_endpoint(rec["src"])
        parse_endpoint(rec["dst"])
        assert rec["kind"] in KINDS, where
        assert rec["confidence"] in ("exact", "probable"), where
        assert rec["where"] in ("url", "header", "cookie", "body", "payload"), where
        assert isinstance(rec["truncated"], bool), where
        assert rec["host_source"] in (None, "dns", "sni", "quic", "http"), where
        out.append(rec)
    return out


def identifier_strings() -> list[str]:
    """Every configured value, and every encoded form the phone sends of it in full."""
    vals = [IMEI, IMSI, CARRIER, CONTACT_NAME, SMS_TEXT, "China+Mobile",
            CONTACT_AS_STORED, urllib.parse.quote(CONTACT_AS_STORED),
            h16(IMEI), h16(IMSI), md5_hex(IMEI), md5_hex(IMEI)[:12]]
    for num in (OWN, CONTACT, SMS_PEER):
        vals += [num, num[1:], national(num), urllib.parse.quote(num, safe="")]
    return vals


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud(topo):
    """dnsmasq for both names, the HTTP/HTTPS server, and a certificate for both names."""
    d = topo.workdir / "redmi"
    d.mkdir()
    cert, key = d / "cert.pem", d / "key.pem"
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={XIAOMI}",
        "-addext", f"subjectAltName=DNS:{XIAOMI},DNS:{BENIGN}"])
    dns_log = d / "dnsmasq-queries.log"
    topo.start("dnsmasq-redmi", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--bind-interfaces", f"--listen-address={CLOUD_V4}",
        f"--listen-address={CLOUD_V6}", "--port=53", "--user=root", "--group=root",
        "--pid-file=", "--local=/test/", "--local=/xiaomi.com/",
        f"--host-record={XIAOMI},{CLOUD_V4},{CLOUD_V6}",
        f"--host-record={BENIGN},{CLOUD_V4},{CLOUD_V6}",
        "--log-queries", f"--log-facility={dns_log}", "--cache-size=0",
    ], listen=[("udp", 53), ("tcp", 53)])
    server_log = d / "requests.jsonl"
    topo.start("redmi-cloud", [PY, SERVERS / "redmi_cloud.py", server_log, cert, key,
                               CLOUD_V4, CLOUD_V6], listen=[("tcp", 80), ("tcp", 443)])
    return SimpleNamespace(dir=d, cert=cert, server_log=server_log, dns_log=dns_log)


class Capture:
    """tshark on the host namespace's end of the veth: what the monitor relays upstream."""

    def __init__(self, topo, path: Path):
        self.path = path
        # Logs to PATH with the suffix .log.
        self.proc = spawn(path.stem, topo.host, ["tshark", "-n", "-i", topo.veth_host, "-w", path],
                          path.parent, env=clean_env())
        self.log = self.proc.log
        try:
            wait_until("tshark capturing", lambda: b"Capturing on" in self.log.read_bytes(), 20,
                       procs=[self.proc])
        except RuntimeError:
            self.proc.stop()
            raise

    def stop(self) -> None:
        if self.proc.alive():
            # On SIGINT tshark writes out what it captured and exits.
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stop()
        assert self.path.is_file() and self.path.stat().st_size > 0, tail(self.log)


@pytest.fixture(scope="module")
def replay(topo, runner, cloud, tmp_path_factory):
    d = tmp_path_factory.mktemp("redmi")
    ids = d / "ids.toml"
    ids.write_text(IDS_TOML)
    plan = make_plan()
    plan_file = d / "plan.json"
    plan_file.write_text(json.dumps([
        {"name": r.name, "scheme": r.scheme, "host": r.host, "port": r.port,
         "raw_b64": b64(r.raw()), "cafile": str(cloud.cert), "family": r.family}
        for r in plan]))
    cap = Capture(topo, d / "veth.pcapng")
    try:
        res = runner.run([PY, CLIENTS / "redmi_phone.py", plan_file], timeout=60,
                         watch_args=["--ids", ids])
        # Let the last FIN/ACKs reach the capture.
        time.sleep(0.3)
    finally:
        cap.stop()
    assert res.returncode == 0, res.describe()
    results = res.json()
    assert [r["name"] for r in results] == [r.name for r in plan], results
    out = SimpleNamespace(plan=plan, by_name={r.name: r for r in plan}, results=results,
                          res=res, ids=ids, capture=cap.path, workdir=d, cloud=cloud)
    out.server = [json.loads(line) for line in cloud.server_log.read_text().splitlines()]
    if runner.watched:
        out.findings = parse_findings((res.out_dir / "findings.jsonl").read_text())
        out.flows = res.flows()
    return out


def needs_monitor(runner):
    if not runner.watched:
        pytest.skip("no monitor, no findings (PHONEHOME_E2E_DIRECT=1)")


def describe(findings) -> str:
    return "\n".join(json.dumps(f, sort_keys=True) for f in findings) or "<none>"


def request_of(replay, finding) -> str | None:
    """The plan request whose connection the finding's flow is (by its addresses)."""
    src, dst = parse_endpoint(finding["src"]), parse_endpoint(finding["dst"])
    for r in replay.results:
        local = (ipaddress.ip_address(r["local"][0]), r["local"][1])
        peer = (ipaddress.ip_address(r["peer"][0]), r["peer"][1])
        if (local, peer) == (src, dst):
            return r["name"]
    return None


def fine(f) -> tuple:
    return (f["kind"], f["encoding"], f["where"], f["truncated"], f["digest_form"])


# -- the phone's traffic really is what the expectations describe ------------------------


def test_every_request_arrived_as_sent(replay):
    """The cloud server got every request, in order, with the bytes the plan holds (so
    the expectations below are about traffic that really left the phone)."""
    assert all(r["status"] == 200 for r in replay.results), replay.results
    got = [(e["method"], e["target"], e["body_sha256"], e["tls"]) for e in replay.server]
    want = [(r.method, r.target, hashlib.sha256(r.body).hexdigest(), r.scheme == "https")
            for r in replay.plan]
    assert got == want
    for res, r in zip(replay.results, replay.plan):
        if r.family:
            assert ipaddress.ip_address(res["peer"][0]).version == r.family, res
    for entry, r in zip(replay.server, replay.plan):
        headers = {k.lower(): v for k, v in entry["headers"]}
        assert headers["host"] == r.host
        if r.scheme == "https":
            assert entry["sni"] == r.host, entry
    # The decompiled shapes, literally.
    by = replay.by_name
    assert by["p1-contact-lookup"].target == "/pass/user@id?type=MXPH&externalId=13925067731"
    assert by["p1-contact-lookup-as-stored"].target == (
        "/pass/user@id?type=MXPH&externalId=139%202506%207731")
    assert by["p1-activate"].target == (
        f"/pass/activate/dev/{h16(IMEI)}/activating?imsi={h16(IMSI)}")
    assert len(h16(IMEI)) == 16 and "=" not in h16(IMEI)
    p2 = [e for e in replay.server if e["target"] == "/mic/cloudmsg/v2/activate"][0]
    assert json.loads(gzip.decompress(base64.b64decode(p2["body_b64"])))["imsi"] == IMSI
    assert b"Transfer-Encoding: chunked" in by["p2-cloud-activate"].raw()


def test_names_resolved_through_the_monitor(replay, runner):
    """The phone looked both names up with its default resolver (the monitor), and the
    questions reached dnsmasq from the host namespace."""
    needs_monitor(runner)
    log = replay.cloud.dns_log.read_text()
    for name in (XIAOMI, BENIGN):
        assert f"{name} from {harness.HOST_V4}" in log, log[-2000:]


# -- findings of the watched run ---------------------------------------------------------


def test_findings_are_exactly_the_expected_set(replay, runner):
    needs_monitor(runner)
    got = {(f["kind"], f["encoding"], f["host"], f["company"]) for f in replay.findings}
    union = {(k, e, XIAOMI, VENDOR) for r in replay.plan for (k, e, *_) in r.expect}
    assert union | {(*ENCRYPTED, XIAOMI, VENDOR)} == EXPECTED_SET  # the plan agrees
    assert got == EXPECTED_SET, (
        f"missing: {sorted(EXPECTED_SET - got)}\nunexpected: {sorted(got - EXPECTED_SET)}\n"
        f"findings:\n{describe(replay.findings)}")


@pytest.mark.parametrize("name", [r.name for r in make_plan()])
def test_each_request_has_exactly_its_findings(replay, runner, name):
    """Per request (= per connection): the exact (kind, encoding, where, truncated,
    digest_form) of each finding, once each; benign requests and TLS to benign.test have
    none; TLS to Xiaomi has one encrypted-flow finding."""
    needs_monitor(runner)
    req = replay.by_name[name]
    mine = [f for f in replay.findings if request_of(replay, f) == name]
    if req.scheme == "https" and req.host == XIAOMI:
        want = [hit("encrypted-flow", "tls", "payload")]
    else:
        want = sorted(req.expect, key=repr)
    got = sorted((fine(f) for f in mine), key=repr)
    assert got == want, (
        f"request {name}:\n{req.raw()[:600]!r}\nexpected: {want}\ngot:\n{describe(mine)}")


def test_every_finding_belongs_to_a_request_and_its_flow(replay, runner):
    needs_monitor(runner)
    flows = {f["flow"]: f for f in replay.flows}
    for f in replay.findings:
        name = request_of(replay, f)
        assert name is not None, f"finding from no request's connection:\n{describe([f])}"
        req = replay.by_name[name]
        res = next(r for r in replay.results if r["name"] == name)
        assert f["flow"] in flows, f"flow {f['flow']} not in flows.jsonl: {f}"
        rec = flows[f["flow"]]
        assert (rec["src"], rec["dst"]) == (f["src"], f["dst"]), (rec, f)
        assert parse_endpoint(f["dst"]) == (ipaddress.ip_address(res["peer"][0]), req.port), f
        assert f["proto"] == "tcp", f
        assert f["direction"] == "out", f
        assert f["confidence"] == "exact", f
        assert f["host"] == XIAOMI and f["company"] == VENDOR and f["category"] == CATEGORY, f
        assert rec.get("host") == XIAOMI, rec


def test_no_false_positives(replay, runner):
    """Benign traffic (random bodies, base64 of random bytes, prices, timestamps, order
    numbers, near misses, a non-Luhn 15-digit number, benign.test over HTTP and TLS)
    produces nothing, and nothing is merely probable."""
    needs_monitor(runner)
    def benign(f):
        name = request_of(replay, f)
        return name is None or replay.by_name[name].phase == "benign"

    bad = [f for f in replay.findings
           if f["host"] != XIAOMI or f["confidence"] != "exact" or benign(f)]
    assert not bad, describe(bad)


def test_encrypted_flows_after_the_fix(replay, runner):
    """Phase 3: one encrypted-flow finding per TLS connection to api.account.xiaomi.com,
    named by SNI, tagged Xiaomi/cloud-messaging, with the flow's bytes and times."""
    needs_monitor(runner)
    enc = [f for f in replay.findings if f["kind"] == "encrypted-flow"]
    tls_xiaomi = [r.name for r in replay.plan if r.scheme == "https" and r.host == XIAOMI]
    assert sorted(request_of(replay, f) or "?" for f in enc) == sorted(tls_xiaomi), describe(enc)
    flows = {f["flow"]: f for f in replay.flows}
    for f in enc:
        assert f["encoding"] == "tls" and f["host"] == XIAOMI, f
        assert f["host_source"] == "sni", f
        assert (f["company"], f["category"]) == (VENDOR, CATEGORY), f
        assert f["digest_form"] is None and f["truncated"] is False, f
        assert isinstance(f["bytes_out"], int) and f["bytes_out"] > 0, f
        assert isinstance(f["bytes_in"], int) and f["bytes_in"] > 0, f
        rec = flows[f["flow"]]
        assert (f["bytes_out"], f["bytes_in"]) == (rec["bytes_out"], rec["bytes_in"]), (f, rec)
        assert parse_time(f["start"]) <= parse_time(f["end"]), f
        req = replay.by_name[request_of(replay, f)]
        assert f["bytes_out"] > len(req.raw()), (f, "less than the request itself")


def test_evidence_is_masked(replay, runner):
    """No identifier, nor any encoded form the phone sent of it, appears in full
    anywhere in findings.jsonl or in the SQLite findings."""
    needs_monitor(runner)
    text = (replay.res.out_dir / "findings.jsonl").read_text().lower()
    for f in replay.findings:
        assert "*" in f["evidence"] or f["kind"] == "encrypted-flow", f
    leaks = [v for v in identifier_strings() if v.lower() in text]
    assert not leaks, f"findings.jsonl holds {leaks} in full"
    db = sqlite_findings(replay.res.out_dir)
    dump = json.dumps(db).lower()
    leaks = [v for v in identifier_strings() if v.lower() in dump]
    assert not leaks, f"phonehome.sqlite findings hold {leaks} in full"


def sqlite_findings(out_dir: Path) -> list[dict]:
    db = sqlite3.connect(out_dir / "phonehome.sqlite")
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM findings")]
    finally:
        db.close()


def test_sqlite_holds_the_same_findings(replay, runner):
    needs_monitor(runner)
    rows = sqlite_findings(replay.res.out_dir)
    assert len(rows) == len(replay.findings), (len(rows), describe(replay.findings))
    got = collections.Counter((r["flow"], r["kind"], r["encoding"], r["host"], r["company"])
                              for r in rows)
    want = collections.Counter((f["flow"], f["kind"], f["encoding"], f["host"], f["company"])
                               for f in replay.findings)
    assert got == want


# -- phonehome analyze over a capture of the same traffic --------------------------------


@pytest.fixture(scope="module")
def analyzed(replay):
    out = replay.workdir / "analyze"
    proc = subprocess.run(
        [str(harness.PHONEHOME_BIN), "analyze", "--ids", str(replay.ids), "--out", str(out),
         str(replay.capture)],
        capture_output=True, text=True, timeout=60, env=clean_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"analyze exited {proc.returncode}: {proc.stderr}"
    return SimpleNamespace(findings=parse_findings((out / "findings.jsonl").read_text()),
                           stderr=proc.stderr, out=out)


def test_analyze_of_a_capture_finds_the_same(replay, runner, analyzed):
    """The plaintext phases (1, 2) through `phonehome analyze` on a tshark capture of the
    relayed traffic give the expected (kind, encoding, host) set (host named by the HTTP
    Host header or DNS there), and the same findings per place as the live run; nothing
    at benign.test, nothing probable."""
    needs_monitor(runner)
    plain = [f for f in analyzed.findings if f["kind"] != "encrypted-flow"]
    live = [f for f in replay.findings if f["kind"] != "encrypted-flow"]
    got = {(f["kind"], f["encoding"], f["host"]) for f in plain}
    want = {(k, e, h) for (k, e, h, _) in EXPECTED_SET if k != "encrypted-flow"}
    assert got == want, (f"missing: {sorted(want - got)}\nunexpected: {sorted(got - want)}\n"
                         f"analyze: {analyzed.stderr}\n{describe(plain)}")
    key = lambda f: (*fine(f), f["host"], f["company"], f["confidence"])  # noqa: E731
    assert collections.Counter(map(key, plain)) == collections.Counter(map(key, live)), (
        f"analyze:\n{describe(plain)}\nwatch:\n{describe(live)}")


def test_analyze_reports_the_encrypted_flows(replay, runner, analyzed):
    """The TLS connections to Xiaomi in the capture are encrypted-flow findings too."""
    needs_monitor(runner)
    enc = [f for f in analyzed.findings if f["kind"] == "encrypted-flow"]
    n = sum(1 for r in replay.plan if r.scheme == "https" and r.host == XIAOMI)
    assert len(enc) == n, describe(analyzed.findings)
    for f in enc:
        assert (f["host"], f["host_source"], f["company"]) == (XIAOMI, "sni", VENDOR), f
        assert f["bytes_out"] > 0, f
