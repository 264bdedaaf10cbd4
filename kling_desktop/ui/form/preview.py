"""The preview of a slot: the selected input shown, its details, and inline playback.

A picture is decoded on the TaskRunner through :mod:`kling_desktop.ui.images`
(the window's one picture decoder); a clip shows its first frame
(:class:`~kling_desktop.ui.poster_grabber.PosterGrabber`) with its length and size,
and plays inline, muted unless the user turns the preview's speaker on (a preview
control only: whether the *result* keeps the clip's sound is an option of the form).

A picture keeps its shape and is never enlarged past its own size: a small one
sits sharp in the middle of the card, which keeps its height whatever it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QRectF, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.i18n import _
from kling_desktop.sources import is_link
from kling_desktop.ui.form.kinds import MediaKind, slot_text
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
    ElidedLabel,
    format_bytes,
    format_seconds,
    mute,
    muted_color,
)

if TYPE_CHECKING:   # Qt Multimedia loads when a clip is first previewed, not at start-up
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

    from kling_desktop.engine.checks import ImageInfo, VideoInfo  # (loaded by the checks)
    from kling_desktop.ui.poster_grabber import PosterGrabber

PREVIEW_DECODE_MAX = 1280   # longest side of a decoded preview, in pixels
INFO_SEPARATOR = " · "
# The previews give up height first when the window is short (1024 × 700): this much stays.
PREVIEW_MIN_HEIGHT = 48


class PreviewCanvas(QWidget):
    """Paints the picture/poster scaled into the drop zone, or a placeholder."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self._drag_over = False
        self.setMinimumSize(160, PREVIEW_MIN_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        # As tall as its minimum: the form's layout hands the preview whatever height is left
        # (stretch), and a form that does not fit scrolls only below this.
        return QSize(320, self.minimumHeight())

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def placeholder(self) -> str:
        return self._placeholder

    def image_rect(self) -> QRect:
        """Where the picture is drawn: its own shape, never larger than its own size."""
        if self._pixmap is None:
            return QRect()
        area = self.rect().adjusted(7, 7, -7, -7)
        size = self._pixmap.size() / self._pixmap.devicePixelRatio()
        if size.width() > area.width() or size.height() > area.height():
            size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = area.x() + (area.width() - size.width()) // 2
        y = area.y() + (area.height() - size.height()) // 2
        return QRect(x, y, size.width(), size.height())

    def set_drag_over(self, value: bool) -> None:
        self._drag_over = value
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        if self._drag_over:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.SolidLine)
        elif self._pixmap is None:
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1.5, Qt.PenStyle.DashLine)
        else:
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 8, 8)
        if self._pixmap is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(self.image_rect(), self._pixmap)
        else:
            painter.setPen(muted_color(palette))
            painter.drawText(rect.adjusted(16, 16, -16, -16),
                             int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                             self._placeholder)
        painter.end()


