"""A small video player for reviewing one result: play/pause, scrub, loop, mute, frame steps.

:class:`VideoPlayer` is a ``QMediaPlayer`` + ``QAudioOutput`` + ``QVideoWidget``
with the gallery's :class:`~.playback.PlaybackBar` plus frame steps and full
screen (``controls=False`` gives the bare picture, which the
side-by-side compare view drives itself). Keys while it has focus: Space
play/pause, ``,``/``.`` one frame back/forward, M mute, L loop, F full screen
(Esc leaves it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QPixmap, QResizeEvent, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QStyle, QVBoxLayout, QWidget

from kling_desktop.convert.qt_threads import qt_thread_safe
from kling_desktop.i18n import N_, _
from kling_desktop.ui.gallery.playback import BarTexts, PlaybackBar

DEFAULT_FPS = 24.0

PLAYER_TEXTS = BarTexts(
    play_name="playButton", play_tip=N_("Play (Space)"), pause_tip=N_("Pause (Space)"),
    slider_name="positionSlider", slider_accessible=N_("Position"),
    loop_name="loopButton", loop_tip=N_("Loop (L)"),
    mute_name="muteButton", mute_tip=N_("Mute (M)"),
    time_name="timeLabel",
)


class VideoPlayer(QWidget):
    """One clip with its own controls. ``position_changed(ms)`` follows playback."""

    position_changed = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, controls: bool = True,
                 muted: bool = False) -> None:
        super().__init__(parent)
        self.player = qt_thread_safe(QMediaPlayer(self))
        self.audio = qt_thread_safe(QAudioOutput(self))
        self.audio.setMuted(muted)
        self.player.setAudioOutput(self.audio)
        self.screen_stack = QStackedWidget(self)
        self.screen_stack.setMinimumHeight(160)
        self.screen_stack.setSizePolicy(QSizePolicy.Policy.Expanding,
                                        QSizePolicy.Policy.Expanding)
        self.poster = QLabel(self.screen_stack)
        self.poster.setObjectName("posterFrame")
        self.poster.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.poster.setStyleSheet("background: #111214; color: #9aa0a6;")
        self.poster.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._poster: QPixmap | None = None
        self.video = qt_thread_safe(QVideoWidget(self.screen_stack))
        self.video.setObjectName("videoSurface")
        self.video.setStyleSheet("background: #111214;")
        self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.screen_stack.addWidget(self.poster)
        self.screen_stack.addWidget(self.video)
        self.video.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.video.installEventFilter(self)
        self.player.setVideoOutput(self.video)
        self._source: Path | None = None
        self._loop = True
        self.player.setLoops(QMediaPlayer.Loops.Infinite)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.screen_stack, 1)
        self.bar = PlaybackBar(PLAYER_TEXTS, self, muted=muted)
        self.bar.setVisible(controls)
        layout.addWidget(self.bar)
        self._build_bar()

        self.player.positionChanged.connect(self.on_player_positionChanged)
        self.player.durationChanged.connect(self.on_player_durationChanged)
        self.player.playbackStateChanged.connect(self.on_player_playbackStateChanged)
        self.player.errorOccurred.connect(self.on_player_errorOccurred)
        if controls:
            for keys, slot in ((Qt.Key.Key_Space, self.toggle_play),
                               (Qt.Key.Key_Comma, lambda: self.step(-1)),
                               (Qt.Key.Key_Period, lambda: self.step(1)),
                               (Qt.Key.Key_M, self.mute_button.toggle),
                               (Qt.Key.Key_L, self.loop_button.toggle),
                               (Qt.Key.Key_F, self.toggle_full_screen)):
                shortcut = QShortcut(QKeySequence(keys), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)

    def _build_bar(self) -> None:
        bar, sp = self.bar, QStyle.StandardPixmap
        self.play_button = bar.play_button
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button = bar.add_button("frameBackButton", sp.SP_MediaSeekBackward,
                                          _("One frame back (,)"))
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button = bar.add_button("frameForwardButton", sp.SP_MediaSeekForward,
                                             _("One frame forward (.)"))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.slider = bar.slider
        bar.seek_requested.connect(self.on_bar_seek_requested)
        self.time_label = bar.time_label
        self.loop_button = bar.loop_button
        self.loop_button.toggled.connect(self.set_loop)
        self.mute_button = bar.mute_button
        self.mute_button.toggled.connect(self.set_muted)
        self.full_button = bar.add_button("fullScreenButton", sp.SP_TitleBarMaxButton,
                                          _("Full screen (F; Esc to leave)"), checkable=True,
                                          trailing=True)
        self.full_button.toggled.connect(self.set_full_screen)

    # -- source -----------------------------------------------------------------------------

    def source(self) -> Path | None:
        return self._source

    def set_source(self, path: Path | None) -> None:
        """Show ``path`` (paused at the start), or nothing."""
        if path == self._source:
            return
        self._source = path
        self._poster = None
        self.poster.clear()
        self.screen_stack.setCurrentWidget(self.poster)
        self.player.stop()
        self.player.setSource(QUrl.fromLocalFile(str(path)) if path is not None else QUrl())
        self.slider.setValue(0)
        self._update_time(0)

    def set_poster(self, pixmap: QPixmap | None) -> None:
        """A still shown until playback (or a frame step) starts."""
        self._poster = pixmap
        self._scale_poster()

    def _scale_poster(self) -> None:
        if self._poster is None or self._poster.isNull():
            self.poster.clear()
            return
        ratio = self.devicePixelRatioF() or 1.0
        size = self.poster.size() * ratio
        scaled = self._poster.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self.poster.setPixmap(scaled)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._scale_poster()

    def _show_video(self) -> None:
        if self.screen_stack.currentWidget() is not self.video:
            self.screen_stack.setCurrentWidget(self.video)

    # -- control ----------------------------------------------------------------------------

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def play(self) -> None:
        if self._source is not None:
            self._show_video()
            self.player.play()

    def pause(self) -> None:
        self.player.pause()

    def stop(self) -> None:
        self.player.stop()

    @Slot()
    def toggle_play(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def position(self) -> int:
        return int(self.player.position())

    def duration(self) -> int:
        return int(self.player.duration())

    def set_position(self, ms: int) -> None:
        if ms > 0 and self._source is not None:
            self._show_video()
        self.player.setPosition(max(0, int(ms)))

    def frame_ms(self) -> float:
        rate = self.player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
        try:
            fps = float(rate) if rate else DEFAULT_FPS
        except (TypeError, ValueError):
            fps = DEFAULT_FPS
        return 1000.0 / (fps if fps > 0 else DEFAULT_FPS)

    def step(self, frames: int) -> None:
        """Pause and move ``frames`` frames (negative: back)."""
        if self._source is None:
            return
        self.pause()
        self._show_video()
        target = self.position() + round(frames * self.frame_ms())
        duration = self.duration()
        if duration > 0:
            target = min(target, duration - 1)
        self.set_position(max(0, target))

    @Slot(bool)
    def set_loop(self, loop: bool) -> None:
        self._loop = loop
        self.player.setLoops(QMediaPlayer.Loops.Infinite if loop else QMediaPlayer.Loops.Once)
        if self.loop_button.isChecked() != loop:
            self.loop_button.setChecked(loop)

    def loop(self) -> bool:
        return self._loop

    @Slot(bool)
    def set_muted(self, muted: bool) -> None:
        self.audio.setMuted(muted)
        if self.mute_button.isChecked() != muted:
            self.mute_button.setChecked(muted)   # the bar shows the matching icon

    @Slot()
    def toggle_full_screen(self) -> None:
        self.set_full_screen(not self.video.isFullScreen())

    @Slot(bool)
    def set_full_screen(self, on: bool) -> None:
        if self.video.isFullScreen() != on:
            self.video.setFullScreen(on)
        if self.full_button.isChecked() != on:
            self.full_button.setChecked(on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.video and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and self.video.isFullScreen()):
            if event.key() == Qt.Key.Key_Escape:
                self.set_full_screen(False)
                return True
            if event.key() == Qt.Key.Key_Space:
                self.toggle_play()
                return True
        if (watched is self.video and event.type() == QEvent.Type.MouseButtonDblClick):
            self.toggle_full_screen()
            return True
        return super().eventFilter(watched, event)

    def shutdown(self) -> None:
        """Let go of the clip and the back end's playback threads; safe to call twice.

        Only what is needed is asked of the back end: no stop() on a player that is
        already stopped (the compare view stops both before it is shut down) and no
        source cleared that is not set (a reference clip that was never kept).
        """
        self.set_full_screen(False)
        if self.player.playbackState() != QMediaPlayer.PlaybackState.StoppedState:
            self.player.stop()
        if not self.player.source().isEmpty():
            self.player.setSource(QUrl())
        self._source = None

    # -- player signals ---------------------------------------------------------------------

    @Slot("qint64")
    def on_player_positionChanged(self, position: int) -> None:
        self.bar.show_position(int(position), self.duration())
        self.position_changed.emit(int(position))

    @Slot("qint64")
    def on_player_durationChanged(self, duration: int) -> None:
        self.bar.set_length(int(duration), frame_ms=self.frame_ms())
        self._update_time(self.position())

    @Slot(QMediaPlayer.PlaybackState)
    def on_player_playbackStateChanged(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.bar.show_playing(playing)
        self.playing_changed.emit(playing)

    @Slot(QMediaPlayer.Error, str)
    def on_player_errorOccurred(self, error: QMediaPlayer.Error, text: str) -> None:
        if error != QMediaPlayer.Error.NoError:
            self.time_label.setText(_("This video cannot be played here"))
            self.time_label.setToolTip(text)

    def _update_time(self, position: int) -> None:
        self.bar.show_time(position, self.duration())

    @Slot(int)
    def on_bar_seek_requested(self, position: int) -> None:
        self.set_position(position)
        self._update_time(position)
