"""The release pipeline: pinned actions, no leftover credentials, no cache, checksums.

Cheap and offline: the workflow files are read as text (zizmor, run by
tests/run.sh, audits them in depth); packaging/build.py's checksum writer is
called on small files and checked with ``sha256sum --check`` where it exists.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
RELEASE = ROOT / ".github" / "workflows" / "release.yml"

USES = re.compile(r"^(?P<indent>\s*)(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<note>.*))?$")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")


def uses_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, reference, comment) of every ``uses:`` in a workflow."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = USES.match(line)
        if match:
            found.append((number, match["ref"].strip("'\""), (match["note"] or "").strip()))
    return found


def step_blocks(text: str) -> list[list[str]]:
    """Each step (a ``- `` item under ``steps:``) as its lines, nested ones included."""
    lines = text.splitlines()
    blocks: list[list[str]] = []
    for start, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith("- ") or not _under_steps(lines, start):
            continue
        indent = len(line) - len(stripped)
        block = [line]
        for following in lines[start + 1:]:
            rest = following.lstrip()
            if rest and len(following) - len(rest) <= indent:
                break
            block.append(following)
        blocks.append(block)
    return blocks


def _under_steps(lines: list[str], index: int) -> bool:
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        rest = line.lstrip()
        if rest and len(line) - len(rest) < indent:
            return rest.startswith("steps:")
    return False


def test_there_is_a_release_workflow() -> None:
    assert RELEASE in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag(workflow: Path) -> None:
    uses = uses_lines(workflow.read_text(encoding="utf-8"))
    assert uses, "no actions found: the parser is broken"
    for number, ref, note in uses:
        if ref.startswith(("./", "docker://")):
            continue
        assert PINNED.match(ref), f"{workflow.name}:{number}: {ref} is not pinned to a commit"
        assert re.match(r"v\d+(\.\d+)*\b", note), (
            f"{workflow.name}:{number}: say which tag the commit is (# vX.Y.Z)")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_no_checkout_leaves_its_credentials_behind(workflow: Path) -> None:
    checkouts = [block for block in step_blocks(workflow.read_text(encoding="utf-8"))
                 if any("actions/checkout@" in line for line in block)]
    for block in checkouts:
        settings = [line.split("#", 1)[0].strip() for line in block]
        assert "persist-credentials: false" in settings, "\n".join(block)


def test_the_release_path_caches_nothing() -> None:
    text = RELEASE.read_text(encoding="utf-8")
    code = [line.split("#", 1)[0] for line in text.splitlines()]
    assert not any(re.match(r"\s*cache(-dependency-path)?:", line) for line in code)
    assert "actions/cache" not in text


def test_permissions_are_none_by_default_and_given_per_job() -> None:
    text = RELEASE.read_text(encoding="utf-8")
    assert re.search(r"^permissions: \{\}", text, re.MULTILINE)
    jobs = re.split(r"^  (?=[\w-]+:\s*$)", text.split("\njobs:\n", 1)[1], flags=re.MULTILINE)
    jobs = [job for job in jobs if job.strip()]
    assert len(jobs) >= 3
    for job in jobs:
        name = job.split(":", 1)[0]
        assert re.search(r"^    permissions:", job, re.MULTILINE), f"job {name}: no permissions"
        if "contents: write" in job:
            assert name == "publish", f"job {name} may write to the repository"


def test_the_release_publishes_sha256sums_checked_against_each_build() -> None:
    text = RELEASE.read_text(encoding="utf-8")
    assert "dist/SHA256SUMS" in text                       # uploaded with each build
    assert text.count("sha256sum --check") >= 2            # verified after download
    publish = text.split("\n  publish:\n", 1)[1]
    assert "SHA256SUMS" in publish
    assert "upload/*" in publish


def test_the_parsers_catch_what_they_look_for() -> None:
    bad = """\
