"""Issue 15, defect 10: records of a long run stay within `--max-records`.

3,000 UDP flows (one datagram each, from sockets of their own) and 300 HTTP connections
under `--max-records 1M`: each record file, past its share, moves to
NAME.1.EXT and starts over, so the directory stays about 1 MiB; what is there is whole
(every JSON line parses, both captures read), the newest records are kept, and the SQLite
store holds no more than the two JSONL generations."""

import json
import sqlite3
import subprocess

import pytest

from harness import CLOUD_V4, PHONEHOME_BIN, clean_env

MiB = 1 << 20


def test_a_long_run_keeps_its_records_within_the_cap(runner, nginx, udp_echo, tmp_path):
    if not runner.watched:
        pytest.skip("records are watch's")
    out = tmp_path / "records"
    loop = (f"python3 -c \"import socket\n"
            f"for i in range(3000):\n"
            f"    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.sendto(b'x', ('{CLOUD_V4}', 7777)); s.close()\"; "
            f"i=0; while [ $i -lt 300 ]; do curl -sS -o /dev/null -r 0-99 "
            f"http://{CLOUD_V4}/mid.bin; i=$((i+1)); done")
    cmd = runner.command(["sh", "-c", loop], out, watch_args=["--max-records", "1M"])
    res = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]

    files = {p.name: p.stat().st_size for p in out.iterdir()}
    total = sum(files.values())
    assert total <= 1.5 * MiB, files
    for older in ("flows.1.jsonl", "capture.1.pcapng"):
        assert older in files, f"{older} missing: nothing rotated ({files})"

    lines = []
    for name in ("flows.1.jsonl", "flows.jsonl"):
        text = (out / name).read_text()
        assert text == "" or text.endswith("\n")
        lines += [json.loads(line) for line in text.splitlines()]
    assert len(lines) < 3300, f"the oldest generations should be gone: {files}"
    assert lines[-1]["flow"] == max(f["flow"] for f in lines), "the newest flows are kept"

    db = sqlite3.connect(out / "phonehome.sqlite")
    stored = db.execute("SELECT COUNT(*) FROM flows").fetchone()[0]
    db.close()
    assert 0 < stored <= len(lines), (stored, len(lines))

    for capture in ("capture.1.pcapng", "capture.pcapng"):
        got = subprocess.run([str(PHONEHOME_BIN), "analyze", str(out / capture)],
                             capture_output=True, text=True, env=clean_env(), timeout=120)
        assert got.returncode == 0, got.stderr
        assert "warning" not in got.stderr, got.stderr
