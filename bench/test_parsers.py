"""bench/parsers.py on real outputs of the tools, saved in testdata/ by testdata/capture
(loopback in a namespace, the same options bench/run uses). Expected numbers were read
off the files by hand."""

from pathlib import Path

import pytest

import parsers

DATA = Path(__file__).resolve().parent / "testdata"


def text(name: str) -> str:
    return (DATA / f"{name}.txt").read_text()


def test_iperf3_one_stream():
    assert parsers.iperf3(text("iperf3-up1")) == {
        "mbps": pytest.approx(6192.8082804), "bytes": 779747328, "retransmits": 0,
        "mss": 32768}


def test_iperf3_eight_streams_reverse_sums_all_streams():
    got = parsers.iperf3(text("iperf3-down8"))
    assert got["mbps"] == pytest.approx(8001.8720863)
    assert (got["bytes"], got["retransmits"]) == (1000799143, 8)


def test_iperf3_error_is_raised_with_its_message():
    with pytest.raises(ValueError, match="unable to connect to server: Connection refused"):
        parsers.iperf3(text("iperf3-refused"))


@pytest.mark.parametrize("out", ["", "iperf3: error - the server is busy\n", '{"end": {}}'])
def test_iperf3_without_a_result(out):
    with pytest.raises(ValueError):
        parsers.iperf3(out)


def test_sockperf_percentiles_through_colour_codes():
    assert parsers.sockperf(text("sockperf")) == {
        "p50_us": 16.444, "p99_us": 1358.428, "avg_us": 74.448, "messages": 7482}


def test_sockperf_refused():
    with pytest.raises(ValueError, match="no percentiles"):
        parsers.sockperf(text("sockperf-refused"))


def test_wrk_clean_run():
    assert parsers.wrk(text("wrk")) == {"rps": 3113.73, "errors": 0}


def test_wrk_counts_non_2xx_responses_as_errors():
    assert parsers.wrk(text("wrk-404")) == {"rps": 2835.77, "errors": 2931}


def test_wrk_sums_socket_errors():
    assert parsers.wrk(text("wrk-socket-errors")) == {"rps": 0.0, "errors": 2620 + 540}


def test_wrk_refused():
    with pytest.raises(ValueError):
        parsers.wrk(text("wrk-refused"))


def test_ab():
    assert parsers.ab(text("ab")) == {"rps": 2728.97, "complete": 500, "failed": 0}


def test_ab_refused():
    with pytest.raises(ValueError):
        parsers.ab(text("ab-refused"))


def test_dnsperf():
    assert parsers.dnsperf(text("dnsperf")) == {
        "qps": 56779.386071, "sent": 57228, "lost": 0, "completed": 57228,
        "avg_latency_ms": pytest.approx(0.934)}


def test_dnsperf_without_statistics():
    with pytest.raises(ValueError):
        parsers.dnsperf("DNS Performance Testing Tool\nVersion 2.10.0\n\n[Status] Sending")


def test_proc_stat_ticks_are_utime_stime_cutime_cstime():
    assert parsers.proc_stat_ticks(text("proc-stat")) == 2 + 61 + 0 + 0


def test_proc_stat_command_with_spaces_and_parenthesis():
    # The same line with the command renamed (a thread may name itself anything).
    line = text("proc-stat").replace("(iperf3)", "(a) b (c))")
    assert parsers.proc_stat_ticks(line) == 63


def test_proc_status():
    want = {"rss_kb": 3852, "hwm_kb": 4804, "ctx": 1164 + 322}
    assert parsers.proc_status(text("proc-status")) == want
    assert parsers.proc_status(text("proc-task-status"))["ctx"] == want["ctx"]


def test_proc_status_of_a_kernel_thread_has_no_memory():
    assert parsers.proc_status("Name:\tkthreadd\nvoluntary_ctxt_switches:\t5\n") == {
        "rss_kb": 0, "hwm_kb": 0, "ctx": 5}
