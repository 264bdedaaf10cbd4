"""The app's own start (the Launcher): the window is painted first, with the form and the
jobs panel's frame; the jobs list and what runs the jobs are built right after, in place."""

from __future__ import annotations

import gc
import sqlite3
import threading

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import GenerationOptions, Mode, Model
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.service import JobService
from kling_desktop.engine.store import SCHEMA_VERSION, JobStore
from kling_desktop.paths import app_paths
from kling_desktop.ui import app as app_module
from kling_desktop.ui.app import Launcher
from kling_desktop.ui.collector import collecting_on_main_thread
from kling_desktop.ui.jobs import JobsPanel
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.main_window.state import default_jobs_width
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]


def _qt_app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


def _open(launcher: Launcher) -> MainWindow:
    """The launcher's window, opened as the app opens it (shown, not painted yet)."""
    assert launcher.open(demo=False)
    window = launcher.window
    assert window is not None
    return window


def test_the_window_is_painted_before_the_jobs_list_is_built(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")   # nothing is sent
    app = _qt_app()
    launcher = Launcher(app)
    try:
        window = _open(launcher)
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
    app = _qt_app()
    codes: list[int] = []
    monkeypatch.setattr(app, "exit", codes.append)   # (the launcher quits after its window)
    launcher = Launcher(app)
    try:
        window = _open(launcher)
        with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
            assert window.close()
        assert window.is_closing()
        qtbot.wait(200)              # the worker's import ends; nothing is built after
        assert not hasattr(window, "jobs_panel")
        assert codes == [0]          # a plain quit, not a failure
    finally:
        launcher.shutdown()
    assert launcher.clean


def test_a_job_database_from_a_newer_version_is_explained_by_the_painted_window(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job store opens after the first paint: one it cannot use (written by a newer
    version of the app) is explained over the window, with the fix; the window closes,
    the app ends with a failure code, and the database is left exactly as it was."""
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    database = app_paths().ensure().database
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = database.read_bytes()
    app = _qt_app()
    codes: list[int] = []
    monkeypatch.setattr(app, "exit", codes.append)
    seen: list[str] = []

    def close_the_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, close_the_box)
            return
        seen.extend([box.objectName(), box.windowTitle(), box.text(), box.informativeText()])
        box.button(QMessageBox.StandardButton.Close).click()

    launcher = Launcher(app)
    try:
        window = _open(launcher)          # the window opens: the store is not read
        assert not launcher.engine or not launcher.engine.store_is_open
        QTimer.singleShot(0, close_the_box)
        with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
            pass
        qtbot.waitUntil(lambda: codes == [1], timeout=WAIT_MS)
    finally:
        launcher.shutdown()
    assert seen[0] == "startupErrorBox"
    assert "cannot start" in seen[1]
    assert "newer version" in seen[2]
    assert "Update the app" in seen[3]
    assert not hasattr(window, "jobs_panel")       # nothing was built on a missing list
    assert database.read_bytes() == before
    assert launcher.clean


class _PaintWatch(QObject):
    """Notes how many objects the collector has frozen, and whether it runs, when
    ``window`` is first painted."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.frozen_at_paint: int | None = None
        self.collecting_at_paint: bool | None = None
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.frozen_at_paint is None:
            self.frozen_at_paint = gc.get_freeze_count()
            self.collecting_at_paint = gc.isenabled()
        return False


def test_start_up_objects_are_frozen_after_the_first_paint(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full collection before freezing the start-up's objects takes ~10-25 ms: it
    runs once the window is painted and its jobs are listed, neither between show and
    paint nor while the list is read (it holds the interpreter; the list came ~25 ms
    later). The collector, paused by the launch (main.load_window), runs again from then
    on, on the main thread."""
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(app_module, "_frozen", False)   # (once per process otherwise)
    gc.unfreeze()
    app = _qt_app()
    launcher = Launcher(app)
    gc.disable()   # as the launch does
    try:
        original_show = MainWindow.show
        watches: list[_PaintWatch] = []

        def show(window: MainWindow) -> None:
            watches.append(_PaintWatch(window))
            original_show(window)

        monkeypatch.setattr(MainWindow, "show", show)
        at_listing: list[tuple[int, bool]] = []
        original_set_jobs = JobsPanel.set_jobs

        def set_jobs(panel: JobsPanel, jobs: list[Job]) -> None:
            at_listing.append((gc.get_freeze_count(), gc.isenabled()))
            original_set_jobs(panel, jobs)

        monkeypatch.setattr(JobsPanel, "set_jobs", set_jobs)
        window = _open(launcher)
        [watch] = watches
        qtbot.waitUntil(lambda: watch.frozen_at_paint is not None, timeout=WAIT_MS)
        assert watch.frozen_at_paint == 0
        assert watch.collecting_at_paint is False
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=WAIT_MS)
        assert hasattr(window, "jobs_panel")
        assert at_listing[0] == (0, False)    # the list was shown before the collection
        # Collecting again, on the main thread only (tests/ui/test_collector.py).
        assert collecting_on_main_thread()
        assert not gc.isenabled()
        launcher.shutdown()        # at quit: the interpreter collects again, anywhere
        assert not collecting_on_main_thread()
        assert gc.isenabled()
    finally:
        gc.enable()
        launcher.shutdown()
        gc.unfreeze()


def test_the_jobs_are_listed_without_waiting_for_the_keyring(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking the keyring may take a while (a keyring that must be unlocked, a slow
    session bus): the job list is read and shown first, without waiting for it; unfinished
    jobs are followed only once the key is known, and the list read again then keeps the
    selected job."""
    monkeypatch.setenv("KLING_API_KEY", "launcher-test-key")
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    with JobStore(app_paths().ensure().database) as store:
        for prompt in ("first dance", "second dance"):
            spec = JobSpec(image="/pics/hero.png", video="https://cdn.example.com/dance.mp4",
                           options=GenerationOptions(model=Model.V3, mode=Mode.STD,
                                                     prompt=prompt))
            job = store.add_job(spec, base_url="http://127.0.0.1:9", demo=False)
            store.transition(job.id, JobState.CANCELLED, message="test",
                             error_message="Stopped.", error_fix="")
    answer = threading.Event()       # the keyring answers when the test says so
    asked: list[bool] = []
    original_require_key = Engine.require_key

    def slow_keyring(engine: Engine) -> None:
        asked.append(True)
        answer.wait(WAIT_MS / 1000)
        original_require_key(engine)

    followed: list[bool] = []
    original_follow = JobService.follow_unfinished

    def follow(service: JobService) -> list[Job]:
        followed.append(answer.is_set())
        return original_follow(service)

    monkeypatch.setattr(Engine, "require_key", slow_keyring)
    monkeypatch.setattr(JobService, "follow_unfinished", follow)
    app = _qt_app()
    launcher = Launcher(app)
    try:
        window = _open(launcher)
        qtbot.waitUntil(lambda: hasattr(window, "jobs_panel")
                        and window.jobs_panel.model.rowCount() == 2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: bool(asked), timeout=WAIT_MS)
        assert window.jobs_panel.model.rowCount() == 2   # listed; the keyring not answered
        assert followed == []                     # nothing followed without the key
        view = window.jobs_panel.view
        view.setCurrentIndex(window.jobs_panel.model.index(1))
        chosen = window.jobs_panel.model.jobs()[1].id
        with qtbot.waitSignal(window.controller.jobs_loaded, timeout=WAIT_MS):
            answer.set()
        assert followed == [True]                 # followed once the key was there
        assert window.jobs_panel.model.rowCount() == 2
        current = view.currentIndex()
        assert current.isValid()
        assert window.jobs_panel.model.jobs()[current.row()].id == chosen
    finally:
        answer.set()
        launcher.shutdown()


class _PagesWatch(QObject):
    """Every page ``window`` showed, from its first paint on (the first is what was
    painted first)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.pages: list[str] = []
        window.installEventFilter(self)

    def _note(self) -> None:
        page = self._window.pages.currentWidget()
        name = "start" if page is getattr(self._window, "start_panel", None) else (
            "form" if page is self._window.splitter else type(page).__name__)
        if not self.pages or self.pages[-1] != name:
            self.pages.append(name)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.pages:
            self._note()
            self._window.pages.currentChanged.connect(self._note)
        return False



def _open_watched(launcher: Launcher) -> tuple[MainWindow, _PagesWatch]:
    """Open the launcher's window and watch its pages (the first paint comes after)."""
    window = _open(launcher)
    return window, _PagesWatch(window)

def test_a_first_start_without_a_key_opens_on_the_start_panel(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newcomer's first start: the welcome (start panel) is what is painted first, never
    the form for a moment; its title names the provider once the keyring was asked, and
    neither the keyring nor the address parser loaded for that before the first paint
    (test_import_guard starts this way)."""
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    app = _qt_app()
    launcher = Launcher(app)
    try:
        window, watch = _open_watched(launcher)
        qtbot.waitUntil(lambda: bool(watch.pages) and window.start.is_loading_started()
                        and "127.0.0.1:9" in window.start_panel.key_title.text(),
                        timeout=WAIT_MS)
        assert watch.pages == ["start"]
        assert window.is_start_panel_shown()
    finally:
        launcher.shutdown()


def test_the_start_panel_painted_first_gives_way_to_a_key_found(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start panel is only the likely page: a key the keyring (here: this session)
    has brings the form forward once it is found."""
    from kling_desktop.engine.secrets import use_key_for_session

    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    use_key_for_session("sk-launcher-session-key", "http://127.0.0.1:9")
    app = _qt_app()
    launcher = Launcher(app)
    try:
        window, watch = _open_watched(launcher)
        qtbot.waitUntil(lambda: watch.pages == ["start", "form"], timeout=WAIT_MS)
        assert not window.is_start_panel_shown()
        # The form and the jobs list, laid out for the first time now, share the width as
        # on any first start: the list its default share.
        total = window.splitter.width() - window.splitter.handleWidth()
        qtbot.waitUntil(lambda: window.splitter.sizes()[1] == default_jobs_width(total),
                        timeout=WAIT_MS)
        assert window.jobs_panel.isVisible()
    finally:
        launcher.shutdown()



def test_the_window_opens_on_the_page_it_closed_on(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closed on the form, the next start paints the form first; closed on the start panel
    (no key yet), the start panel. A key in the environment always opens on the form."""
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:9")
    app = _qt_app()
    monkeypatch.setattr(app, "exit", lambda _code: None)   # (the launcher quits after)

    def one_start(env_key: str | None, settled: list[str]) -> list[str]:
        if env_key is None:
            monkeypatch.delenv("KLING_API_KEY", raising=False)
        else:
            monkeypatch.setenv("KLING_API_KEY", env_key)
        launcher = Launcher(app)
        try:
            window, watch = _open_watched(launcher)
            qtbot.waitUntil(lambda: window.start.rest_built and watch.pages == settled,
                            timeout=WAIT_MS)
            with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
                assert window.close()
            return watch.pages
        finally:
            launcher.shutdown()

    assert one_start("sk-launcher-env-key", ["form"]) == ["form"]   # a first start
    assert one_start(None, ["form", "start"]) == ["form", "start"]   # no key after all
    assert one_start(None, ["start"]) == ["start"]   # closed on the start panel
