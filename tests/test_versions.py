"""The app's versions have one source, gradle/libs.versions.toml; the copies that cannot read
it (Maven's pom.xml, robolectric.properties, the native toolchain's API level) must agree
with it, and the two builds (Gradle; android-app/build-apk) must take theirs from it.

    python3 -m pytest -q tests/test_versions.py
"""

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "android-app"
VERSIONS = tomllib.loads((REPO / "gradle" / "libs.versions.toml").read_text())["versions"]
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
POM = ET.parse(APP / "host-checks" / "pom.xml").getroot()
# API level -> Android version, as android-all names its jars ("16-robolectric-...").
ANDROID_VERSION = {34: "14", 35: "15", 36: "16"}


def pom_property(name: str) -> str:
    el = POM.find(f"m:properties/m:{name}", POM_NS)
    assert el is not None, f"pom.xml has no <{name}>"
    return el.text.strip()


def pom_dependency_version(group: str, artifact: str) -> str:
    for dep in POM.iterfind("m:dependencies/m:dependency", POM_NS):
        if dep.findtext("m:groupId", namespaces=POM_NS) == group and \
                dep.findtext("m:artifactId", namespaces=POM_NS) == artifact:
            version = dep.findtext("m:version", namespaces=POM_NS).strip()
            m = re.fullmatch(r"\$\{(.+)\}", version)
            return pom_property(m.group(1)) if m else version
    raise AssertionError(f"pom.xml has no dependency {group}:{artifact}")


def test_maven_uses_the_kotlin_junit_and_robolectric_of_the_version_catalog():
    assert pom_property("kotlin.version") == VERSIONS["kotlin"]
    assert pom_dependency_version("org.jetbrains.kotlin", "kotlin-stdlib") == VERSIONS["kotlin"]
    assert pom_dependency_version("junit", "junit") == VERSIONS["junit"]
    assert pom_dependency_version("org.robolectric", "robolectric") == VERSIONS["robolectric"]


def test_maven_compiles_against_the_compile_sdk_and_robolectric_runs_the_target_sdk():
    android = ANDROID_VERSION[int(VERSIONS["compileSdk"])]
    all_jar = pom_property("android.all.version")
    sdk_jar = pom_property("robolectric.sdk.jar.version")
    assert all_jar.startswith(f"{android}-robolectric-"), all_jar
    # The same Android build, instrumented: 16-robolectric-N-2 and 16-robolectric-N-i7.
    assert all_jar.rsplit("-", 1)[0] == sdk_jar.rsplit("-", 1)[0], (all_jar, sdk_jar)
    props = (APP / "src" / "test" / "resources" / "robolectric.properties").read_text()
    assert re.search(rf"^sdk={VERSIONS['targetSdk']}$", props, re.M), props


def test_gradle_reads_every_app_version_from_the_catalog():
    gradle = (APP / "build.gradle.kts").read_text()
    for key in ("compileSdk", "minSdk", "targetSdk", "versionCode", "versionName"):
        assert re.search(rf"^\s*{key} = libs\.versions\.{key}\.get\(\)", gradle, re.M), \
            f"build.gradle.kts does not take {key} from libs.versions.toml"
    assert "libs.kotlin.stdlib" in gradle and "libs.robolectric" in gradle


def test_the_sdk_free_build_reads_the_catalog_and_no_manifest_carries_versions():
    resources = (APP / "host-checks" / "check-resources").read_text()
    for key in ("minSdk", "targetSdk", "compileSdk", "versionCode", "versionName"):
        assert f"version {key})" in resources, f"check-resources does not read {key}"
    manifest = (APP / "src" / "main" / "AndroidManifest.xml").read_text()
    assert "<uses-sdk" not in manifest
    assert not re.search(r"<manifest[^>]*(package|versionCode|versionName)=", manifest)


def test_the_native_build_links_for_min_sdk():
    toolchain = APP / "native" / "toolchain.py"
    if not toolchain.exists():
        return  # the native build is not in this checkout yet
    m = re.search(r"^API = (\d+)", toolchain.read_text(), re.M)
    assert m and m.group(1) == VERSIONS["minSdk"], "android-app/native/toolchain.py API != minSdk"


def test_both_builds_package_the_same_abis():
    gradle = set(re.findall(r'RustAbi\("([^"]+)"', (APP / "build.gradle.kts").read_text()))
    for script in ("build-apk", "check-apk"):
        m = re.search(r"^ABIS = \[(.*)\]", (APP / script).read_text(), re.M)
        assert m, script
        assert set(re.findall(r'"([^"]+)"', m.group(1))) == gradle, script
