"""Issue 12, section 3: what a server sends back is read the way requests are.

Most API answers are chunked and gzip-compressed. The monitor used to scan response
bytes as they came, so the user's own IMEI or e-mail in such an answer, or split by a
chunk boundary, was missed. Now response bodies are de-chunked and decoded, and scanned
whole (findings `direction: in`, `where: body`). A real client (curl, decoding gzip with
--compressed) and a real server (python's http.server) in the test's namespaces."""

import json

import pytest

from harness import CLOUD_V4, CURL, DIRECT, IDS, PY, SERVERS

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

PORT = 8190
IMEI, EMAIL = "861234567890123", "someone@example.com"  # lab/ids.toml


@pytest.fixture(scope="module")
def server(topo):
    return topo.start("encoded-responses", [PY, SERVERS / "encoded_responses.py", PORT, IMEI,
                                            EMAIL], listen=[("tcp", PORT)])


def received(res) -> set[tuple[str, str]]:
    text = (res.out_dir / "findings.jsonl").read_text()
    assert IMEI not in text and EMAIL not in text, "values never appear in the records"
    return {(f["kind"], f["where"]) for f in map(json.loads, text.splitlines())
            if f["direction"] == "in" and f["dst"] == f"{CLOUD_V4}:{PORT}"}


@pytest.mark.parametrize("path", ["/account.json", "/account.json.gz"])
def test_identifiers_in_a_chunked_answer_are_received_even_compressed_and_cut_by_chunks(
        runner, server, path):
    res = runner.run(CURL + ["--fail", "--compressed", f"http://{CLOUD_V4}:{PORT}{path}"],
                     timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    # The answer really held both, whole, once decoded: there was something to find.
    assert IMEI in res.stdout and EMAIL in res.stdout, res.describe()
    assert received(res) == {("imei", "body"), ("email", "body")}, res.describe()
