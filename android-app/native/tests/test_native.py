"""The Android native build's parts, on tiny libraries assembled here (no cargo build of the
core): the symbol table and its generator, the stubs made from it, the linker wrapper,
check-so, and the guard that keeps C out of the Android build.

Run: PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -q -p no:cacheprovider android-app/native/tests
Needs clang and ld.lld (Debian's), and rustup's aarch64-linux-android target for the guard
test (added if missing). Scratch files live under the repository's target/ and are removed.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parent.parent
REPO = NATIVE.parent.parent
sys.path.insert(0, str(NATIVE))
import elfcheck  # noqa: E402
import toolchain  # noqa: E402

API = toolchain.API


def load_generator():
    loader = SourceFileLoader("generate_table", str(NATIVE / "bionic" / "generate-table"))
    spec = importlib.util.spec_from_loader("generate_table", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


gen = load_generator()
TABLE = toolchain.read_table()


@pytest.fixture(scope="module")
def work():
    base = REPO / "target" / "native-tests"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def envs(work):
    """The toolchain of every ABI at API 24 (stubs, unwinder, wrapper, cargo env)."""
    return {name: toolchain.prepare(abi, work / "tc", API, TABLE)
            for name, abi in toolchain.ABIS.items()}


# --- the table and its generator -------------------------------------------------------


def rows(symbol, abi=None):
    return [s for s in TABLE if s.name == symbol and (abi is None or s.abi == abi)]


def test_table_has_one_row_per_symbol_library_and_abi_for_the_three_abis():
    keys = [(s.name, s.library, s.abi) for s in TABLE]
    assert len(keys) == len(set(keys))
    assert {s.abi for s in TABLE} == set(toolchain.ABIS)
    assert {s.library for s in TABLE} == set(toolchain.LIBRARIES)
    assert {s.kind for s in TABLE} == {"function", "variable"}


def test_table_gives_the_levels_bionic_documents():
    # getrandom came with Android P (28) everywhere; malloc has always been there.
    assert {s.introduced for s in rows("getrandom")} == {28}
    assert all(rows("malloc", abi) for abi in toolchain.ABIS)
    # 64-bit ABIs start at API 21; the unwinders need dl_iterate_phdr on all three.
    assert {s.abi: s.introduced for s in rows("dl_iterate_phdr")} == {
        "arm64-v8a": 21, "armeabi-v7a": 21, "x86_64": 21}
    # arm-only, and bound to LIBC_N from 24: what armel's libgcc_eh asks for.
    assert [(s.abi, s.version, s.versioned) for s in rows("__gnu_Unwind_Find_exidx")] == [
        ("armeabi-v7a", "LIBC_N", 24)]
    # Variables are marked as such.
    assert {s.kind for s in rows("in6addr_any")} == {"variable"}
    # liblog's stubs are never versioned (unversioned_until "current").
    assert {s.versioned for s in TABLE if s.library == "liblog.so"} == {None}
    # Private, platform and LL-NDK symbols are not there.
    assert not rows("__system_properties_init") and not rows("android_mallopt")
    assert not rows("android_logger_list_alloc")


def test_table_sizes_at_api_24_match_what_the_research_linked_against():
    counts = {}
    for s in toolchain.symbols_at("arm64-v8a", API, TABLE):
        counts[s.library] = counts.get(s.library, 0) + 1
    assert counts == {"libc.so": 1171, "libm.so": 267, "libdl.so": 9, "liblog.so": 8}


MAP = """\
LIB {
  global:
    always;
    armonly; # arm
    later; # introduced=26
    archlevel; # introduced=21 introduced-arm64=28
    counter; # var
    hidden; # llndk
    forapex; # apex
    late_version; # versioned=29
  local:
    *;
};

LIB_N { # introduced-arm64=24 introduced-x86_64=24
  global:
    nsym;
} LIB;

