"""rust-core/catalog/data/sdk_hosts.py reads host names from SDK artifacts' string
constants: class files' constant pools and dex string tables, never panicking on bad input."""

import io
import os
import random
import struct
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "rust-core", "catalog", "data"))
import sdk_hosts  # noqa: E402


def class_file(strings):
    """A minimal class file whose constant pool holds the strings and one long (two slots)."""
    pool = b"".join(b"\x01" + struct.pack(">H", len(s.encode())) + s.encode() for s in strings)
    pool += b"\x05" + b"\0" * 8
    count = len(strings) + 2 + 1
    return b"\xca\xfe\xba\xbe\0\0\0\x34" + struct.pack(">H", count) + pool + b"\0" * 8


def dex_file(strings):
    data = bytearray(b"dex\n035\0" + b"\0" * (0x70 - 8))
    ids_at = len(data)
    data += b"\0" * (4 * len(strings))
    for k, s in enumerate(strings):
        struct.pack_into("<I", data, ids_at + 4 * k, len(data))
        raw = s.encode()
        data += bytes([len(raw)]) + raw + b"\0"
    struct.pack_into("<II", data, 0x38, len(strings), ids_at)
    return bytes(data)


def aar(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def test_hosts_come_from_urls_and_bare_host_constants_not_package_names():
    cls = class_file(["https://rt.example-ads.com/v1/event?x=1", "sdk.vendor.io",
                      "com.vendor.sdk.internal", "Landroid/content/Context;", "layout.xml"])
    jar = aar({"com/vendor/A.class": cls})
    found = sdk_hosts.hosts_in(sdk_hosts.archive_strings(aar({"classes.jar": jar})))
    assert set(found) == {"rt.example-ads.com", "sdk.vendor.io"}


def test_dex_string_tables_are_read_too():
    assert sdk_hosts.dex_strings(dex_file(["https://a.example.net/x", "plain"])) == [
        "https://a.example.net/x", "plain"]


def test_bad_input_is_a_clear_error_never_a_crash():
    rng = random.Random(24)
    good = [class_file(["https://a.example.com"]), dex_file(["https://b.example.com"]),
            aar({"classes.jar": aar({"A.class": class_file(["https://c.example.org"])})})]
    for n in range(20000):
        base = rng.choice(good)
        data = bytearray(base[: rng.randrange(len(base) + 1)])
        for _ in range(rng.randrange(4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        for parse in (sdk_hosts.class_strings, sdk_hosts.dex_strings, sdk_hosts.archive_strings):
            try:
                parse(bytes(data))
            except sdk_hosts.FormatError:
                pass