class SlotPreview(QWidget):
    """The canvas (or the inline player) over one row: Play, Sound and the details.

    The slot tells it which inputs exist (``set_inputs``), which one to show
    (``show_source`` / ``clear``) and what the engine's probe found (``set_infos``).
    Signals: ``shown(str)`` when a source's preview is on screen; ``note(str)`` for
    something the slot should say (the clip cannot be played here).
    """

    shown = Signal(str)
    note = Signal(str)

    def __init__(self, kind: MediaKind, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._tasks = tasks
        self._text = slot_text(kind)
        self._inputs: Sequence[str] = ()
        self._infos: Mapping[str, ImageInfo | VideoInfo | None] = {}
        self._previews: dict[str, QImage] = {}      # decoded pictures / poster frames
        self._durations: dict[str, float] = {}      # from the player, until the engine's probe
        self._frame_sizes: dict[str, QSize] = {}
        self._preview_failed: dict[str, str] = {}
        self._previewed: str | None = None
        self._player: QMediaPlayer | None = None
        self._audio: QAudioOutput | None = None
        self._video_widget: QVideoWidget | None = None
        self._poster: PosterGrabber | None = None
        self._build()

    def _build(self) -> None:
        text = self._text
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.canvas = PreviewCanvas(self._empty_placeholder(), self)
        self.canvas.setAccessibleName(text["preview"])
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.canvas)
        self.stack.setMinimumHeight(PREVIEW_MIN_HEIGHT)
        layout.addWidget(self.stack, 1)

        info_row = QHBoxLayout()
        info_row.setSpacing(6)
        self.play_button = QToolButton(self)
        self.play_button.setText(_("▶ Play"))
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(_("Play the clip here, muted (the speaker turns the "
                                      "preview's sound on)"))
        self.play_button.setAccessibleName(_("Play the motion video"))
        self.play_button.toggled.connect(self.on_play_button_toggled)
        # The preview's own speaker: an icon on the player, not words that read like the
        # result's "Keep the clip's own sound" option.
        self.sound_button = QToolButton(self)
        self.sound_button.setObjectName("previewSound")
        self.sound_button.setCheckable(True)
        self.sound_button.setAutoRaise(True)
        self.sound_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.sound_button.toggled.connect(self.on_sound_button_toggled)
        # Long details drop their last parts ("12.0 s · 640 × 480 · …"); all of it is in the
        # tooltip. Never wider than the slot, so both slots keep the same width.
        self.info_label = ElidedLabel(parent=self, separator=INFO_SEPARATOR)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setAccessibleName(text["details"])
        mute(self.info_label)
        info_row.addWidget(self.play_button)
        info_row.addWidget(self.sound_button)
        info_row.addWidget(self.info_label, 1)
        # Same height in both slots, so their rows line up side by side.
        self.info_label.setMinimumHeight(max(self.play_button.sizeHint().height(),
                                             self.sound_button.sizeHint().height()))
        layout.addLayout(info_row)
        self._show_controls(False)

    def _empty_placeholder(self) -> str:
        return self._text["drop"] + "\n" + self._text["or_choose"]

    # -- what the slot tells it -----------------------------------------------------------------

    def set_inputs(self, inputs: Sequence[str]) -> None:
        """The slot's inputs now: a preview arriving for another one is dropped."""
        self._inputs = tuple(inputs)

    def forget(self, source: str) -> None:
        """The user removed ``source``: its decoded preview goes too."""
        self._previews.pop(source, None)

    def set_infos(self, infos: Mapping[str, ImageInfo | VideoInfo | None]) -> None:
        """Probe results from the engine's checks; they win over the player's guess."""
        self._infos = infos
        self._update_info()

    def previewed_source(self) -> str | None:
        return self._previewed

    def image(self) -> QImage | None:
        return self.canvas.image()

    def info_text(self) -> str:
        """All the details of the previewed input (the label may show fewer)."""
        return self.info_label.full_text()

    def is_playing(self) -> bool:
        if self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer
        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def stop_playback(self) -> None:
        if self._player is not None:
            self._player.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(False)
        self.play_button.setText(_("▶ Play"))
        self.play_button.blockSignals(False)
        self.stack.setCurrentWidget(self.canvas)

    def shutdown(self) -> None:
        """Stop players and forget pending previews."""
        self.stop_playback()
        if self._poster is not None:
            self._poster.cancel()
        self._tasks.cancel(self._preview_key)

    # -- showing a source -----------------------------------------------------------------------

    @property
    def _preview_key(self) -> str:
        return f"slot-preview-{id(self)}"

    def clear(self) -> None:
        self.stop_playback()
        self._previewed = None
        self.canvas.set_image(None)
        self.canvas.set_placeholder(self._empty_placeholder())
        self._show_controls(False)
        self._update_info()

    def show_source(self, source: str) -> None:
        if source == self._previewed and (source in self._previews
                                          or source in self._preview_failed):
            return
        if source != self._previewed:
            self.stop_playback()
        self._previewed = source
        local = not is_link(source)
        self._show_controls(local)
        self._update_info()
        if source in self._previews:
            self.canvas.set_image(self._previews[source])
            self.shown.emit(source)
            return
        self.canvas.set_image(None)
        if not local:
            self.canvas.set_placeholder(
                _("A web link: no preview here.\nThe provider fetches it when the job is sent."))
            return
        if source in self._preview_failed:
            self.canvas.set_placeholder(_("No preview for this file."))
            return
        self.canvas.set_placeholder(_("Loading preview…"))
        if self.kind is MediaKind.IMAGE:
            box = QSize(PREVIEW_DECODE_MAX, PREVIEW_DECODE_MAX)
            load_picture(self._tasks, source, box, partial(self._on_decoded, source),
                         key=self._preview_key)
        else:
            if self._poster is None:
                from kling_desktop.ui.poster_grabber import PosterGrabber
                self._poster = PosterGrabber(self)
                self._poster.grabbed.connect(self.on_poster_grabbed)
                self._poster.failed.connect(self.on_poster_failed)
            self._poster.grab(source)

    def _on_decoded(self, source: str, picture: Picture) -> None:
        if picture.image is not None:
            self._store_preview(source, picture.image)
        else:
            self._on_preview_failed(source, picture.error)

    def _store_preview(self, source: str, image: QImage) -> None:
        if source not in self._inputs:
            return
        self._previews[source] = image
        if source == self._previewed:
            self.canvas.set_image(image)
            self._update_info()
            self.shown.emit(source)

    def _on_preview_failed(self, source: str, reason: str) -> None:
        self._preview_failed[source] = reason
        if source == self._previewed:
            self.canvas.set_placeholder(_("No preview for this file."))

    @Slot(str, QImage, int)
    def on_poster_grabbed(self, source: str, image: QImage, duration_ms: int) -> None:
        if duration_ms > 0:
            self._durations[source] = duration_ms / 1000.0
        self._frame_sizes[source] = image.size()
        if max(image.width(), image.height()) > PREVIEW_DECODE_MAX:
            image = image.scaled(PREVIEW_DECODE_MAX, PREVIEW_DECODE_MAX,
                                 Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self._store_preview(source, image)

    @Slot(str, str)
    def on_poster_failed(self, source: str, reason: str) -> None:
        self._on_preview_failed(source, reason)

    def _update_info(self) -> None:
        source = self._previewed
        if source is None:
            self.info_label.set_full_text("")
            self.info_label.setToolTip("")
            return
        from kling_desktop.engine.checks import ImageInfo, VideoInfo  # (as the infos)

        info = self._infos.get(source)
        parts: list[str] = []
        if isinstance(info, VideoInfo):
            parts.append(format_seconds(info.duration))
            parts.append(_("{width} × {height}").format(width=info.width, height=info.height))
            parts.append(info.container.upper())
            parts.append(format_bytes(info.size_bytes))
            if info.has_audio is False:
                parts.append(_("no sound"))
        elif isinstance(info, ImageInfo):
            parts.append(_("{width} × {height} px").format(width=info.width,
                                                          height=info.height))
            parts.append(info.format.upper())
            parts.append(format_bytes(info.size_bytes))
        elif source in self._durations:
            parts.append(format_seconds(self._durations[source]))
            size = self._frame_sizes.get(source)
            if size is not None:
                parts.append(_("{width} × {height}").format(width=size.width(),
                                                            height=size.height()))
        elif is_link(source):
            parts.append(_("Web link"))
        text = INFO_SEPARATOR.join(parts)
        self.info_label.set_full_text(text)
        self.info_label.setToolTip(text)

    # -- inline playback ------------------------------------------------------------------------

    @Slot(bool)
    def on_play_button_toggled(self, checked: bool) -> None:
        source = self._previewed
        if source is None or is_link(source):
            self.stop_playback()
            return
        if not checked:
            if self._player is not None:
                self._player.pause()
            self.play_button.setText(_("▶ Play"))
            return
        if self._player is None:
            from PySide6.QtMultimedia import QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget

            from kling_desktop.convert.qt_threads import qt_thread_safe
            self._player = qt_thread_safe(QMediaPlayer(self))
            self._player.setLoops(QMediaPlayer.Loops.Infinite)
            self._video_widget = qt_thread_safe(QVideoWidget(self.stack))
            self._video_widget.setAccessibleName(_("Motion video player"))
            self.stack.addWidget(self._video_widget)
            self._player.setVideoOutput(self._video_widget)
            self._player.errorOccurred.connect(self.on_player_errorOccurred)
        wanted = QUrl.fromLocalFile(source)
        if self._player.source() != wanted:
            self._player.setSource(wanted)
        self._apply_sound()
        assert self._video_widget is not None
        self.stack.setCurrentWidget(self._video_widget)
        self.play_button.setText(_("❚❚ Pause"))
        self._player.play()

    @Slot(bool)
    def on_sound_button_toggled(self, checked: bool) -> None:
        self._show_sound_state(checked)
        self._apply_sound()

    def _show_controls(self, shown: bool) -> None:
        """Play and the speaker, over a clip that plays here only: an empty slot or a web
        link shows neither (they could do nothing there)."""
        shown = shown and self.kind is MediaKind.VIDEO
        self.play_button.setVisible(shown)
        self.sound_button.setVisible(shown)
        if shown and self.sound_button.icon().isNull():
            self._show_sound_state(self.sound_button.isChecked())

    def _show_sound_state(self, on: bool) -> None:
        """The speaker's icon, tooltip and name. The icon is the style's, first asked for
        when the speaker shows: the style's Python wrapper (QStyle and QCommonStyle, built
        the first time Python touches one) costs ~9 ms the window's first paint goes without."""
        from PySide6.QtWidgets import QStyle

        pixmap = (QStyle.StandardPixmap.SP_MediaVolume if on
                  else QStyle.StandardPixmap.SP_MediaVolumeMuted)
        self.sound_button.setIcon(self.style().standardIcon(pixmap))
        tip = (_("Mute preview") if on
               else _("Preview sound is off: click to hear the clip while it plays here"))
        self.sound_button.setToolTip(
            tip + "\n" + _("(whether the result keeps the clip's sound is the option below)"))
        self.sound_button.setAccessibleName(_("Mute preview") if on else _("Unmute preview"))

    def _apply_sound(self) -> None:
        if self._player is None:
            return
        if self.sound_button.isChecked():
            # The audio output (and the audio device behind it) exists only once asked for.
            if self._audio is None:
                from PySide6.QtMultimedia import QAudioOutput

                from kling_desktop.convert.qt_threads import qt_thread_safe
                self._audio = qt_thread_safe(QAudioOutput(self))
                self._player.setAudioOutput(self._audio)
            self._audio.setMuted(False)
        elif self._audio is not None:
            self._audio.setMuted(True)

    def on_player_errorOccurred(self, error: QMediaPlayer.Error, text: str) -> None:
        from PySide6.QtMultimedia import QMediaPlayer
        if error != QMediaPlayer.Error.NoError:
            self.stop_playback()
            self.note.emit(_("This clip cannot be played here: {reason}").format(reason=text))
