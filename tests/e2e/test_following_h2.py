"""Issue 12, section 3, for HTTP/2: a server's bytes are followed for the whole
connection, not only its first 256 KiB.

Real clients speak h2c (cleartext HTTP/2 with prior knowledge: what `watch` sees without
interception) to a real nginx (`listen ... http2`), one connection each:

- nghttp (nghttp2-client) asks for 1.5 MiB, then for an answer that a proxied python
  server sends a second later holding the user's IMEI and e-mail: both are found,
  received (`direction: in`, `where: body`). (curl 7.88 cannot reuse an h2c connection:
  its second transfer fails with "Error in the HTTP2 framing layer", monitor or not.)
- curl downloads 200 MiB: it arrives intact (sha256), the inspection thread does not fall
  behind; and nghttp's late answer during such a download is still read.

Past each stream's scan limit the rest of its DATA frames is stepped over (their frame
headers are read; every header block is, for HPACK)."""

import hashlib
import json
import random

import pytest

from harness import CLOUD_V4, CLOUD_V6, CURL, DIRECT, IDS, PY, SERVERS

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

PORT, LATE_PORT = 8280, 8191
IMEI, EMAIL = "861234567890123", "someone@example.com"  # lab/ids.toml
FELL_BEHIND = "inspection fell behind"
H2C = CURL + ["--http2-prior-knowledge", "--fail"]
NGHTTP = ["nghttp", "--null-out", "--no-dep"]


@pytest.fixture(scope="module")
def h2c_server(topo):
    www = topo.workdir / "nginx-h2c-follow" / "www"
    www.mkdir(parents=True)
    rng = random.Random(78)
    (www / "earlier.bin").write_bytes(rng.randbytes(3 << 19))
    digest = hashlib.sha256()
    with open(www / "huge.bin", "wb") as f:
        for _ in range(200):
            block = rng.randbytes(1 << 20)
            digest.update(block)
            f.write(block)
    (www / "account.json").write_text(json.dumps(
        {"account": {"email": EMAIL, "device": {"imei": IMEI}}}) + "\n")
    topo.start("late-answers", [PY, SERVERS / "encoded_responses.py", LATE_PORT, IMEI, EMAIL],
               listen=[("tcp", LATE_PORT)])
    srv = topo.start_nginx("nginx-h2c-follow", f"""
    default_type application/json;
    server {{
        listen {CLOUD_V4}:{PORT} http2;
        listen [{CLOUD_V6}]:{PORT} http2;
        root {www};
        location = /account-late.json {{ proxy_pass http://{CLOUD_V4}:{LATE_PORT}; }}
    }}""", listen=[("tcp", PORT)])
    srv.sha256 = digest.hexdigest()
    yield srv
    (www / "huge.bin").unlink()


def received(res) -> set[tuple[str, str]]:
    text = (res.out_dir / "findings.jsonl").read_text()
    assert IMEI not in text and EMAIL not in text, "values never appear in the records"
    return {(f["kind"], f["where"]) for f in map(json.loads, text.splitlines())
            if f["direction"] == "in" and f["dst"] == f"{CLOUD_V4}:{PORT}"}


def test_an_h2c_answer_after_a_mebibyte_and_a_half_of_others_is_read(runner, h2c_server):
    base = f"http://{CLOUD_V4}:{PORT}"
    res = runner.run(NGHTTP + ["--stat", f"{base}/earlier.bin", f"{base}/account-late.json"],
                     timeout=120, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    assert received(res) == {("imei", "body"), ("email", "body")}, res.describe()
    assert FELL_BEHIND not in res.stderr, res.describe()
    flows = [json.loads(line) for line in (res.out_dir / "flows.jsonl").read_text().splitlines()]
    h2 = [f for f in flows if f["dst"] == f"{CLOUD_V4}:{PORT}"]
    assert len(h2) == 1 and h2[0]["bytes_in"] > 3 << 19, "one connection, the 1.5 MiB first"


def test_a_200_mib_h2c_download_arrives_intact_and_inspection_keeps_up(
        runner, h2c_server, tmp_path):
    base = f"http://{CLOUD_V4}:{PORT}"
    huge = tmp_path / "huge.bin"
    res = runner.run(H2C + ["-o", huge, f"{base}/huge.bin", "-w", "%{http_version}"],
                     timeout=300, watch_args=["--ids", IDS])
    try:
        assert (res.returncode, res.stdout) == (0, "2"), res.describe()
        digest = hashlib.sha256()
        with open(huge, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        assert digest.hexdigest() == h2c_server.sha256
    finally:
        huge.unlink(missing_ok=True)
    assert FELL_BEHIND not in res.stderr, res.describe()
    # The same download with an answer arriving a second into it, on the same connection.
    res = runner.run(NGHTTP + [f"{base}/huge.bin", f"{base}/account-late.json"],
                     timeout=300, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    assert FELL_BEHIND not in res.stderr, res.describe()
    assert received(res) == {("imei", "body"), ("email", "body")}, res.describe()
