"""The jobs panel: every job, newest first, with its thumbnail, status in words,
progress and what to do next.

A ``QListView`` over :class:`JobListModel`, painted by :class:`JobDelegate`. Each
row's buttons are painted by the delegate and hit-tested on click; the same actions
are in the row's context menu and Enter runs the first one, so everything is
reachable from the keyboard. The panel decides nothing: it emits
``action_triggered(action, job)`` and the main window acts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QGuiApplication, QKeyEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.errors import KlingError, error_text
from kling_desktop.i18n import _, ngettext
from kling_desktop.ui.job_controller import OfflineInfo
from kling_desktop.ui.jobs.actions import action_label, actions_for, menu_actions_for
from kling_desktop.ui.jobs.delegate import JobDelegate
from kling_desktop.ui.jobs.layout import row_width
from kling_desktop.ui.jobs.model import JobListModel, JobRole, RowStateRole
from kling_desktop.ui.jobs.row_state import needs_attention
from kling_desktop.ui.jobs.thumbnails import ThumbnailCache
from kling_desktop.ui.jobs.wording import status_text, tooltip_text
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import JOBS_PANEL_MARGINS, JOBS_PANEL_MIN_WIDTH, muted_color

__all__ = ["JobListView", "JobsPanel"]


def _missing_files(saved: list[tuple[int, str]]) -> tuple[set[int], set[int]]:
    """Worker: ``(checked job ids, ids whose file is not a file any more)``."""
    return {job_id for job_id, _ in saved}, {
        job_id for job_id, path in saved if not os.path.isfile(path)}


class JobListView(QListView):
    """The list: Enter runs the row's first action, the menu key opens all of them."""

    primary_action = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.primary_action.emit(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        delegate = self.itemDelegate()
        if isinstance(delegate, JobDelegate):
            delegate.clear_hover()
            self.viewport().update()
        super().leaveEvent(event)


class JobsPanel(QWidget):
    """The right-hand side of the window: every job and what to do next."""

    action_triggered = Signal(str, object)   # action id, Job

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.setObjectName("jobsPanel")
        self.setMinimumWidth(JOBS_PANEL_MIN_WIDTH)
        self.model = JobListModel(self)
        self.thumbnails = ThumbnailCache(tasks, self, dpr=self.devicePixelRatioF() or 1.0)
        self.thumbnails.ready.connect(self.on_thumbnails_ready)
        self.thumbnails.wanted.connect(self.on_thumbnails_ready)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(*JOBS_PANEL_MARGINS)
        layout.setSpacing(8)

        header = QHBoxLayout()
        self.title_label = QLabel(_("Jobs"), self)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setWeight(QFont.Weight.DemiBold)
        self.title_label.setFont(font)
        header.addWidget(self.title_label)
        header.addStretch(1)
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("jobsSummary")
        header.addWidget(self.summary_label)
        layout.addLayout(header)

        self.stack = QStackedWidget(self)
        self.empty_label = QLabel(
            _("Your videos will appear here.\n\nAdd a character picture and a motion clip "
              "on the left, then press Generate."), self)
        self.empty_label.setObjectName("jobsEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._mute(self.empty_label)
        self.loading_label = QLabel(_("Loading your jobs…"), self)
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._mute(self.loading_label)

        self.view = JobListView(self)
        self.view.setObjectName("jobsList")
        self.view.setAccessibleName(_("Jobs"))
        self.view.setAccessibleDescription(
            _("Every video job, newest first. Enter runs the job's main action; the context "
              "menu lists all of them."))
        self.view.setModel(self.model)
        self.delegate = JobDelegate(self.view, self.model, self.thumbnails)
        self.view.setItemDelegate(self.delegate)
        self.view.setMouseTracking(True)
        self.view.setUniformItemSizes(False)
        # Rows are measured by Python (the delegate); with hundreds of rows and busy job
        # threads, each measure waits for the interpreter. Measure in small batches, so a
        # batch of two hundred new jobs never freezes the window in one go.
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(20)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setSpacing(2)
        self.view.customContextMenuRequested.connect(self.on_view_customContextMenuRequested)
        self.view.primary_action.connect(self.on_view_primary_action)
        self.delegate.action_clicked.connect(self.on_delegate_action_clicked)

        self.stack.addWidget(self.loading_label)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.view)
        layout.addWidget(self.stack, 1)

        self.model.modelReset.connect(self._update_summary)
        self.model.rowsInserted.connect(self._update_summary)
        self.model.dataChanged.connect(self._on_data_changed)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.on_tick_timeout)
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(200)
        self._summary_timer.timeout.connect(self._update_summary)
        self._loaded = False
        self._update_summary()

    def _mute(self, label: QLabel) -> None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, muted_color(self.palette()))
        label.setPalette(palette)

    # -- feeding -------------------------------------------------------------------------------

    def set_jobs(self, jobs: Sequence[Job]) -> None:
        """The list read from the store. Read again (once a key is set up) it usually
        lists the same jobs: their rows change in place, so what is selected and where
        the list is scrolled stay. Otherwise the list is rebuilt; the selected job stays
        selected."""
        self._loaded = True
        if jobs and self.model.lists_only(jobs):
            self.update_jobs(self.model.newer_than_listed(jobs))
        else:
            current = self.view.currentIndex()
            entry = self.model.entry(current.row()) if current.isValid() else None
            self.model.set_jobs(jobs)
            row = self.model.row_of(entry[0].id) if entry is not None else None
            if row is not None:
                self.view.setCurrentIndex(self.model.index(row))
        self.check_saved_files()

    def check_saved_files(self) -> None:
        """Look (off the main thread) whether saved jobs' videos are still there: one moved
        to the trash no longer offers Play."""
        saved = [(job.id, job.output_path) for job in self.model.jobs()
                 if job.state is JobState.COMPLETED and job.output_path]
        if not saved or self._tasks.closed:
            return
        self._tasks.run(_missing_files, saved, key="jobs-saved-files",
                        on_done=self._on_saved_files_checked)

    def _on_saved_files_checked(self, result: object) -> None:
        if not isinstance(result, tuple):
            return
        checked, missing = result
        for job_id in checked:
            self.model.set_gone(job_id, job_id in missing)

    def set_gone(self, job_id: int, gone: bool = True) -> None:
        self.model.set_gone(job_id, gone)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.check_saved_files()   # back from the Library tab, where results may be trashed

    def set_load_error(self, error: KlingError) -> None:
        self._loaded = True
        self.loading_label.setText(error_text(error, separator="\n\n"))
        self.loading_label.setWordWrap(True)
        self.stack.setCurrentWidget(self.loading_label)

    @Slot(list)
    def update_jobs(self, jobs: list[Job]) -> None:
        """Several snapshots at once: one ``dataChanged`` for the known rows, one re-measure
        request per row whose shape may change, one summary (two hundred busy jobs cost the
        main thread one pass, not two hundred)."""
        self._loaded = True
        reshaped: list[int] = []
        for job in jobs:
            known = self.model.job(job.id)
            if known is None:
                continue
            state = self.model.row_state(job.id)
            # Only rows that explain a problem in full have their own height.
            if needs_attention(known, state) or needs_attention(job, state):
                reshaped.append(job.id)
        self.model.add_jobs(self.model.update_existing(jobs))
        for job_id in reshaped:
            self._relayout(job_id)
        self._update_summary()

    @Slot(object)
    def update_job(self, job: object) -> None:
        if isinstance(job, Job):
            self._loaded = True
            known = self.model.job(job.id)
            may_resize = known is not None and (
                known.state != job.state or needs_attention(known, self.model.row_state(job.id)))
            before = self._height(known) if known is not None and may_resize else None
            self.model.update_job(job)
            if known is None or known.state != job.state:
                self._update_summary()
            if before is not None and before != self._height(job):
                self._relayout(job.id)

    @Slot(int, object)
    def set_offline(self, job_id: int, info: object) -> None:
        self.model.set_offline(job_id, info if isinstance(info, OfflineInfo) else None)
        self._update_summary()

    @Slot(int)
    def clear_offline(self, job_id: int) -> None:
        self.model.set_offline(job_id, None)

    @Slot(int, str)
    def set_service_note(self, job_id: int, text: str) -> None:
        self.model.set_service_note(job_id, text)

    @Slot(int, object)
    def set_note(self, job_id: int, error: object) -> None:
        job = self.model.job(job_id)
        before = self._height(job) if job is not None else None
        self.model.set_note(job_id, error if isinstance(error, KlingError) else None)
        if job is not None and before != self._height(job):
            self._relayout(job_id)

    def _height(self, job: Job) -> int:
        option = QStyleOptionViewItem()
        option.font = self.view.font()
        return self.delegate.geometry.row_height(option, job, self.model.row_state(job.id),
                                                 row_width(self.view))

    def _relayout(self, job_id: int) -> None:
        """A row may change height (a problem explained in full): let the view re-measure."""
        row = self.model.row_of(job_id)
        if row is not None:
            self.delegate.sizeHintChanged.emit(self.model.index(row))

    # -- queries (tests, accessibility) ----------------------------------------------------------

    def job_ids(self) -> list[int]:
        return [job.id for job in self.model.jobs()]

    def job(self, job_id: int) -> Job | None:
        return self.model.job(job_id)

    def status_of(self, job_id: int) -> str:
        job = self.model.job(job_id)
        return "" if job is None else status_text(job, self.model.row_state(job_id))

    def actions_of(self, job_id: int) -> list[str]:
        job = self.model.job(job_id)
        return [] if job is None else actions_for(job, self.model.row_state(job_id))

    def button_center(self, job_id: int, action: str) -> QPoint | None:
        """Where the row's painted button is, in viewport coordinates (None if hidden)."""
        row = self.model.row_of(job_id)
        if row is None:
            return None
        index = self.model.index(row)
        option = QStyleOptionViewItem()
        self.view.initViewItemOption(option)
        option.rect = self.view.visualRect(index)
        rect = self.delegate.button_rect(option, index, action)
        return None if rect.isNull() else rect.center()

    def trigger(self, job_id: int, action: str) -> None:
        job = self.model.job(job_id)
        if job is not None:
            self.action_triggered.emit(action, job)

    # -- reacting --------------------------------------------------------------------------------

    @Slot(str, object)
    def on_delegate_action_clicked(self, action: str, job: object) -> None:
        self.action_triggered.emit(action, job)

    @Slot(QModelIndex)
    def on_view_primary_action(self, index: QModelIndex) -> None:
        job = index.data(JobRole)
        if isinstance(job, Job):
            actions = actions_for(job, index.data(RowStateRole))
            if actions:
                self.action_triggered.emit(actions[0], job)

    @Slot(QPoint)
    def on_view_customContextMenuRequested(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        job = index.data(JobRole) if index.isValid() else None
        if not isinstance(job, Job):
            return
        menu = QMenu(self)
        for action in menu_actions_for(job, index.data(RowStateRole)):
            item = menu.addAction(action_label(action))
            item.setData(action)
        chosen = menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()
        if chosen is not None:
            self.action_triggered.emit(str(chosen.data()), job)

    @Slot()
    def on_thumbnails_ready(self) -> None:
        self.view.viewport().update()

    @Slot()
    def on_tick_timeout(self) -> None:
        if self.model.has_ticking_rows():
            self.model.tick()
        else:
            self._tick.stop()

    def _on_data_changed(self, *_args: object) -> None:
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _update_summary(self, *_args: object) -> None:
        jobs = self.model.jobs()
        if not self._loaded:
            self.stack.setCurrentWidget(self.loading_label)
        else:
            self.stack.setCurrentWidget(self.view if jobs else self.empty_label)
        running = sum(1 for j in jobs if j.state.is_active)
        saved = sum(1 for j in jobs if j.state is JobState.COMPLETED)
        attention = sum(1 for j in jobs if j.state in (JobState.FAILED, JobState.UNCERTAIN))
        parts = []
        if running:
            parts.append(ngettext("{n} running", "{n} running", running).format(n=running))
        if saved:
            parts.append(ngettext("{n} saved", "{n} saved", saved).format(n=saved))
        if attention:
            parts.append(ngettext("{n} needs attention", "{n} need attention",
                                  attention).format(n=attention))
        self.summary_label.setText(" · ".join(parts))
        if running and not self._tick.isActive():
            self._tick.start()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """End the thumbnails' poster thread (bounded). True when it ended."""
        self._tick.stop()
        return self.thumbnails.shutdown(timeout_ms)

    def copy_details(self, job: Job) -> None:
        QGuiApplication.clipboard().setText(tooltip_text(job, self.model.row_state(job.id)))
