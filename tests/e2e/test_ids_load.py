"""A large address book as the identifiers file (issue 15, defect 9): 100,000 values, the
limit, load and work; one more is refused with the limit named. Before the contacts'
numbers were kept out of the matcher's automaton, this file took minutes and gigabytes to
load (the time is shown by `cargo run --release -p phonehome-detect --example load`;
tests never assert timings, the run's timeout only catches a hang)."""

import json
import subprocess

import pytest

from harness import CLOUD_V4, CURL, DIRECT, PHONEHOME_BIN

pytestmark = pytest.mark.skipif(DIRECT, reason="needs the monitor")

LIMIT = 100_000
OWN_IMEI = "861234567890127"


def contact_number(i: int) -> str:
    # Distinct Chinese mobile numbers, +86 13x to 18x.
    return f"+86{13_000_000_000 + i * 59_999:011d}"


def address_book(path, values: int) -> list[str]:
    """Writes an identifiers file of `values` values: the own IMEI and the rest
    contacts' numbers. Returns the numbers."""
    numbers = [contact_number(i) for i in range(values - 1)]
    lines = ['region = "CN"', f'imei = ["{OWN_IMEI}"]']
    for n in numbers:
        lines += ["[[contact]]", f'phone = ["{n}"]']
    path.write_text("\n".join(lines) + "\n")
    return numbers


def findings(out_dir) -> list[dict]:
    path = out_dir / "findings.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_address_book_of_the_limit_loads_and_its_numbers_are_found_in_every_form(runner, nginx, tmp_path):
    ids = tmp_path / "book.toml"
    numbers = address_book(ids, LIMIT)
    last = numbers[-1]  # the last value of the file, so all of it was loaded
    national = last[3:]
    hex_digits = "".join(f"3{c}" for c in national)
    query = (f"a={last}&b=%2B{last[1:]}&c=0{national}&d={hex_digits}"
             f"&e={national[:3]}-{national[3:7]}-{national[7:]}")
    url = f"http://{CLOUD_V4}/?{query}"
    res = runner.run(CURL + ["-o", "/dev/null", url], timeout=120, watch_args=["--ids", ids])
    assert res.returncode == 0, res.describe()
    got = {(f["kind"], f["encoding"], f["where"]) for f in findings(res.out_dir)}
    assert ("contact", "plain", "url") in got, got
    assert ("contact", "url", "url") in got, got
    assert ("contact", "hex", "url") in got, got
    for f in findings(res.out_dir):
        assert national not in f["evidence"] and last[1:] not in f["evidence"], f


def test_an_address_book_over_the_limit_is_refused_naming_the_limit(tmp_path):
    ids = tmp_path / "book.toml"
    address_book(ids, LIMIT + 1)
    got = subprocess.run(
        [str(PHONEHOME_BIN), "watch", "--ids", str(ids), "--dns", CLOUD_V4, "--", "true"],
        capture_output=True, text=True, timeout=120)
    assert got.returncode == 125, (got.returncode, got.stderr[-2000:])
    # Region and IMEI on lines 1 and 2, then two lines per contact: the value over the
    # limit is the last contact's number.
    line = 2 * LIMIT + 2
    assert (f"book.toml: line {line}, column 10: contact phone: more than {LIMIT} values, "
            "the limit for an identifiers file") in got.stderr, got.stderr[-2000:]
