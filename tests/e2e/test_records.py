"""The records a watch run leaves: tshark (from Debian, not ours) reads capture.pcapng
with a comment naming each packet's flow; phonehome report summarises the findings; and
analyze on a capture cut short names the offset of the damage and keeps what came before,
and analyze refuses (or, per pcapng interface, skips) a link type it cannot read."""

import json
import os
import subprocess

import pytest

from harness import CLOUD_V4, CURL, DIRECT, IDS, PHONEHOME_BIN, REPO

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")



@pytest.fixture(scope="module")
def watched(runner, nginx):
    # The shared identity (lab/ids.toml) has this IMEI and phone number.
    url = f"http://{CLOUD_V4}/?imei=861234567890123&tel=%2B8613800138000"
    res = runner.run(CURL + ["-o", "/dev/null", url], timeout=60, watch_args=["--ids", IDS])
    assert res.returncode == 0, res.describe()
    return res.out_dir, IDS


def test_tshark_reads_the_capture_and_every_packet_names_its_flow(watched):
    out, _ = watched
    cap = out / "capture.pcapng"
    got = subprocess.run(
        ["tshark", "-r", str(cap), "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.dstport",
         "-e", "tcp.srcport", "-e", "frame.comment"],
        capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    rows = [line.split("\t") for line in got.stdout.splitlines()]
    http = [r for r in rows if "80" in (r[2], r[3])]
    assert len(http) >= 6, got.stdout  # handshake, request, response, closing
    flows = {json.loads(line)["flow"] for line in (out / "flows.jsonl").read_text().splitlines()
             if json.loads(line)["dst"] == f"{CLOUD_V4}:80"}
    assert len(flows) == 1
    (flow,) = flows
    for r in http:
        assert r[4].startswith(f"flow={flow} app=curl "), r
    # The findings name the program too (watch attributes flows to CMD).
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    assert findings and all(f["app"] == "curl" for f in findings), findings


def test_report_names_what_left_for_which_host(watched):
    out, _ = watched
    got = subprocess.run([str(PHONEHOME_BIN), "report", str(out)], capture_output=True, text=True,
                         timeout=30)
    assert got.returncode == 0, got.stderr
    assert f"-> {CLOUD_V4}" in got.stdout, got.stdout
    assert "imei" in got.stdout and "as plain in url" in got.stdout, got.stdout
    assert "phone" in got.stdout and "as url in url" in got.stdout, got.stdout
    assert "861234567890123" not in got.stdout


def test_analyze_of_a_damaged_capture_names_the_offset_and_keeps_earlier_findings(watched, tmp_path):
    out, ids = watched
    data = (out / "capture.pcapng").read_bytes()
    # Cut into the middle of the last block (as a killed monitor leaves it): a warning,
    # and everything before it is read.
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[:-7])
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", "--ids", str(ids), "--out", str(tmp_path / "a"),
                          str(cut)], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert "warning" in got.stderr and "offset" in got.stderr, got.stderr
    findings = [json.loads(line) for line in (tmp_path / "a" / "findings.jsonl").read_text().splitlines()]
    assert {(f["kind"], f["encoding"]) for f in findings} >= {("imei", "plain"), ("phone", "url")}
    # A block in the middle whose length is impossible: an error naming the offset, and
    # the blocks before it still read.
    blocks, at = [], 0
    while at + 8 <= len(data):
        blocks.append(at)
        at += int.from_bytes(data[at + 4:at + 8], "little")
    middle = blocks[len(blocks) // 2]
    broken = bytearray(data)
    broken[middle + 4:middle + 8] = (0xFFFFFFF0).to_bytes(4, "little")
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes(bytes(broken))
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", str(damaged)], capture_output=True,
                         text=True, timeout=60)
    assert got.returncode == 1, got.stderr
    assert f"offset {middle}" in got.stderr, got.stderr
    # Garbage is refused with a clear error, not a crash.
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(os.urandom(64))
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", str(junk)], capture_output=True, text=True,
                         timeout=30)
    assert got.returncode == 125 and "junk.pcap" in got.stderr, got.stderr


def test_analyze_of_a_capture_cut_to_a_snap_length_still_reads_the_captured_bytes(watched, tmp_path):
    """A capture taken with a snap length (tcpdump -s, Wireshark's packet limit) keeps only
    each packet's first bytes, so its IP lengths say more than is there: the packets are
    still read (none skipped), with what was captured."""
    out, ids = watched
    short = tmp_path / "snap150.pcapng"
    got = subprocess.run(["editcap", "-s", "150", str(out / "capture.pcapng"), str(short)],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", "--ids", str(ids), "--out", str(tmp_path / "a"),
                          str(short)], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert "(0 packets not TCP/UDP over IP)" in got.stderr, got.stderr
    flows = [json.loads(line) for line in (tmp_path / "a" / "flows.jsonl").read_text().splitlines()]
    http = [f for f in flows if f["dst"] == f"{CLOUD_V4}:80" and f["bytes_out"] > 0]
    assert len(http) == 1, flows
    # The request and the response were both longer than 150 bytes: cut, not lost.
    assert http[0]["bytes_out"] > 100 and http[0]["bytes_in"] > 100, http


