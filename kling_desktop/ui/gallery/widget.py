"""The gallery tab: every saved result, offline, with search, review marks and file actions.

``GalleryWidget(library, store, tasks=None)`` reads only the local library
folder and its SQLite index; it never touches the network and needs no key.

It puts the parts together: the filter bar (:mod:`.filter_bar`), the grid
(:mod:`.view`, fed by :mod:`.model`), the detail pane (:mod:`.detail`), the
compare view (:mod:`.compare`), the commands on the selection (:mod:`.commands`,
done by :mod:`.actions`) and the folder checks (:mod:`.folder_sync`: the folder
is the truth; an empty index is rebuilt with a visible progress bar). Call
:meth:`shutdown` before the window goes away: it stops the players and waits
(bounded) for the workers.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent
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

from kling_desktop.engine.library import Library
from kling_desktop.engine.store import JobStore, StoreError
from kling_desktop.errors import error_text
from kling_desktop.i18n import _, ngettext
from kling_desktop.paths import app_paths
from kling_desktop.ui.gallery.actions import GalleryActions, Target
from kling_desktop.ui.gallery.commands import ResultCommands
from kling_desktop.ui.gallery.detail import DetailPane
from kling_desktop.ui.gallery.filter_bar import FilterBar
from kling_desktop.ui.gallery.folder_sync import (
    FULL_SYNC_EVERY_MS,
    QUICK_CHECK_EVERY_MS,
    FolderSync,
)
from kling_desktop.ui.gallery.labels import title_of
from kling_desktop.ui.gallery.model import KEY_ROLE, GalleryModel, GalleryQuery
from kling_desktop.ui.gallery.view import THUMB, GalleryDelegate, GalleryView
from kling_desktop.ui.posters import Thumbnails
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import error_color

if TYPE_CHECKING:   # made on first use: it brings Qt Multimedia
    from kling_desktop.ui.gallery.compare import CompareView

log = logging.getLogger(__name__)

SCROLL_SETTLE_S = 0.25     # posters of what is on screen are made once scrolling pauses


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
        self.folder_sync = FolderSync(engine_library, self.tasks, self,
                                      full_every_ms=full_sync_every_ms,
                                      quick_every_ms=quick_check_every_ms)
        self._closed = False
        self._ended = True
        self._saved_selection: tuple[list[str], int, int] = ([], -1, 0)
        self._build()
        self._connect()
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
        self.more_button.setToolTip(_("More"))
        self.more_button.setAccessibleName(_("More"))
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more = QMenu(self.more_button)
        more.addAction(_("Check the library folder now"), self.check_folder_fully)
        more.addAction(_("Rebuild the list from the folder"), self.rebuild_index)
        self.more_button.setMenu(more)
        top.addWidget(self.more_button)
        column.addLayout(top)

        self.rebuild_bar = QFrame(browse)
        self.rebuild_bar.setObjectName("rebuildBar")
        bar = QHBoxLayout(self.rebuild_bar)
        bar.setContentsMargins(10, 4, 10, 4)
        self.rebuild_label = QLabel(_("Rebuilding the list from the library folder…"),
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
        self.view = GalleryView(self.splitter)
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
        self.commands = ResultCommands(self.view, self.detail, self.actions_,
                                       self.selected_targets)
        c = self.commands   # the actions, by their old names too
        self.act_keeper, self.act_reject, self.act_unmark = (c.act_keeper, c.act_reject,
                                                             c.act_unmark)
        self.act_compare, self.act_play, self.act_again = (c.act_compare, c.act_play,
                                                           c.act_again)
        self.act_open, self.act_reveal, self.act_save = c.act_open, c.act_reveal, c.act_save
        self.act_export, self.act_delete = c.act_export, c.act_delete

    def _connect(self) -> None:
        self.filter_bar.query_changed.connect(self.on_filter_bar_query_changed)
        self.view.selectionModel().selectionChanged.connect(self.on_selection_changed)
        self.view.activated.connect(self.on_view_activated)
        self.view.verticalScrollBar().valueChanged.connect(self.on_scroll_valueChanged)
        self.model.modelAboutToBeReset.connect(self.on_model_modelAboutToBeReset)
        self.model.modelReset.connect(self.on_model_modelReset)
        self.model.failed.connect(self.on_model_failed)
        self.thumbnails.ready.connect(self.on_thumbnails_ready)
        self.thumbnails.wanted.connect(self.view.viewport().update)
        c = self.commands
        c.use_settings_again.connect(self.use_settings_again)
        c.compare_wanted.connect(self.open_compare)
        c.selection_changed.connect(self._refresh_detail)
        a = self.actions_
        a.changed.connect(self.on_actions_changed)
        a.removed.connect(self.on_actions_removed)
        a.status_message.connect(self.status_message)
        a.failed.connect(self.show_problem)
        f = self.folder_sync
        f.checked.connect(self.on_folder_sync_checked)
        f.failed.connect(self.on_folder_sync_failed)
        f.note.connect(self.status_message)
        f.changed_keys.connect(self.on_folder_sync_changed_keys)
        f.rebuild_started.connect(self.on_folder_sync_rebuild_started)
        f.rebuild_progress.connect(self.on_folder_sync_rebuild_progress)

    # -- folder checks (done by FolderSync) ------------------------------------------------

    def _start_checks(self) -> None:
        if self._closed:
            return
        self.folder_sync.watch()
        try:
            empty = self.store.count_results() == 0
        except StoreError as exc:
            self.on_model_failed(exc)
            return
        self.folder_sync.start(rebuild=empty)

    @property
    def syncs_done(self) -> int:
        """Finished folder checks (tests wait on it)."""
        return self.folder_sync.done

    def watched_folders(self) -> list[str]:
        return self.folder_sync.watched_folders()

    @Slot()
    def rebuild_index(self) -> None:
        """Recreate the index from the sidecars, with the progress bar showing."""
        self.folder_sync.rebuild()

    @Slot()
    def check_folder_fully(self) -> None:
        self.folder_sync.check_fully()

    @Slot()
    def check_folder(self) -> None:
        """Catch up with what changed in the folder since the last check (cheap)."""
        self.folder_sync.check()

    @Slot()
    def on_folder_sync_rebuild_started(self) -> None:
        self.rebuild_progress.setRange(0, 0)
        self.rebuild_label.setText(_("Rebuilding the list from the library folder…"))
        if self.library.root.is_dir():
            self.rebuild_bar.show()

    @Slot(int, int)
    def on_folder_sync_rebuild_progress(self, done: int, total: int) -> None:
        self.rebuild_bar.show()
        self.rebuild_progress.setRange(0, total)
        self.rebuild_progress.setValue(done)
        locale = QLocale()
        self.rebuild_label.setText(ngettext(
            "Rebuilding the list from the library folder… {done} of {n} file",
            "Rebuilding the list from the library folder… {done} of {n} files", total).format(
            done=locale.toString(done), n=locale.toString(total)))

    @Slot(list)
    def on_folder_sync_changed_keys(self, keys: list[str]) -> None:
        for key in keys:
            self.thumbnails.forget(key)
            self.delegate.forget(key)

    @Slot(str)
    def on_folder_sync_failed(self, text: str) -> None:
        self.rebuild_bar.hide()
        self.show_problem(text)

    @Slot()
    def on_folder_sync_checked(self) -> None:
        self.rebuild_bar.hide()
        self.model.refresh()
        self._update_count()
        self._refresh_detail()

    @Slot(int)
    def on_scroll_valueChanged(self, _value: int) -> None:
        self.folder_sync.note_scroll()
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
        self.commands.enable_for(targets)

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
        self.show_problem(_("The list of results could not be read. {reason}").format(
            reason=text))

    @Slot(object)
    def on_filter_bar_query_changed(self, query: object) -> None:
        if isinstance(query, GalleryQuery):
            self.model.set_query(query)
            self._update_count()
            if self.model.rowCount() and not self.selected_rows():
                self.view.scrollToTop()
            # a result the filter hid leaves the pane (a reset clears a selection silently)
            self._refresh_detail()

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        self.filter_bar.set_count(shown, total)
        if total == 0:
            self.view.empty_text = _("No results yet. Every video you make is saved in the "
                                     "library folder ({folder}) and shows up here.").format(
                folder=self.library.root)
        elif shown == 0:
            self.view.empty_text = _("Nothing matches these filters.")
        else:
            self.view.empty_text = ""
        self.view.viewport().update()

    @Slot(str)
    def on_thumbnails_ready(self, key: str) -> None:
        row = self.model.row_of(key)
        if row is not None:
            self.view.update(self.model.index(row))

    # -- acting -----------------------------------------------------------------------------

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
        shown = html.escape(text).replace("\n", "<br>")   # names in the folder: any text
        self.notice.setText(f"<span style='color:{color}'>{shown}</span>")
        self.notice.show()
        self.status_message.emit(text)
        QTimer.singleShot(15_000, self.notice.hide)

    @Slot(QModelIndex)
    def on_view_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_compare()

    # -- compare ----------------------------------------------------------------------------

    @property
    def compare(self) -> CompareView:
        if self._compare is None:
            from kling_desktop.ui.gallery.compare import CompareView

            self._compare = CompareView(self)
            self.pages.addWidget(self._compare)
            self._compare.back_requested.connect(self.close_compare)
        return self._compare

    @Slot()
    def open_compare(self) -> None:
        target = self.commands.one()
        if target is None or target.entry is None:
            return
        self.detail.player.pause()
        reference = self.library.input_path(target.entry.video)
        self.compare.set_clips(reference, target.video, compare_title(target))
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
        self.folder_sync.stop()
        if self._compare is not None:
            self._compare.shutdown()
        self.detail.shutdown()
        ended = self.thumbnails.shutdown(timeout_ms)
        if self._own_tasks:
            ended = self.tasks.shutdown(timeout_ms) and ended
        self.model.release()    # the store may close now, even with the gallery on screen
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


def compare_title(target: Target) -> str:
    return title_of(target.record)
