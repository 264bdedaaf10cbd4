"""PySide's check of each module imported after Qt, answered from the file's bytes
(:mod:`kling_desktop.ui.import_check`): the same answers as PySide's own, nothing kept."""

from __future__ import annotations

import inspect
import json
import linecache
import math
import sys
import types
from pathlib import Path

import PySide6.QtCore  # noqa: F401  (brings PySide's check)
import pytest

from kling_desktop import errors
from kling_desktop.ui import import_check, widgets
from kling_desktop.ui.import_check import CHECK_NAME, FEATURE_MODULE, mentions_pyside

FEATURE = sys.modules[FEATURE_MODULE]


def pyside_answer(module: types.ModuleType) -> bool:
    """PySide's own check, where this process still has it; else the same expression."""
    own = getattr(FEATURE, CHECK_NAME)
    if own is not mentions_pyside:
        return bool(own(module))
    try:
        return "PySide6" in inspect.getsource(module)
    except (TypeError, OSError, SyntaxError):
        return False


def load_file(path: Path, text: str) -> types.ModuleType:
    """A module made from ``text`` at ``path`` (imported the usual way, then left)."""
    path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(path.parent))
    try:
        return __import__(path.stem)
    finally:
        sys.path.remove(str(path.parent))
        sys.modules.pop(path.stem, None)


def test_the_pinned_pyside_still_has_the_check() -> None:
    """The day a PySide release renames or drops it, install() stops answering (and the
    start-up is a few ms slower): this says so."""
    assert callable(getattr(FEATURE, CHECK_NAME, None))
    assert isinstance(FEATURE.pyside_feature_dict, dict)


@pytest.mark.parametrize("module", [widgets, errors, json, inspect, sys, math],
                         ids=lambda m: m.__name__)
def test_the_answer_is_pysides(module: types.ModuleType) -> None:
    assert mentions_pyside(module) is pyside_answer(module)


def test_modules_without_a_readable_source_do_not_mention_it(tmp_path: Path) -> None:
    gone = load_file(tmp_path / "gone_module.py", "import PySide6\n")
    (tmp_path / "gone_module.py").unlink()     # (a frozen app has no .py files either)
    bare = types.ModuleType("made_in_memory")
    assert [mentions_pyside(gone), pyside_answer(gone)] == [False, False]
    assert [mentions_pyside(bare), pyside_answer(bare)] == [False, False]


def test_a_module_with_a_file_but_no_spec_is_read(tmp_path: Path) -> None:
    run_as_script = types.ModuleType("__main__")   # (a script: no spec, a file)
    run_as_script.__file__ = str(tmp_path / "script.py")
    (tmp_path / "script.py").write_text("import PySide6\n", encoding="utf-8")
    assert [mentions_pyside(run_as_script), pyside_answer(run_as_script)] == [True, True]


def test_imports_after_install_get_pysides_answer_without_linecache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FEATURE, CHECK_NAME, getattr(FEATURE, CHECK_NAME))   # put back after
    assert import_check.install() is True
    uses = load_file(tmp_path / "uses_qt_here.py", "from PySide6 import QtCore\n")
    plain = load_file(tmp_path / "plain_here.py", "VALUE = 1\n")
    assert FEATURE.pyside_feature_dict[uses.__name__] == 0     # may see __feature__
    assert FEATURE.pyside_feature_dict[plain.__name__] == -1   # ignored by it
    assert not {uses.__file__, plain.__file__} & linecache.cache.keys()


def test_install_changes_nothing_without_pyside_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, FEATURE_MODULE)
    assert import_check.install() is False
