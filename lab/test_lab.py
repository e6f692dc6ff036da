"""The pure parts of lab.py, on outputs of `ss` and `ip netns list` seen on Debian 12."""

import lab


def test_ss_local_addresses():
    out = ("LISTEN 0      128    127.0.0.1:8001 0.0.0.0:*\n"
           "LISTEN 0      128            *:8000       *:*\n"
           "LISTEN 0      4096   [fd00:201::2]:80 [::]:*\n")
    assert lab.parse_ss_local(out) == {"127.0.0.1:8001", "*:8000", "[fd00:201::2]:80"}
    assert lab.parse_ss_local("") == set()


def test_stale_namespaces_are_those_of_runs_gone():
    listing = ("ph-host-100-1 (id: 3)\nph-cloud-100-1 (id: 4)\nph-phone-200-2\n"
               "ph-host-300-1\nphb-100-relay (id: 0)\nother-100-1\n")
    gone = lab.stale_namespaces(listing, r"^ph-[a-z]+-(?P<pid>\d+)-\d+\b", lambda pid: pid == 300)
    assert gone == ["ph-host-100-1", "ph-cloud-100-1", "ph-phone-200-2"]
    assert lab.stale_namespaces(listing, r"^phb-(?P<pid>\d+)-[a-z0-9]+\b",
                                lambda pid: False) == ["phb-100-relay"]


def test_missing_packages_once_each_sorted():
    have = {"ip"}
    pkgs = {"ip": "iproute2", "ss": "iproute2", "wrk": "wrk", "ab": "apache2-utils"}
    assert lab.missing_packages(pkgs, lambda t: t in have or None) == [
        "apache2-utils", "iproute2", "wrk"]


def test_child_env_has_no_proxies_and_sbin(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", "x")
    env = lab.child_env(EXTRA="1")
    assert not any(k.lower().endswith("_proxy") for k in env)
    assert "/usr/sbin" in env["PATH"].split(":") and env["EXTRA"] == "1"
