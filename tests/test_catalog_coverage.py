"""The catalog's precision sample holds (tests/coverage/precision.tsv), and the check
would catch a first-party or CDN host named as a tracker. The coverage figures themselves
are measured, not asserted: python3 tests/coverage/coverage.py prints them."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "coverage"))
import coverage  # noqa: E402


def test_no_first_party_or_cdn_host_is_named_as_a_tracker_and_the_draw_is_as_checked():
    entries, version = coverage.load_catalog(coverage.CATALOG)
    assert version, "catalog.txt names its version"
    adaway = coverage.hosts_of(os.path.join(coverage.HERE, "adaway-hosts.txt"))
    assert coverage.check_precision(entries, adaway) == []


def test_the_check_fails_when_a_cdn_is_named_as_a_tracker(tmp_path):
    entries, _ = coverage.load_catalog(coverage.CATALOG)
    entries["cloudfront.net"] = ("Some Tracker", "analytics")
    adaway = coverage.hosts_of(os.path.join(coverage.HERE, "adaway-hosts.txt"))
    problems = coverage.check_precision(entries, adaway)
    assert any("cloudfront.net is named as a tracker" in p for p in problems), problems


def test_the_samples_were_not_used_to_build_the_catalog():
    build = open(os.path.join(os.path.dirname(coverage.CATALOG), "build.py")).read().lower()
    # webXray (Libert's crawler, whose owner list is an input) is not the X-Ray sample;
    # every other spelling of x-ray still fails this test.
    build = build.replace("webxray", "")
    for sample in ("perflyst", "adaway", "precision", "x-ray", "xray", "exodus", "trackercontrol", "app_samples"):
        assert sample not in build


def test_lookup_is_longest_suffix_on_label_boundaries():
    entries = {"example.com": ("A", "vendor"), "t.example.com": ("B", "analytics")}
    assert coverage.lookup(entries, "x.t.example.com") == ("B", "analytics")
    assert coverage.lookup(entries, "www.example.com.") == ("A", "vendor")
    assert coverage.lookup(entries, "notexample.com") is None


def test_app_samples_split_by_owner_and_compare_names_loosely():
    import app_samples

    # The split depends on the owner only: every host of a company is on one side.
    assert app_samples.half("AppsFlyer") == app_samples.half("AppsFlyer")
    halves = {app_samples.half(f"company {n}") for n in range(20)}
    assert halves == {"dev", "test"}
    assert app_samples.agrees("Nielsen", "-", ["eXelate", "Nielsen Holdings"])
    assert app_samples.agrees("Crashlytics", "Google > Alphabet", ["Alphabet"])
    assert not app_samples.agrees("Adjust", "AppLovin", ["AppsFlyer"])


def test_exodus_is_split_by_tracker_so_one_sdks_hosts_stay_on_one_side():
    import app_samples

    data = {
        "trackers": {
            str(n): {"name": f"SDK {n}", "network_signature": f"a{n}\\.example\\.com|b{n}\\.example\\.net|.*regex"}
            for n in range(20)
        }
    }
    hosts = app_samples.exodus_hosts(data)
    # Plain host names only; a pattern that is not a host is not a sample.
    assert hosts["a3.example.com"] == "SDK 3" and len(hosts) == 40
    for n in range(20):
        assert app_samples.half(hosts[f"a{n}.example.com"]) == app_samples.half(hosts[f"b{n}.example.net"])
    assert {app_samples.half(t) for t in hosts.values()} == {"dev", "test"}


def test_the_check_fails_when_a_host_read_from_an_sdk_changes_owner():
    entries, _ = coverage.load_catalog(coverage.CATALOG)
    entries["applov.in"] = ("Someone Else", "advertising")
    adaway = coverage.hosts_of(os.path.join(coverage.HERE, "adaway-hosts.txt"))
    problems = coverage.check_precision(entries, adaway)
    assert any("p.applov.in: checked by hand ('AppLovin', 'advertising')" in p for p in problems), problems
