"""Every job, newest first: thumbnail, status in words, progress, and what to do next.

A ``QListView`` over :class:`JobListModel`, painted by :class:`JobDelegate` (no
widget per row, so a long list stays smooth). Each row's buttons are painted by
the delegate and hit-tested on click; the same actions are in the row's context
menu and Enter runs the first one, so everything is reachable from the keyboard.

The panel decides nothing: it emits ``action_triggered(action, job)`` and the
main window acts. :func:`status_text` and :func:`actions_for` are plain
functions, so the wording can be tested without painting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QTextLayout,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobState
from kling_desktop.engine.status import describe, provider_reports
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.job_controller import OfflineInfo
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import error_color, muted_color, ok_color, warning_color

THUMB_SIDE = 64  # logical pixels


# -- actions -----------------------------------------------------------------------------------

class Action:
    """Action ids the panel emits; the main window knows what each one does."""

    RETRY = "retry"
    TRY_NOW = "try_now"
    CANCEL = "cancel"
    OPEN_SETTINGS = "open_settings"
    TOP_UP = "top_up"
    CHOOSE_INPUTS = "choose_inputs"
    USE_LINK = "use_link"
    SEND_AGAIN = "send_again"
    PLAY = "play"
    SHOW_IN_FOLDER = "show_in_folder"
    REUSE = "reuse"
    COPY_DETAILS = "copy_details"


ACTION_LABELS = {
    Action.RETRY: "Retry",
    Action.TRY_NOW: "Try now",
    Action.CANCEL: "Cancel",
    Action.OPEN_SETTINGS: "Open settings",
    Action.TOP_UP: "Top up",
    Action.CHOOSE_INPUTS: "Choose other inputs",
    Action.USE_LINK: "Use a link instead",
    Action.SEND_AGAIN: "Send again…",
    Action.PLAY: "Play",
    Action.SHOW_IN_FOLDER: "Show in folder",
    Action.REUSE: "Use these inputs again",
    Action.COPY_DETAILS: "Copy details",
}

_FAILURE_ACTIONS = {
    FailureKind.RETRYABLE: Action.RETRY,
    FailureKind.AUTH: Action.OPEN_SETTINGS,
    FailureKind.BALANCE: Action.TOP_UP,
    FailureKind.CONTENT_POLICY: Action.CHOOSE_INPUTS,
    FailureKind.UPLOAD_REFUSED: Action.USE_LINK,
    FailureKind.INVALID: Action.CHOOSE_INPUTS,
    FailureKind.PROVIDER: Action.RETRY,
    FailureKind.UNKNOWN: Action.RETRY,
}


@dataclass(frozen=True)
class RowState:
    """What the window knows about a job beyond the store: waiting, or stopped by an error."""

    offline: OfflineInfo | None = None
    note: KlingError | None = None
    service_note: str = ""     # the job service's word: "waiting for a free slot (2nd in line)"


def actions_for(job: Job, state: RowState | None = None) -> list[str]:
    """The row's buttons, most useful first."""
    state = state or RowState()
    if job.state.is_active:
        if job.blocked_on is BlockedOn.KEY:
            return [Action.OPEN_SETTINGS, Action.CANCEL]
        if job.blocked_on is BlockedOn.BALANCE:
            return [Action.TOP_UP, Action.TRY_NOW, Action.CANCEL]
        if state.offline is not None or job.blocked_on is not None:
            return [Action.TRY_NOW, Action.CANCEL]
        if state.note is not None:
            return [Action.RETRY, Action.CANCEL]
        return [Action.CANCEL]
    if job.state is JobState.COMPLETED:
        return [Action.PLAY, Action.SHOW_IN_FOLDER]
    if job.state is JobState.UNCERTAIN:
        return [Action.SEND_AGAIN]
    if job.state is JobState.FAILED:
        kind = job.error_kind or FailureKind.UNKNOWN
        primary = _FAILURE_ACTIONS.get(kind, Action.RETRY)
        actions = [primary]
        if primary in (Action.OPEN_SETTINGS, Action.TOP_UP):
            actions.append(Action.RETRY)
        return actions
    return [Action.RETRY]  # expired, cancelled: generate again


