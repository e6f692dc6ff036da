"""Test 3: DNS through the resolver the watched program is given reaches dnsmasq in the
cloud namespace, and the answers come back right."""

import re
import time

import pytest

from harness import CLOUD_V4, CLOUD_V6, HOST_V4

DIG = ["dig", "+time=2", "+tries=2", "+nocookie"]


def answers(out: str, rtype: str) -> list[str]:
    return re.findall(rf"^cloud\.test\.\s+\d+\s+IN\s+{rtype}\s+(\S+)\s*$", out, re.M)


def server_used(out: str) -> str:
    m = re.search(r"^;; SERVER: ([0-9a-fA-F:.]+)#53\b", out, re.M)
    assert m, f"no SERVER line in dig output:\n{out}"
    return m.group(1)


def log_size(log):
    return log.stat().st_size if log.exists() else 0


def wait_logged(log, needle, since, timeout=5):
    """Whether `needle` appears in the log after byte offset `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and needle in log.read_text()[since:]:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("rtype,want", [("A", CLOUD_V4), ("AAAA", CLOUD_V6)])
def test_dig_default_resolver(runner, dns_server, rtype, want):
    since = log_size(dns_server.query_log)
    res = runner.run(DIG + ["cloud.test", rtype], timeout=30)
    assert res.returncode == 0, res.describe()
    assert "status: NOERROR" in res.stdout, res.stdout
    assert answers(res.stdout, rtype) == [want], res.stdout
    # dig asked the first resolv.conf nameserver: the monitor's, when watched.
    assert server_used(res.stdout) == runner.resolvers[0], res.stdout
    # ...and the question really reached dnsmasq in the cloud namespace, from the host
    # namespace (where the monitor's own sockets live).
    assert wait_logged(dns_server.query_log, f"query[{rtype}] cloud.test from {HOST_V4}", since), \
        dns_server.query_log.read_text()[-2000:]


def test_unknown_name_is_nxdomain(runner, dns_server):
    res = runner.run(DIG + ["nothing-here.test", "A"], timeout=30)
    assert res.returncode == 0, res.describe()
    assert "status: NXDOMAIN" in res.stdout, res.stdout


def test_every_resolv_conf_nameserver_answers(runner, dns_server):
    """Both of the watched namespace's nameservers (IPv4 and IPv6) answer."""
    res = runner.run(["cat", "/etc/resolv.conf"], timeout=30)
    assert res.returncode == 0, res.describe()
    servers = re.findall(r"^\s*nameserver\s+(\S+)", res.stdout, re.M)
    assert servers == runner.resolvers, res.stdout
    for ns in servers:
        r = runner.run(DIG + [f"@{ns}", "cloud.test", "A"], timeout=30)
        assert r.returncode == 0, r.describe()
        assert answers(r.stdout, "A") == [CLOUD_V4], r.stdout


@pytest.mark.parametrize("port", [853, 443])
def test_other_ports_of_the_monitor_dns_address_are_refused(runner, dns_server, port):
    """Android's opportunistic Private DNS first tries DNS-over-TLS on port 853 of the VPN's
    DNS server; a refusal (not a silent timeout) sends it back to port 53 at once."""
    if not runner.watched:
        pytest.skip("the monitor's own address exists only under watch")
    for server in runner.resolvers:
        host = f"[{server}]" if ":" in server else server
        res = runner.run(["curl", "-sS", "--connect-timeout", "20", f"telnet://{host}:{port}"],
                         timeout=40)
        assert res.returncode == 7, res.describe()  # 7: could not connect
        tcp = [f for f in res.flows() if f["proto"] == "tcp"]
        assert [f["close"] for f in tcp] == ["refused"], tcp


# Upstream resolvers that cannot answer. The monitor's answer must come long before
# dig's own 20 s wait: dig then prints the status instead of "timed out".
# - a closed port of the cloud namespace: ICMP port unreachable (ECONNREFUSED);
# - an address of the shared link where no host is: no ARP reply, host unreachable
#   (EHOSTUNREACH) after the kernel's ~3 s of neighbour probes;
# - an address with no route at all (TEST-NET-1): ENETUNREACH as the socket connects;
# - a port where a server reads but never answers: only the monitor's timeout helps.
SILENT_PORT = 5399


@pytest.fixture(scope="module")
def silent_dns(topo):
    """A UDP socket on both families of the cloud namespace that swallows every query."""
    code = ("import socket, time\n"
            "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
            f"s.bind(('::', {SILENT_PORT}))\n"
            "while True:\n"
            "    s.recv(65536)\n")
    return topo.start("silent-dns", ["python3", "-c", code], listen=[("udp", SILENT_PORT)])


@pytest.mark.parametrize("upstream", [
    f"{CLOUD_V4}:5353",
    f"[{CLOUD_V6}]:5353",
    "10.201.0.99",
    "192.0.2.1",
    f"{CLOUD_V4}:{SILENT_PORT}",
])
def test_unreachable_upstream_resolver_answers_servfail(runner, silent_dns, upstream):
    if not runner.watched:
        pytest.skip("the monitor's resolver exists only under watch")
    res = runner.run(["dig", "+tries=1", "+time=20", "+nocookie", "cloud.test", "A"],
                     timeout=60, dns=upstream)
    assert "status: SERVFAIL" in res.stdout, res.describe()
    assert res.returncode == 0, res.describe()
    # The question is echoed, and the answer came from the monitor's resolver.
    assert re.search(r"^;cloud\.test\.\s+IN\s+A\s*$", res.stdout, re.M), res.stdout
    assert server_used(res.stdout) == runner.resolvers[0], res.stdout
    # dig tries the next nameserver after a SERVFAIL; every query was to the monitor.
    udp = [f for f in res.flows() if f["proto"] == "udp"]
    assert udp and all(f["dst"].endswith(":53") for f in udp), udp
