"""Fixtures for the window tests: real engines on real SQLite, real simulators, real widgets.

- ``media``: a folder of real test media (ffmpeg, see ``tests/media.py``);
- ``windows``: builds main windows (engine + window) and, at the end of the
  test, shuts every worker down with a bound and closes every engine;
- ``answer_box``: clicks a button of the next modal message box.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from kling_desktop.engine.runner import Engine
from kling_desktop.engine.settings import Settings
from kling_desktop.ui.app import create_main_window
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.tasks import TaskRunner

# PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call; a long
# Qt test run would abort ("deallocating None"). Same guard as the app (see run_app).

WAIT_MS = 20_000

# The offscreen platform cannot apply a top-level window's minimum size and says so;
# a real desktop never prints it. Headless machines decode video frames on the CPU.
QT_LOG_IGNORES = (
    r"This plugin does not support propagateSizeHints\(\)",
    r"No RHI backend\. Using CPU conversion\.",
)


def fast_settings(**changes: object) -> Settings:
    values: dict[str, object] = {"poll_min_interval": 0.05, "poll_max_interval": 0.3,
                                 "confirm_before_generate": False}
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


@dataclass
class WindowFactory:
    qtbot: QtBot
    made: list[tuple[MainWindow, Engine]] = field(default_factory=list)

    def engine(self, sim: object | None = None, *, key: str | None = None,
               **settings: object) -> Engine:
        base_url = getattr(sim, "base_url", None)
        return Engine(api_key=key, base_url=base_url, settings=fast_settings(**settings))

    def window(self, engine: Engine, **kwargs: Any) -> MainWindow:
        window = create_main_window(engine, **kwargs)
        # Not qtbot.addWidget: pytest-qt would close it before our teardown, and a window
        # with running jobs asks before closing. close_all shuts down first, then closes.
        self.made.append((window, engine))
        window.resize(1280, 800)
        window.show()
        self.qtbot.waitExposed(window)
        return window

    def close_all(self) -> None:
        for window, engine in self.made:
            assert window.shutdown(10_000), "workers outlived the window"
            window.close()
            window.deleteLater()
            engine.close()
        self.made.clear()


@pytest.fixture
def windows(qtbot: QtBot) -> Iterator[WindowFactory]:
    factory = WindowFactory(qtbot)
    yield factory
    factory.close_all()


def click_box_button(text_or_name: str) -> Callable[[], None]:
    """A callable that clicks the matching button of the active modal message box."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)   # the box is not up yet
            return
        for button in box.findChildren(QAbstractButton):
            if button.objectName() == text_or_name or button.text() == text_or_name:
                button.click()
                return
        raise AssertionError(f"no button {text_or_name!r} in {[b.text() for b in box.buttons()]}")

    return click


@pytest.fixture
def answer_box() -> Callable[[str], None]:
    """``answer_box("Keep for next time")`` before an action that asks."""

    def arm(text_or_name: str) -> None:
        QTimer.singleShot(0, click_box_button(text_or_name))

    return arm


@pytest.fixture
def data_dir() -> Path:
    return Path(os.environ["KLING_DATA_DIR"])


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    """The window's background mechanism, shut down (bounded) after the test."""
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(10_000), "background work outlived the test"


@pytest.fixture
def form(qtbot: QtBot, tasks: TaskRunner, tmp_path: Path) -> Iterator[GenerateForm]:
    """A form on its own (no window), remembering nothing, converting into the test's folder."""
    from tests.ui.test_generate_form import hosted

    widget = GenerateForm(tasks, Settings(), remember=False)
    widget.set_conversion_dir(tmp_path / "converted")
    host = hosted(qtbot, widget)
    yield widget
    widget.shutdown()
    host.close()


def fake_xdg_mime(folder: Path, monkeypatch: pytest.MonkeyPatch, body: str, *,
                  only: bool = True) -> None:
    """The Linux desktop's answer to "which application opens this?": an ``xdg-mime`` on
    PATH that runs ``body`` (shell lines; ``exit 0`` alone: nothing handles it). ``only``:
    it is all PATH holds (no real desktop tool answers instead)."""
    folder.mkdir(exist_ok=True)
    script = folder / "xdg-mime"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder) if only
                       else f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("FLATPAK_ID", raising=False)   # (in a sandbox Qt asks the portal)
    monkeypatch.delenv("SNAP", raising=False)
