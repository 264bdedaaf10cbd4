"""The application: QApplication, the engine, the window, and a clean exit.

``run_app(demo)`` is what ``kling-desktop`` (and ``--demo``) calls.
``create_main_window(engine, demo_session=...)`` builds a window the way the
app does, for tests. Start-up problems the user can fix (a job database from a
newer version, a data folder that cannot be written, a bad provider address)
are shown in a message box with the fix, never as a traceback.

Paint first, then load: the window is built from the settings alone and shown; the
keyring lookup, the job list and the library load on the window's workers right after
its first paint (see ``MainWindow``). This module imports only what that first paint
needs: the demo's simulator is imported in demo mode only.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from kling_desktop import APP_ID, APP_NAME, __version__
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.settings import Settings, load_settings
from kling_desktop.paths import app_paths, resources_dir
from kling_desktop.ui.language import install_window_language, missing_font_text
from kling_desktop.ui.main_window import SHUTDOWN_TIMEOUT_MS, MainWindow
from kling_desktop.ui.main_window.dialogs import show_startup_error

if TYPE_CHECKING:
    from kling_desktop.ui.demo import DemoSession

log = logging.getLogger(__name__)

ORGANIZATION = "Kling Motion Studio"
WINDOW_SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005
#: Set (to anything) to print "first paint" when the window is first painted and then
#: close it: how the build script measures the frozen app's start-up next to the source's.
FIRST_PAINT_PROBE_ENV = "KLING_FIRST_PAINT_PROBE"


def app_icon() -> QIcon:
    """The window icon: the SVG when Qt can draw it, plus every bundled PNG size."""
    icons = resources_dir() / "icons"
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = icons / f"app-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    svg = icons / "app.svg"
    if icon.isNull() and svg.is_file():
        icon.addFile(str(svg))
    return icon


def create_main_window(engine: Engine, *, demo_session: DemoSession | None = None,
                       has_key: bool | None = None, user_settings: Settings | None = None,
                       progressive: bool = False) -> MainWindow:
    """A main window on ``engine`` (and the demo session, if any); not shown yet.
    ``progressive``: its jobs list is built right after its first paint (the app)."""
    return MainWindow(engine, demo_session=demo_session, has_key=has_key,
                      icon=QGuiApplication.windowIcon(), user_settings=user_settings,
                      progressive=progressive)


def configure_application(app: QApplication) -> None:
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    app.setDesktopFileName(APP_ID)
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    from kling_desktop.ui.images import configure_image_limits

    configure_image_limits()
    # The window's main thread calls into Python for every row it measures or paints;
    # with the job threads busy, each of those calls waits for the interpreter lock up to
    # one switch interval. A shorter interval keeps the window responsive under load.
    sys.setswitchinterval(WINDOW_SWITCH_INTERVAL)


_frozen = False


def freeze_startup_objects() -> None:
    """Move everything alive once the window is painted and its jobs listed out of
    the collector's sight (once), and let the collector run again (the launch paused it:
    :func:`kling_desktop.main.load_window`), on the main thread only
    (:mod:`kling_desktop.ui.collector`: never on a worker, which must not destroy Qt
    objects).

    A full collection walks every tracked object (all imported modules included): with a
    10,000-result library that pause reached 60-80 ms while scrolling the gallery. Objects
    made at start-up live until quit anyway; later garbage is collected as before.
    """
    from kling_desktop.ui.collector import collect_on_main_thread

    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
    collect_on_main_thread()


class FirstPaintProbe(QObject):
    """Prints ``first paint`` when ``window``'s first paint pass is over (every widget
    painted), then closes the window the usual way (see :data:`FIRST_PAINT_PROBE_ENV`).

    It watches the window itself: a Python filter on the whole application would be
    called for every event of every object, and PySide builds each new event class's
    Python type on its first call, which would add its own time to what it measures.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self._painted)   # after the pass the window's paint opens
        return False

    def _painted(self) -> None:
        print("first paint", flush=True)
        self._window.close()


