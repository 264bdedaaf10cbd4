"""The reference motion clip and the result side by side, driven by one set of controls.

Both players start together from the same position; one play/pause, one scrub
bar and one loop switch move both. The result is the clock: while playing, the
reference is nudged back whenever it drifts more than :data:`MAX_DRIFT_MS`
from it. Only the result's sound is heard (the clip's is muted).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from kling_desktop.i18n import N_, _
from kling_desktop.ui.gallery.playback import BarTexts, PlaybackBar
from kling_desktop.ui.gallery.player import VideoPlayer

MAX_DRIFT_MS = 80

COMPARE_TEXTS = BarTexts(
    play_name="comparePlayButton", play_tip=N_("Play both (Space)"),
    pause_tip=N_("Pause both (Space)"),
    slider_name="compareSlider", slider_accessible=N_("Position of both"),
    loop_name="compareLoopButton", loop_tip=N_("Loop both"),
    mute_name="compareMuteButton", mute_tip=N_("Mute the result"),
)


class CompareView(QWidget):
    """Motion clip (left) and result (right). ``back_requested`` when the user leaves."""

    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.reference = VideoPlayer(self, controls=False, muted=True)
        self.reference.setObjectName("referencePlayer")
        self.result = VideoPlayer(self, controls=False)
        self.result.setObjectName("resultPlayer")
        for player in (self.reference, self.result):
            player.player.setLoops(QMediaPlayer.Loops.Once)   # looping is done here, for both
        self._loop = True
        self._drift = QTimer(self)
        self._drift.setInterval(250)
        self._drift.timeout.connect(self.on_drift_timeout)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        header = QHBoxLayout()
        self.back_button = QPushButton(_("← Back to the gallery"), self)
        self.back_button.setObjectName("compareBackButton")
        self.back_button.clicked.connect(self.on_back_button_clicked)
        self.title = QLabel(self)
        self.title.setObjectName("compareTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header.addWidget(self.back_button)
        header.addWidget(self.title, 1)
        layout.addLayout(header)

        panes = QHBoxLayout()
        for caption, player in ((_("Motion clip (reference)"), self.reference),
                                (_("Result"), self.result)):
            column = QVBoxLayout()
            label = QLabel(caption, self)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            font = label.font()
            font.setBold(True)
            label.setFont(font)
            column.addWidget(label)
            column.addWidget(player, 1)
            panes.addLayout(column, 1)
        layout.addLayout(panes, 1)
        self.note = QLabel(self)
        self.note.setObjectName("compareNote")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)

        self.bar = PlaybackBar(COMPARE_TEXTS, self, auto_raise=False)
        self.play_button = self.bar.play_button
        self.play_button.clicked.connect(self.toggle_play)
        self.restart_button = self.bar.add_button(
            "compareRestartButton", QStyle.StandardPixmap.SP_MediaSkipBackward,
            _("Both from the start"))
        self.restart_button.clicked.connect(self.restart)
        self.slider = self.bar.slider
        self.bar.seek_requested.connect(self.seek)
        self.time_label = self.bar.time_label
        self.loop_button = self.bar.loop_button
        self.loop_button.toggled.connect(self.on_loop_button_toggled)
        self.mute_button = self.bar.mute_button
        self.mute_button.toggled.connect(self.result.set_muted)
        layout.addWidget(self.bar)

        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.toggle_play)
        leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        leave.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        leave.activated.connect(self.on_back_button_clicked)

        self.result.player.positionChanged.connect(self.on_result_positionChanged)
        for player in (self.reference, self.result):
            player.player.durationChanged.connect(self.on_any_durationChanged)
            player.player.mediaStatusChanged.connect(self.on_any_mediaStatusChanged)
        self.result.player.playbackStateChanged.connect(self.on_result_playbackStateChanged)

    # -- content ----------------------------------------------------------------------------

    def set_clips(self, reference: Path | None, result: Path, title: str = "") -> None:
        self.stop()
        self.title.setText(title)
        self.reference.set_source(reference)
        self.result.set_source(result)
        if reference is None:
            self.note.setText(_("No copy of the motion clip was kept for this result (it "
                                "was given as a link, or keeping inputs was off), so only "
                                "the result is shown."))
            self.note.show()
        else:
            self.note.hide()
        self.slider.setValue(0)

    def players(self) -> tuple[VideoPlayer, VideoPlayer]:
        return self.reference, self.result

    # -- control ----------------------------------------------------------------------------

    def is_playing(self) -> bool:
        return self.result.is_playing()

    def play(self) -> None:
        """Both from the slider's position, together."""
        position = self.slider.value()
        for player in self.players():
            if player.source() is not None:
                player.pause()
                player.set_position(self._clamp(player, position))
        for player in self.players():
            if player.source() is not None and self._clamp(player, position) == position:
                player.play()
        self._drift.start()

    def pause(self) -> None:
        self._drift.stop()
        for player in self.players():
            player.pause()
        position = self.result.position()
        if self.reference.source() is not None:
            self.reference.set_position(self._clamp(self.reference, position))

    def stop(self) -> None:
        self._drift.stop()
        for player in self.players():
            player.stop()

    @Slot()
    def toggle_play(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    @Slot()
    def restart(self) -> None:
        self.seek(0)
        self.play()

    @Slot(int)
    def seek(self, position: int) -> None:
        self.bar.set_position_silently(position)
        for player in self.players():
            if player.source() is not None:
                player.set_position(self._clamp(player, position))
        self._update_time(position)

    def shutdown(self) -> None:
        self._drift.stop()
        for player in self.players():
            player.shutdown()

    @staticmethod
    def _clamp(player: VideoPlayer, position: int) -> int:
        duration = player.duration()
        return min(position, duration - 1) if duration > 0 else position

    def _length(self) -> int:
        return max(self.reference.duration(), self.result.duration(), 0)

    def _update_time(self, position: int) -> None:
        self.bar.show_time(position, self._length())

    # -- signals ----------------------------------------------------------------------------

    @Slot()
    def on_back_button_clicked(self) -> None:
        self.stop()
        self.back_requested.emit()

    @Slot(bool)
    def on_loop_button_toggled(self, checked: bool) -> None:
        self._loop = checked

    @Slot("qint64")
    def on_any_durationChanged(self, _duration: int) -> None:
        self.bar.set_length(self._length())
        self._update_time(self.slider.value())

    @Slot(QMediaPlayer.MediaStatus)
    def on_any_mediaStatusChanged(self, status: QMediaPlayer.MediaStatus) -> None:
        if status != QMediaPlayer.MediaStatus.EndOfMedia:
            return
        # the longer clip decides when the round ends; then both start again together
        if any(p.is_playing() for p in self.players()):
            return
        if self._loop:
            self.seek(0)
            self.play()
        else:
            self._drift.stop()

    @Slot(QMediaPlayer.PlaybackState)
    def on_result_playbackStateChanged(self, state: QMediaPlayer.PlaybackState) -> None:
        self.bar.show_playing(state == QMediaPlayer.PlaybackState.PlayingState)

    @Slot("qint64")
    def on_result_positionChanged(self, position: int) -> None:
        self.bar.show_position(int(position), self._length())

    @Slot()
    def on_drift_timeout(self) -> None:
        if not (self.result.is_playing() and self.reference.is_playing()):
            return
        if abs(self.result.position() - self.reference.position()) > MAX_DRIFT_MS:
            self.reference.set_position(self.result.position())
