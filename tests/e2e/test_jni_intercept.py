"""Issue 13, the app's side: "See inside HTTPS" through the app's bridge class, from a
real JVM, over a real TUN.

`BridgeDriver` (android-app/src/test/java/org/phonehome/core) builds the configuration with
the app's own code (`Interception.of` for curl's uid, as the settings screen chooses it),
has the core make its CA (`NativeCore.caCertificate`, what the export screen shares) and
starts a session. Servers are verified against a directory holding the test CA as
`<hash>.0`, laid out as Android's system store is. curl in the phone namespace trusts the
exported CA and sends the IMEI over HTTPS/1.1 and HTTP/2 to nginx; a request to a server
whose certificate no root vouches for fails for curl too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from harness import CLOUD_V4, clean_env, sh
from jvm import needs_driver, reaped, start_driver, until_started
from test_jni import IMEI, PHONE, phone  # noqa: F401 (fixture)
from tlslab import BAD, GOOD, make_pki, nginx_tls_servers, resolve

pytestmark = needs_driver


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    made = make_pki(d)
    # Android's layout: one PEM file per CA, named by OpenSSL's subject hash.
    roots = d / "cacerts"
    roots.mkdir()
    digest = sh(["openssl", "x509", "-subject_hash", "-noout", "-in", made["test_ca"]]).stdout.strip()
    shutil.copy(made["test_ca"], roots / f"{digest}.0")
    made["roots"] = roots
    yield made
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def https(topo, pki):
    ok = 'location / { return 200 "ok\\n"; }'
    return topo.start_nginx("jni-nginx-tls", nginx_tls_servers(pki, ok), listen=[("tcp", 443)])


@pytest.fixture(scope="module")
def session(topo, phone, https, pki, tmp_path_factory):  # noqa: F811 (the imported fixture)
    ns, tun_fd = phone
    d = tmp_path_factory.mktemp("jni-intercept")
    ca_dir, exported = d / "files" / "ca", d / "phonehome-ca.pem"
    spare = os.open("/dev/null", os.O_RDONLY)
    pcap = os.open(d / "export.pcapng", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    args = [tun_fd, spare, pcap, d / "records", CLOUD_V4, IMEI, PHONE, ca_dir, pki["roots"], exported]
    with open(d / "jvm.stderr", "wb") as stderr, \
            reaped(start_driver(topo, args, (tun_fd, spare, pcap), stderr)) as jvm:
        for fd in (spare, pcap):
            os.close(fd)
        lines = until_started(jvm, d / "jvm.stderr")
        curl = ["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "20", "--cacert",
                str(exported)]
        curls = {
            "http1": curl + ["--http1.1", *resolve(GOOD), f"https://{GOOD}/register?imei={IMEI}"],
            "http2": curl + ["--http2", *resolve(GOOD), "-o", "/dev/null", "-w",
                             "%{http_version}", f"https://{GOOD}/h2?imei={IMEI}"],
            "bad": curl + [*resolve(BAD), f"https://{BAD}/"],
        }
        done = {k: subprocess.run(c, capture_output=True, text=True, timeout=30, env=clean_env())
                for k, c in curls.items()}
        rest, _ = jvm.communicate("stop 2\n", timeout=90)
        lines.extend(rest.splitlines(keepends=True))
    results = dict(line.rstrip("\n").partition("\t")[::2] for line in lines)
    results["_curls"] = done
    results["_stdout"] = "".join(lines)
    results["_stderr"] = (d / "jvm.stderr").read_text()
    results["_ca_dir"] = ca_dir
    results["_exported"] = exported.read_text()
    return results


def flows(s):
    return [f for f in json.loads(s["records.flows"]) if f.get("dst", "").endswith(":443")]


def test_the_configuration_names_the_ca_dir_and_only_curl_s_uid(session):
    intercept = json.loads(session["config.intercept"])
    assert intercept["apps"] == [10123]
    assert intercept["ca_dir"] == str(session["_ca_dir"])


def test_curl_trusting_the_exported_ca_gets_the_real_answers(session):
    http1, http2 = session["_curls"]["http1"], session["_curls"]["http2"]
    assert http1.returncode == 0 and http1.stdout == "ok\n", http1.stderr
    assert http2.returncode == 0 and http2.stdout == "2", http2.stderr


def test_the_imei_inside_https_is_found_and_marked_intercepted(session):
    findings = [f for f in json.loads(session["records.findings"]) if f["kind"] == "imei"]
    assert findings, session["records.findings"]
    assert {f["tls"] for f in findings} == {"intercepted"}
    assert {f["app"] for f in findings} == {"org.example.curl"}
    assert {f["where"] for f in findings} >= {"url"}
    marked = [f for f in flows(session) if f.get("host") == GOOD]
    assert len(marked) == 2 and {f["tls"] for f in marked} == {"intercepted"}, marked


def test_a_server_no_system_root_vouches_for_fails_for_the_app_too(session):
    bad = session["_curls"]["bad"]
    assert bad.returncode != 0, bad.stdout
    rejected = [f for f in flows(session) if f.get("host") == BAD]
    assert [f["tls"] for f in rejected] == ["upstream-rejected"], rejected


def test_the_export_is_the_certificate_and_the_key_stays_owner_only(session):
    assert session["_exported"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in session["_exported"]
    key = session["_ca_dir"] / "ca.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    for printed in (session["_stdout"], session["_stderr"]):
        assert "PRIVATE KEY" not in printed
