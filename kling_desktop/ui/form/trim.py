"""The trim editor: choose which seconds of the motion clip are sent (and billed).

The clip plays above a timeline with in and out handles (drag them; ``,`` / ``.`` step
the active one a frame; ``I`` / ``O`` set in / out at the playhead; Space plays the
selection). The selected length and the billable seconds follow live, the limit of the
chosen orientation is drawn on the timeline from the in point, and the engine's plan for
the selection (:mod:`kling_desktop.engine.fixes`) says what will come out or why it
would be refused. Nothing is written here: Apply hands back a :class:`Trim`, which the
form converts on its TaskRunner.

Qt Multimedia is imported by this module, which the form imports only when the editor
first opens (it must not load before the window's first paint).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import Orientation
from kling_desktop.convert.qt_threads import qt_thread_safe
from kling_desktop.engine.checks import VIDEO_MIN_SECONDS
from kling_desktop.engine.fixes import (
    ConversionError,
    ConversionPlan,
    Transcode,
    Trim,
    video_target,
)
from kling_desktop.i18n import _, format_number
from kling_desktop.ui.form.offer_plans import clip_outcome_text
from kling_desktop.ui.widgets import error_color, mute

__all__ = ["Timeline", "TrimDialog"]

_HANDLE_GRAB_PX = 9
_DEFAULT_FPS = 30.0


def _seconds(value: float) -> str:
    return _("{seconds} s").format(seconds=format_number(value, 1))


class Timeline(QWidget):
    """The clip's length as a bar: the selection between two handles, the playhead, and
    the orientation's limit drawn from the in point (beyond it: hatched, refused)."""

    selection_changed = Signal(float, float)
    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trimTimeline")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(self.fontMetrics().height() * 2 + 44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(_("Timeline"))
        self.duration = 0.0
        self.start = 0.0
        self.end = 0.0
        self.position = 0.0
        self.limit = 10.0
        self._drag: str | None = None

    def sizeHint(self) -> QSize:
        return QSize(560, self.minimumHeight())

    def set_state(self, *, duration: float, start: float, end: float, limit: float) -> None:
        self.duration, self.start, self.end, self.limit = duration, start, end, limit
        self.update()

    def set_position(self, seconds: float) -> None:
        self.position = seconds
        self.update()

    # -- geometry --------------------------------------------------------------------------

    def _track(self) -> QRectF:
        top = self.fontMetrics().height() + 6
        return QRectF(10, top, max(1, self.width() - 20), self.height() - top
                      - self.fontMetrics().height() - 10)

    def _x(self, seconds: float) -> float:
        track = self._track()
        share = seconds / self.duration if self.duration > 0 else 0.0
        return track.left() + max(0.0, min(1.0, share)) * track.width()

    def _time(self, x: float) -> float:
        track = self._track()
        share = (x - track.left()) / track.width() if track.width() else 0.0
        return max(0.0, min(1.0, share)) * self.duration

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        track = self._track()
        painter.fillRect(track, palette.color(QPalette.ColorRole.Base))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(track)
        if self.duration <= 0:
            painter.end()
            return
        highlight = palette.color(QPalette.ColorRole.Highlight)
        fill = QColor(highlight)
        fill.setAlpha(90)
        left, right = self._x(self.start), self._x(self.end)
        painter.fillRect(QRectF(left, track.top(), right - left, track.height()), fill)
        # The limit from the in point: what lies beyond would be refused.
        red = error_color(palette)
        limit_at = self.start + self.limit
        if limit_at < self.duration:
            lx = self._x(limit_at)
            over = QColor(red)
            over.setAlpha(55)
            painter.fillRect(QRectF(lx, track.top(), track.right() - lx, track.height()),
                             QBrush(over, Qt.BrushStyle.BDiagPattern))
            painter.setPen(QPen(red, 2, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(lx, track.top() - 4), QPointF(lx, track.bottom() + 4))
            painter.setPen(red)
            text = _("{limit} s limit").format(limit=format_number(self.limit))
            width = self.fontMetrics().horizontalAdvance(text)
            painter.drawText(QPointF(min(lx + 4, self.width() - width - 2),
                                     self.fontMetrics().ascent() + 1), text)
        # Handles: in and out.
        for x in (left, right):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(highlight)
            painter.drawRoundedRect(QRectF(x - 4, track.top() - 3, 8, track.height() + 6), 3, 3)
        # The playhead.
        px = self._x(self.position)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.WindowText), 2))
        painter.drawLine(QPointF(px, track.top() - 2), QPointF(px, track.bottom() + 2))
        # 0 and the clip's length under the bar.
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        baseline = track.bottom() + self.fontMetrics().ascent() + 4
        painter.drawText(QPointF(track.left(), baseline), _seconds(0))
        end_text = _seconds(self.duration)
        painter.drawText(QPointF(track.right() - self.fontMetrics().horizontalAdvance(end_text),
                                 baseline), end_text)
        painter.end()

    # -- dragging --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.duration <= 0:
            return
        x = event.position().x()
        near_start = abs(x - self._x(self.start))
        near_end = abs(x - self._x(self.end))
        if min(near_start, near_end) <= _HANDLE_GRAB_PX:
            self._drag = "start" if near_start < near_end else "end"
        else:
            self._drag = "position"
        self._drag_to(x)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag_to(event.position().x())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None

    def _drag_to(self, x: float) -> None:
        seconds = self._time(x)
        if self._drag == "start":
            self.selection_changed.emit(min(seconds, self.end), self.end)
        elif self._drag == "end":
            self.selection_changed.emit(self.start, max(seconds, self.start))
        else:
            self.seek_requested.emit(seconds)
        if self._drag in ("start", "end"):
            self.seek_requested.emit(seconds)

    def dragging(self) -> str | None:
        return self._drag


