"""Window state: the window's geometry, the form/jobs divider and the page it closed on
(the form, or the start panel that asks for a key), kept in a small INI file in the data
folder. Never the user's settings (the engine's settings file keeps those), never the
key."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter

WINDOW_STATE_FILE = "window-state.ini"
#: The page the window closed on: the form, or the start panel (no key yet).
FORM_PAGE, START_PAGE = "form", "start"
DEFAULT_SIZE = QSize(1280, 800)
MINIMUM_SIZE = QSize(1024, 660)
# The jobs list's share of the window until the user drags the divider: a third of the
# width, within these bounds (the form, with its two previews, gets the rest).
JOBS_WIDTH_SHARE = 0.34
JOBS_WIDTH_MIN = 380
JOBS_WIDTH_MAX = 440


def default_jobs_width(total: int) -> int:
    """The jobs panel's width in a splitter ``total`` pixels wide, before the user chose one."""
    return max(JOBS_WIDTH_MIN, min(JOBS_WIDTH_MAX, round(total * JOBS_WIDTH_SHARE)))


class WindowState(QObject):
    """Restores and saves ``window``'s geometry and ``splitter`` (form | jobs).

    Until the user drags the divider (or one they dragged is restored), the jobs list
    takes ``default_jobs_width()`` of whatever width the splitter has.
    """

    def __init__(self, window: QMainWindow, splitter: QSplitter, data_dir: Path) -> None:
        super().__init__(window)
        self._window = window
        self._splitter = splitter
        self._file = data_dir / WINDOW_STATE_FILE
        self._splitter_auto = True
        #: The page the window closed on last time; a first start (no state yet) counts
        #: as the start panel, a state from before pages were kept as the form.
        self.last_page = START_PAGE
        splitter.splitterMoved.connect(self.on_splitter_splitterMoved)
        splitter.installEventFilter(self)
        self.fit_splitter()

    def _store(self) -> QSettings:
        return QSettings(str(self._file), QSettings.Format.IniFormat)

    def restore(self) -> None:
        state = self._store()
        geometry = state.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and self._window.restoreGeometry(geometry)):
            self._window.resize(self._default_size())
        page = str(state.value("window/page", START_PAGE if geometry is None else FORM_PAGE))
        self.last_page = page if page in (FORM_PAGE, START_PAGE) else FORM_PAGE
        sizes = state.value("window/splitter")
        # Files written before "splitterChosen" existed: their sizes count as chosen.
        chosen = str(state.value("window/splitterChosen", "true")).lower() == "true"
        if isinstance(sizes, QByteArray) and chosen and self._splitter.restoreState(sizes):
            self._splitter_auto = False
        else:
            self.fit_splitter()

    def save(self, page: str | None = None) -> None:
        """``page``: the page shown (FORM_PAGE or START_PAGE); None keeps the one saved."""
        state = self._store()
        if page is not None:
            state.setValue("window/page", page)
        state.setValue("window/geometry", self._window.saveGeometry())
        state.setValue("window/splitter", self._splitter.saveState())
        state.setValue("window/splitterChosen", "false" if self._splitter_auto else "true")
        state.sync()

    def fit_splitter(self) -> None:
        """Give the jobs list its default share of the splitter's width (the form the rest)."""
        if not self._splitter_auto:
            return
        splitter = self._splitter
        total = splitter.width() - splitter.handleWidth()
        if total <= 0:
            return
        jobs = default_jobs_width(total)
        splitter.setSizes([max(1, total - jobs), jobs])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._splitter and event.type() == QEvent.Type.Resize:
            self.fit_splitter()
        return super().eventFilter(watched, event)

    @Slot(int, int)
    def on_splitter_splitterMoved(self, _pos: int, _index: int) -> None:
        self._splitter_auto = False

    def _default_size(self) -> QSize:
        screen = self._window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        available = screen.availableGeometry().size()
        return DEFAULT_SIZE.boundedTo(QSize(int(available.width() * 0.95),
                                            int(available.height() * 0.95)))
