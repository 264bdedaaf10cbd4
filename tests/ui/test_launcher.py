"""The app's own start (the Launcher): the window is painted first, with the form and the
jobs panel's frame; the jobs list and what runs the jobs are built right after, in place."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kling_desktop.ui.app import Launcher
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]


def test_the_window_is_painted_before_the_jobs_list_is_built(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")   # nothing is sent
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    launcher = Launcher(app)
    try:
        assert launcher.open(demo=False)
        window = launcher.window
        assert window is not None
        # Shown, not painted yet: the form is there, the jobs list's place holds its frame.
        assert window.form.isVisibleTo(window)
        assert window.jobs_frame is not None
        assert window.splitter.widget(1) is window.jobs_frame
        assert not hasattr(window, "jobs_panel")
        sizes = window.splitter.sizes()

        qtbot.waitUntil(lambda: hasattr(window, "jobs_panel"), timeout=WAIT_MS)
        assert window.splitter.widget(1) is window.jobs_panel
        assert window.splitter.sizes() == sizes               # nothing moved
        qtbot.waitUntil(lambda: window.jobs_frame is None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.jobs_panel.stack.currentWidget()
                        is window.jobs_panel.empty_label, timeout=WAIT_MS)  # listed: none yet
    finally:
        launcher.shutdown()


def test_closing_before_the_jobs_list_is_built_stops_cleanly(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quit in the first moment (Ctrl+Q before the list arrived): nothing to ask, no
    worker left behind, and the list is never built for a window that is going."""
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    monkeypatch.setattr(app, "quit", lambda: None)   # (the launcher quits after its window)
    launcher = Launcher(app)
    try:
        assert launcher.open(demo=False)
        window = launcher.window
        assert window is not None
        with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
            assert window.close()
        assert window.is_closing()
        qtbot.wait(200)              # the worker's import ends; nothing is built after
        assert not hasattr(window, "jobs_panel")
    finally:
        launcher.shutdown()
    assert launcher.clean