def text2pcap(tmp_path, name, args, hexdump):
    """A capture written by Wireshark's text2pcap (not ours) from a hex dump."""
    dump = tmp_path / (name + ".txt")
    dump.write_text(hexdump)
    cap = tmp_path / name
    got = subprocess.run(["text2pcap", "-q", *args, str(dump), str(cap)], capture_output=True,
                         text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    return cap


# An 802.11 data frame header (frame control, duration, three addresses, sequence).
WIFI_FRAME = "0000  08 02 00 00 ff ff ff ff ff ff 00 11 22 33 44 55\n0010  00 11 22 33 44 55 00 00\n"


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_analyze_of_a_capture_on_an_unsupported_link_type_names_it_and_fails(tmp_path, fmt):
    """A Wi-Fi capture (LINKTYPE_IEEE802_11, 105) is refused with its link type named, not
    read as a capture of nothing."""
    cap = text2pcap(tmp_path, "wifi." + fmt, ["-F", fmt, "-l", "105"], WIFI_FRAME)
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", str(cap)], capture_output=True, text=True,
                         timeout=30)
    assert got.returncode == 125, (got.returncode, got.stderr)
    assert "link type 105 (IEEE 802.11) is not supported" in got.stderr, got.stderr
    assert "wifi." + fmt in got.stderr, got.stderr


def test_analyze_of_a_pcapng_with_one_unsupported_interface_skips_it_with_a_warning(tmp_path):
    """mergecap puts an Ethernet capture and a Wi-Fi one into one pcapng, one interface
    each: the Ethernet packet is analyzed, the Wi-Fi one skipped with a warning naming its
    link type, and the exit status stays 0."""
    eth = text2pcap(tmp_path, "eth.pcapng", ["-e", "0x800", "-4", "10.0.0.1,10.0.0.2",
                                             "-u", "40000,9999"], "0000  68 65 6c 6c 6f\n")
    wifi = text2pcap(tmp_path, "wifi.pcapng", ["-l", "105"], WIFI_FRAME)
    both = tmp_path / "both.pcapng"
    got = subprocess.run(["mergecap", "-F", "pcapng", "-w", str(both), str(eth), str(wifi)],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    got = subprocess.run([str(PHONEHOME_BIN), "analyze", "--out", str(tmp_path / "a"), str(both)],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, (got.returncode, got.stderr)
    assert "skipped 1 packet on link type 105 (IEEE 802.11)" in got.stderr, got.stderr
    assert "(0 packets not TCP/UDP over IP)" in got.stderr, got.stderr
    flows = [json.loads(line) for line in (tmp_path / "a" / "flows.jsonl").read_text().splitlines()]
    assert [(f["proto"], f["dst"], f["bytes_out"]) for f in flows] == [("udp", "10.0.0.2:9999", 5)], flows


@pytest.mark.parametrize("flag,content,expect", [
    ("--ids", 'imei = ["12ab"]\n', "line 1"),
    ("--ids", 'imei = "861234567890123"\nbogus = 1\n', "line"),
    ("--catalog", "example.com\tVendor\tnot-a-category\tservice\n", "line 1"),
])
def test_a_bad_identifiers_or_catalog_file_is_refused_with_its_line(tmp_path, flag, content, expect):
    bad = tmp_path / "bad.txt"
    bad.write_text(content)
    got = subprocess.run([str(PHONEHOME_BIN), "watch", flag, str(bad), "--dns", CLOUD_V4, "--", "true"],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 125, got
    assert expect in got.stderr and "bad.txt" in got.stderr, got.stderr


def _refused(ids, tmp_path):
    got = subprocess.run([str(PHONEHOME_BIN), "watch", "--ids", str(ids), "--dns", CLOUD_V4, "--", "true"],
                         capture_output=True, text=True, timeout=120)
    assert got.returncode == 125, (got.returncode, got.stderr[-2000:])
    assert ids.name in got.stderr, got.stderr[-2000:]
    return got.stderr


def test_an_identifiers_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    # One 100 MB value: refused by the file size, not by running out of memory.
    ids = tmp_path / "huge.toml"
    with open(ids, "w") as f:
        f.write('[[sms]]\ntext = "')
        chunk = "a" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write('"\n')
    err = _refused(ids, tmp_path)
    assert "16 MiB" in err and "limit" in err, err[-2000:]


def test_a_value_over_its_length_limit_is_refused_with_its_line(tmp_path):
    ids = tmp_path / "long.toml"
    ids.write_text('imei = ["861234567890123"]\n\n[[sms]]\ntext = "' + "a" * 5000 + '"\n')
    err = _refused(ids, tmp_path)
    assert "line 4, column 8: sms text is 5000 bytes, over the limit of 1024" in err, err[-2000:]


def test_a_million_imeis_are_refused_with_a_limit_not_an_allocation_failure(tmp_path):
    ids = tmp_path / "million.toml"
    ids.write_text("imei = [" + ",".join(f'"{861000000000000 + i}"' for i in range(1_000_001)) + "]\n")
    err = _refused(ids, tmp_path)
    assert "limit" in err, err[-2000:]


def test_more_values_than_the_limit_are_refused_with_the_first_one_over(tmp_path):
    ids = tmp_path / "many.toml"
    ids.write_text("imei = [\n" + "".join(f'"{861000000000000 + i}",\n' for i in range(100_001)) + "]\n")
    err = _refused(ids, tmp_path)
    assert "line 100002, column 1: imei: more than 100000 values, the limit for an identifiers file" in err, \
        err[-2000:]