def menu_actions_for(job: Job, state: RowState | None = None) -> list[str]:
    """The context menu: the row's buttons plus what is always possible."""
    actions = actions_for(job, state)
    if Action.REUSE not in actions:
        actions.append(Action.REUSE)
    actions.append(Action.COPY_DETAILS)
    return actions


# -- words ---------------------------------------------------------------------------------------

def _percent(done: int, total: int) -> int | None:
    if total <= 0:
        return None
    return max(0, min(100, math.floor(100 * done / total)))


def status_text(job: Job, state: RowState | None = None, *, now: float | None = None,
                monotonic_now: float | None = None) -> str:
    """The job's state in a few words, e.g. "Generating 40 % · about 40 s left"."""
    state = state or RowState()
    if job.state.is_active and state.offline is not None:
        seconds = state.offline.seconds_left(monotonic_now)
        head = "Offline" if state.offline.reason == "offline" else "Provider busy"
        return f"{head} — retrying in {seconds} s" if seconds > 0 else f"{head} — retrying now"
    if job.state.is_active and state.note is not None:
        return "Stopped — " + state.note.message
    return describe(job, note=state.service_note, now=now).headline


def detail_text(job: Job, state: RowState | None = None) -> str:
    """The row's second line of small print: what to do, or where the video is."""
    state = state or RowState()
    if job.state.is_active:
        if state.offline is not None:
            return state.offline.message
        if state.note is not None:
            return state.note.fix
        return describe(job, note=state.service_note).detail
    if job.state is JobState.COMPLETED:
        return job.output_path or ""
    if job.state is JobState.UNCERTAIN:
        return " ".join(t for t in (job.error_message, job.error_fix) if t)
    return job.error_fix or ""


