"""What the TLS interception tests share: a test CA made by openssl that certifies
cloud.test (and a self-signed certificate for bad.test), the monitor's own CA exported by
`phonehome ca export`, nginx's TLS server blocks for both, and readers of the records."""

import json
from pathlib import Path

from harness import CLOUD_V4, CLOUD_V6, IDS, PHONEHOME_BIN, sh

GOOD = "cloud.test"  # certified by the test CA
BAD = "bad.test"  # nginx answers it with a self-signed certificate


def make_pki(d: Path) -> dict:
    """The test CA, nginx's certificates, and the monitor's CA (exported) under `d`."""

    def openssl(*args):
        sh(["openssl", *args], timeout=60)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d / "test-ca.key", "-out", d / "test-ca.pem", "-days", "2",
            "-subj", "/CN=PhoneHome e2e test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d / "good.key", "-out", d / "good.csr", "-subj", f"/CN={GOOD}")
    (d / "good.ext").write_text(f"subjectAltName=DNS:{GOOD}\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", d / "good.csr", "-CA", d / "test-ca.pem", "-CAkey",
            d / "test-ca.key", "-CAcreateserial", "-out", d / "good.pem", "-days", "2",
            "-extfile", d / "good.ext")
    # Self-signed: no root vouches for it.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d / "bad.key", "-out", d / "bad.pem", "-days", "2", "-subj", f"/CN={BAD}",
            "-addext", f"subjectAltName=DNS:{BAD}")
    ca_dir = d / "phonehome-ca"
    export = d / "export"
    out = sh([PHONEHOME_BIN, "ca", "export", "--dir", export, "--ca-dir", ca_dir]).stdout
    assert "phonehome-ca.pem" in out and "phonehome-ca.der" in out, out
    return {"dir": d, "ca_dir": ca_dir, "ours": export / "phonehome-ca.pem",
            "der": export / "phonehome-ca.der", "test_ca": d / "test-ca.pem"}


def nginx_tls_servers(pki: dict, good_locations: str) -> str:
    """nginx server blocks on port 443 with HTTP/2: cloud.test with the test CA's
    certificate and `good_locations`, anything else with the self-signed one."""
    p = pki["dir"]
    return f"""
    server {{
        listen {CLOUD_V4}:443 ssl http2 default_server;
        listen [{CLOUD_V6}]:443 ssl http2 default_server;
        ssl_certificate {p}/bad.pem;
        ssl_certificate_key {p}/bad.key;
        location / {{ return 200 "bad\\n"; }}
    }}
    server {{
        listen {CLOUD_V4}:443 ssl http2;
        listen [{CLOUD_V6}]:443 ssl http2;
        server_name {GOOD};
        ssl_certificate {p}/good.pem;
        ssl_certificate_key {p}/good.key;
        {good_locations}
    }}"""


def intercepting(pki: dict) -> list:
    return ["--intercept", "--ca-dir", pki["ca_dir"], "--upstream-ca", pki["test_ca"],
            "--ids", IDS]


def resolve(name: str) -> list:
    return ["--resolve", f"{name}:443:{CLOUD_V4}"]


def records(out_dir: Path, name: str) -> list:
    path = out_dir / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tls_flows(out_dir: Path) -> list:
    return [f for f in records(out_dir, "flows.jsonl")
            if f["proto"] == "tcp" and f["dst"].endswith(":443")]