class Launcher(QObject):
    """Owns the current window, its engine and (in demo mode) its simulator.

    Switching between demo and normal mode closes one window and opens the other.
    """

    def __init__(self, app: QApplication) -> None:
        super().__init__()
        self._app = app
        self.window: MainWindow | None = None
        self.engine: Engine | None = None
        self.demo_session: DemoSession | None = None
        self._switch_to: bool | None = None
        self.clean = True

    def open(self, demo: bool) -> bool:
        """Build the engine and the window; False (after telling the user) when it cannot."""
        session: DemoSession | None = None
        engine: Engine | None = None
        try:
            paths = app_paths().ensure()
            user_settings = load_settings(paths.settings_file)
            if demo:
                from kling_desktop.ui.demo import DemoSession  # its simulator: demo only

                session = DemoSession().start()
                engine = session.create_engine(paths=paths, settings=user_settings)
                has_key: bool | None = True
            else:
                # The address is checked on first use (the key check, after the first
                # paint): its parser, httpx, is not needed to show the window. The job
                # store and the library open on a worker after the first paint too; a job
                # database that cannot be used is then shown by the window, which closes.
                engine = Engine(paths=paths, settings=user_settings, check_address=False,
                                open_store=False)
                has_key = None   # the keyring is asked on a worker after the first paint
        except Exception as exc:  # shown to the user instead of a traceback
            if engine is not None:
                engine.close()
            if session is not None:
                session.stop()
            show_startup_error(exc)
            return False
        window = create_main_window(engine, demo_session=session, has_key=has_key,
                                    user_settings=user_settings, progressive=True)
        window.closed.connect(self.on_window_closed)
        window.demo_requested.connect(lambda: self.switch(demo=True))
        window.leave_demo_requested.connect(lambda: self.switch(demo=False))
        self.window, self.engine, self.demo_session = window, engine, session
        window.show()
        # Once painted and listed: collecting sooner would hold the first paint (~9 ms) or
        # the list's read on its worker (~25 ms; the collection holds the interpreter).
        window.jobs_listed.connect(lambda: QTimer.singleShot(0, freeze_startup_objects))
        return True

    def switch(self, *, demo: bool) -> None:
        if self.window is None:
            return
        self._switch_to = demo
        if not self.window.close():
            self._switch_to = None

    def on_window_closed(self) -> None:
        failed = self.window is not None and self.window.start.failed
        self._dispose()
        switch_to, self._switch_to = self._switch_to, None
        if switch_to is not None and not failed and self.open(switch_to):
            return
        QTimer.singleShot(0, lambda: self._app.exit(1 if failed else 0))

    def _dispose(self) -> None:
        window, engine, session = self.window, self.engine, self.demo_session
        self.window = self.engine = self.demo_session = None
        if window is not None:
            self.clean = window.shutdown(SHUTDOWN_TIMEOUT_MS) and self.clean
            window.deleteLater()
        if engine is not None:
            engine.close()
        if session is not None:
            session.stop()

    def shutdown(self) -> None:
        from kling_desktop.ui.collector import stop_collecting_on_main_thread

        self._dispose()
        stop_collecting_on_main_thread()


def start_language(language: str | None = None) -> tuple[str, bool]:
    """Install the window's language for this run, before any widget or text is built:
    ``language`` (``--lang``), else Settings → Language, else the system's. Returns the
    code and whether Chinese was wanted but no font can draw it (English is used)."""
    try:
        chosen = load_settings(app_paths().settings_file).language
    except Exception:   # the folder's problem is shown by the launcher, in words
        log.warning("could not read the language setting", exc_info=True)
        chosen = ""
    return install_window_language(language, chosen)


def tell_missing_font(parent: QWidget | None) -> None:
    """Say, once, that Chinese was chosen but no installed font can draw it."""
    from PySide6.QtWidgets import QMessageBox

    title, text = missing_font_text()
    QMessageBox.information(parent, title, text)


def run_app(demo: bool = False, language: str | None = None) -> int:
    """Run the window until the user quits; the process exit code. ``language``: the
    ``--lang`` given for this run (else Settings → Language, else the system's)."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_application(app)
    _code, font_missing = start_language(language)
    app.setQuitOnLastWindowClosed(False)   # the launcher quits (it may switch modes first)
    launcher = Launcher(app)
    if not launcher.open(demo):
        return 1
    if os.environ.get(FIRST_PAINT_PROBE_ENV) and launcher.window is not None:
        FirstPaintProbe(launcher.window)
    if font_missing:
        QTimer.singleShot(0, lambda: tell_missing_font(launcher.window))
    code = app.exec()
    launcher.shutdown()
    if not launcher.clean:
        # A worker is stuck in a network call past its bound: do not hang on exit.
        log.warning("exiting with background work still running")
        logging.shutdown()
        os._exit(code)
    return code
