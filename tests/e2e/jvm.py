"""Running the app's JVM side in end-to-end tests: one place for what test_jni,
test_jni_intercept, test_app_screens and test_app_discovery all need.

Two ways in. `BridgeDriver` (android-app/src/test/java/org/phonehome/core) is a plain
`main` that drives `NativeCore` line by line over stdin/stdout; `start_driver` runs it.
The Robolectric tests of the app (LiveSessionTest, LiveDiscoveryTest) run under JUnit on a
JDK >= 21 with the app's resources; `start_junit` runs one. Both load the core from
target/release/libphonehome_jni.so, run in the test topology's host namespace (where the
core's own sockets live) and are handed the TUN fds the test opened.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from harness import REPO, clean_env

LIBRARY_DIR = REPO / "target" / "release"
CHECKS = REPO / "android-app" / "host-checks" / "target"
BUILD_HINT = ("needs `cargo build --release -p phonehome-jni` and "
              "`mvn -f android-app/host-checks/pom.xml -DskipTests package`")


def java21() -> str | None:
    """A java >= 21 (Robolectric's Android 16 is Java 21 bytecode)."""
    candidates = [os.environ.get("PHONEHOME_TEST_JAVA", "")]
    candidates += [str(p / "bin" / "java") for p in sorted(Path("/usr/lib/jvm").glob("*"))]
    for java in candidates:
        if not java or not os.access(java, os.X_OK):
            continue
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "(\d+)', out)
        if m and int(m.group(1)) >= 21:
            return java
    return None


def junit_classpath() -> str | None:
    """The Robolectric tests' class path, from the Maven build (its test.classpath)."""
    if not (CHECKS / "test.classpath").exists():
        return None
    return ":".join([str(CHECKS / "test-classes"), str(CHECKS / "classes"),
                     str(CHECKS / "aar" / "monitor.jar"),
                     str(CHECKS / "aar" / "espresso-idling-resource.jar"),
                     (CHECKS / "test.classpath").read_text().strip()])


def driver_classpath() -> str | None:
    """The app's classes, the driver, and Kotlin's runtime, from the Maven build."""
    if os.environ.get("PHONEHOME_BRIDGE_CLASSPATH"):  # for running a test by hand
        return os.environ["PHONEHOME_BRIDGE_CLASSPATH"]
    if not (CHECKS / "runtime.classpath").exists():
        return None
    return ":".join([str(CHECKS / "classes"), str(CHECKS / "test-classes"),
                     (CHECKS / "runtime.classpath").read_text().strip()])


def _core_built() -> bool:
    return (LIBRARY_DIR / "libphonehome_jni.so").exists()


needs_driver = pytest.mark.skipif(driver_classpath() is None or not _core_built(), reason=BUILD_HINT)
needs_junit = pytest.mark.skipif(
    junit_classpath() is None or java21() is None or not _core_built(),
    reason=BUILD_HINT + " and a JDK >= 21",
)


def junit_props(**test_props) -> dict:
    """System properties of a Robolectric run: offline, the Maven build's Android jar, the
    core on the library path, `phonehome.<name>` for each of [test_props], and
    `phonehome.screenshots` when PHONEHOME_SCREENSHOTS names a folder."""
    (CHECKS / "tmp").mkdir(exist_ok=True)
    props = {
        "java.io.tmpdir": CHECKS / "tmp",
        "robolectric.offline": "true",
        "robolectric.dependency.dir": CHECKS / "robolectric",
        "java.library.path": LIBRARY_DIR,
    }
    props.update({f"phonehome.{k}": v for k, v in test_props.items()})
    if os.environ.get("PHONEHOME_SCREENSHOTS"):
        props["phonehome.screenshots"] = os.path.abspath(os.environ["PHONEHOME_SCREENSHOTS"])
    return props


def start_junit(topo, test_class: str, props: dict, fds: tuple, log) -> subprocess.Popen:
    """One JUnit test class of the app, its output (stdout and stderr) to [log]."""
    return subprocess.Popen(
        ["ip", "netns", "exec", topo.host, java21(), "--enable-native-access=ALL-UNNAMED",
         *[f"-D{k}={v}" for k, v in props.items()], "-cp", junit_classpath(),
         "org.junit.runner.JUnitCore", test_class],
        stdout=log, stderr=subprocess.STDOUT, pass_fds=fds, env=clean_env(), cwd=CHECKS.parent)


def start_driver(topo, args: list, fds: tuple, stderr) -> subprocess.Popen:
    """BridgeDriver with [args], commands on its stdin, results as `key<TAB>value` lines
    on its stdout."""
    return subprocess.Popen(
        ["ip", "netns", "exec", topo.host, "java", f"-Djava.library.path={LIBRARY_DIR}",
         "-cp", driver_classpath(), "org.phonehome.core.BridgeDriverKt", *map(str, args)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
        pass_fds=fds, env=clean_env())


def until_started(jvm: subprocess.Popen, stderr_path: Path) -> list:
    """The driver's lines up to its `started` line (its session runs from there)."""
    lines = []
    while True:
        line = jvm.stdout.readline()
        if not line:
            raise AssertionError(f"driver ended early: {lines}\n{stderr_path.read_text()}")
        lines.append(line)
        if line.startswith("started\t"):
            return lines


def wait_for_file(path: Path, jvm: subprocess.Popen, seconds: float, what: str) -> bool:
    """Waits for the test in [jvm] to write [path] (its handshake); False if the JVM ended
    first."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if jvm.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.2)
    return True


@contextlib.contextmanager
def reaped(jvm: subprocess.Popen):
    """[jvm], killed and waited for when the block leaves it running (a failed assertion)."""
    try:
        yield jvm
    finally:
        if jvm.poll() is None:
            jvm.kill()
            jvm.wait()
