"""Issue 16: the company behind a destination, through a CNAME that hides it.

dnsmasq (Debian's, in the cloud namespace) answers `metrics.weather.test`, a name under
the app's own domain, with a CNAME to `weather.onelink.me` (AppsFlyer's link domain in
the catalog), and `t.appsflyer.com` directly. curl, under `watch --ids`, sends the
advertising ID of lab/ids.toml to both (nginx answers). The findings must name AppsFlyer
(attribution) as the receiver, third party, and say which alias named it; `phonehome
report` groups both destinations under AppsFlyer.

The same dnsmasq answers `metrics.gap.com` with an address only, as a resolver that
flattens CNAMEs does: the catalog (AdGuard's cname-trackers) knows that name as an alias
of Adobe's `gap.com.112.2o7.net`, so the advertising ID sent there is Adobe's (analytics),
third party, with that alias.

Two hosts no catalog names, of two customers under the `ltd.uk` registry
(`api.shop-one.ltd.uk`, `shop-two.ltd.uk`), get the ID too: their records carry the
registrable domain the core computed (`domain`), and `report` lists them as two
companies not in the catalog, one per domain, not one `ltd.uk`.
"""

import json
import subprocess

import pytest

from harness import CLOUD_V4, CLOUD_V6, CURL, DIRECT, IDS, PHONEHOME_BIN

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

AD_ID = "38400000-8cf0-11bd-b23e-10b96e40000d"  # lab/ids.toml
ALIAS = "metrics.weather.test"
TARGET = "weather.onelink.me"
DIRECT_HOST = "t.appsflyer.com"
CLOAKED = "metrics.gap.com"
CLOAKED_TARGET = "gap.com.112.2o7.net"
UNKNOWN = {"api.shop-one.ltd.uk": "shop-one.ltd.uk", "shop-two.ltd.uk": "shop-two.ltd.uk"}


@pytest.fixture(scope="module")
def cname_dns(topo):
    log = topo.workdir / "dnsmasq-cname.log"
    return topo.start("dnsmasq-cname", [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll", "--bind-interfaces", f"--listen-address={CLOUD_V4}",
        f"--listen-address={CLOUD_V6}", "--port=53", "--user=root", "--group=root",
        "--pid-file=", "--local=/test/", "--local=/onelink.me/", "--local=/appsflyer.com/", "--local=/gap.com/", "--local=/uk/",
        f"--host-record={TARGET},{CLOUD_V4},{CLOUD_V6}",
        f"--host-record={DIRECT_HOST},{CLOUD_V4},{CLOUD_V6}",
        f"--host-record={CLOAKED},{CLOUD_V4},{CLOUD_V6}",
        *[f"--host-record={host},{CLOUD_V4},{CLOUD_V6}" for host in UNKNOWN],
        f"--cname={ALIAS},{TARGET}",
        "--log-queries", f"--log-facility={log}", "--cache-size=0",
    ], listen=[("udp", 53), ("tcp", 53)])


@pytest.fixture(scope="module")
def run(runner, nginx, cname_dns):
    urls = [f"http://{host}/collect?advertising_id={AD_ID}" for host in (ALIAS, DIRECT_HOST, CLOAKED, *UNKNOWN)]
    res = runner.run(CURL + ["-4"] + ["-o", "/dev/null"] * len(urls) + urls, timeout=60,
                     watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    findings = [json.loads(line) for line in (res.out_dir / "findings.jsonl").read_text().splitlines()]
    return res, findings


def ad_id_finding(findings, host):
    got = [f for f in findings if f["kind"] == "ad_id" and f["host"] == host]
    assert len(got) == 1, findings
    return got[0]


def test_a_tracker_behind_a_cname_is_named_with_its_company_and_third_party(run):
    _, findings = run
    f = ad_id_finding(findings, ALIAS)
    assert (f["company"], f["category"], f["party"]) == ("AppsFlyer", "attribution", "third"), f
    assert f["cname"] == TARGET, f
    assert f["parent"] is None, f


def test_the_trackers_own_host_is_named_without_an_alias(run):
    _, findings = run
    f = ad_id_finding(findings, DIRECT_HOST)
    assert (f["company"], f["category"], f["party"]) == ("AppsFlyer", "attribution", "third"), f
    assert "cname" not in f, f


def test_a_cloaked_name_is_named_by_the_catalog_when_dns_shows_no_cname(run):
    _, findings = run
    f = ad_id_finding(findings, CLOAKED)
    assert (f["company"], f["category"], f["party"]) == ("Adobe", "analytics", "third"), f
    assert f["cname"] == CLOAKED_TARGET, f


def test_the_flow_records_carry_the_company_too(run):
    res, _ = run
    http = [r for r in res.flows() if r["dst"] == f"{CLOUD_V4}:80"]
    assert {r["host"] for r in http} == {ALIAS, DIRECT_HOST, CLOAKED, *UNKNOWN}, http
    for r in http:
        if r["host"] in UNKNOWN:
            assert (r["company"], r["domain"]) == (None, UNKNOWN[r["host"]]), r
            continue
        if r["host"] == CLOAKED:
            assert (r["company"], r["category"], r["party"]) == ("Adobe", "analytics", "third"), r
            continue
        assert (r["company"], r["category"], r["party"]) == ("AppsFlyer", "attribution", "third"), r


def test_report_groups_both_destinations_under_the_company(run):
    res, _ = run
    got = subprocess.run([str(PHONEHOME_BIN), "report", str(res.out_dir)], capture_output=True,
                         text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    out = got.stdout
    assert "AppsFlyer (attribution): from 1 app: curl\n" in out, out
    assert f"  -> {ALIAS} (third party, alias of {TARGET})\n" in out, out
    assert f"  -> {DIRECT_HOST} (third party)\n" in out, out
    assert f"  -> {CLOAKED} (third party, alias of {CLOAKED_TARGET})\n" in out, out
    assert AD_ID not in out


def test_hosts_no_catalog_names_carry_their_registrable_domain_and_report_keeps_them_apart(run):
    res, findings = run
    for host, domain in UNKNOWN.items():
        f = ad_id_finding(findings, host)
        assert (f["company"], f["domain"]) == (None, domain), f
    out = subprocess.run([str(PHONEHOME_BIN), "report", str(res.out_dir)], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    for host, domain in UNKNOWN.items():
        assert f"{domain} (company not in the catalog): from 1 app: curl\n  -> {host} (third party)\n" in out, out
    assert "\nltd.uk (company not in the catalog)" not in out, out


def test_watch_names_the_catalog_version_it_used(run):
    res, _ = run
    assert "companies named by the catalog 20" in res.stderr, res.stderr