def elapsed_text(job: Job, now: float | None = None) -> str:
    now = time.time() if now is None else now
    end = now if job.state.is_active else (job.updated_at or now)
    seconds = max(0, int(end - job.created_at))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def elided_title(job: Job, fm: QFontMetrics, width: int) -> str:
    """"picture + clip", each name shortened in its middle so both stay recognisable."""
    full = title_text(job)
    if fm.horizontalAdvance(full) <= width:
        return full
    joiner = "  +  "
    half = max(20, (width - fm.horizontalAdvance(joiner)) // 2)
    image = fm.elidedText(_source_name(job.spec.image), Qt.TextElideMode.ElideMiddle, half)
    video = fm.elidedText(_source_name(job.spec.video), Qt.TextElideMode.ElideMiddle, half)
    return image + joiner + video


def _row(state: object) -> RowState | None:
    return state if isinstance(state, RowState) else None


def title_text(job: Job) -> str:
    return f"{_source_name(job.spec.image)}  +  {_source_name(job.spec.video)}"


def _source_name(source: str) -> str:
    if source.startswith(("https://", "http://")):
        tail = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return tail or source
    return Path(source).name


def badges_for(job: Job) -> list[str]:
    model = {Model.V3: "Kling V3", Model.V2_6: "Kling V2.6"}.get(job.spec.options.model,
                                                                 str(job.spec.options.model))
    mode = {Mode.STD: "Standard 720p", Mode.PRO: "Pro 1080p"}.get(job.spec.options.mode,
                                                                  str(job.spec.options.mode))
    badges = [model, mode]
    if job.demo:
        badges.insert(0, "Demo")
    return badges


def phase_progress(job: Job) -> int | None:
    """0..100 for the progress bar of an active job; None when there is no bar."""
    if job.state is JobState.UPLOADING or job.state is JobState.DOWNLOADING:
        return _percent(job.transfer_done, job.transfer_total) or 0
    if job.state is JobState.SUBMITTED:
        return max(0, min(100, job.progress))
    if job.state.is_active:
        return 0
    return None


def tooltip_text(job: Job, state: RowState | None = None) -> str:
    lines = [title_text(job), status_text(job, state)]
    detail = detail_text(job, state)
    if detail and detail not in lines[1]:
        lines.append(detail)
    if job.error_fix and job.error_fix not in "\n".join(lines):
        lines.append(job.error_fix)
    if job.task_id:
        lines.append(f"Provider task: {job.task_id}")
    lines.extend(provider_reports(job))
    if job.demo:
        lines.append("Demo job: made by the built-in simulator, nothing was billed.")
    return "\n".join(lines)


# -- thumbnails ----------------------------------------------------------------------------------

class ThumbnailCache(QObject):
    """Thumbnails by picture path, decoded on the TaskRunner; ``ready(path)`` when one lands."""

    ready = Signal(str)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._images: dict[str, QImage | None] = {}
        self._loading: set[str] = set()

    def get(self, source: str, dpr: float) -> QImage | None:
        if source.startswith(("https://", "http://")):
            return None
        image = self._images.get(source)
        if image is not None or source in self._images:
            return image
        if source not in self._loading and not self._tasks.closed:
            self._loading.add(source)
            side = max(THUMB_SIDE, round(THUMB_SIDE * dpr))
            load_picture(self._tasks, source, QSize(side, side),
                         partial(self._on_loaded, source), crop=True)
        return None

    def has(self, source: str) -> bool:
        return self._images.get(source) is not None

    def _on_loaded(self, source: str, picture: Picture) -> None:
        self._loading.discard(source)
        image = picture.image
        if image is not None and not image.isNull():
            image.setDevicePixelRatio(max(1.0, image.width() / THUMB_SIDE))
            self._images[source] = image
        else:
            self._images[source] = None  # missing or unreadable: keep the placeholder
        self.ready.emit(source)


# -- model ---------------------------------------------------------------------------------------

JobRole = Qt.ItemDataRole.UserRole + 1
RowStateRole = Qt.ItemDataRole.UserRole + 2


class JobListModel(QAbstractListModel):
    """Jobs, newest first, plus what the window knows about each (waiting, stopped)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[int, int] = {}
        self._offline: dict[int, OfflineInfo] = {}
        self._notes: dict[int, KlingError] = {}
        self._service_notes: dict[int, str] = {}

    # Qt interface
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == JobRole:
            return job
        if role == RowStateRole:
            return self.row_state(job.id)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{title_text(job)}: {status_text(job, self.row_state(job.id))}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(job, self.row_state(job.id))
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return detail_text(job, self.row_state(job.id))
        return None

    # access (plain Python: the delegate reads rows without going through Qt's data())
    def entry(self, row: int) -> tuple[Job, RowState] | None:
        if not 0 <= row < len(self._jobs):
            return None
        job = self._jobs[row]
        return job, self.row_state(job.id)

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def job(self, job_id: int) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else self._jobs[row]

    def row_of(self, job_id: int) -> int | None:
        return self._rows.get(job_id)

    def row_state(self, job_id: int) -> RowState:
        return RowState(self._offline.get(job_id), self._notes.get(job_id),
                        self._service_notes.get(job_id, ""))

    def has_ticking_rows(self) -> bool:
        return any(job.state.is_active for job in self._jobs)

    # changes
    def set_jobs(self, jobs: Sequence[Job]) -> None:
        known = {job.id: job for job in self._jobs}
        merged = {job.id: job for job in jobs}
        for job_id, job in known.items():  # snapshots newer than the list read win
            if job_id not in merged or job.updated_at >= merged[job_id].updated_at:
                merged[job_id] = job
        self.beginResetModel()
        self._jobs = sorted(merged.values(), key=lambda j: (j.created_at, j.id), reverse=True)
        self._reindex()
        self.endResetModel()

    def update_job(self, job: Job) -> None:
        row = self._rows.get(job.id)
        if row is None:
            position = 0
            while position < len(self._jobs) and (
                    (self._jobs[position].created_at, self._jobs[position].id)
                    > (job.created_at, job.id)):
                position += 1
            self.beginInsertRows(QModelIndex(), position, position)
            self._jobs.insert(position, job)
            self._reindex()
            self.endInsertRows()
            return
        old = self._jobs[row]
        if job.state != old.state or job.updated_at > old.updated_at or job.state.is_active:
            self._notes.pop(job.id, None)
        self._jobs[row] = job
        self._changed(row)

    def add_jobs(self, jobs: Sequence[Job]) -> None:
        """Rows for jobs not listed yet, in as few insertions as possible: jobs newer than
        every listed one (a batch just queued) go in as one block at the top."""
        fresh = sorted((job for job in {j.id: j for j in jobs}.values()
                        if job.id not in self._rows),
                       key=lambda j: (j.created_at, j.id), reverse=True)
        if not fresh:
            return
        top = (self._jobs[0].created_at, self._jobs[0].id) if self._jobs else None
        if top is None or (fresh[-1].created_at, fresh[-1].id) > top:
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._jobs[0:0] = fresh
            self._reindex()
            self.endInsertRows()
        elif len(fresh) == 1:
            self.update_job(fresh[0])
        else:
            self.set_jobs([*self._jobs, *fresh])

    def update_existing(self, jobs: Sequence[Job]) -> list[Job]:
        """Replace known jobs in place with one ``dataChanged``; returns the unknown ones."""
        unknown: list[Job] = []
        rows: list[int] = []
        for job in jobs:
            row = self._rows.get(job.id)
            if row is None:
                unknown.append(job)
                continue
            old = self._jobs[row]
            if job.state != old.state or job.updated_at > old.updated_at or job.state.is_active:
                self._notes.pop(job.id, None)
            self._jobs[row] = job
            rows.append(row)
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))
        return unknown

    def set_offline(self, job_id: int, info: OfflineInfo | None) -> None:
        if info is None:
            self._offline.pop(job_id, None)
        else:
            self._offline[job_id] = info
        self._changed(self._rows.get(job_id))

    def set_service_note(self, job_id: int, text: str) -> None:
        if text:
            self._service_notes[job_id] = text
        else:
            self._service_notes.pop(job_id, None)
        self._changed(self._rows.get(job_id))

    def set_note(self, job_id: int, error: KlingError | None) -> None:
        if error is None:
            self._notes.pop(job_id, None)
        else:
            self._notes[job_id] = error
        self._changed(self._rows.get(job_id))

    def tick(self) -> None:
        """Elapsed times and countdowns changed: repaint the active rows."""
        rows = [row for row, job in enumerate(self._jobs) if job.state.is_active]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DisplayRole])

    def _changed(self, row: int | None) -> None:
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def _reindex(self) -> None:
        self._rows = {job.id: row for row, job in enumerate(self._jobs)}


# -- delegate ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _RowLayout:
    thumb: QRect
    title: QRect
    badges: list[tuple[str, QRect]]
    elapsed: QRect
    status: QRect
    status_lines: int
    detail: QRect
    detail_lines: int
    bar: QRect
    buttons: list[tuple[str, QRect]]


def needs_attention(job: Job, state: object) -> bool:
    """Rows that explain a problem in full (taller, wrapped text)."""
    if job.state in (JobState.FAILED, JobState.EXPIRED, JobState.UNCERTAIN):
        return True
    return job.state.is_active and isinstance(state, RowState) and state.note is not None


class JobDelegate(QStyledItemDelegate):
    """Paints a job row and turns clicks on its painted buttons into ``action_clicked``."""

    action_clicked = Signal(str, object)   # action id, Job

    PAD = 10
    GAP = 12
    MAX_STATUS_LINES = 3
    MAX_DETAIL_LINES = 3

    def __init__(self, view: QListView, model: JobListModel, thumbs: ThumbnailCache) -> None:
        super().__init__(view)
        self._view = view
        self._model = model
        self._thumbs = thumbs
        self._heights: dict[tuple[object, ...], int] = {}
        self._font_cache: dict[str, tuple[QFont, QFont, QFont]] = {}
        # Each row is drawn once into a pixmap and re-blitted until something it shows
        # changes: repaints of unchanged rows cost one call, not a hundred.
        self._pixmaps: dict[int, tuple[tuple[object, ...], QPixmap]] = {}
        self._hover: tuple[int, str] | None = None
        self._pressed: tuple[int, str] | None = None

    # geometry
    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, QFont]:
        key = option.font.key()
        fonts = self._font_cache.get(key)
        if fonts is None:
            base = QFont(option.font)
            title = QFont(base)
            title.setWeight(QFont.Weight.DemiBold)
            small = QFont(base)
            small.setPointSizeF(max(7.0, base.pointSizeF() * 0.9))
            fonts = (base, title, small)
            self._font_cache = {key: fonts}
        return fonts

    def _button_height(self, option: QStyleOptionViewItem) -> int:
        return QFontMetrics(option.font).height() + 12

    def _text_left(self, rect: QRect) -> int:
        return rect.left() + self.PAD + THUMB_SIDE + self.GAP

    def _text_width(self, rect: QRect) -> int:
        return max(120, rect.right() - self.PAD - self._text_left(rect) + 1)

    @staticmethod
    def _wrapped_lines(fm: QFontMetrics, text: str, width: int, limit: int) -> int:
        if not text:
            return 0
        bound = fm.boundingRect(QRect(0, 0, width, 100000),
                                int(Qt.TextFlag.TextWordWrap), text)
        return max(1, min(limit, math.ceil(bound.height() / max(1, fm.lineSpacing()))))

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        width = max(360, self._view.viewport().width() - 2 * self._view.spacing())
        entry = self._model.entry(index.row())
        if entry is None:
            return QSize(width, THUMB_SIDE + 2 * self.PAD)
        return QSize(width, self.row_height(option, entry[0], entry[1], width))

    def _entry(self, index: QModelIndex | QPersistentModelIndex) -> tuple[Job, RowState] | None:
        return self._model.entry(index.row()) if index.isValid() else None

    def row_height(self, option: QStyleOptionViewItem, job: Job, state: RowState,
                   width: int) -> int:
        """The row's height; cached (rows of the same kind share one height)."""
        if needs_attention(job, state):
            key: tuple[object, ...] = (width, option.font.key(), status_text(job, state),
                                       detail_text(job, state), tuple(actions_for(job, state)))
        else:
            key = (width, option.font.key())
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) > 2000:
                self._heights.clear()
            opt = QStyleOptionViewItem(option)
            opt.rect = QRect(0, 0, width, 100)
            geo = self.layout(opt, job, actions_for(job, state), state)
            bottom = max(geo.thumb.bottom(), geo.detail.bottom(), geo.bar.bottom(),
                         max((r.bottom() for _a, r in geo.buttons), default=0))
            height = bottom + 1 + self.PAD
            self._heights[key] = height
        return height

    def layout(self, option: QStyleOptionViewItem, job: Job, actions: Sequence[str],
               state: object = None) -> _RowLayout:
        rect = option.rect
        base, title_font, small = self._fonts(option)
        fm_title = QFontMetrics(title_font)
        fm_base = QFontMetrics(base)
        fm_small = QFontMetrics(small)
        pad = self.PAD
        thumb = QRect(rect.left() + pad, rect.top() + pad, THUMB_SIDE, THUMB_SIDE)
        left = self._text_left(rect)
        width = self._text_width(rect)
        right = left + width - 1

        # line 1: title ........ elapsed
        y = rect.top() + pad - 1
        line_h = fm_title.height()
        elapsed_w = fm_small.horizontalAdvance("0:00:00")
        elapsed = QRect(right - elapsed_w + 1, y, elapsed_w, line_h)
        title = QRect(left, y, max(0, elapsed.left() - 8 - left), line_h)
        y += line_h + 2

        # line 2: badges (demo, model, quality)
        badges: list[tuple[str, QRect]] = []
        x = left
        badge_h = fm_small.height() + 2
        for text in badges_for(job):
            badge_w = fm_small.horizontalAdvance(text) + 14
            badges.append((text, QRect(x, y, badge_w, badge_h)))
            x += badge_w + 5
        y += badge_h + 5

        button_h = self._button_height(option)
        if needs_attention(job, state):
            # The provider's words in full, what to do, then the buttons on their own line.
            status_lines = self._wrapped_lines(fm_base, status_text(job, _row(state)), width,
                                               self.MAX_STATUS_LINES)
            status = QRect(left, y, width, status_lines * fm_base.lineSpacing())
            y = status.bottom() + 1 + 4
            detail_text_ = detail_text(job, _row(state))
            detail_lines = self._wrapped_lines(fm_small, detail_text_, width,
                                               self.MAX_DETAIL_LINES)
            detail = QRect(left, y, width, detail_lines * fm_small.lineSpacing())
            y = (detail.bottom() + 1 + 8) if detail_lines else y + 4
            buttons = self._buttons(actions, fm_base, right, y, button_h)
            bar = QRect(left, y, 0, 0)
            return _RowLayout(thumb, title, badges, elapsed, status, status_lines, detail,
                              detail_lines, bar, buttons)

        # line 2: status; line 3: progress bar or small print ......... buttons
        status = QRect(left, y, width, fm_base.height())
        y += fm_base.height() + 6
        buttons = self._buttons(actions, fm_base, right, y, button_h)
        x = buttons[0][1].left() if buttons else right + 1
        detail = QRect(left, y, max(0, x - 10 - left), button_h)
        bar = QRect(left, y + (button_h - 8) // 2, max(0, x - 16 - left), 8)
        return _RowLayout(thumb, title, badges, elapsed, status, 1, detail, 1, bar, buttons)

    def _buttons(self, actions: Sequence[str], fm: QFontMetrics, right: int, y: int,
                 height: int) -> list[tuple[str, QRect]]:
        buttons: list[tuple[str, QRect]] = []
        x = right + 1
        for action in reversed(actions):
            label = ACTION_LABELS[action]
            width = fm.horizontalAdvance(label) + 28
            button = QRect(x - width, y, width, height)
            buttons.insert(0, (action, button))
            x = button.left() - 8
        return buttons

    # painting
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        entry = self._entry(index)
        if entry is None:
            return
        job, state = entry
        row = index.row()
        dpr = self._view.devicePixelRatioF()
        key = (job, state, elapsed_text(job), status_text(job, state), option.rect.size(),
               int(option.state.value), self._hover if self._hover and self._hover[0] == row
               else None, self._pressed if self._pressed and self._pressed[0] == row else None,
               dpr, option.palette.cacheKey(), self._thumbs.has(job.spec.image))
        cached = self._pixmaps.get(job.id)
        if cached is None or cached[0] != key:
            size = option.rect.size()
            pixmap = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            local = QStyleOptionViewItem(option)
            local.rect = QRect(QPoint(0, 0), size)
            target = QPainter(pixmap)
            try:
                self._render(target, local, job, state, row)
            finally:
                target.end()
            if len(self._pixmaps) > 400:
                self._pixmaps.clear()
            cached = (key, pixmap)
            self._pixmaps[job.id] = cached
        painter.drawPixmap(option.rect.topLeft(), cached[1])

    def _render(self, painter: QPainter, option: QStyleOptionViewItem, job: Job,
                state: RowState, row: int) -> None:
        opt = QStyleOptionViewItem(option)   # no initStyleOption: it asks the model per role
        widget = self._view
        style = widget.style()
        painter.save()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = (QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        text_color = palette.color(text_role)
        muted = text_color if selected else muted_color(palette)
        actions = actions_for(job, state)
        geo = self.layout(option, job, actions, state)
        base, title_font, small = self._fonts(option)

        self._paint_thumb(painter, geo.thumb, job, palette, widget.devicePixelRatioF())

        painter.setFont(title_font)
        painter.setPen(text_color)
        painter.drawText(geo.title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         elided_title(job, QFontMetrics(title_font), geo.title.width()))

        painter.setFont(small)
        for text, rect in geo.badges:
            self._paint_badge(painter, rect, text, palette, demo=text == "Demo")
        painter.setPen(muted)
        painter.drawText(geo.elapsed, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         elapsed_text(job))

        painter.setPen(text_color if selected else self._status_color(job, state, palette))
        self._draw_text(painter, geo.status, status_text(job, _row(state)), base,
                        geo.status_lines)

        progress = phase_progress(job)
        waiting = isinstance(state, RowState) and (state.offline or state.note)
        if progress is not None and not waiting:
            self._paint_bar(painter, geo.bar, progress, option)
        else:
            detail = detail_text(job, _row(state))
            if job.state is JobState.COMPLETED and detail:
                detail = Path(detail).name
            painter.setPen(muted)
            self._draw_text(painter, geo.detail, detail, small, geo.detail_lines)

        painter.setFont(base)
        for action, rect in geo.buttons:
            self._paint_button(painter, rect, action, row, option)
        painter.restore()

    @staticmethod
    def _draw_text(painter: QPainter, rect: QRect, text: str, font: QFont, lines: int) -> None:
        """``text`` in ``rect``: one elided line, or word-wrapped with the last line elided."""
        if not text or rect.width() <= 0:
            return
        painter.setFont(font)
        fm = QFontMetrics(font)
        if lines <= 1:
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
            return
        layout = QTextLayout(text, font)
        layout.beginLayout()
        y = 0.0
        shown = 0
        while shown < lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(rect.width())
            line.setPosition(QPointF(0, y))
            y += fm.lineSpacing()
            shown += 1
        layout.endLayout()
        for number in range(layout.lineCount()):
            line = layout.lineAt(number)
            start, length = line.textStart(), line.textLength()
            piece = text[start:start + length]
            if number == lines - 1 and start + length < len(text):
                piece = fm.elidedText(text[start:], Qt.TextElideMode.ElideRight, rect.width())
            painter.drawText(QRect(rect.left(), rect.top() + number * fm.lineSpacing(),
                                   rect.width(), fm.lineSpacing()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             piece.rstrip())

    def _status_color(self, job: Job, state: object, palette: QPalette) -> QColor:
        if job.state in (JobState.FAILED, JobState.EXPIRED):
            return error_color(palette)
        if job.state is JobState.UNCERTAIN:
            return warning_color(palette)
        if isinstance(state, RowState) and (state.offline or state.note) and job.state.is_active:
            return warning_color(palette)
        if job.state is JobState.COMPLETED:
            return ok_color(palette)
        return palette.color(QPalette.ColorRole.Text)

    def _paint_thumb(self, painter: QPainter, rect: QRect, job: Job, palette: QPalette,
                     dpr: float) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 6, 6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setClipPath(path)
        image = self._thumbs.get(job.spec.image, dpr)
        if image is not None:
            painter.drawImage(rect, image)
        else:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Midlight))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                             "link" if job.spec.image.startswith("http") else "…")
        painter.restore()

    def _paint_badge(self, painter: QPainter, rect: QRect, text: str, palette: QPalette, *,
                     demo: bool) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if demo:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), rect.height() / 2,
                                    rect.height() / 2)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_bar(self, painter: QPainter, rect: QRect, value: int,
                   option: QStyleOptionViewItem) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = rect
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = value
        bar.textVisible = False
        bar.palette = option.palette
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        self._view.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter,
                                       self._view)

    def _paint_button(self, painter: QPainter, rect: QRect, action: str, row: int,
                      option: QStyleOptionViewItem) -> None:
        button = QStyleOptionButton()
        button.rect = rect
        button.text = ACTION_LABELS[action]
        button.palette = option.palette
        button.fontMetrics = QFontMetrics(option.font)
        state = QStyle.StateFlag.State_Enabled
        if self._hover == (row, action):
            state |= QStyle.StateFlag.State_MouseOver
        if self._pressed == (row, action):
            state |= QStyle.StateFlag.State_Sunken
        else:
            state |= QStyle.StateFlag.State_Raised
        button.state = state
        self._view.style().drawControl(QStyle.ControlElement.CE_PushButton, button, painter,
                                       self._view)

    # interaction
    def button_at(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                  pos: QPoint) -> str | None:
        entry = self._entry(index)
        if entry is None:
            return None
        job, state = entry
        geo = self.layout(option, job, actions_for(job, state), state)
        for action, rect in geo.buttons:
            if rect.contains(pos):
                return action
        return None

    def button_rect(self, option: QStyleOptionViewItem, index: QModelIndex, action: str) -> QRect:
        entry = self._entry(index)
        if entry is None:
            return QRect()
        job, state = entry
        geo = self.layout(option, job, actions_for(job, state), state)
        for name, rect in geo.buttons:
            if name == action:
                return rect
        return QRect()

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem,
                    index: QModelIndex | QPersistentModelIndex) -> bool:
        kind = event.type()
        if not isinstance(event, QMouseEvent) or kind not in (
                QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress,
                QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick):
            return super().editorEvent(event, model, option, index)
        pos = event.position().toPoint()
        action = self.button_at(option, index, pos)
        key = (index.row(), action) if action else None
        if kind == QEvent.Type.MouseMove:
            if key != self._hover:
                self._hover = key
                self._view.viewport().update()
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self._pressed = key
            if key is not None:
                self._view.viewport().update()
                return True
            return False
        pressed, self._pressed = self._pressed, None
        if key is not None and pressed == key and action is not None:
            self._view.viewport().update()
            self.action_clicked.emit(action, index.data(JobRole))
            return True
        if pressed is not None:
            self._view.viewport().update()
            return True
        return False

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex) -> bool:
        action = self.button_at(option, index, event.pos())
        job = index.data(JobRole)
        if action is not None and isinstance(job, Job):
            QToolTip.showText(event.globalPos(), _action_tip(action, job), view)
            return True
        return super().helpEvent(event, view, option, index)

    def clear_hover(self) -> None:
        self._hover = None
        self._pressed = None


