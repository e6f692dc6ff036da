"""Identifiers wrapped the way SDKs wrap them (issue 12, section 1), made by Debian's own
tools (gzip, zstd, brotli, basenc) and Python's zlib/base64/json, sent by curl and python3
through `phonehome watch --ids` to a real HTTP server: each finding names how the value
was wrapped, outermost first, and a decompression bomb is cut short without harming the
upload it travels in."""

import base64
import hashlib
import json
import subprocess
import zlib

import pytest

from harness import CLIENTS, CLOUD_V4, CURL, DIRECT, IDS, PHONEHOME_BIN, PY

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

# One of the IMEIs of the shared identity (lab/ids.toml).
IMEI = "861234567890123"
URL = f"http://{CLOUD_V4}:8080/collect"


def telemetry() -> bytes:
    """A repetitive JSON report, as SDKs batch them: compressed, no plain digit is left."""
    events = [{"name": "app_open", "seq": i, "screen": "main"} for i in range(12)]
    return json.dumps({"events": events, "device": {"imei": IMEI}}).encode()


def tool(argv: list, data: bytes) -> bytes:
    got = subprocess.run(argv, input=data, capture_output=True, timeout=60)
    assert got.returncode == 0, got.stderr
    return got.stdout


def hexed(data: bytes) -> bytes:
    return tool(["basenc", "--base16", "-w0"], data)


def b64(data: bytes) -> bytes:
    return tool(["basenc", "--base64", "-w0"], data)


