"""Issue 13, first slice: `watch --intercept` decrypts TLS to port 443 with a per-install
CA, verifies the real server, and never breaks a refusing client twice.

nginx serves HTTPS (HTTP/1.1 and HTTP/2) in the cloud namespace with a certificate from
a test CA made here by openssl; the monitor trusts that CA for servers through
`--upstream-ca` (as it would the system's roots). curl is the client: with our exported
CA it is intercepted, with only the test CA it refuses us (as a pinning app does).
"""

import base64
import json
import os
import shutil

import pytest

from harness import CLIENTS, CURL, PY, sh
from tlslab import (BAD, GOOD, intercepting, make_pki, nginx_tls_servers, records, resolve,
                    tls_flows)

IMEI = "861234567890123"  # lab/ids.toml


# python3's urllib over TLS with our CA: POST {"imei": ...} and print the answer.
PY_POST = """
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
req = urllib.request.Request(sys.argv[2], data=json.dumps({"imei": sys.argv[3]}).encode(),
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, context=ctx, timeout=20).read().decode(), end="")
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The test CA, nginx's certificates, and the monitor's own CA exported."""
    d = tmp_path_factory.mktemp("pki")
    yield make_pki(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def https(topo, pki):
    """nginx on port 443: cloud.test with the test CA's certificate, anything else with the
    self-signed one; HTTP/2 and HTTP/1.1; every path answers `ok`."""
    ok = 'location / { return 200 "ok\\n"; }'
    return topo.start_nginx("nginx-tls", nginx_tls_servers(pki, ok), listen=[("tcp", 443)])


@pytest.fixture(scope="module")
def intercepted(runner, https, dns_server, pki):
    """One watch run, debug logging on: an HTTP/1.1 request carrying the IMEI, an HTTP/2
    request, a request to the server with the bad certificate, and python's urllib POSTing
    the IMEI in a JSON body (the name from DNS, the CA given to its ssl context)."""
    cmds = [
        CURL + ["--cacert", str(pki["ours"]), "--http1.1", *resolve(GOOD),
                f"https://{GOOD}/register?imei={IMEI}"],
        CURL + ["--cacert", str(pki["ours"]), "--http2", *resolve(GOOD), "-o", "/dev/null",
                "-w", "%{http_version}", f"https://{GOOD}/h2"],
        CURL + ["--cacert", str(pki["ours"]), *resolve(BAD), f"https://{BAD}/"],
        [PY, "-c", PY_POST, str(pki["ours"]), f"https://{GOOD}/upload", IMEI],
    ]
    saved = os.environ.get("RUST_LOG")
    os.environ["RUST_LOG"] = "debug"
    try:
        res = runner.run([PY, CLIENTS / "runmany.py", json.dumps(cmds)], timeout=120,
                         watch_args=intercepting(pki))
    finally:
        if saved is None:
            os.environ.pop("RUST_LOG", None)
        else:
            os.environ["RUST_LOG"] = saved
    assert res.returncode == 0, res.describe()
    return res, res.json()


def test_an_identifier_in_https_is_found_and_marked_intercepted(intercepted):
    res, (http1, _, _, _) = intercepted
    assert http1["rc"] == 0, http1["stderr"]
    assert http1["stdout"] == "ok\n", "curl must get the real server's answer"
    found = [f for f in records(res.out_dir, "findings.jsonl") if f["kind"] == "imei"]
    assert found, records(res.out_dir, "findings.jsonl")
    f = found[0]
    assert (f["tls"], f["host"], f["where"]) == ("intercepted", GOOD, "url"), f
    assert IMEI not in json.dumps(found), "findings hold masked evidence only"
    assert [fl["tls"] for fl in tls_flows(res.out_dir)].count("intercepted") == 3


def test_python_posting_the_imei_in_a_json_body_over_tls_is_found(intercepted):
    res, (_, _, _, py) = intercepted
    assert py["rc"] == 0 and py["stdout"] == "ok\n", py["stderr"]
    found = [f for f in records(res.out_dir, "findings.jsonl")
             if f["kind"] == "imei" and f["where"] == "body"]
    assert len(found) == 1, records(res.out_dir, "findings.jsonl")
    assert (found[0]["tls"], found[0]["host"]) == ("intercepted", GOOD), found[0]


def test_the_client_gets_the_servers_alpn_choice(intercepted):
    _, (_, h2, _, _) = intercepted
    assert h2["rc"] == 0, h2["stderr"]
    assert h2["stdout"] == "2", "nginx speaks h2, so curl must be answered h2"


def test_a_server_with_a_bad_certificate_fails_for_the_client_and_is_recorded(intercepted):
    res, (_, _, bad, _) = intercepted
    assert bad["rc"] != 0 and bad["stdout"] == "", bad
    rejected = [fl for fl in tls_flows(res.out_dir) if fl.get("tls") == "upstream-rejected"]
    assert len(rejected) == 1, tls_flows(res.out_dir)
    assert rejected[0]["host"] == BAD


def test_tshark_decrypts_the_capture_with_its_embedded_secrets_alone(intercepted):
    res, _ = intercepted
    capture = res.out_dir / "capture.pcapng"
    # An empty key log file setting: only the capture's Decryption Secrets Blocks count.
    out = sh(["tshark", "-r", capture, "-o", "tls.keylog_file:", "-Y", "http.request",
              "-T", "fields", "-e", "http.request.uri"], timeout=120).stdout
    assert f"/register?imei={IMEI}" in out.split(), out


def test_the_ca_key_is_in_no_record_and_no_log(intercepted, pki):
    res, _ = intercepted
    pem = (pki["ca_dir"] / "ca.key").read_text()
    assert oct((pki["ca_dir"] / "ca.key").stat().st_mode & 0o777) == "0o600"
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    # PKCS#8 of a P-256 key (RFC 5915 inside RFC 5208): the private scalar is the 32
    # bytes after `04 20` at offset 34.
    assert der[34:36] == b"\x04\x20", der[:40].hex()
    scalar = der[36:68]
    # Base64 characters 48 to 88 stand for bytes 36 to 66: the scalar in the PEM text.
    needles = [body[48:88].encode(), scalar[:16], scalar[16:], scalar.hex().encode()]
    for path in sorted(res.out_dir.iterdir()) + [pki["ours"], pki["der"]]:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"CA key material in {path.name}"
    assert body[48:88] not in res.stderr and scalar.hex() not in res.stderr
    assert "PRIVATE KEY" not in res.stderr


def test_a_client_that_refuses_our_ca_fails_once_then_passes_through(runner, https, pki):
    # This curl trusts the real server's CA only, as a pinning app trusts its key only.
    pinned = CURL + ["--cacert", str(pki["test_ca"]), "--http1.1", *resolve(GOOD),
                     f"https://{GOOD}/pinned"]
    res = runner.run([PY, CLIENTS / "runmany.py", json.dumps([pinned, pinned])], timeout=120,
                     watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    first, second = res.json()
    assert first["rc"] != 0, "the first attempt meets our certificate and refuses it"
    assert second["rc"] == 0 and second["stdout"] == "ok\n", second["stderr"]
    modes = [fl.get("tls") for fl in sorted(tls_flows(res.out_dir), key=lambda f: f["flow"])]
    assert modes == ["pinned", "passthrough"], tls_flows(res.out_dir)

    # A restarted monitor (same CA directory) remembers: the app does not break again.
    again = runner.run([PY, CLIENTS / "runmany.py", json.dumps([pinned])], timeout=120,
                       watch_args=intercepting(pki))
    assert again.returncode == 0, again.describe()
    (only,) = again.json()
    assert only["rc"] == 0 and only["stdout"] == "ok\n", only["stderr"]
    assert [fl.get("tls") for fl in tls_flows(again.out_dir)] == ["passthrough"]
