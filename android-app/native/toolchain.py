"""What build-native links the core with, made from the committed symbol table and Debian's
clang/lld, with no NDK and no C: stub libc/libm/libdl/liblog per ABI, the unwinder, the
linker wrapper rustc calls, and the cargo environment that ties them together
(docs/android-native.md says why each piece is what it is).

Python 3 stdlib only; build-native and the tests import it from beside them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "bionic" / "symbols.tsv"
NO_C = HERE / "no-c"
API = 24  # the app's minSdk: the stubs hold what bionic exports at this level, no more
PAGE = 16384  # Android 15+ devices may use 16 KiB pages; every LOAD segment must allow it
LIBRARIES = ("libc.so", "libm.so", "libdl.so", "liblog.so")


@dataclass(frozen=True)
class Abi:
    name: str  # Android's ABI name, the APK's lib/<name>/ folder
    rust: str  # rustc's target
    clang: str  # clang's target, without the API level
    machine: int  # ELF e_machine
    elf64: bool


ABIS = {a.name: a for a in (
    Abi("arm64-v8a", "aarch64-linux-android", "aarch64-linux-android", 183, True),
    Abi("armeabi-v7a", "armv7-linux-androideabi", "armv7a-linux-androideabi", 40, False),
    Abi("x86_64", "x86_64-linux-android", "x86_64-linux-android", 62, True),
)}

# 32-bit ARM unwinds with GCC's ARM EHABI unwinder from Debian's armel cross libgcc: it
# needs only malloc-family and mem* calls from libc, weak pthread_* and the weak
# __gnu_Unwind_Find_exidx that bionic exports on arm (docs/android-native.md).
ARMEL_LIBGCC_EH = Path("/usr/lib/gcc-cross/arm-linux-gnueabi/12/libgcc_eh.a")
ARMEL_PACKAGE = "libgcc-12-dev-armel-cross"


@dataclass(frozen=True)
class Symbol:
    name: str
    library: str
    abi: str
    introduced: int
    kind: str
    version: str
    versioned: int | None  # API level from which the stub binds it to `version`; None: never


def read_table(path: Path = TABLE) -> list[Symbol]:
    rows = []
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    for line in lines[1:]:
        r = dict(zip(header, line.split("\t")))
        rows.append(Symbol(r["symbol"], r["library"], r["abi"], int(r["introduced"]), r["kind"],
                           r["version"], None if r["versioned"] == "never" else int(r["versioned"])))
    return rows


def symbols_at(abi: str, api: int = API, table: list[Symbol] | None = None) -> list[Symbol]:
    """The table's symbols that exist on abi at api."""
    return [s for s in (table if table is not None else read_table())
            if s.abi == abi and s.introduced <= api]


