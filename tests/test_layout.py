"""README's "Layout" section and the folder tree say the same thing: every crate and
top-level folder is described there, and nothing described there is missing."""

import re
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def described() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Layout", 1)[1]
    block = section.split("```", 2)[1]
    return [m.group(1).rstrip("/") for m in re.finditer(r"^(\S+)\s", block, re.M)]


def folders() -> set[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    tops = {p.split("/", 1)[0] for p in tracked if "/" in p and not p.startswith(".")}
    tops -= {"gradle"}  # the Gradle wrapper's own folder, beside gradlew
    crates = {"/".join(p.split("/")[:2]) for p in tracked if p.startswith("rust-core/")
              and p.count("/") >= 2}
    return (tops - {"rust-core"}) | crates


def test_every_folder_is_described_and_every_description_is_a_folder():
    names = described()
    assert len(names) == len(set(names)), f"described twice: {names}"
    assert set(names) == folders()


def test_every_workspace_member_is_described():
    members = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["members"]
    assert set(members) <= set(described())