class TrimDialog(QDialog):
    """Pick the in and out points of ``source``; Apply accepts with :meth:`trim`."""

    def __init__(self, source: Path, *, orientation: Orientation, keep_audio: bool = True,
                 selection: tuple[float, float] | None = None, duration: float | None = None,
                 size: tuple[int, int] | None = None, name: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.orientation = orientation
        self.limit = orientation.max_video_seconds
        self._keep_audio = keep_audio
        self._wanted = selection
        self._duration = duration or 0.0
        self._size = size or (0, 0)
        self._fps = _DEFAULT_FPS
        self._start = 0.0
        self._end = 0.0
        self._active = "end"
        self._playing_selection = False
        self._shown_first_frame = False
        self.setObjectName("trimDialog")
        self.setWindowTitle(_("Trim {name}").format(name=name or source.name))
        self.setModal(True)
        self._build()
        if duration:
            self._set_duration(duration)
        self.player = qt_thread_safe(QMediaPlayer(self))
        # The audio output (and the device behind it) exists only once the clip plays.
        self.audio: QAudioOutput | None = None
        self.player.setVideoOutput(self.video)
        self.player.durationChanged.connect(self.on_player_durationChanged)
        self.player.positionChanged.connect(self.on_player_positionChanged)
        self.player.mediaStatusChanged.connect(self.on_player_mediaStatusChanged)
        self.player.setSource(QUrl.fromLocalFile(str(source)))
        self.timeline.setFocus()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(10)
        self.video = qt_thread_safe(QVideoWidget(self))
        self.video.setMinimumSize(480, 270)
        self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout.addWidget(self.video, 1)
        self.timeline = Timeline(self)
        self.timeline.selection_changed.connect(self.on_timeline_selection_changed)
        self.timeline.seek_requested.connect(self.on_timeline_seek_requested)
        layout.addWidget(self.timeline)

        figures = QHBoxLayout()
        figures.setSpacing(16)
        self.selection_label = QLabel(self)
        self.selection_label.setObjectName("trimSelection")
        self.billable_label = QLabel(self)
        self.billable_label.setObjectName("trimBillable")
        font = self.billable_label.font()
        font.setBold(True)
        self.billable_label.setFont(font)
        self.play_button = QPushButton(_("Play selection"), self)
        self.play_button.setObjectName("trimPlay")
        self.play_button.setToolTip(_("Play the selected seconds (Space)"))
        self.play_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.play_button.clicked.connect(self.on_play_button_clicked)
        figures.addWidget(self.selection_label)
        figures.addWidget(self.billable_label)
        figures.addStretch(1)
        figures.addWidget(self.play_button)
        layout.addLayout(figures)

        self.verdict_label = QLabel(self)
        self.verdict_label.setObjectName("trimVerdict")
        self.verdict_label.setWordWrap(True)
        layout.addWidget(self.verdict_label)
        hint = QLabel(_("Drag the handles, or use , and . to step a frame, I and O to set "
                        "the in and out points at the playhead, Space to play the "
                        "selection."), self)
        hint.setWordWrap(True)
        mute(hint)
        layout.addWidget(hint)

        self.buttons = QDialogButtonBox(self)
        self.apply_button = self.buttons.addButton(
            _("Trim"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setObjectName("trimApply")
        self.apply_button.setToolTip(_("Write the selected seconds as a new clip; the "
                                       "original stays as it is"))
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        for button in self.buttons.buttons():
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(720, 600)

    # -- state -----------------------------------------------------------------------------

    def trim(self) -> Trim:
        return Trim(round(self._start, 3), round(self._end, 3))

    def selection(self) -> tuple[float, float]:
        return self._start, self._end

    def frame(self) -> float:
        return 1.0 / self._fps

    def _snap(self, seconds: float) -> float:
        frames = round(seconds * self._fps)
        return max(0.0, min(self._duration, frames / self._fps))

    def _set_duration(self, duration: float) -> None:
        self._duration = duration
        start, end = self._wanted or (0.0, min(duration, self.limit))
        self._start = max(0.0, min(start, duration))
        self._end = max(self._start, min(end, duration))
        self._refresh()

    def set_selection(self, start: float, end: float) -> None:
        start = max(0.0, min(start, self._duration))
        end = max(start, min(end, self._duration))
        if (start, end) != (self._start, self._end):
            if start != self._start:
                self._active = "start"
            elif end != self._end:
                self._active = "end"
            self._start, self._end = start, end
            self._refresh()

    def _refresh(self) -> None:
        self.timeline.set_state(duration=self._duration, start=self._start, end=self._end,
                                limit=self.limit)
        length = self._end - self._start
        self.selection_label.setText(_("Selected: {start}–{end} s ({length})").format(
            start=format_number(self._start, 1), end=format_number(self._end, 1),
            length=_seconds(length)))
        self.billable_label.setText(_("Billed: {seconds}").format(
            seconds=_seconds(round(length, 1))))
        verdict, ok = self._verdict(length)
        self.verdict_label.setText(verdict)
        palette = self.verdict_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, self.palette().color(
            QPalette.ColorRole.WindowText) if ok else error_color(self.palette()))
        self.verdict_label.setPalette(palette)
        self.apply_button.setEnabled(ok)

    def _verdict(self, length: float) -> tuple[str, bool]:
        """The checks on the selection: the engine's plan and the orientation's limit."""
        if self._duration <= 0:
            return _("Opening the clip…"), False
        if length > self.limit + 1e-6:
            # TRANSLATORS: {setting} is the orientation as the form names it, quoted.
            return _("The selection is {seconds} long; with {setting} the limit is {limit} s."
                     ).format(seconds=_seconds(length),
                              setting=_("“{setting}”").format(setting=self.orientation.label),
                              limit=format_number(self.limit)), False
        if length < VIDEO_MIN_SECONDS:
            return _too_short(length), False
        plan = ConversionPlan("video", self.source, (self.trim(), Transcode()),
                              self._keep_audio)
        width, height = self._size
        try:
            target = video_target(plan, width=width or 1280, height=height or 720,
                                  fps=self._fps, duration=self._duration,
                                  has_audio=self._keep_audio)
        except ConversionError as exc:
            return exc.message, False
        return clip_outcome_text(target.duration, target.width, target.height,
                                 target.estimated_bytes()), True

    # -- keys ------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        frame = self.frame()
        if key in (Qt.Key.Key_Comma, Qt.Key.Key_Period):
            step = frame if key == Qt.Key.Key_Period else -frame
            if self._active == "start":
                value = self._snap(self._start + step)
                self.set_selection(min(value, self._end), self._end)
                self._active = "start"
                self._seek(self._start)
            else:
                value = self._snap(self._end + step)
                self.set_selection(self._start, max(value, self._start))
                self._active = "end"
                self._seek(self._end)
            return
        if key == Qt.Key.Key_I:
            self.set_selection(min(self.timeline.position, self._end), self._end)
            self._active = "start"
            return
        if key == Qt.Key.Key_O:
            self.set_selection(self._start, max(self.timeline.position, self._start))
            self._active = "end"
            return
        if key == Qt.Key.Key_Space:
            self.on_play_button_clicked()
            return
        super().keyPressEvent(event)

    # -- the player ------------------------------------------------------------------------

    def _seek(self, seconds: float) -> None:
        self.timeline.set_position(seconds)
        self.player.setPosition(int(seconds * 1000))

    @Slot(float, float)
    def on_timeline_selection_changed(self, start: float, end: float) -> None:
        self.set_selection(self._snap(start), self._snap(end))

    @Slot(float)
    def on_timeline_seek_requested(self, seconds: float) -> None:
        self._playing_selection = False
        self.player.pause()
        self._seek(self._snap(seconds))

    @Slot()
    def on_play_button_clicked(self) -> None:
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
            self._playing_selection = False
            return
        self._playing_selection = True
        if self.audio is None:
            self.audio = qt_thread_safe(QAudioOutput(self))
            self.player.setAudioOutput(self.audio)
        self._seek(self._start)
        self.player.play()

    @Slot(int)
    def on_player_durationChanged(self, ms: int) -> None:
        if ms > 0 and abs(ms / 1000 - self._duration) > 0.05:
            self._set_duration(ms / 1000)

    @Slot(int)
    def on_player_positionChanged(self, ms: int) -> None:
        seconds = ms / 1000
        if self.timeline.dragging() is None:
            self.timeline.set_position(seconds)
        if self._playing_selection and seconds >= self._end:
            self.player.pause()
            self._playing_selection = False

    @Slot(QMediaPlayer.MediaStatus)
    def on_player_mediaStatusChanged(self, status: QMediaPlayer.MediaStatus) -> None:
        if status is not QMediaPlayer.MediaStatus.LoadedMedia:
            return
        if not self._shown_first_frame:
            # A paused player shows nothing until it has played: one step, silently (no
            # audio output yet), so the frame at the playhead is on screen.
            self._shown_first_frame = True
            self.player.play()
            self.player.pause()
            self.player.setPosition(int(self.timeline.position * 1000))
        meta = self.player.metaData()
        fps = meta.value(QMediaMetaData.Key.VideoFrameRate)
        if isinstance(fps, int | float) and math.isfinite(fps) and fps > 0:
            self._fps = float(fps)
        resolution = meta.value(QMediaMetaData.Key.Resolution)
        if resolution is not None and hasattr(resolution, "width") and resolution.width() > 0:
            self._size = (resolution.width(), resolution.height())
        self._refresh()

    def done(self, result: int) -> None:
        self.player.stop()
        super().done(result)


def _too_short(length: float) -> str:
    return _("The selection is {seconds} long; the provider needs at least {limit} s.").format(
        seconds=_seconds(length), limit=format_number(VIDEO_MIN_SECONDS))
