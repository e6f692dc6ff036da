#!/usr/bin/env python3
"""Rewrites a recent framework resource table into the encoding Debian's aapt can read.

Debian's aapt (Android 10's libandroidfw) refuses the resources.arsc that ships inside
org.robolectric:android-all for API 34+ as a whole: since Android 14, aapt2 writes type
chunks whose entry offsets are 16-bit (ResTable_type flag FLAG_OFFSET16) and "compact"
entries (ResTable_entry flag FLAG_COMPACT: key, type and value packed in 8 bytes), and
since Android 12 a staged-alias chunk. None of that changes what the table says; it is
only a denser encoding. This script decodes every type chunk and writes it back in the
pre-Android-14 form (dense 32-bit offsets, full entries + Res_value), drops the staged
alias chunks (aliases of not-yet-final resource ids, which an app never links against),
and stores the result as resources.arsc in a zip that `aapt package -I` accepts.

Usage: legacy-arsc.py ANDROID_ALL_JAR OUT_APK
"""

import struct
import sys
import zipfile

RES_STRING_POOL = 0x0001
RES_TABLE = 0x0002
RES_TABLE_PACKAGE = 0x0200
RES_TABLE_TYPE = 0x0201
RES_TABLE_TYPE_SPEC = 0x0202
RES_TABLE_STAGED_ALIAS = 0x0206

TYPE_FLAG_SPARSE = 0x01
TYPE_FLAG_OFFSET16 = 0x02
ENTRY_FLAG_COMPLEX = 0x0001
ENTRY_FLAG_COMPACT = 0x0008
NO_ENTRY = 0xFFFFFFFF


class Bad(Exception):
    pass


def chunks(data, start, end):
    """Yields (type, header_size, offset, size) of the chunks in data[start:end]."""
    off = start
    while off < end:
        if off + 8 > end:
            raise Bad(f"truncated chunk header at {off}")
        ctype, hsize, size = struct.unpack_from("<HHI", data, off)
        if size < 8 or off + size > end or hsize > size:
            raise Bad(f"bad chunk 0x{ctype:x} at {off} (size {size})")
        yield ctype, hsize, off, size
        off += size


def entry_bytes(data, at):
    """One entry at data[at:], re-encoded as a full entry (+ Res_value unless complex)."""
    size, flags = struct.unpack_from("<HH", data, at)
    if flags & ENTRY_FLAG_COMPACT:
        key, flags, value = struct.unpack_from("<HHI", data, at)
        data_type = flags >> 8
        new_flags = flags & 0x00FF & ~ENTRY_FLAG_COMPACT
        return struct.pack("<HHI", 8, new_flags, key) + struct.pack("<HBBI", 8, 0, data_type, value)
    if flags & ENTRY_FLAG_COMPLEX:
        # ResTable_map_entry: size, flags, key, parent, count; then count ResTable_map (12 bytes).
        (count,) = struct.unpack_from("<I", data, at + 12)
        return bytes(data[at : at + size + 12 * count])
    # Full simple entry followed by its Res_value (size field first; 8 bytes in every version).
    (vsize,) = struct.unpack_from("<H", data, at + size)
    return bytes(data[at : at + size + max(vsize, 8)])


def convert_type(data, off, hsize, size, dense_count):
    type_id, flags, _res, count, entries_start = struct.unpack_from("<BBHII", data, off + 8)
    index_at = off + hsize
    offsets = {}  # entry index -> offset relative to entries_start
    if flags & TYPE_FLAG_SPARSE:
        for i in range(count):
            idx, half = struct.unpack_from("<HH", data, index_at + 4 * i)
            offsets[idx] = half * 4
    elif flags & TYPE_FLAG_OFFSET16:
        for i in range(count):
            (v,) = struct.unpack_from("<H", data, index_at + 2 * i)
            if v != 0xFFFF:
                offsets[i] = v * 4
    else:
        for i in range(count):
            (v,) = struct.unpack_from("<I", data, index_at + 4 * i)
            if v != NO_ENTRY:
                offsets[i] = v
    if flags & ~(TYPE_FLAG_SPARSE | TYPE_FLAG_OFFSET16):
        raise Bad(f"type 0x{type_id:x}: unknown type flags 0x{flags:x}")
    n = max(dense_count, (max(offsets) + 1) if offsets else 0)
    body = bytearray()
    seen = {}  # old offset -> new offset (entries shared by several indices stay shared)
    index = [NO_ENTRY] * n
    for i in sorted(offsets):
        old = offsets[i]
        if old not in seen:
            seen[old] = len(body)
            body += entry_bytes(data, off + entries_start + old)
        index[i] = seen[old]
    new_start = hsize + 4 * n
    header = bytearray(data[off:off + hsize])
    total = new_start + len(body)
    struct.pack_into("<HHI", header, 0, RES_TABLE_TYPE, hsize, total)
    struct.pack_into("<BBHII", header, 8, type_id, 0, 0, n, new_start)
    return bytes(header) + struct.pack(f"<{n}I", *index) + bytes(body)


