"""The gallery tab: every saved result, offline, with search, review marks and file actions.

``GalleryWidget(library, store, tasks=None)`` reads only the local library
folder and its SQLite index; it never touches the network and needs no key.

The folder is the truth. At start the index is checked against the folder on a
worker (a full :meth:`Library.sync_index`, or a :meth:`Library.rebuild_index`
with a visible progress bar when the index is empty, e.g. after the database
was lost); afterwards a ``QFileSystemWatcher`` on the library folder triggers a
cheap :meth:`Library.sync_changes` (only what changed is read), and a periodic
full sync catches what a watcher cannot see. Call :meth:`shutdown` before the
window goes away: it stops the players and waits (bounded) for the workers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QFileSystemWatcher,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.engine.library import Library, RebuildReport, SyncReport
from kling_desktop.engine.store import JobStore, StoreError
from kling_desktop.paths import app_paths
from kling_desktop.ui.gallery.actions import GalleryActions, Target
from kling_desktop.ui.gallery.compare import CompareView
from kling_desktop.ui.gallery.detail import DetailPane
from kling_desktop.ui.gallery.model import KEY_ROLE, GalleryModel, GalleryQuery, error_text
from kling_desktop.ui.gallery.thumbnails import Thumbnails
from kling_desktop.ui.gallery.view import THUMB, FilterBar, GalleryDelegate, GalleryView
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import error_color, muted_color

log = logging.getLogger(__name__)

SYNC_DEBOUNCE_MS = 400
FULL_SYNC_EVERY_MS = 10 * 60 * 1000
# A watcher sees files come and go, not a file rewritten in place (a sync tool, an
# editor without safe saving): a stat-only comparison catches those.
QUICK_CHECK_EVERY_MS = 15 * 1000
# Folder checks are Python work on a worker thread; they wait while the user scrolls so
# the main thread keeps the interpreter to itself.
QUIET_AFTER_SCROLL_S = 1.5
SCROLL_SETTLE_S = 0.25     # posters of what is on screen are made once scrolling pauses

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
    return state, library.rebuild_index(_throttled(progress))


def _full_sync(library: Library) -> tuple[State, SyncReport]:
    state = library.folder_state()
    return state, library.sync_index()


class _Grid(GalleryView):
    """The grid, saying something useful when it is empty."""

    empty_text = ""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(muted_color(self.palette()))
            painter.drawText(self.viewport().rect().adjusted(40, 40, -40, -40),
                             int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                             self.empty_text)
            painter.end()


class GalleryWidget(QWidget):
    """Review every saved result. Signals: ``use_settings_again(LibraryEntry)``,
    ``status_message(str)``."""

    use_settings_again = Signal(object)
    status_message = Signal(str)

    def __init__(self, engine_library: Library, store: JobStore, *,
                 tasks: TaskRunner | None = None, parent: QWidget | None = None,
                 cache_dir: Path | None = None,
                 full_sync_every_ms: int = FULL_SYNC_EVERY_MS,
                 quick_check_every_ms: int = QUICK_CHECK_EVERY_MS) -> None:
        super().__init__(parent)
        self.setObjectName("gallery")
        self.library = engine_library
        self.store = store
        self._own_tasks = tasks is None
        self.tasks = tasks if tasks is not None else TaskRunner(self, max_threads=3)
        ratio = self.devicePixelRatioF() if self.devicePixelRatioF() > 0 else 1.0
        self.thumbnails = Thumbnails(cache_dir or app_paths().cache_dir, self.tasks,
                                     box=THUMB * ratio, parent=self)
        self.model = GalleryModel(engine_library, store, self, tasks=self.tasks)
        self.actions_ = GalleryActions(engine_library, store, self.tasks, self)
        self._state: State | None = None
        self._syncing = False
        self._sync_again = False
        self._closed = False
        self._ended = True
        self._last_scroll = 0.0
        self._saved_selection: tuple[list[str], int, int] = ([], -1, 0)
        self.syncs_done = 0           # finished folder checks (tests wait on it)
        self._build()
        self._connect()
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self.on_watcher_directoryChanged)
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(SYNC_DEBOUNCE_MS)
        self._sync_timer.timeout.connect(self.check_folder)
        self._full_timer = QTimer(self)
        self._full_timer.setInterval(max(1000, full_sync_every_ms))
        self._full_timer.timeout.connect(self.on_full_timer_timeout)
        self._quick_timer = QTimer(self)
        self._quick_timer.setInterval(max(100, quick_check_every_ms))
        self._quick_timer.timeout.connect(self.check_folder)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.model.reload()            # the index as it is: the first screen at once
        self._update_count()
        QTimer.singleShot(0, self._start_checks)

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.pages = QStackedWidget(self)
        layout.addWidget(self.pages)

        browse = QWidget(self)
        column = QVBoxLayout(browse)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 4, 0)
        self.filter_bar = FilterBar(browse)
        top.addWidget(self.filter_bar, 1)
        self.more_button = QToolButton(browse)
        self.more_button.setObjectName("galleryMore")
        self.more_button.setText("⋯")
        self.more_button.setToolTip("More")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more = QMenu(self.more_button)
        more.addAction("Check the library folder now", self.check_folder_fully)
        more.addAction("Rebuild the list from the folder", self.rebuild_index)
        self.more_button.setMenu(more)
        top.addWidget(self.more_button)
        column.addLayout(top)

        self.rebuild_bar = QFrame(browse)
        self.rebuild_bar.setObjectName("rebuildBar")
        bar = QHBoxLayout(self.rebuild_bar)
        bar.setContentsMargins(10, 4, 10, 4)
        self.rebuild_label = QLabel("Rebuilding the list from the library folder…",
                                    self.rebuild_bar)
        self.rebuild_progress = QProgressBar(self.rebuild_bar)
        self.rebuild_progress.setObjectName("rebuildProgress")
        self.rebuild_progress.setRange(0, 0)
        bar.addWidget(self.rebuild_label)
        bar.addWidget(self.rebuild_progress, 1)
        self.rebuild_bar.hide()
        column.addWidget(self.rebuild_bar)

        self.notice = QLabel(browse)
        self.notice.setObjectName("galleryNotice")
        self.notice.setWordWrap(True)
        self.notice.setContentsMargins(10, 4, 10, 4)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        column.addWidget(self.notice)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, browse)
        self.splitter.setObjectName("gallerySplitter")
        self.view = _Grid(self.splitter)
        self.view.setModel(self.model)
        self.delegate = GalleryDelegate(self.thumbnails, self.library, self.view)
        self.view.setItemDelegate(self.delegate)
        self.detail = DetailPane(self.library, self.tasks, self.thumbnails, self.splitter)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([760, 420])
        column.addWidget(self.splitter, 1)
        self.pages.addWidget(browse)
        self.browse_page = browse

        self._compare: CompareView | None = None   # made on first use
        self._add_actions()

    def _add_actions(self) -> None:
        def action(text: str, name: str, keys: QKeySequence | str | None,
                   slot: Callable[[], None]) -> QAction:
            act = QAction(text, self.view)
            act.setObjectName(name)
            if keys:
                act.setShortcut(QKeySequence(keys))
                act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(slot)
            self.view.addAction(act)
            return act

        self.act_keeper = action("★ Mark as keeper", "actKeeper", "K",
                                 lambda: self.set_mark("keeper"))
        self.act_reject = action("✕ Mark as reject", "actReject", "X",
                                 lambda: self.set_mark("reject"))
        self.act_unmark = action("Clear the mark", "actUnmark", "U", lambda: self.set_mark(None))
        self.act_compare = action("Compare with the motion clip", "actCompare", "Return",
                                  self.open_compare)
        self.act_play = action("Play / pause", "actPlay", "Space",
                               self.detail.toggle_play)
        self.act_again = action("Use these settings again", "actAgain", None,
                                self.on_detail_use_settings_requested)
        self.act_open = action("Open in the system player", "actOpen", "Ctrl+O",
                               self.on_detail_open_requested)
        self.act_reveal = action("Show in folder", "actReveal", None,
                                 self.on_detail_reveal_requested)
        self.act_save = action("Save a copy…", "actSaveCopy", "Ctrl+Shift+S",
                               self.on_detail_save_copy_requested)
        self.act_export = action("Export selected with descriptions…", "actExport", "Ctrl+E",
                                 self.on_detail_export_requested)
        self.act_delete = action("Move to trash…", "actDelete",
                                 QKeySequence(QKeySequence.StandardKey.Delete),
                                 self.on_detail_delete_requested)

    def _connect(self) -> None:
        self.filter_bar.query_changed.connect(self.on_filter_bar_query_changed)
        self.view.selectionModel().selectionChanged.connect(self.on_selection_changed)
        self.view.activated.connect(self.on_view_activated)
        self.view.verticalScrollBar().valueChanged.connect(self.on_scroll_valueChanged)
        self.view.customContextMenuRequested.connect(self.on_view_customContextMenuRequested)
        self.model.modelAboutToBeReset.connect(self.on_model_modelAboutToBeReset)
        self.model.modelReset.connect(self.on_model_modelReset)
        self.model.failed.connect(self.on_model_failed)
        self.thumbnails.ready.connect(self.on_thumbnails_ready)
        self.thumbnails.wanted.connect(self.view.viewport().update)
        d = self.detail
        d.mark_requested.connect(self.set_mark)
        d.compare_requested.connect(self.open_compare)
        d.use_settings_requested.connect(self.on_detail_use_settings_requested)
        d.open_requested.connect(self.on_detail_open_requested)
        d.reveal_requested.connect(self.on_detail_reveal_requested)
        d.save_copy_requested.connect(self.on_detail_save_copy_requested)
        d.delete_requested.connect(self.on_detail_delete_requested)
        d.export_requested.connect(self.on_detail_export_requested)
        a = self.actions_
        a.changed.connect(self.on_actions_changed)
        a.removed.connect(self.on_actions_removed)
        a.status_message.connect(self.status_message)
        a.failed.connect(self.show_problem)

    # -- folder checks ----------------------------------------------------------------------

    def _start_checks(self) -> None:
        if self._closed:
            return
        self._watch()
        try:
            empty = self.store.count_results() == 0
        except StoreError as exc:
            self.on_model_failed(exc)
            return
        if empty:
            self.rebuild_index()
        else:
            self.check_folder_fully()
        self._full_timer.start()
        self._quick_timer.start()

    def _watch(self) -> None:
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

    @Slot()
    def rebuild_index(self) -> None:
        """Recreate the index from the sidecars, with the progress bar showing."""
        if self._syncing:
            self._sync_again = True
            return
        self._syncing = True
        self.rebuild_progress.setRange(0, 0)
        self.rebuild_label.setText("Rebuilding the list from the library folder…")

        def progress(done: int, total: int) -> None:
            if total > 0:
                self.rebuild_bar.show()
                self.rebuild_progress.setRange(0, total)
                self.rebuild_progress.setValue(done)
                self.rebuild_label.setText(
                    f"Rebuilding the list from the library folder… {done:,} of {total:,} "
                    "files")

        def done(result: object) -> None:
            self.rebuild_bar.hide()
            if isinstance(result, tuple):
                state, report = result
                self._state = state
                if isinstance(report, RebuildReport) and report.unreadable:
                    self.status_message.emit(
                        f"{len(report.unreadable)} description file(s) could not be read; "
                        "their videos are listed and marked.")
            self._finish_sync()

        if self.library.root.is_dir():
            self.rebuild_bar.show()
        self.tasks.run(_rebuild, self.library, on_progress=progress, on_done=done,
                       on_failed=self._on_sync_failed, key="gallery-sync")

    @Slot()
    def check_folder_fully(self) -> None:
        """A full :meth:`Library.sync_index` on a worker."""
        if self._syncing:
            self._sync_again = True
            return
        self._syncing = True

        def done(result: object) -> None:
            if isinstance(result, tuple):
                self._state = result[0]
            self._finish_sync()

        self.tasks.run(_full_sync, self.library, on_done=done, on_failed=self._on_sync_failed,
                       key="gallery-sync")

    def _busy_scrolling(self) -> bool:
        """True (and the check is retried later) while the user is scrolling."""
        if time.monotonic() - self._last_scroll < QUIET_AFTER_SCROLL_S:
            self._sync_timer.start()
            return True
        return False

    @Slot()
    def check_folder(self) -> None:
        """Catch up with what changed in the folder since the last check (cheap)."""
        if self._closed or self._busy_scrolling():
            return
        if self._syncing:
            self._sync_again = True
            return
        if self._state is None:
            self.check_folder_fully()
            return
        self._syncing = True

        def done(result: object) -> None:
            if isinstance(result, tuple):
                state, _report, keys = result
                self._state = state
                for key in keys:
                    self.thumbnails.forget(key)
                    self.delegate.forget(key)
            self._finish_sync()

        self.tasks.run(self.library.sync_changes, dict(self._state), on_done=done,
                       on_failed=self._on_sync_failed, key="gallery-sync")

    def _on_sync_failed(self, error: BaseException) -> None:
        self.rebuild_bar.hide()
        self.show_problem(f"The library folder could not be checked. {error_text(error)}")
        self._finish_sync()

    def _finish_sync(self) -> None:
        self._syncing = False
        self.syncs_done += 1
        if self._closed:
            return
        self._watch()
        self.model.refresh()
        self._update_count()
        self._refresh_detail()
        if self._sync_again:
            self._sync_again = False
            self._sync_timer.start()

    @Slot(str)
    def on_watcher_directoryChanged(self, _path: str) -> None:
        self._sync_timer.start()

    @Slot()
    def on_full_timer_timeout(self) -> None:
        if not self._busy_scrolling():
            self.check_folder_fully()

    @Slot(int)
    def on_scroll_valueChanged(self, _value: int) -> None:
        self._last_scroll = time.monotonic()
        self.thumbnails.hold_decoding(SCROLL_SETTLE_S)

    def refresh(self) -> None:
        """Re-read the index now (e.g. right after the app saved a new result)."""
        self.model.refresh()
        self._update_count()
        self._refresh_detail()

    # -- selection --------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.view.selectionModel().selectedIndexes())

    def selected_targets(self) -> list[Target]:
        targets: list[Target] = []
        for row in self.selected_rows():
            record = self.model.record_at(row)
            if record is None:
                continue
            targets.append(Target(record, self.model.entry_at(row),
                                  self.library.path_of(record.video_rel)))
        return targets

    def select_key(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row is None:
            return False
        index = self.model.index(row)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index)
        return True

    @Slot(QItemSelection, QItemSelection)
    def on_selection_changed(self, _selected: QItemSelection,
                             _deselected: QItemSelection) -> None:
        self._refresh_detail()

    def _refresh_detail(self) -> None:
        targets = self.selected_targets()
        self.detail.show_targets(targets)
        one = len(targets) == 1
        readable = one and targets[0].entry is not None
        for act in (self.act_compare, self.act_again):
            act.setEnabled(readable)
        for act in (self.act_open, self.act_reveal, self.act_save, self.act_play):
            act.setEnabled(one)
        for act in (self.act_keeper, self.act_reject, self.act_unmark, self.act_export,
                    self.act_delete):
            act.setEnabled(bool(targets))

    @Slot()
    def on_model_modelAboutToBeReset(self) -> None:
        current = self.view.currentIndex()
        keys = [str(self.model.key_at(row)) for row in self.selected_rows()]
        self._saved_selection = (keys, current.row() if current.isValid() else -1,
                                 self.view.verticalScrollBar().value())

    @Slot()
    def on_model_modelReset(self) -> None:
        keys, current_row, scroll = self._saved_selection
        if not keys:
            return
        selection = QItemSelection()
        rows = [r for r in (self.model.row_of(k) for k in keys) if r is not None]
        if not rows and current_row >= 0 and self.model.rowCount():
            # what was selected left the list (trashed, or filtered out by a new mark):
            # go on with the item that took its place, as when reviewing one by one
            rows = [min(current_row, self.model.rowCount() - 1)]
        for row in rows:
            index = self.model.index(row)
            selection.select(index, index)
        model = self.view.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:
            model.setCurrentIndex(self.model.index(rows[0]),
                                  QItemSelectionModel.SelectionFlag.NoUpdate)
        QTimer.singleShot(0, lambda: self.view.verticalScrollBar().setValue(scroll))

    @Slot(object)
    def on_model_failed(self, error: object) -> None:
        text = error_text(error) if isinstance(error, BaseException) else str(error)
        self.show_problem(f"The list of results could not be read. {text}")

    @Slot(object)
    def on_filter_bar_query_changed(self, query: object) -> None:
        if isinstance(query, GalleryQuery):
            self.model.set_query(query)
            self._update_count()
            if self.model.rowCount() and not self.selected_rows():
                self.view.scrollToTop()

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        self.filter_bar.set_count(shown, total)
        if total == 0:
            self.view.empty_text = ("No results yet. Every video you make is saved in the "
                                    f"library folder ({self.library.root}) and shows up here.")
        elif shown == 0:
            self.view.empty_text = "Nothing matches these filters."
        else:
            self.view.empty_text = ""
        self.view.viewport().update()

    @Slot(str)
    def on_thumbnails_ready(self, key: str) -> None:
        row = self.model.row_of(key)
        if row is not None:
            self.view.update(self.model.index(row))

    # -- acting -----------------------------------------------------------------------------

    def set_mark(self, mark: object) -> None:
        if mark is None or mark in ("keeper", "reject"):
            self.actions_.set_mark(self.selected_targets(),
                                   mark if isinstance(mark, str) else None)

    def _one(self) -> Target | None:
        targets = self.selected_targets()
        return targets[0] if len(targets) == 1 else None

    @Slot()
    def on_detail_use_settings_requested(self) -> None:
        target = self._one()
        if target is not None and target.entry is not None:
            self.use_settings_again.emit(target.entry)

    @Slot()
    def on_detail_open_requested(self) -> None:
        target = self._one()
        if target is not None:
            self.detail.player.pause()
            self.actions_.open_in_player(target)

    @Slot()
    def on_detail_reveal_requested(self) -> None:
        target = self._one()
        if target is not None:
            self.actions_.reveal(target)

    @Slot()
    def on_detail_save_copy_requested(self) -> None:
        target = self._one()
        if target is not None:
            self.actions_.save_copy(target)

    @Slot()
    def on_detail_export_requested(self) -> None:
        self.actions_.export(self.selected_targets())

    @Slot()
    def on_detail_delete_requested(self) -> None:
        targets = self.selected_targets()
        if targets:
            self.detail.player.set_source(None)   # let go of the file before it moves
            self.actions_.delete(targets)
            self._refresh_detail()

    @Slot(list)
    def on_actions_changed(self, keys: list[str]) -> None:
        self.model.forget(keys)
        self.refresh()

    @Slot(list)
    def on_actions_removed(self, keys: list[str]) -> None:
        for key in keys:
            self.thumbnails.forget(key)
        self.refresh()

    def show_problem(self, text: str) -> None:
        color = error_color(self.palette()).name()
        self.notice.setText(f"<span style='color:{color}'>{text}</span>")
        self.notice.show()
        self.status_message.emit(text)
        QTimer.singleShot(15_000, self.notice.hide)

    @Slot(QModelIndex)
    def on_view_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_compare()

    @Slot(QPoint)
    def on_view_customContextMenuRequested(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self.view)
        for act in (self.act_keeper, self.act_reject, self.act_unmark, None, self.act_compare,
                    self.act_again, None, self.act_open, self.act_reveal, self.act_save,
                    self.act_export, None, self.act_delete):
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -- compare ----------------------------------------------------------------------------

    @property
    def compare(self) -> CompareView:
        if self._compare is None:
            self._compare = CompareView(self)
            self.pages.addWidget(self._compare)
            self._compare.back_requested.connect(self.close_compare)
        return self._compare

    @Slot()
    def open_compare(self) -> None:
        target = self._one()
        if target is None or target.entry is None:
            return
        self.detail.player.pause()
        reference = self.library.input_path(target.entry.video)
        self.compare.set_clips(reference, target.video, title_title(target))
        self.pages.setCurrentWidget(self.compare)
        self.compare.play()

    @Slot()
    def close_compare(self) -> None:
        if self._compare is not None:
            self._compare.stop()
        self.pages.setCurrentWidget(self.browse_page)
        self.view.setFocus()

    def is_comparing(self) -> bool:
        return self._compare is not None and self.pages.currentWidget() is self._compare

    # -- ending -----------------------------------------------------------------------------

    @Slot()
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop players, watcher and workers (bounded). True when everything ended."""
        if self._closed:
            return self._ended
        self._closed = True
        self._sync_timer.stop()
        self._full_timer.stop()
        self._quick_timer.stop()
        paths = self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)
        if self._compare is not None:
            self._compare.shutdown()
        self.detail.shutdown()
        ended = self.thumbnails.shutdown(timeout_ms)
        if self._own_tasks:
            ended = self.tasks.shutdown(timeout_ms) and ended
        self._ended = ended
        return ended

    def closeEvent(self, event: QCloseEvent) -> None:
        # a window holding the gallery as a tab calls shutdown() itself; a gallery
        # shown as its own window (tests, tools) ends its workers when closed
        self.shutdown()
        super().closeEvent(event)

    def key_at(self, row: int) -> str | None:
        value = self.model.index(row).data(KEY_ROLE)
        return value if isinstance(value, str) else None


def title_title(target: Target) -> str:
    name = target.video.name
    prompt = target.entry.prompt if target.entry is not None else ""
    return f"{prompt} — {name}" if prompt else name