def upload(runner, tmp_path, name: str, body: bytes, client: str = "curl",
           content_type: str = "application/json"):
    """POSTs `body` under watch; returns the IMEI findings. The server's digest of what
    arrived must be the body's: the relay passed it through untouched."""
    f = tmp_path / name
    f.write_bytes(body)
    if client == "curl":
        argv = CURL + ["-H", f"Content-Type: {content_type}", "--data-binary", f"@{f}", URL]
    else:
        argv = [PY, CLIENTS / "post_file.py", URL, f, content_type]
    res = runner.run(argv, timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    assert res.json()["sha256"] == hashlib.sha256(body).hexdigest(), res.describe()
    lines = (res.out_dir / "findings.jsonl").read_text().splitlines()
    findings = [json.loads(line) for line in lines]
    assert IMEI not in json.dumps(findings), "evidence must be masked"
    return [f for f in findings if f["kind"] == "imei"]


def chains(findings) -> list:
    return sorted({tuple(f["layers"]) for f in findings})


def test_hex_of_gzip_in_a_json_body_is_found_as_hex_then_gzip(runner, upload_server, tmp_path):
    body = b'{"d":"' + hexed(tool(["gzip", "-c"], telemetry())) + b'"}'
    assert IMEI.encode() not in body
    found = upload(runner, tmp_path, "hex_gzip.json", body)
    assert chains(found) == [("hex", "gzip")], found
    (f,) = found
    assert (f["encoding"], f["where"], f["direction"]) == ("plain", "body", "out"), f


def test_base64_of_zlib_of_json_holding_android_base64_goes_four_deep(runner, upload_server,
                                                                       tmp_path):
    # base64.encodebytes wraps lines at 76 characters (57 bytes) as Android's
    # Base64.DEFAULT does, and json.dumps writes the line breaks as `\n` escapes. The IMEI
    # starts at byte 50, so its base64 is cut by the first break: only joining the lines
    # again (after unescaping the JSON string) shows it.
    head = '{"pad":"' + "a" * 32 + '","imei":"'
    assert len(head) == 50
    wrapped = base64.encodebytes((head + IMEI + '"}').encode()).decode()
    inner = json.dumps({"v": 2, "payload": wrapped})
    assert "\\n" in inner
    body = b"data=" + base64.urlsafe_b64encode(zlib.compress(inner.encode()))
    found = upload(runner, tmp_path, "b64_zlib.form", body, client="python3",
                   content_type="application/x-www-form-urlencoded")
    assert chains(found) == [("base64", "zlib", "json", "base64")], found


def test_a_form_field_holding_url_encoded_json_with_base64_of_gzip_is_read(runner, upload_server,
                                                                          tmp_path):
    # curl --data-urlencode percent-encodes the field: `+`, `/` and `=` of the base64 too.
    inner = tmp_path / "inner.json"
    inner.write_bytes(b'{"blob":"' + b64(tool(["gzip", "-c"], telemetry())) + b'"}')
    res = runner.run(CURL + ["--data-urlencode", f"data@{inner}", "--data", "sdk=7", URL],
                     timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    findings = [json.loads(line) for line in (res.out_dir / "findings.jsonl").read_text().splitlines()]
    found = [f for f in findings if f["kind"] == "imei"]
    assert chains(found) == [("form", "base64", "gzip")], findings


def test_a_zstd_body_sent_without_content_encoding_is_sniffed(runner, upload_server, tmp_path):
    body = tool(["zstd", "-q", "-c"], telemetry())
    found = upload(runner, tmp_path, "body.zst", body, content_type="application/octet-stream")
    assert chains(found) == [("zstd",)], found


def test_brotli_inside_base64_is_tried_and_found(runner, upload_server, tmp_path):
    body = b'{"z":"' + b64(tool(["brotli", "-c"], telemetry())) + b'"}'
    found = upload(runner, tmp_path, "b64_brotli.json", body)
    assert chains(found) == [("base64", "brotli")], found


def test_a_decompression_bomb_is_cut_short_and_the_relay_and_later_requests_go_on(
        runner, upload_server, tmp_path):
    # 256 MiB of zeros in about 250 KiB of gzip, then a wrapped IMEI in the next request
    # of the same run: both arrive intact, and the second is still found.
    bomb = tool(["gzip", "-c"], bytes(256 << 20))
    assert len(bomb) < 400 << 10
    (tmp_path / "bomb.gz").write_bytes(bomb)
    follow = b'{"d":"' + hexed(tool(["gzip", "-c"], telemetry())) + b'"}'
    (tmp_path / "follow.json").write_bytes(follow)
    script = (f"curl -sS --fail -H 'Content-Type: application/octet-stream' "
              f"--data-binary @{tmp_path}/bomb.gz {URL} && "
              f"curl -sS --fail --data-binary @{tmp_path}/follow.json {URL}")
    res = runner.run(["sh", "-c", script], timeout=120, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    answers = [json.loads(line) for line in res.stdout.splitlines()]
    assert [a["sha256"] for a in answers] == [hashlib.sha256(bomb).hexdigest(),
                                              hashlib.sha256(follow).hexdigest()]
    uploads = [f for f in res.flows() if f["dst"] == f"{CLOUD_V4}:8080"]
    assert [f["close"] for f in uploads] == ["closed", "closed"], uploads
    findings = [json.loads(line) for line in (res.out_dir / "findings.jsonl").read_text().splitlines()]
    assert chains([f for f in findings if f["kind"] == "imei"]) == [("hex", "gzip")], findings


def test_the_sqlite_store_and_the_report_keep_the_layers(runner, upload_server, tmp_path):
    body = b'{"d":"' + hexed(tool(["gzip", "-c"], telemetry())) + b'"}'
    f = tmp_path / "hex_gzip.json"
    f.write_bytes(body)
    res = runner.run(CURL + ["--data-binary", f"@{f}", URL], timeout=60,
                     watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    got = subprocess.run(["python3", "-c", (
        "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]);"
        "print('\\n'.join(r[0] for r in db.execute("
        "\"SELECT layers FROM findings WHERE kind='imei'\")))"),
        str(res.out_dir / "phonehome.sqlite")], capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ['["hex","gzip"]'], got.stdout
    got = subprocess.run([str(PHONEHOME_BIN), "report", str(res.out_dir)], capture_output=True,
                         text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert "as plain inside hex>gzip in body" in got.stdout, got.stdout
    assert IMEI not in got.stdout
