"""What check-so checks in an Android .so, by reading the ELF file itself (Python's struct,
no readelf: the result does not depend on which binutils or LLVM is installed, and every
field used is named below).

Python 3 stdlib only; check-so, build-native and the tests import it from beside them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import toolchain

ALLOWED_NEEDED = set(toolchain.LIBRARIES)

PT_LOAD = 1
SHT_SYMTAB, SHT_DYNAMIC, SHT_DYNSYM = 2, 6, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
DT_NULL, DT_NEEDED, DT_TEXTREL, DT_FLAGS = 0, 1, 22, 30
DF_TEXTREL = 0x4
STB_GLOBAL, STB_WEAK = 1, 2
STT_SECTION, STT_FILE = 3, 4
STV_DEFAULT, STV_PROTECTED = 0, 3
SHN_UNDEF = 0


@dataclass
class DynSym:
    name: str
    bind: int
    type: int
    visibility: int
    defined: bool
    # The version: needed (verneed) for an import, defined (verdef) for a definition.
    version: str | None = None
    version_file: str | None = None  # the library that version is needed from


@dataclass
class Elf:
    elf64: bool
    machine: int
    load_aligns: list[int] = field(default_factory=list)
    sections: list[tuple[str, int]] = field(default_factory=list)  # (name, type)
    needed: list[str] = field(default_factory=list)
    textrel: bool = False
    dynsyms: list[DynSym] = field(default_factory=list)


class NotElf(Exception):
    pass


def parse(data: bytes) -> Elf:
    if data[:4] != b"\x7fELF":
        raise NotElf("not an ELF file")
    if data[5] != 1:
        raise NotElf("not a little-endian ELF file")
    elf64 = data[4] == 2
    if elf64:
        (_, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    else:
        (_, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIIIIIHHHHHH", data, 16)
    elf = Elf(elf64, machine)

    for i in range(phnum):
        off = phoff + i * phentsize
        if elf64:
            p_type, _, _, _, _, _, _, p_align = struct.unpack_from("<IIQQQQQQ", data, off)
        else:
            p_type, _, _, _, _, _, _, p_align = struct.unpack_from("<IIIIIIII", data, off)
        if p_type == PT_LOAD:
            elf.load_aligns.append(p_align)

    # Section headers: (name offset, type, offset, size, link, entsize)
    shdrs = []
    for i in range(shnum):
        off = shoff + i * shentsize
        if elf64:
            name, typ, _, _, offset, size, link, _, _, entsize = struct.unpack_from(
                "<IIQQQQIIQQ", data, off)
        else:
            name, typ, _, _, offset, size, link, _, _, entsize = struct.unpack_from(
                "<IIIIIIIIII", data, off)
        shdrs.append((name, typ, offset, size, link, entsize))

    def cstr(section: int, at: int) -> str:
        start = shdrs[section][2] + at
        return data[start:data.index(b"\0", start)].decode()

    elf.sections = [(cstr(shstrndx, s[0]) if shnum else "", s[1]) for s in shdrs]

    by_type = {s[1]: (i, s) for i, s in enumerate(shdrs)}
    if SHT_DYNAMIC in by_type:
        _, (_, _, offset, size, link, _) = by_type[SHT_DYNAMIC]
        fmt, step = ("<qQ", 16) if elf64 else ("<iI", 8)
        for at in range(offset, offset + size, step):
            tag, val = struct.unpack_from(fmt, data, at)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                elf.needed.append(cstr(link, val))
            elif tag == DT_TEXTREL or (tag == DT_FLAGS and val & DF_TEXTREL):
                elf.textrel = True

    # The needed versions: version index -> (version name, library)
    needed_versions: dict[int, tuple[str, str]] = {}
    if SHT_GNU_VERNEED in by_type:
        _, (_, _, offset, size, link, _) = by_type[SHT_GNU_VERNEED]
        at = offset
        while True:
            _, cnt, file_, aux, nxt = struct.unpack_from("<HHIII", data, at)
            aat = at + aux
            for _ in range(cnt):
                _, _, other, name, anext = struct.unpack_from("<IHHII", data, aat)
                needed_versions[other] = (cstr(link, name), cstr(link, file_))
                aat += anext
            if not nxt:
                break
            at += nxt

    # The defined versions: version index -> name (index 1, the file itself, is left out)
    defined_versions: dict[int, str] = {}
    if SHT_GNU_VERDEF in by_type:
        _, (_, _, offset, size, link, _) = by_type[SHT_GNU_VERDEF]
        at = offset
        while True:
            _, flags, ndx, cnt, _, aux, nxt = struct.unpack_from("<HHHHIII", data, at)
            if cnt and not flags & 0x1:  # VER_FLG_BASE names the file, not a version
                (name, _) = struct.unpack_from("<II", data, at + aux)
                defined_versions[ndx] = cstr(link, name)
            if not nxt:
                break
            at += nxt

    if SHT_DYNSYM in by_type:
        index, (_, _, offset, size, link, entsize) = by_type[SHT_DYNSYM]
        versym = by_type.get(SHT_GNU_VERSYM)
        for n in range(1, size // entsize):
            at = offset + n * entsize
            if elf64:
                name, info, other, shndx, _, _ = struct.unpack_from("<IBBHQQ", data, at)
            else:
                name, _, _, info, other, shndx = struct.unpack_from("<IIIBBH", data, at)
            sym = DynSym(cstr(link, name), info >> 4, info & 0xF, other & 0x3,
                         shndx != SHN_UNDEF)
            if versym is not None:
                (ver,) = struct.unpack_from("<H", data, versym[1][2] + 2 * n)
                if (ver & 0x7FFF) in needed_versions and not sym.defined:
                    sym.version, sym.version_file = needed_versions[ver & 0x7FFF]
                elif sym.defined:
                    sym.version = defined_versions.get(ver & 0x7FFF)
            elf.dynsyms.append(sym)
    return elf


def imports(elf: Elf) -> list[DynSym]:
    return [s for s in elf.dynsyms if not s.defined and s.name]


def exports(elf: Elf) -> list[DynSym]:
    return [s for s in elf.dynsyms
            if s.defined and s.bind in (STB_GLOBAL, STB_WEAK)
            and s.visibility in (STV_DEFAULT, STV_PROTECTED)
            and s.type not in (STT_SECTION, STT_FILE)]


def check(path: Path, abi_name: str, api: int = toolchain.API,
          table: list[toolchain.Symbol] | None = None) -> list[str]:
    """Every problem that stops path from being the app's library for abi_name at api."""
    abi = toolchain.ABIS[abi_name]
    try:
        elf = parse(Path(path).read_bytes())
    except NotElf as e:
        return [str(e)]
    except (struct.error, ValueError, IndexError) as e:
        return [f"malformed ELF file ({e})"]
    problems = []
    if elf.elf64 != abi.elf64 or elf.machine != abi.machine:
        problems.append(f"ELF machine {elf.machine} ({'64' if elf.elf64 else '32'}-bit) "
                        f"is not {abi.name}'s ({abi.machine}, {'64' if abi.elf64 else '32'}-bit)")

    for lib in elf.needed:
        if lib not in ALLOWED_NEEDED:
            problems.append(f"NEEDED {lib}: only {', '.join(sorted(ALLOWED_NEEDED))} may be")

    rows = [s for s in (table if table is not None else toolchain.read_table())
            if s.abi == abi.name]
    by_name: dict[str, list[toolchain.Symbol]] = {}
    for s in rows:
        by_name.setdefault(s.name, []).append(s)
    for sym in imports(elf):
        if sym.bind == STB_WEAK:
            continue  # resolved to null when absent: the caller checks it at run time
        known = by_name.get(sym.name, [])
        if sym.version:
            label = f"{sym.name}@{sym.version} (from {sym.version_file})"
            fits = [s for s in known if s.library == sym.version_file and s.version == sym.version]
            if not fits:
                problems.append(f"undefined symbol {label}: bionic's {abi.name} "
                                f"{sym.version_file or 'libraries'} have no such versioned symbol")
            elif not any(s.introduced <= api and s.versioned is not None and s.versioned <= api
                         for s in fits):
                s = fits[0]
                problems.append(f"undefined symbol {label}: on {abi.name} it exists from API "
                                f"{s.introduced}, versioned from API {s.versioned or 'never'}; "
                                f"the app supports API {api}")
            continue
        if not known:
            problems.append(f"undefined symbol {sym.name}: not exported by "
                            f"{'/'.join(toolchain.LIBRARIES)} on {abi.name} at any API level")
        elif not any(s.introduced <= api for s in known):
            first = min(s.introduced for s in known)
            problems.append(f"undefined symbol {sym.name}: bionic exports it on {abi.name} "
                            f"from API {first} ({known[0].library}); the app supports API {api}")

    for sym in exports(elf):
        if sym.name != "JNI_OnLoad" and not sym.name.startswith("Java_"):
            problems.append(f"exports {sym.name}: only JNI_OnLoad and Java_* may be exported")

    if not elf.load_aligns:
        problems.append("no LOAD segment")
    for n, align in enumerate(elf.load_aligns):
        if align < toolchain.PAGE:
            problems.append(f"LOAD segment {n} is aligned to {align} bytes, not "
                            f"{toolchain.PAGE} (16 KiB pages, required from Android 15)")

    if any(t == SHT_SYMTAB or name == ".symtab" for name, t in elf.sections):
        problems.append("not stripped: has a .symtab")
    debug = [name for name, _ in elf.sections if name.startswith((".debug", ".zdebug"))]
    if debug:
        problems.append(f"not stripped: has {', '.join(debug)}")
    if elf.textrel:
        problems.append("has text relocations (refused by Android since API 23)")
    return problems


def summary(path: Path) -> str:
    """NEEDED, imports per library and version, and exports, in a few lines."""
    elf = parse(Path(path).read_bytes())
    counts: dict[str, int] = {}
    for sym in imports(elf):
        key = ("weak" if sym.bind == STB_WEAK
               else f"{sym.version_file} @{sym.version}" if sym.version else "unversioned")
        counts[key] = counts.get(key, 0) + 1
    names = [s.name for s in exports(elf)]
    java = sum(n.startswith("Java_") for n in names)
    return (f"NEEDED {' '.join(elf.needed)}; imports "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f"; exports {len(names)} ({java} Java_*"
            + (", JNI_OnLoad" if "JNI_OnLoad" in names else "") + ")")
