"""The gallery's one playback bar: play/pause, scrub slider, time, loop and mute.

:class:`PlaybackBar` is shared by the detail player (:mod:`.player`, which adds
frame steps and full screen) and the side-by-side compare view (:mod:`.compare`,
which adds "both from the start"). The bar shows and asks; it never touches a
``QMediaPlayer``: its owner connects ``play_button``, ``loop_button`` and
``mute_button`` and ``seek_requested``, and calls :meth:`show_playing`,
:meth:`show_position`, :meth:`set_length` and :meth:`show_time` as playback moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from kling_desktop.i18n import _

ZERO_TIME = "0:00.0 / 0:00.0"


def format_clock(ms: int) -> str:
    """``m:ss.d`` for a position in milliseconds."""
    ms = max(0, int(ms))
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}.{millis // 100}"


@dataclass(frozen=True)
class BarTexts:
    """What one bar's controls are called (object names: tests and style sheets find
    them by these) and what they say (tooltips, marked with ``N_()`` and translated by the
    bar; a button's accessible name is its tooltip without the key in brackets)."""

    play_name: str
    play_tip: str                 # e.g. "Play (Space)"
    pause_tip: str                # shown while playing
    slider_name: str
    slider_accessible: str
    loop_name: str
    loop_tip: str
    mute_name: str
    mute_tip: str
    time_name: str | None = None


class PlaybackBar(QWidget):
    """One row of playback controls. ``seek_requested(ms)``: the slider was moved by
    the user (dragged, clicked, keys) or let go; while it is held, :meth:`show_position`
    leaves it where the hand is."""

    seek_requested = Signal(int)

    def __init__(self, texts: BarTexts, parent: QWidget | None = None, *,
                 muted: bool = False, auto_raise: bool = True) -> None:
        super().__init__(parent)
        self._texts = texts
        self._auto_raise = auto_raise
        self._scrubbing = False
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(2)
        sp = QStyle.StandardPixmap
        self.play_button = self.tool(texts.play_name, sp.SP_MediaPlay, _(texts.play_tip))
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName(texts.slider_name)
        self.slider.setAccessibleName(_(texts.slider_accessible))
        self.slider.setRange(0, 0)
        self.slider.sliderPressed.connect(self.on_slider_sliderPressed)
        self.slider.sliderReleased.connect(self.on_slider_sliderReleased)
        self.slider.valueChanged.connect(self.on_slider_valueChanged)
        self.time_label = QLabel(ZERO_TIME, self)
        if texts.time_name:
            self.time_label.setObjectName(texts.time_name)
        self.loop_button = self.tool(texts.loop_name, sp.SP_BrowserReload, _(texts.loop_tip),
                                     checkable=True)
        self.loop_button.setChecked(True)
        self.mute_button = self.tool(texts.mute_name, sp.SP_MediaVolume, _(texts.mute_tip),
                                     checkable=True)
        self.mute_button.toggled.connect(self._show_mute_icon)
        self.mute_button.setChecked(muted)
        self._show_mute_icon(muted)
        self._leading = 1     # buttons added after play, before the slider
        for widget in (self.play_button, self.slider, self.time_label, self.loop_button,
                       self.mute_button):
            self._row.addWidget(widget, 1 if widget is self.slider else 0)

    def tool(self, name: str, icon: QStyle.StandardPixmap, tip: str, *,
             checkable: bool = False) -> QToolButton:
        """A button in this bar's style (not yet placed: see :meth:`add_button`); ``tip``
        in the user's language."""
        button = QToolButton(self)
        button.setObjectName(name)
        button.setIcon(self.style().standardIcon(icon))
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0].split("（")[0].strip())
        button.setCheckable(checkable)
        button.setAutoRaise(self._auto_raise)
        return button

    def add_button(self, name: str, icon: QStyle.StandardPixmap, tip: str, *,
                   checkable: bool = False, trailing: bool = False) -> QToolButton:
        """An owner's own button: after play/pause (in order added), or at the end."""
        button = self.tool(name, icon, tip, checkable=checkable)
        if trailing:
            self._row.addWidget(button)
        else:
            self._row.insertWidget(self._leading, button)
            self._leading += 1
        return button

    # -- showing ----------------------------------------------------------------------------

    def show_playing(self, playing: bool) -> None:
        sp = QStyle.StandardPixmap
        self.play_button.setIcon(self.style().standardIcon(
            sp.SP_MediaPause if playing else sp.SP_MediaPlay))
        self.play_button.setToolTip(_(self._texts.pause_tip if playing
                                      else self._texts.play_tip))

    def show_position(self, position: int, length: int) -> None:
        """Playback moved: the slider follows (unless held) and so does the time."""
        if not self._scrubbing:
            self.set_position_silently(position)
        self.show_time(position, length)

    def show_time(self, position: int, length: int) -> None:
        self.time_label.setText(f"{format_clock(position)} / {format_clock(length)}")

    def set_length(self, length: int, *, frame_ms: float | None = None) -> None:
        """The slider's range; with ``frame_ms`` arrow keys step one frame, page keys 1 s."""
        self.slider.setRange(0, max(0, int(length)))
        if frame_ms is not None:
            self.slider.setSingleStep(max(1, round(frame_ms)))
            self.slider.setPageStep(1000)

    def set_position_silently(self, position: int) -> None:
        """Move the slider without asking for a seek."""
        self.slider.blockSignals(True)
        self.slider.setValue(int(position))
        self.slider.blockSignals(False)

    @Slot(bool)
    def _show_mute_icon(self, muted: bool) -> None:
        sp = QStyle.StandardPixmap
        self.mute_button.setIcon(self.style().standardIcon(
            sp.SP_MediaVolumeMuted if muted else sp.SP_MediaVolume))

    # -- the slider -------------------------------------------------------------------------

    @Slot()
    def on_slider_sliderPressed(self) -> None:
        self._scrubbing = True

    @Slot()
    def on_slider_sliderReleased(self) -> None:
        self._scrubbing = False
        self.seek_requested.emit(self.slider.value())

    @Slot(int)
    def on_slider_valueChanged(self, value: int) -> None:
        # dragging or clicking or keys: follow at once so the picture moves with the hand
        self.seek_requested.emit(value)
