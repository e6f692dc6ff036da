"""android-app/check-apk on the APK android-app/build-apk built, and on broken copies of it.

    PHONEHOME_APK=android-app/build/apk/phonehome-<version>-universal.apk python3 -m pytest -q tests/test_apk.py

Without PHONEHOME_APK the newest universal APK in android-app/build/apk/ is used, and the
tests are skipped if there is none (tests/run-all builds it first and sets the variable,
so there they cannot skip). The broken copies are re-signed with the build's debug key
where the point is a check other than the signature.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "android-app"
CHECK_APK = APP / "check-apk"
DEBUG_KEY = APP / "build" / "debug.keystore"


def built_apk() -> Path | None:
    if os.environ.get("PHONEHOME_APK"):
        return Path(os.environ["PHONEHOME_APK"])
    apks = sorted((APP / "build" / "apk").glob("phonehome-*-universal.apk"), key=lambda p: p.stat().st_mtime)
    return apks[-1] if apks else None


APK = built_apk()
pytestmark = pytest.mark.skipif(APK is None, reason="no APK: run android-app/build-apk first")


@pytest.fixture
def work():
    # Inside the checkout (android-app/build is ignored by git), removed afterwards.
    d = APP / "build" / "test-apk"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check_apk(apk: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK_APK), str(apk), *args],
                          capture_output=True, text=True, timeout=300)


def rezip(src: Path, dest: Path, replace: dict[str, bytes | None]) -> None:
    """Copies src's entries to dest without its signature, replacing or (None) dropping some."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename.startswith("META-INF/"):
                continue
            data = replace.get(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)


def sign(unsigned: Path, dest: Path) -> None:
    aligned = unsigned.with_suffix(".aligned.apk")
    subprocess.run(["zipalign", "-f", "-p", "4", str(unsigned), str(aligned)], check=True)
    subprocess.run(["apksigner", "sign", "--ks", str(DEBUG_KEY), "--ks-pass", "pass:android",
                    "--key-pass", "pass:android", "--ks-key-alias", "androiddebugkey",
                    "--out", str(dest), str(aligned)], check=True)


def test_the_built_apk_passes_every_check():
    r = check_apk(APK)
    assert r.returncode == 0, r.stderr


def test_an_unsigned_apk_fails(work):
    unsigned = work / "unsigned.apk"
    rezip(APK, unsigned, {})
    r = check_apk(unsigned)
    assert r.returncode == 1
    assert "apksigner verify failed" in r.stderr


def test_a_tampered_apk_fails(work):
    tampered = work / "tampered.apk"
    data = bytearray(APK.read_bytes())
    with zipfile.ZipFile(APK) as z:
        info = z.getinfo("resources.arsc")
    # One byte inside resources.arsc (stored, so the byte is the content itself).
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size // 2
    data[offset] ^= 0x01
    tampered.write_bytes(bytes(data))
    r = check_apk(tampered)
    assert r.returncode == 1
    assert "apksigner verify failed" in r.stderr
    assert "resources.arsc is corrupt" in r.stderr


def test_an_apk_without_one_abi_fails_the_native_code_check(work):
    with zipfile.ZipFile(APK) as z:
        drop = {n: None for n in z.namelist() if n.startswith("lib/x86_64/")}
    assert drop, "the built APK has no x86_64 library"
    rezip(APK, work / "unsigned.apk", drop)
    sign(work / "unsigned.apk", work / "two-abis.apk")
    r = check_apk(work / "two-abis.apk")
    assert r.returncode == 1
    assert "native-code is ['arm64-v8a', 'armeabi-v7a'], want" in r.stderr
    assert "no lib/x86_64/libphonehome_jni.so" in r.stderr
    # The same APK is right for an APK asked to carry those two.
    r = check_apk(work / "two-abis.apk", "--abi", "arm64-v8a", "--abi", "armeabi-v7a")
    assert r.returncode == 0, r.stderr


def test_a_library_built_for_another_abi_fails_check_so(work):
    with zipfile.ZipFile(APK) as z:
        arm64 = z.read("lib/arm64-v8a/libphonehome_jni.so")
    rezip(APK, work / "unsigned.apk", {"lib/x86_64/libphonehome_jni.so": arm64})
    sign(work / "unsigned.apk", work / "wrong-abi.apk")
    r = check_apk(work / "wrong-abi.apk")
    assert r.returncode == 1
    assert "check-so lib/x86_64/libphonehome_jni.so x86_64" in r.stderr
    assert "check-so lib/arm64-v8a" not in r.stderr
