"""Checks of the suite's own tools, without namespaces: the flow-record validator and
matcher must reject what is wrong (so test 10 can fail), and the garbage generator must
never aim a parseable packet at anything but the test's own addresses."""

import ipaddress
import json
import sys

import pytest

from harness import CLIENTS, find_flow, parse_flows

sys.path.insert(0, str(CLIENTS))
import garbage  # noqa: E402

GOOD = {"flow": 1, "proto": "tcp", "src": "10.111.0.2:40000", "dst": "10.201.0.2:80",
        "bytes_out": 77, "bytes_in": 1000, "start": "2025-01-01T00:00:00Z",
        "end": "2025-01-01T00:00:01.5+00:00", "close": "closed"}
GOOD6 = dict(GOOD, flow=2, src="[fd70:686f:6e65::2]:40001", dst="[fd00:201:0::2]:80")


def jsonl(*recs):
    return "\n".join(json.dumps(r) for r in recs) + "\n"


def test_flow_records_accepted_and_matched():
    recs = parse_flows(jsonl(GOOD, GOOD6))
    assert find_flow(recs, "tcp", "10.201.0.2", 80, 40000) == [GOOD]
    assert find_flow(recs, "tcp", "fd00:201::2", 80, 40001) == [GOOD6]
    assert find_flow(recs, "tcp", "10.201.0.2", 80, 40001) == []
    assert find_flow(recs, "udp", "10.201.0.2", 80) == []


@pytest.mark.parametrize("bad", [
    {"proto": "sctp"},
    {"src": "10.111.0.2"},
    {"dst": "fd00:201::2:80"},
    {"dst": "[10.201.0.2]:80"},
    {"bytes_out": -1},
    {"bytes_in": "12"},
    {"bytes_in": 1.5},
    {"start": "2025-01-01T00:00:02Z"},
    {"end": "yesterday"},
    {"start": "2025-01-01T00:00:00"},
    {"close": "fin"},
    {"close": None},
])
def test_flow_record_validator_rejects(bad):
    with pytest.raises(AssertionError):
        parse_flows(jsonl(dict(GOOD, **bad)))


@pytest.mark.parametrize("field", ["flow", "proto", "src", "dst", "bytes_out", "bytes_in",
                                   "start", "end", "close"])
def test_flow_record_validator_rejects_missing(field):
    rec = dict(GOOD)
    del rec[field]
    with pytest.raises(AssertionError):
        parse_flows(jsonl(rec))


def test_flow_record_validator_rejects_duplicates_and_junk():
    with pytest.raises(AssertionError):
        parse_flows(jsonl(GOOD, GOOD))
    with pytest.raises(AssertionError):
        parse_flows("{not json\n")


def test_garbage_only_targets_test_addresses():
    safe4 = {ipaddress.ip_address(a).packed for a in ("10.201.0.2", "10.111.0.1")}
    safe6 = {ipaddress.ip_address(a).packed for a in ("fd00:201::2", "fd70:686f:6e65::1")}
    stream = garbage.packets()
    kinds = set()
    for _ in range(50000):
        kind, pkt = next(stream)
        kinds.add(kind)
        assert len(pkt) <= garbage.MAX_LEN
        ver = pkt[0] >> 4 if pkt else None
        if ver == 4 and len(pkt) >= 20:
            assert pkt[16:20] in safe4, (kind, pkt.hex())
        if ver == 6 and len(pkt) >= 40:
            assert pkt[24:40] in safe6, (kind, pkt.hex())
    assert {"random", "mutated", "trunc4", "version7"} <= kinds