LIB_PRIVATE {
  global:
    secret;
} LIB_N;
"""


def generated(map_text=MAP, first=9, until=9):
    return {(r["symbol"], r["abi"]): r
            for r in gen.rows_for("libx.so", gen.parse_map(map_text, "x.map.txt"), first, until)}


def test_generator_applies_arch_level_and_visibility_tags():
    r = generated()
    assert r[("always", "armeabi-v7a")]["introduced"] == "9"
    assert r[("always", "arm64-v8a")]["introduced"] == "21"  # 64-bit began at 21
    assert ("armonly", "armeabi-v7a") in r and ("armonly", "arm64-v8a") not in r
    assert r[("later", "x86_64")]["introduced"] == "26"
    assert r[("archlevel", "arm64-v8a")]["introduced"] == "28"  # arch tag wins
    assert r[("archlevel", "x86_64")]["introduced"] == "21"
    assert r[("counter", "x86_64")]["kind"] == "variable"
    assert not any(s in ("hidden", "forapex", "secret") for s, _ in r)
    # A node's level applies where it names the arch, not elsewhere.
    assert r[("nsym", "arm64-v8a")]["introduced"] == "24"
    assert r[("nsym", "armeabi-v7a")]["introduced"] == "9"
    assert r[("nsym", "arm64-v8a")]["version"] == "LIB_N"
    assert r[("late_version", "x86_64")]["versioned"] == "29"
    assert r[("always", "x86_64")]["versioned"] == "21"


def test_generator_leaves_symbols_unversioned_when_the_library_says_so():
    r = generated(until=None)
    assert {row["versioned"] for row in r.values()} == {"never"}


def test_generator_refuses_a_tag_it_does_not_know():
    with pytest.raises(gen.MapError, match="unknown tag"):
        gen.parse_map("LIB {\n  global:\n    f; # weak-ish\n};\n", "x.map.txt")


def test_generator_reads_the_first_version_from_android_bp():
    bp = 'ndk_library {\n    name: "liblog",\n    first_version: "9",\n    unversioned_until: "current",\n}\n'
    assert gen.ndk_library(bp, "liblog.so") == (9, None)
    assert gen.ndk_library(bp.replace('    unversioned_until: "current",\n', ""),
                           "liblog.so") == (9, 9)


# --- stubs, wrapper, check-so ----------------------------------------------------------

CALL = {"arm64-v8a": ("bl {}", "ret"), "armeabi-v7a": ("bl {}", "bx lr"),
        "x86_64": ("call {}@PLT", "ret")}


def assemble(work: Path, abi: str, name: str, exports=("JNI_OnLoad", "Java_org_x_Y_z"),
             calls=("malloc",), weak=()) -> Path:
    call, ret = CALL[abi]
    lines = ["\t.text"] + [f"\t.weak\t{w}" for w in weak]
    for i, fn in enumerate(exports):
        lines += [f"\t.globl\t{fn}", f"\t.type\t{fn}, %function", f"{fn}:"]
        if i == 0:
            lines += [f"\t{call.format(c)}" for c in (*calls, *weak)]
        lines.append(f"\t{ret}")
    src = work / f"{name}-{abi}.S"
    src.write_text("\n".join(lines) + "\n")
    obj = src.with_suffix(".o")
    toolchain.run(["clang", f"--target={toolchain.ABIS[abi].clang}{API}", "-c", src, "-o", obj])
    return obj


def wrapper(work: Path, abi: str) -> Path:
    a = toolchain.ABIS[abi]
    return work / "tc" / "bin" / f"{a.clang}{API}-clang"


def link(work, envs, abi, name, *, page=toolchain.PAGE, strip=True, extra=(), undefined_ok=False,
         **asm):
    obj = assemble(work, abi, name, **asm)
    out = work / f"{name}-{abi}.so"
    flags = [f"-Wl,-z,max-page-size={page}"]
    flags += [] if undefined_ok else ["-Wl,--no-undefined"]
    flags += ["-s"] if strip else []
    toolchain.run([wrapper(work, abi), "-shared", "-o", out, obj, *flags, *extra,
                   "-lc", "-lm", "-ldl", "-llog"])
    return out


@pytest.mark.parametrize("abi", list(toolchain.ABIS))
def test_stubs_export_exactly_the_table_at_api_24(work, envs, abi):
    stubs = work / "tc" / "stubs" / abi
    for library in toolchain.LIBRARIES:
        elf = elfcheck.parse((stubs / library).read_bytes())
        exported = {s.name for s in elfcheck.exports(elf)}
        expected = {s.name for s in toolchain.symbols_at(abi, API, TABLE) if s.library == library}
        assert exported == expected, library


def test_stubs_bind_versions_only_where_the_real_library_did(work, envs):
    versions = {}
    for library in ("libc.so", "liblog.so"):
        elf = elfcheck.parse((work / "tc" / "stubs" / "armeabi-v7a" / library).read_bytes())
        versions.update({s.name: s.version for s in elfcheck.exports(elf)})
    assert versions["__gnu_Unwind_Find_exidx"] == "LIBC_N"
    assert versions["malloc"] == "LIBC"
    assert versions["bsd_signal"] is None  # in LIBC_O, but versioned only from 26
    assert versions["__android_log_write"] is None  # liblog: never versioned


@pytest.mark.parametrize("abi", list(toolchain.ABIS))
def test_check_so_passes_a_library_that_keeps_every_rule(work, envs, abi):
    good = link(work, envs, abi, "good", calls=("malloc", "sqrt", "dlsym", "__android_log_write"))
    assert elfcheck.check(good, abi, API, TABLE) == []
    elf = elfcheck.parse(good.read_bytes())
    assert set(elf.needed) == {"libc.so", "libm.so", "libdl.so", "liblog.so"}


def test_check_so_command_says_ok_and_fails_listing_every_problem(work, envs):
    good = link(work, envs, "arm64-v8a", "cli-good")
    ok = subprocess.run([NATIVE / "check-so", good, "arm64-v8a"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "ok for arm64-v8a at API 24" in ok.stdout
    bad = link(work, envs, "arm64-v8a", "cli-bad", page=4096, strip=False,
               exports=("JNI_OnLoad", "helper"))
    fail = subprocess.run([NATIVE / "check-so", bad, "arm64-v8a"], capture_output=True, text=True)
    assert fail.returncode == 1
    lines = fail.stderr.splitlines()
    for expected in ("exports helper", "aligned to 4096", "not stripped"):
        assert any(expected in line for line in lines), expected
    # One line per problem, then the count.
    assert lines[-1].endswith(f"{len(lines) - 1} problem(s) for arm64-v8a at API 24")


def only_problem(path, abi, *fragments):
    problems = elfcheck.check(path, abi, API, TABLE)
    assert len(problems) == 1, problems
    for f in fragments:
        assert f in problems[0], problems
    return problems[0]


def test_check_so_fails_an_extra_needed_library(work, envs):
    other = work / "libfoo.so"
    obj = assemble(work, "arm64-v8a", "foo", exports=("foo",), calls=())
    toolchain.run(["ld.lld", "-shared", "-soname", "libfoo.so", obj, "-o", other])
    bad = link(work, envs, "arm64-v8a", "needed", extra=[f"-L{work}", "-Wl,--no-as-needed", "-lfoo"])
    only_problem(bad, "arm64-v8a", "NEEDED libfoo.so")


def test_check_so_fails_an_extra_export(work, envs):
    bad = link(work, envs, "x86_64", "export", exports=("JNI_OnLoad", "Java_a_B_c", "helper"))
    only_problem(bad, "x86_64", "exports helper")


def test_check_so_fails_4k_aligned_load_segments(work, envs):
    bad = link(work, envs, "armeabi-v7a", "align4k", page=4096)
    problems = elfcheck.check(bad, "armeabi-v7a", API, TABLE)
    assert problems and all("aligned to 4096" in p for p in problems), problems


def test_check_so_fails_an_unstripped_library(work, envs):
    bad = link(work, envs, "arm64-v8a", "unstripped", strip=False)
    only_problem(bad, "arm64-v8a", "not stripped", ".symtab")


def test_check_so_fails_a_symbol_bionic_does_not_export(work, envs):
    bad = link(work, envs, "arm64-v8a", "unknown", calls=("malloc", "phonehome_nowhere"),
               undefined_ok=True)
    only_problem(bad, "arm64-v8a", "phonehome_nowhere", "at any API level")


def test_check_so_fails_a_symbol_newer_than_api_24_unversioned(work, envs):
    bad = link(work, envs, "x86_64", "getrandom", calls=("getrandom",), undefined_ok=True)
    only_problem(bad, "x86_64", "getrandom", "from API 28")


def test_check_so_fails_a_symbol_newer_than_api_24_linked_against_newer_stubs(work, envs):
    stubs28 = toolchain.make_stubs(toolchain.ABIS["arm64-v8a"], work / "stubs28", 28, TABLE)
    obj = assemble(work, "arm64-v8a", "getrandom28", calls=("getrandom",))
    bad = work / "getrandom28.so"
    toolchain.run(["clang", "--target=aarch64-linux-android28", "-fuse-ld=lld", "-nostdlib",
                   "-shared", f"-L{stubs28}", "-o", bad, obj, "-s",
                   f"-Wl,-z,max-page-size={toolchain.PAGE}", "-lc"])
    only_problem(bad, "arm64-v8a", "getrandom@LIBC_P", "API 28")


def test_check_so_allows_a_weak_reference_to_a_newer_symbol(work, envs):
    ok = link(work, envs, "arm64-v8a", "weak", weak=("getrandom",))
    assert elfcheck.check(ok, "arm64-v8a", API, TABLE) == []


def test_check_so_fails_a_library_of_another_abi(work, envs):
    lib = link(work, envs, "arm64-v8a", "otherabi")
    only_problem(lib, "x86_64", "ELF machine 183")


def test_check_so_refuses_a_file_that_is_not_elf(work):
    text = work / "not-elf.so"
    text.write_text("hello")
    assert elfcheck.check(text, "x86_64", API, TABLE) == ["not an ELF file"]


@pytest.mark.parametrize("abi", list(toolchain.ABIS))
def test_wrapper_link_fails_for_a_symbol_newer_than_api_24(work, envs, abi):
    obj = assemble(work, abi, "new", calls=("getrandom",))
    proc = subprocess.run([wrapper(work, abi), "-shared", "-Wl,--no-undefined", "-o",
                           work / f"new-{abi}.so", obj, "-lc"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "undefined symbol: getrandom" in proc.stderr
    # The same link with a symbol API 24 has succeeds: the failure is the API level's.
    link(work, envs, abi, "old", calls=("arc4random_buf",))


def test_wrapper_keeps_only_jni_symbols_of_rustcs_version_script(work, envs):
    # rustc lists every #[no_mangle] symbol of every crate (the unwinding crate's _Unwind_*
    # too); what the wrapper links exports only what ART looks up.
    obj = assemble(work, "x86_64", "listed", exports=("JNI_OnLoad", "Java_a_B_c", "_Unwind_Resume"))
    script = work / "rustc-list"
    script.write_text("{\n  global:\n    JNI_OnLoad;\n    Java_a_B_c;\n    _Unwind_Resume;\n\n"
                      "  local:\n    *;\n};\n")
    out = work / "listed.so"
    toolchain.run([wrapper(work, "x86_64"), "-shared", "-o", out, obj, "-lc", "-s",
                   f"-Wl,--version-script={script}", f"-Wl,-z,max-page-size={toolchain.PAGE}"])
    exported = {s.name for s in elfcheck.exports(elfcheck.parse(out.read_bytes()))}
    assert exported == {"JNI_OnLoad", "Java_a_B_c"}
    assert elfcheck.check(out, "x86_64", API, TABLE) == []


# --- the C guard -----------------------------------------------------------------------

BUILD_RS = r'''
// Compiles C for the target the way cc-rs finds its compiler (CC_<target>, either spelling).
fn main() {
    let target = std::env::var("TARGET").unwrap();
    let cc = std::env::var(format!("CC_{target}"))
        .or_else(|_| std::env::var(format!("CC_{}", target.replace('-', "_"))))
        .unwrap_or_else(|_| "cc".into());
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("x.o");
    let status = std::process::Command::new(&cc)
        .args(["-c", "x.c", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "{cc} failed");
}
'''


def test_guard_stops_a_crate_with_a_c_build_step_and_names_it(work, envs):
    abi = toolchain.ABIS["arm64-v8a"]
    toolchain.ensure_rust_targets([abi], REPO)
    crate = work / "has-c"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "has-c-build-step"\nversion = "0.1.0"\nedition = "2021"\n'
        'build = "build.rs"\n\n[lib]\npath = "src/lib.rs"\n\n[workspace]\n')
    (crate / "build.rs").write_text(BUILD_RS)
    (crate / "x.c").write_text("int x(void) { return 1; }\n")
    (crate / "src" / "lib.rs").write_text("")
    log = work / "no-c.log"
    env = toolchain.cargo_env()
    env.update(envs["arm64-v8a"], CARGO_TARGET_DIR=str(crate / "target"),
               PHONEHOME_NO_C_LOG=str(log))
    proc = subprocess.run(["cargo", "build", "--offline", "--target", abi.rust], cwd=crate,
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=600)
    assert proc.returncode != 0
    message = "no C may be compiled for Android: has-c-build-step has a C build step"
    assert message in proc.stderr
    assert message in log.read_text()
    # For the host, the same crate builds: the guard is for Android targets only.
    host = subprocess.run(["cargo", "build", "--offline"], cwd=crate, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert host.returncode == 0, host.stderr
