"""Issue 13, HTTP/2 and WebSocket inside intercepted TLS.

curl speaks h2 through `watch --intercept` to nginx, and what it sends in HPACK-compressed
header blocks (a custom header, a cookie, the path) and in DATA frames (a JSON body, gzip-
and zstd-encoded too) is found where it was sent, `tls: intercepted`, named by
`:authority`. Two requests on one connection: the first carries 190 headers (60 kB: under
curl's 64 KiB block bound, under the 200 lines tshark decodes) before the IMEI header, so
its header list is over the monitor's 64 KiB cap (as HTTP/2 counts it, 32 bytes a field
more) and the IMEI field goes into the HPACK table unread; the second (`curl --next`, same
connection) sends that field as a dynamic table index only (tshark says so): the finding
can only come from decoding the index. tshark decrypts the capture with its embedded
secrets alone.

A python3-websockets client trusting our CA (SSL_CERT_FILE) talks WebSocket over TLS to
nginx, which proxies it to a python3-websockets server: the IMEI it sends is found as
`websocket` out, and the e-mail address the server sends back as `websocket` in. Headless
Chromium with our CA in its NSS database loads a page over h2 whose image URL, fetch
header and fetch body carry the IMEI: all three are found. curl with
--http2-prior-knowledge (h2c, no TLS) is read the same way.
"""

import gzip
import json
import random
import shutil
import subprocess

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, CURL, DIRECT, IDS, PY, SERVERS, sh
from test_websocket import websockets_python
from tlslab import GOOD, intercepting, make_pki, nginx_tls_servers, records, resolve, tls_flows

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

IMEI, EMAIL = "861234567890123", "someone@example.com"  # lab/ids.toml
BODY = json.dumps({"imei": IMEI}).encode()
HTTP_PORT, WS_PORT, H2C_PORT, SINK_PORT = 8000, 8765, 8081, 8082
# Chromium's page: an image whose URL holds the IMEI, then a fetch with it in a header
# and in a JSON body; the page says DONE when the fetch is answered.
PAGE = f"""<!doctype html><html><body><img src="/pixel.gif?imei={IMEI}">
<script>
fetch("/beacon", {{method: "POST", headers: {{"X-Device-Imei": "{IMEI}",
  "Content-Type": "application/json"}}, body: JSON.stringify({{imei: "{IMEI}"}})}})
  .then(r => r.text()).then(() => {{ document.body.append("DONE"); }});
</script></body></html>
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    yield make_pki(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def ws_server(topo):
    """python3-websockets on WS_PORT (see servers/websocket_page.py): its first answer
    carries the e-mail address back."""
    return topo.start("websocket-page", [websockets_python(), SERVERS / "websocket_page.py",
                                         HTTP_PORT, WS_PORT, EMAIL, CLOUD_V4, CLOUD_V6],
                      listen=[("tcp", HTTP_PORT), ("tcp", WS_PORT), ("tcp", WS_PORT + 1)])


@pytest.fixture(scope="module")
def https(topo, pki, ws_server):
    """nginx with HTTP/2 on 443; /mine answers with the IMEI (a server that knows it),
    /page.html is Chromium's page, /socket is proxied to the WebSocket server."""
    (pki["dir"] / "www").mkdir(exist_ok=True)
    (pki["dir"] / "www" / "big.bin").write_bytes(random.Random(9).randbytes(3 << 19))
    (pki["dir"] / "www" / "page.html").write_text(PAGE)
    locations = f"""
        large_client_header_buffers 4 128k;
        location / {{ return 200 "ok\\n"; }}
        # Bodies are read whole before the answer: with `return` alone nginx answers at
        # once, and HTTP/2 then lets curl stop sending the body (RST_STREAM NO_ERROR).
        location ~ ^/h2/(body|gzip|zstd)$ {{ proxy_pass http://{CLOUD_V4}:{SINK_PORT}; }}
        location = /mine {{ return 200 '{{"imei":"{IMEI}"}}'; }}
        location = /page.html {{ root {pki["dir"] / "www"}; }}
        location = /big.bin {{ root {pki["dir"] / "www"}; }}
        location = /socket {{
            proxy_pass http://{CLOUD_V4}:{WS_PORT};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }}"""
    # Cleartext HTTP/2 with prior knowledge (h2c), no TLS at all; and the plain server
    # the bodies are proxied to.
    h2c = f"""
    server {{
        listen {CLOUD_V4}:{H2C_PORT} http2;
        listen [{CLOUD_V6}]:{H2C_PORT} http2;
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        listen {CLOUD_V4}:{SINK_PORT};
        listen [{CLOUD_V6}]:{SINK_PORT};
        location / {{ return 200 "ok\\n"; }}
    }}"""
    return topo.start_nginx("nginx-h2", nginx_tls_servers(pki, locations) + h2c,
                            listen=[("tcp", 443), ("tcp", H2C_PORT), ("tcp", SINK_PORT)])


