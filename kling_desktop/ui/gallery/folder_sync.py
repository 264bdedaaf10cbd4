"""Keeping the gallery's index in step with the library folder (the folder is the truth).

:class:`FolderSync` runs every check on the :class:`TaskRunner` pool, one at a
time (a check asked for while one runs is done once it ends):

* :meth:`rebuild` recreates the index from the sidecars (``rebuild_started``,
  then ``rebuild_progress(done, total)``), used when the index is empty;
* :meth:`check_fully` is a full :meth:`Library.sync_index`;
* :meth:`check` catches up cheaply with what changed since the last check
  (:meth:`Library.sync_changes`), after a ``QFileSystemWatcher`` event or on a
  periodic quick timer (a file rewritten in place makes no watcher event).

Checks wait while the user scrolls (:meth:`note_scroll`). After each one:
``checked()``; a check that failed says why in ``failed(text)`` first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from kling_desktop.engine.library import Library, RebuildReport, SyncReport
from kling_desktop.errors import error_text
from kling_desktop.i18n import _, ngettext
from kling_desktop.memory import release_free_memory
from kling_desktop.ui.tasks import TaskRunner

SYNC_DEBOUNCE_MS = 400
FULL_SYNC_EVERY_MS = 10 * 60 * 1000
# A watcher sees files come and go, not a file rewritten in place (a sync tool, an
# editor without safe saving): a stat-only comparison catches those.
QUICK_CHECK_EVERY_MS = 15 * 1000
# Folder checks are Python work on a worker thread; they wait while the user scrolls so
# the main thread keeps the interpreter to itself.
QUIET_AFTER_SCROLL_S = 1.5

State = dict[str, tuple[int, int]]


def _throttled(progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
    """Forward progress at most once per percent (10,000 files would flood the queue)."""
    last = [-1]

    def forward(done: int, total: int) -> None:
        step = (done * 100 // total) if total else 100
        if step != last[0] or done == total:
            last[0] = step
            progress(done, total)

    return forward


def _rebuild(library: Library, progress: Callable[[int, int], None]
             ) -> tuple[State, RebuildReport]:
    state = library.folder_state()   # before: whatever changes later is caught by a diff
    report = library.rebuild_index(_throttled(progress))
    release_free_memory()   # every sidecar was read: give the peak back
    return state, report


def _full_sync(library: Library) -> tuple[State, SyncReport]:
    state = library.folder_state()
    report = library.sync_index()
    release_free_memory()   # every sidecar was read: give the peak back
    return state, report


class FolderSync(QObject):
    """The folder checks of one gallery. ``done`` counts finished checks (tests wait on it)."""

    checked = Signal()
    failed = Signal(str)                  # the problem in words
    note = Signal(str)                    # something to tell, not a failure
    changed_keys = Signal(list)           # results rewritten in place: drop their posters
    rebuild_started = Signal()
    rebuild_progress = Signal(int, int)   # done, total (total > 0)

    def __init__(self, library: Library, tasks: TaskRunner, parent: QObject, *,
                 full_every_ms: int = FULL_SYNC_EVERY_MS,
                 quick_every_ms: int = QUICK_CHECK_EVERY_MS) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.done = 0
        self._state: State | None = None
        self._running = False
        self._again = False
        self._closed = False
        self._last_scroll = 0.0
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self.on_watcher_directoryChanged)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(SYNC_DEBOUNCE_MS)
        self._soon.timeout.connect(self.check)
        self._full_timer = QTimer(self)
        self._full_timer.setInterval(max(1000, full_every_ms))
        self._full_timer.timeout.connect(self.on_full_timer_timeout)
        self._quick_timer = QTimer(self)
        self._quick_timer.setInterval(max(100, quick_every_ms))
        self._quick_timer.timeout.connect(self.check)

    def start(self, *, rebuild: bool) -> None:
        """The first check (a rebuild when the index is empty), then the periodic ones."""
        if rebuild:
            self.rebuild()
        else:
            self.check_fully()
        self._full_timer.start()
        self._quick_timer.start()

    def stop(self) -> None:
        """No more checks (one running still ends, and is counted)."""
        self._closed = True
        self._soon.stop()
        self._full_timer.stop()
        self._quick_timer.stop()
        paths = self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)

    def note_scroll(self) -> None:
        self._last_scroll = time.monotonic()

    # -- the watcher ------------------------------------------------------------------------

    def watch(self) -> None:
        """Watch the root and its visible sub-folders (results may be filed in folders)."""
        root = self.library.root
        if not root.is_dir():
            return
        wanted = {str(root)}
        try:
            with os.scandir(root) as found:   # the kind comes with the listing: no stat
                wanted |= {entry.path for entry in found
                           if not entry.name.startswith(".") and entry.is_dir()}
        except OSError:
            return
        current = set(self._watcher.directories())
        missing = sorted(wanted - current)
        if missing:
            self._watcher.addPaths(missing)
        gone = sorted(current - wanted)
        if gone:
            self._watcher.removePaths(gone)

    def watched_folders(self) -> list[str]:
        return list(self._watcher.directories())

    @Slot(str)
    def on_watcher_directoryChanged(self, _path: str) -> None:
        self._soon.start()

    @Slot()
    def on_full_timer_timeout(self) -> None:
        if not self._busy_scrolling():
            self.check_fully()

    # -- checks -----------------------------------------------------------------------------

    def _begin(self) -> bool:
        """True when a check may start now; else it is done after the running one."""
        if self._running:
            self._again = True
            return False
        self._running = True
        return True

    @Slot()
    def rebuild(self) -> None:
        """Recreate the index from the sidecars, reporting progress."""
        if not self._begin():
            return
        self.rebuild_started.emit()

        def progress(done: int, total: int) -> None:
            if total > 0:
                self.rebuild_progress.emit(done, total)

        def finished(result: object) -> None:
            if isinstance(result, tuple):
                state, report = result
                self._state = state
                if isinstance(report, RebuildReport) and report.unreadable:
                    count = len(report.unreadable)
                    self.note.emit(ngettext(
                        "{n} description file could not be read; its video is listed and "
                        "marked.",
                        "{n} description files could not be read; their videos are listed "
                        "and marked.", count).format(n=count))
            self._finish()

        self.tasks.run(_rebuild, self.library, on_progress=progress, on_done=finished,
                       on_failed=self._on_failed, key="gallery-sync")

    @Slot()
    def check_fully(self) -> None:
        """A full :meth:`Library.sync_index`."""
        if not self._begin():
            return

        def finished(result: object) -> None:
            if isinstance(result, tuple):
                self._state = result[0]
            self._finish()

        self.tasks.run(_full_sync, self.library, on_done=finished, on_failed=self._on_failed,
                       key="gallery-sync")

    def _busy_scrolling(self) -> bool:
        """True (and the check is retried later) while the user is scrolling."""
        if time.monotonic() - self._last_scroll < QUIET_AFTER_SCROLL_S:
            self._soon.start()
            return True
        return False

    @Slot()
    def check(self) -> None:
        """Catch up with what changed in the folder since the last check (cheap)."""
        if self._closed or self._busy_scrolling():
            return
        if self._state is None:
            self.check_fully()
            return
        if not self._begin():
            return

        def finished(result: object) -> None:
            if isinstance(result, tuple):
                state, _report, keys = result
                self._state = state
                self.changed_keys.emit(list(keys))
            self._finish()

        self.tasks.run(self.library.sync_changes, dict(self._state), on_done=finished,
                       on_failed=self._on_failed, key="gallery-sync")

    def _on_failed(self, error: BaseException) -> None:
        self.failed.emit(_("The library folder could not be checked. {reason}").format(
            reason=error_text(error)))
        self._finish()

    def _finish(self) -> None:
        self._running = False
        self.done += 1
        if self._closed:
            return
        self.watch()
        self.checked.emit()
        if self._again:
            self._again = False
            self._soon.start()