def run(argv: list, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc


def stub_sources(symbols: list[Symbol], library: str, api: int) -> tuple[str, str]:
    """Assembly (bare global labels: functions in .text, 8-byte objects for variables) and
    the version script of one stub library. A symbol is bound to its version node only from
    its `versioned` level on, as the real library was; before that it stays unversioned."""
    asm = ["\t.text"]
    data = ["\t.data"]
    nodes: dict[str, list[str]] = {}
    for s in sorted((s for s in symbols if s.library == library), key=lambda s: s.name):
        if s.kind == "variable":
            data += [f"\t.globl\t{s.name}", f"\t.type\t{s.name}, %object",
                     f"\t.size\t{s.name}, 8", f"{s.name}:", "\t.zero\t8"]
        else:
            asm += [f"\t.globl\t{s.name}", f"\t.type\t{s.name}, %function", f"{s.name}:"]
        if s.versioned is not None and s.versioned <= api:
            nodes.setdefault(s.version, []).append(s.name)
    script = "".join(f"{node} {{\n  global:\n" + "".join(f"    {n};\n" for n in names) + "};\n"
                     for node, names in nodes.items())
    return "\n".join(asm + data) + "\n", script


def make_stubs(abi: Abi, out: Path, api: int = API, table: list[Symbol] | None = None) -> Path:
    """Builds out/libc.so, libm.so, libdl.so, liblog.so for abi at api: clang only assembles,
    ld.lld links; no C and no header is involved."""
    out.mkdir(parents=True, exist_ok=True)
    symbols = symbols_at(abi.name, api, table)
    for library in LIBRARIES:
        stem = library.removesuffix(".so")
        asm, script = stub_sources(symbols, library, api)
        (out / f"{stem}.S").write_text(asm)
        (out / f"{stem}.map").write_text(script)
        run(["clang", f"--target={abi.clang}{api}", "-c", "-x", "assembler",
             out / f"{stem}.S", "-o", out / f"{stem}.o"])
        version_script = ["--version-script", out / f"{stem}.map"] if script else []
        run(["ld.lld", "-shared", "-soname", library, *version_script, out / f"{stem}.o",
             "-o", out / library])
    return out


def make_unwinder(abi: Abi, out: Path) -> Path:
    """A directory holding the libunwind.a that rustc's `-lunwind` finds."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "libunwind.a"
    if abi.name == "armeabi-v7a":
        shutil.copyfile(ARMEL_LIBGCC_EH, target)
    else:
        # The unwinding crate (a dependency of phonehome-jni on these targets) is the
        # unwinder; -lunwind must still find an archive.
        target.write_bytes(b"!<arch>\n")
    return out


def make_linker(abi: Abi, bindir: Path, stubs: Path, api: int = API) -> Path:
    """The linker rustc runs. Its name must look like a compiler's: rustc picks the linker
    flavour from it, and a name ending in -ld would be handed raw ld flags."""
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / f"{abi.clang}{api}-clang"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"# rustc's linker for {abi.rust}: Debian's clang driving lld against the API-{api}\n"
        "# stub libraries; -nostdlib because the NDK's crt objects and libraries are not here.\n"
        "#\n"
        "# rustc's version script makes global every #[no_mangle] symbol of every crate, so\n"
        "# also the unwinding crate's _Unwind_*; ART looks up only JNI_OnLoad and Java_*, so\n"
        "# a copy of the script keeps those global and lets the rest fall to its local: *.\n"
        "for arg do\n"
        "    shift\n"
        "    case $arg in\n"
        "        -Wl,--version-script=*)\n"
        '            list=${arg#-Wl,--version-script=}\n'
        "            sed -E -e '/^[[:space:]]*(JNI_OnLoad|Java_[A-Za-z0-9_$]*);[[:space:]]*$/b' \\\n"
        "                -e '/^[[:space:]]*[A-Za-z_.$][A-Za-z0-9_.$]*;[[:space:]]*$/d' \\\n"
        '                "$list" >"$list.jni" || exit 1\n'
        '            arg=-Wl,--version-script=$list.jni ;;\n'
        "    esac\n"
        '    set -- "$@" "$arg"\n'
        "done\n"
        f'exec clang --target={abi.clang}{api} -fuse-ld=lld -nostdlib -L"{stubs}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def rustflags(unwind_dir: Path) -> list[str]:
    return ["-L", f"native={unwind_dir}",
            "-C", f"link-arg=-Wl,-z,max-page-size={PAGE}",
            # Fails the link when the core needs a symbol the API-24 stubs lack.
            "-C", "link-arg=-Wl,--no-undefined",
            # Keep the static unwinder's _Unwind_* out of the dynamic exports, and bind the
            # library's own calls to them locally: with thin LTO, --exclude-libs alone left
            # PLT calls that Android 11+ could resolve to libc's unwinder.
            "-C", "link-arg=-Wl,--exclude-libs,ALL",
            "-C", "link-arg=-Wl,-Bsymbolic-functions",
            "-C", "strip=symbols"]


def prepare(abi: Abi, work: Path, api: int = API, table: list[Symbol] | None = None) -> dict[str, str]:
    """Stubs, unwinder and linker for abi under work/; returns the environment cargo needs
    to build for abi with them (and with the C guard in place of a C compiler)."""
    stubs = make_stubs(abi, work / "stubs" / abi.name, api, table)
    unwind = make_unwinder(abi, work / "unwind" / abi.name)
    linker = make_linker(abi, work / "bin", stubs, api)
    var = abi.rust.replace("-", "_")
    env = {f"CARGO_TARGET_{var.upper()}_LINKER": str(linker),
           f"CARGO_TARGET_{var.upper()}_RUSTFLAGS": " ".join(rustflags(unwind))}
    # cc-rs, cmake-rs and friends look up CC_<target> and CXX_<target> (either spelling)
    # before anything else: every one of them lands on the guard.
    for tool in ("CC", "CXX"):
        env[f"{tool}_{var}"] = str(NO_C)
        env[f"{tool}_{abi.rust}"] = str(NO_C)
    return env


def ensure_rust_targets(abis: list[Abi], repo: Path) -> None:
    """rustup target add what is missing, in repo so that its rust-toolchain.toml applies."""
    installed = subprocess.run(["rustup", "target", "list", "--installed"], cwd=repo,
                               check=True, capture_output=True, text=True).stdout.split()
    missing = [a.rust for a in abis if a.rust not in installed]
    if missing:
        subprocess.run(["rustup", "target", "add", *missing], cwd=repo, check=True,
                       stdin=subprocess.DEVNULL)


def cargo_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without what would override the per-target flags."""
    env = dict(os.environ if base is None else base)
    for var in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "TARGET_CC", "TARGET_CXX"):
        env.pop(var, None)
    return env