# What each curl sends, and where the IMEI must be found in its flow.
CASES = [
    ("header", ["-H", f"X-Device-Imei: {IMEI}"], "/h2/header", {("header", "out")}),
    ("cookie", ["-b", f"did={IMEI}"], "/h2/cookie", {("cookie", "out")}),
    ("path", [], f"/h2/path/{IMEI}", {("url", "out")}),
    ("body", ["-H", "Content-Type: application/json", "--data-binary", "@{plain}"],
     "/h2/body", {("body", "out")}),
    ("gzip", ["-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip",
              "--data-binary", "@{gzip}"], "/h2/gzip", {("body", "out")}),
    ("zstd", ["-H", "Content-Type: application/json", "-H", "Content-Encoding: zstd",
              "--data-binary", "@{zstd}"], "/h2/zstd", {("body", "out")}),
    ("received", [], "/mine", {("body", "in")}),
    # One connection, two requests (see the module documentation).
    ("indexed", None, ["/h2/first", "/h2/second"], {("header", "out")}),
]
PAD = [a for i in range(190) for a in ("-H", f"x-h{i}: {'0123456789' * 31}")]


@pytest.fixture(scope="module")
def h2_run(runner, https, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("bodies")
    files = {"plain": d / "body.json", "gzip": d / "body.json.gz", "zstd": d / "body.json.zst"}
    files["plain"].write_bytes(BODY)
    files["gzip"].write_bytes(gzip.compress(BODY))
    sh(["zstd", "-q", "-f", files["plain"], "-o", files["zstd"]])
    common = ["--cacert", str(pki["ours"]), "--http2", *resolve(GOOD), "-o", "/dev/null",
              "-w", "%{http_version}"]
    cmds = []
    for _, args, paths, _ in CASES:
        if args is None:
            first, second = paths
            imei = ["-H", f"X-Device-Imei: {IMEI}"]
            cmds.append(CURL + common + [*PAD, *imei, f"https://{GOOD}{first}",
                                         "--next", *common, *imei, f"https://{GOOD}{second}"])
            continue
        cmds.append(CURL + common + [a.format(**files) for a in args] + [f"https://{GOOD}{paths}"])
    res = runner.run([PY, CLIENTS / "runmany.py", json.dumps(cmds)], timeout=120,
                     watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    yield res, res.json()
    shutil.rmtree(d, ignore_errors=True)


def test_every_curl_spoke_h2_through_the_monitor(h2_run):
    _, results = h2_run
    for (name, _, paths, _), r in zip(CASES, results):
        n = len(paths) if isinstance(paths, list) else 1
        assert (r["rc"], r["stdout"]) == (0, "2" * n), (name, r["stderr"])


def test_the_imei_is_found_where_each_h2_request_sent_it(h2_run):
    res, _ = h2_run
    flows = sorted(tls_flows(res.out_dir), key=lambda f: f["flow"])
    assert len(flows) == len(CASES), flows
    assert all(f["tls"] == "intercepted" for f in flows), flows
    found = [f for f in records(res.out_dir, "findings.jsonl") if f["kind"] == "imei"]
    assert IMEI not in json.dumps(found), "findings hold masked evidence only"
    got = {name: {(f["where"], f["direction"]) for f in found if f["flow"] == flow["flow"]}
           for (name, _, _, _), flow in zip(CASES, flows)}
    assert got == {name: want for name, _, _, want in CASES}
    for f in found:
        assert (f["tls"], f["host"]) == ("intercepted", GOOD), f
        assert not f.get("layers"), (f, "a content-encoding is undone, not a layer")


def tshark_h2(res, *fields):
    """HTTP/2 header fields per frame, as tshark decrypts the capture with its own
    Decryption Secrets Blocks (an empty key log file setting)."""
    args = ["tshark", "-r", res.out_dir / "capture.pcapng", "-o", "tls.keylog_file:",
            "-Y", "http2.type == 1", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        args += ["-e", f]
    return sh(args, timeout=120).stdout.splitlines()


def test_tshark_shows_the_decrypted_h2_headers_from_the_embedded_secrets(h2_run):
    res, _ = h2_run
    paths = " ".join(tshark_h2(res, "http2.headers.path"))
    assert f"/h2/path/{IMEI}" in paths.split(), paths


def test_the_second_request_sent_the_header_as_a_table_index_and_it_was_read(h2_run):
    res, _ = h2_run
    rows = [r.split("|") for r in tshark_h2(res, "tcp.stream", "http2.headers.path",
                                            "http2.header.name", "http2.header.repr")]
    second = [r for r in rows if "/h2/second" in r[1]]
    assert len(second) == 1, rows
    names, reprs = second[0][2].split(","), second[0][3].split(",")
    assert reprs[names.index("x-device-imei")] == "Indexed Header Field", second


def test_websocket_over_tls_is_read_both_ways_as_websocket(runner, https, dns_server, pki):
    client = ["env", f"SSL_CERT_FILE={pki['ours']}", websockets_python(),
              CLIENTS / "websocket_client.py", f"wss://{GOOD}/socket",
              '{"imei": "8612345', f'{IMEI[7:]}"}}']
    res = runner.run(client, timeout=120, watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    assert EMAIL in res.json()["reply"], "the server's answer came through"
    assert [f["tls"] for f in tls_flows(res.out_dir)] == ["intercepted"]
    found = records(res.out_dir, "findings.jsonl")
    assert IMEI not in json.dumps(found) and EMAIL not in json.dumps(found)
    got = {(f["kind"], f["where"], f["direction"], f["tls"], f["host"]) for f in found}
    assert ("imei", "websocket", "out", "intercepted", GOOD) in got, found
    assert ("email", "websocket", "in", "intercepted", GOOD) in got, found


def test_chromium_trusting_our_ca_sends_the_imei_over_h2_and_it_is_found(
        runner, https, dns_server, pki, tmp_path_factory):
    work = tmp_path_factory.mktemp("chromium")
    res = runner.run([PY, CLIENTS / "chromium_dump.py", pki["ours"],
                      f"https://{GOOD}/page.html", "DONE", work, 90], timeout=150,
                     watch_args=intercepting(pki))
    shutil.rmtree(work, ignore_errors=True)
    assert res.returncode == 0, res.describe()
    flows = tls_flows(res.out_dir)
    assert flows and all(f["tls"] == "intercepted" for f in flows), flows
    assert "/beacon" in " ".join(tshark_h2(res, "http2.headers.path")), "Chromium spoke h2"
    found = [f for f in records(res.out_dir, "findings.jsonl") if f["kind"] == "imei"]
    got = {(f["where"], f["direction"], f["tls"], f["host"]) for f in found}
    for where in ("url", "header", "body"):
        assert (where, "out", "intercepted", GOOD) in got, (where, found)


def test_cleartext_h2_with_prior_knowledge_is_read_too(runner, https):
    curl = CURL + ["--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}",
                   "-H", f"X-Device-Imei: {IMEI}", f"http://{CLOUD_V4}:{H2C_PORT}/h2c/{IMEI}"]
    res = runner.run(curl, timeout=60, watch_args=["--ids", IDS])
    assert (res.returncode, res.stdout) == (0, "2"), res.describe()
    found = [f for f in records(res.out_dir, "findings.jsonl") if f["kind"] == "imei"]
    assert {(f["where"], f["direction"]) for f in found} == {("url", "out"), ("header", "out")}
    assert not any("tls" in f for f in found), found


def test_an_intercepted_h2_answer_after_a_mebibyte_and_a_half_is_read(runner, https, pki):
    """Server bytes of decrypted HTTP/2 are followed past the tap's first 256 KiB too."""
    common = ["--cacert", str(pki["ours"]), "--http2", *resolve(GOOD), "-o", "/dev/null",
              "-w", "%{http_version} %{num_connects}\n"]
    res = runner.run(CURL + common + [f"https://{GOOD}/big.bin", "--next", *common,
                                      f"https://{GOOD}/mine"],
                     timeout=120, watch_args=intercepting(pki))
    assert res.returncode == 0, res.describe()
    assert res.stdout.split() == ["2", "1", "2", "0"], f"h2, one connection: {res.stdout}"
    found = {(f["kind"], f["where"], f["direction"], f.get("tls"))
             for f in records(res.out_dir, "findings.jsonl")}
    assert ("imei", "body", "in", "intercepted") in found, (found, res.describe())
