"""Tests 1 and 10: 100 MiB HTTP download and upload over IPv4 and IPv6 through the
monitor, intact; and the monitor's flow records carry the exact byte counts curl saw."""

import hashlib
import ipaddress
import json
import shutil

import pytest

from harness import CLIENTS, CLOUD_V4, CLOUD_V6, CURL, PY, find_flow, parse_endpoint, url_host

TRANSFERS = ["download-v4", "download-v6", "upload-v4", "upload-v6"]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def transfers(runner, nginx, upload_server, payloads, tmp_path_factory):
    """All four transfers, one after another, in ONE `phonehome watch` run."""
    d = tmp_path_factory.mktemp("http")
    big = payloads["big.bin"]
    cmds = {}
    for name in TRANSFERS:
        ip = CLOUD_V4 if name.endswith("v4") else CLOUD_V6
        body = d / f"{name}.body"
        if name.startswith("download"):
            url = f"http://{url_host(ip)}/big.bin"
            extra = []
        else:
            url = f"http://{url_host(ip)}:8080/upload"
            # No "Expect: 100-continue": its interim response would blur the byte counts.
            extra = ["-H", "Expect:", "-T", str(big.path)]
        cmds[name] = CURL + ["--fail", "--max-time", "300", *extra, "-o", str(body),
                             "-w", "%{json}", url]
    res = runner.run([PY, CLIENTS / "runmany.py", json.dumps(list(cmds.values()))], timeout=900)
    assert res.returncode == 0, res.describe()
    out = {}
    for name, r in zip(cmds, res.json(), strict=True):
        stats = json.loads(r["stdout"]) if r["stdout"].strip().startswith("{") else {}
        out[name] = {"rc": r["rc"], "stderr": r["stderr"], "stats": stats, "body": d / f"{name}.body"}
    out["_result"] = res
    yield out
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("name", TRANSFERS)
def test_http_100mib_intact(transfers, payloads, name):
    t = transfers[name]
    big = payloads["big.bin"]
    assert t["rc"] == 0, f"curl failed: {t['stderr']}"
    assert t["stats"].get("http_code") == 200, t["stats"]
    if name.startswith("download"):
        assert t["stats"]["size_download"] == big.size
        assert sha256_file(t["body"]) == big.sha256, "downloaded bytes differ from the served file"
    else:
        reply = json.loads(t["body"].read_text())
        assert reply["bytes"] == big.size, reply
        assert reply["sha256"] == big.sha256, "the server received different bytes than were sent"


@pytest.mark.parametrize("name", TRANSFERS)
def test_flow_record_byte_counts(transfers, runner, name):
    if not runner.watched:
        pytest.skip("no monitor, no flow records (PHONEHOME_E2E_DIRECT=1)")
    t = transfers[name]
    st = t["stats"]
    assert t["rc"] == 0 and st, f"curl failed, nothing to compare: {t['stderr']}"
    records = transfers["_result"].flows()
    matches = find_flow(records, "tcp", st["remote_ip"], st["remote_port"], st["local_port"])
    assert len(matches) == 1, (
        f"expected one tcp flow {st['local_port']} -> {st['remote_ip']}:{st['remote_port']}, "
        f"found {len(matches)} among: {records}")
    rec = matches[0]
    src_ip, _ = parse_endpoint(rec["src"])
    client = runner.client_v4 if name.endswith("v4") else runner.client_v6
    assert src_ip == ipaddress.ip_address(client), rec
    assert rec["bytes_out"] == st["size_request"] + st["size_upload"], (rec, st)
    assert rec["bytes_in"] == st["size_header"] + st["size_download"], (rec, st)
    assert rec["close"] == "closed", rec
