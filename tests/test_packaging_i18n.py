"""The installers, the desktop entry and the README speak 简体中文 and English.

Offline and without building anything: the packaging files are read as text (and
with the real desktop-file-validate where it is installed); packaging/build.py's
macOS helpers run on a folder standing in for the .app.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "linux" / "kling-desktop.desktop"

CJK = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------ Linux .desktop


def desktop_entry() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("key", ["Name", "GenericName", "Comment", "Keywords"])
def test_the_desktop_entry_has_a_chinese_value_next_to_each_english_one(key: str) -> None:
    entry = desktop_entry()["Desktop Entry"]
    assert entry.get(key), f"no {key}"
    chinese = entry.get(f"{key}[zh_CN]", "").strip()
    assert chinese, f"no {key}[zh_CN]"
    assert CJK.search(chinese), f"{key}[zh_CN]={chinese!r} is not Chinese"
    assert chinese != entry[key]


def test_the_chinese_keywords_still_find_the_app_by_its_latin_name() -> None:
    keywords = desktop_entry()["Desktop Entry"]["Keywords[zh_CN]"]
    assert keywords.endswith(";")
    assert "kling" in keywords.split(";")
    assert "可灵" in keywords.split(";")


def test_every_desktop_action_is_named_in_chinese_too() -> None:
    entry = desktop_entry()
    actions = [a for a in entry["Desktop Entry"]["Actions"].split(";") if a]
    assert actions
    for action in actions:
        section = entry[f"Desktop Action {action}"]
        assert CJK.search(section.get("Name[zh_CN]", "")), action


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt: desktop-file-utils)")
def test_desktop_file_validate_finds_no_error() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True,
                            text=True, check=False)
    errors = [line for line in (result.stdout + result.stderr).splitlines()
              if "error:" in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert not errors, result.stdout + result.stderr


def test_the_deb_recommends_a_cjk_font_once() -> None:
    control = (PACKAGING / "linux" / "control").read_text(encoding="utf-8")
    recommends = next(line for line in control.splitlines() if line.startswith("Recommends:"))
    packages = [p.strip() for p in recommends.split(":", 1)[1].split(",")]
    assert packages.count("fonts-noto-cjk") == 1, recommends
