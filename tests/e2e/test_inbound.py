"""Issue 12, section 3: what a server sends back is not a leak. curl sends the device's
Android ID in its request to a real nginx, whose answer (a static account page) holds
the user's own e-mail and IMEI. Every finding keeps its direction (findings.jsonl and
the SQLite store); `report` lists only the Android ID as sent and names the e-mail and
IMEI in a separate section of what servers sent back; `watch`'s summary counts the one
as a leak and the others apart."""

import json
import sqlite3
import subprocess

import pytest

from harness import CLOUD_V4, CLOUD_V6, CURL, DIRECT, PHONEHOME_BIN

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

EMAIL = "someone@example.com"
IMEI = "861234567890127"
ANDROID_ID = "9774d56d682e549c"
RECEIVED_HEADING = "Received from servers (not leaks: these servers already know them)"


@pytest.fixture(scope="module")
def account_server(topo):
    """nginx answering /account.json with the user's own e-mail and IMEI."""
    d = topo.workdir / "nginx-inbound"
    www = d / "www"
    www.mkdir(parents=True)
    (www / "account.json").write_text(json.dumps(
        {"account": {"email": EMAIL, "device": {"imei": IMEI}}, "plan": "free"}) + "\n")
    return topo.start_nginx("nginx-inbound", f"""
    default_type application/json;
    server {{
        listen {CLOUD_V4}:80;
        listen [{CLOUD_V6}]:80;
        root {www};
    }}""", listen=[("tcp", 80)], connections=64)


@pytest.fixture(scope="module")
def watched(runner, account_server, tmp_path_factory):
    ids = tmp_path_factory.mktemp("inbound-ids") / "ids.toml"
    ids.write_text(f'imei = ["{IMEI}"]\nemail = ["{EMAIL}"]\nandroid_id = ["{ANDROID_ID}"]\n')
    url = f"http://{CLOUD_V4}/account.json?android_id={ANDROID_ID}"
    res = runner.run(CURL + ["--fail", url], timeout=60, watch_args=["--ids", ids])
    assert res.returncode == 0, res.describe()
    # The answer really held both identifiers: the monitor had something to find.
    assert EMAIL in res.stdout and IMEI in res.stdout, res.describe()
    return res


def findings(res) -> list[dict]:
    return [json.loads(line) for line in (res.out_dir / "findings.jsonl").read_text().splitlines()]


def test_every_finding_says_whether_it_was_sent_or_received(watched):
    by_direction = {}
    for f in findings(watched):
        by_direction.setdefault(f["direction"], set()).add(f["kind"])
    assert by_direction == {"out": {"android_id"}, "in": {"email", "imei"}}, findings(watched)


def test_the_sqlite_store_keeps_the_direction_of_each_finding(watched):
    db = sqlite3.connect(f"file:{watched.out_dir / 'phonehome.sqlite'}?mode=ro", uri=True)
    try:
        rows = set(db.execute("SELECT kind, direction FROM findings"))
        lines = [json.loads(j)["direction"] for (j,) in db.execute("SELECT json FROM findings")]
    finally:
        db.close()
    assert rows == {("android_id", "out"), ("email", "in"), ("imei", "in")}, rows
    assert sorted(lines) == sorted(f["direction"] for f in findings(watched))


def test_report_lists_only_what_was_sent_as_sent(watched):
    got = subprocess.run([str(PHONEHOME_BIN), "report", str(watched.out_dir)],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert RECEIVED_HEADING in got.stdout, got.stdout
    sent, received = got.stdout.split(RECEIVED_HEADING)
    assert f"-> {CLOUD_V4}" in sent and "android_id" in sent, got.stdout
    assert "email" not in sent and "imei" not in sent, got.stdout
    assert f"<- {CLOUD_V4}: email, imei (" in received, got.stdout
    assert "android_id" not in received, got.stdout
    for value in (EMAIL, IMEI, ANDROID_ID):
        assert value not in got.stdout


def test_watch_counts_received_findings_apart_from_the_leaks(watched):
    lines = watched.stderr.splitlines()
    head = [line for line in lines if line.startswith("phonehome: ") and " flows, " in line]
    assert head and head[-1].endswith(" received (not leaks)"), watched.stderr
    sent = sum(f["direction"] == "out" for f in findings(watched))
    received = sum(f["direction"] == "in" for f in findings(watched))
    assert f" {sent} findings, {received} received " in head[-1], head
    assert f"  sent to {CLOUD_V4}: android_id" in lines, watched.stderr
    assert f"  received from {CLOUD_V4}: email, imei" in lines, watched.stderr
    for value in (EMAIL, IMEI, ANDROID_ID):
        assert value not in watched.stderr