def _action_tip(action: str, job: Job) -> str:
    tips = {
        Action.RETRY: "Send this job again with the same inputs.",
        Action.TRY_NOW: "Try to reach the provider now instead of waiting.",
        Action.CANCEL: ("Stop following this job. A video the provider already started "
                        "may still be billed." if job.task_id else "Stop this job."),
        Action.OPEN_SETTINGS: "Check or replace your API key.",
        Action.TOP_UP: "Open your provider's website to add credit.",
        Action.CHOOSE_INPUTS: "Put this job's options in the form and pick another picture "
                              "or clip.",
        Action.USE_LINK: "Paste a public https:// link to the clip instead of uploading it.",
        Action.SEND_AGAIN: "The provider may already have this job; sending it again could "
                           "charge you twice.",
        Action.PLAY: "Play the video in your video player.",
        Action.SHOW_IN_FOLDER: "Open the folder that holds the video.",
    }
    return tips.get(action, ACTION_LABELS.get(action, action))


# -- view and panel -----------------------------------------------------------------------------

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
        self.setObjectName("jobsPanel")
        self.setMinimumWidth(380)
        self.model = JobListModel(self)
        self.thumbnails = ThumbnailCache(tasks, self)
        self.thumbnails.ready.connect(self.on_thumbnails_ready)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 16, 16, 12)
        layout.setSpacing(8)

        header = QHBoxLayout()
        self.title_label = QLabel("Jobs", self)
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
            "Your videos will appear here.\n\nAdd a character picture and a motion clip "
            "on the left, then press Generate.", self)
        self.empty_label.setObjectName("jobsEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._mute(self.empty_label)
        self.loading_label = QLabel("Loading your jobs…", self)
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._mute(self.loading_label)

        self.view = JobListView(self)
        self.view.setObjectName("jobsList")
        self.view.setAccessibleName("Jobs")
        self.view.setAccessibleDescription(
            "Every video job, newest first. Enter runs the job's main action; the context "
            "menu lists all of them.")
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
        self._loaded = True
        self.model.set_jobs(jobs)

    def set_load_error(self, error: KlingError) -> None:
        self._loaded = True
        self.loading_label.setText(f"{error.message}\n\n{error.fix}".strip())
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
        width = max(360, self.view.viewport().width() - 2 * self.view.spacing())
        return self.delegate.row_height(option, job, self.model.row_state(job.id), width)

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
            item = menu.addAction(ACTION_LABELS[action])
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
            parts.append(f"{running} running")
        if saved:
            parts.append(f"{saved} saved")
        if attention:
            parts.append(f"{attention} need{'s' if attention == 1 else ''} attention")
        self.summary_label.setText(" · ".join(parts))
        if running and not self._tick.isActive():
            self._tick.start()

    def copy_details(self, job: Job) -> None:
        QGuiApplication.clipboard().setText(tooltip_text(job, self.model.row_state(job.id)))