def convert_package(data, off, hsize, size, stats):
    out = [bytearray(data[off:off + hsize])]
    pos = hsize
    pool_offsets = []
    spec_counts = {}
    for ctype, chsize, coff, csize in chunks(data, off + hsize, off + size):
        if ctype == RES_TABLE_STAGED_ALIAS:
            stats["dropped staged-alias chunks"] += 1
            continue
        if ctype == RES_STRING_POOL:
            pool_offsets.append(pos)
            piece = bytes(data[coff:coff + csize])
        elif ctype == RES_TABLE_TYPE_SPEC:
            type_id, _r0, _types, count = struct.unpack_from("<BBHI", data, coff + 8)
            spec_counts[type_id] = count
            piece = bytes(data[coff:coff + csize])
        elif ctype == RES_TABLE_TYPE:
            type_id, flags = struct.unpack_from("<BB", data, coff + 8)
            if flags:
                stats["re-encoded type chunks"] += 1
            piece = convert_type(data, coff, chsize, csize, spec_counts.get(type_id, 0))
        else:
            piece = bytes(data[coff:coff + csize])
        out.append(piece)
        pos += len(piece)
    head = out[0]
    total = sum(len(p) for p in out)
    struct.pack_into("<I", head, 4, total)
    # ResTable_package: header(8) id(4) name(256) typeStrings(4) lastPublicType(4) keyStrings(4) ...
    if len(pool_offsets) >= 2:
        struct.pack_into("<I", head, 268, pool_offsets[0])
        struct.pack_into("<I", head, 276, pool_offsets[1])
    stats["packages"] += 1
    return b"".join(bytes(p) for p in out)


def convert_table(data):
    ctype, hsize, size = struct.unpack_from("<HHI", data, 0)
    if ctype != RES_TABLE or size != len(data):
        raise Bad("not a resource table")
    stats = {"packages": 0, "re-encoded type chunks": 0, "dropped staged-alias chunks": 0}
    out = [bytearray(data[:hsize])]
    for ctype, chsize, coff, csize in chunks(data, hsize, size):
        if ctype == RES_TABLE_PACKAGE:
            out.append(convert_package(data, coff, chsize, csize, stats))
        else:
            out.append(bytes(data[coff:coff + csize]))
    table = b"".join(bytes(p) for p in out)
    table = bytearray(table)
    struct.pack_into("<I", table, 4, len(table))
    return bytes(table), stats


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    jar, out_apk = argv[1], argv[2]
    with zipfile.ZipFile(jar) as z:
        arsc = z.read("resources.arsc")
        manifest = z.read("AndroidManifest.xml") if "AndroidManifest.xml" in z.namelist() else None
    try:
        table, stats = convert_table(memoryview(arsc))
    except (Bad, struct.error) as e:
        print(f"legacy-arsc: cannot convert {jar}: {e}", file=sys.stderr)
        return 1
    tmp = out_apk + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        if manifest is not None:
            z.writestr("AndroidManifest.xml", manifest)
        z.writestr("resources.arsc", table)
    import os

    os.replace(tmp, out_apk)
    print(
        "legacy-arsc: {} -> {}: {} packages, {} type chunks re-encoded, {} staged-alias chunks dropped".format(
            jar.rsplit("/", 1)[-1],
            out_apk,
            stats["packages"],
            stats["re-encoded type chunks"],
            stats["dropped staged-alias chunks"],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