jobs:
  build:
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: echo persist-credentials: false
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b
"""
    refs = [ref for _n, ref, _note in uses_lines(bad)]
    assert refs == ["actions/checkout@v4",
                    "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b"]
    assert not PINNED.match(refs[0])
    assert PINNED.match(refs[1])
    blocks = step_blocks(bad)
    assert len(blocks) == 3
    assert "persist-credentials: false" not in [line.strip() for line in blocks[0]]


# ------------------------------------------------------------------ packaging/build.py


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kling_packaging_build",
                                                  ROOT / "packaging" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_build_writes_sha256sums_next_to_the_installers(build: ModuleType,
                                                        tmp_path: Path) -> None:
    deb = tmp_path / "kling-desktop_1.0.0_amd64.deb"
    tarball = tmp_path / "kling-desktop-1.0.0-linux-x86_64.tar.gz"
    deb.write_bytes(b"deb contents")
    tarball.write_bytes(bytes(range(256)) * 5000)
    old = tmp_path / "SHA256SUMS"
    old.write_text("stale\n", encoding="utf-8")

    out = build.write_checksums([tarball, deb], tmp_path / "SHA256SUMS")

    assert out == tmp_path / "SHA256SUMS"
    data = out.read_bytes()
    assert b"\r" not in data
    assert data.decode("ascii").splitlines() == [   # sorted by name ("-" before "_")
        f"{hashlib.sha256(tarball.read_bytes()).hexdigest()}  {tarball.name}",
        f"{hashlib.sha256(deb.read_bytes()).hexdigest()}  {deb.name}",
    ]
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--check", "--strict", "--quiet", out.name],
                       cwd=tmp_path, check=True)


def test_build_refuses_to_list_a_file_from_another_folder(build: ModuleType,
                                                          tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    stray = tmp_path / "elsewhere" / "x.deb"
    stray.write_bytes(b"x")
    with pytest.raises(ValueError, match="next to"):
        build.write_checksums([stray], tmp_path / "SHA256SUMS")


def test_build_main_writes_the_checksums(build: ModuleType) -> None:
    source = (ROOT / "packaging" / "build.py").read_text(encoding="utf-8")
    main = source[source.index("def main("):]
    assert 'write_checksums(outputs, DIST / "SHA256SUMS")' in main


# ------------------------------------------------------------------ Inno Setup (Windows)


def test_inno_setup_is_one_pinned_release_checked_by_sha256() -> None:
    """Inno Setup 7 ships the Simplified Chinese wizard pages; 6 does not install them."""
    text = RELEASE.read_text(encoding="utf-8")
    block = next(block for block in step_blocks(text)
                 if any("Inno Setup" in line and "name:" in line for line in block))
    step = "\n".join(block)
    assert "runner.os == 'Windows'" in step
    url = re.search(r"INNO_URL:\s*(\S+)", step)
    digest = re.search(r"INNO_SHA256:\s*(\S+)", step)
    assert url is not None
    assert digest is not None
    assert re.fullmatch(r"https://github\.com/jrsoftware/issrc/releases/download/"
                        r"is-7_\d+_\d+/innosetup-7\.\d+\.\d+-x64\.exe", url[1])
    assert re.fullmatch(r"[0-9a-f]{64}", digest[1])
    assert "Get-FileHash -Algorithm SHA256" in step
    assert step.index("Get-FileHash") < step.index("Start-Process")   # checked, then run
    assert "choco install" not in text                                  # no unpinned installs
    assert "ChineseSimplified.isl" in step
    build_step = "\n".join(next(block for block in step_blocks(text)
                                if any("packaging/build.py" in line for line in block)))
    assert "KLING_ISCC: ${{ runner.temp }}/inno-setup-7/ISCC.exe" in build_step
    assert "$env:RUNNER_TEMP \"inno-setup-7\"" in step


def test_build_uses_the_iscc_it_is_given(build: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    given = tmp_path / "ISCC.exe"
    monkeypatch.setenv("KLING_ISCC", str(given))
    assert build.find_iscc() == str(given)


def test_build_prefers_inno_setup_7_to_6(build: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.delenv("KLING_ISCC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x86, x64 = tmp_path / "x86", tmp_path / "x64"
    monkeypatch.setenv("PROGRAMFILES(X86)", str(x86))
    monkeypatch.setenv("PROGRAMFILES", str(x64))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert build.find_iscc() is None
    six = x86 / "Inno Setup 6" / "ISCC.exe"
    six.parent.mkdir(parents=True)
    six.write_bytes(b"")
    assert build.find_iscc() == str(six)
    seven = tmp_path / "local" / "Programs" / "Inno Setup 7" / "ISCC.exe"
    seven.parent.mkdir(parents=True)
    seven.write_bytes(b"")
    assert build.find_iscc() == str(seven)
