"""The window's side of a conversion: the worker call, its note, and what the slot shows.

:func:`run_conversion` runs on the TaskRunner (never touches a widget) and calls the one
conversion step (:func:`kling_desktop.convert.convert`, imported when first used: Qt
Multimedia loads after the first paint). :class:`ConversionBar` is the progress bar and
Cancel in the slot; :class:`FixableProblemList` is the slot's problem list with the
offers of :mod:`.offers` beside each refusal's own fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import Orientation
from kling_desktop.engine.fixes import (
    ConversionError,
    ConversionPlan,
    Converted,
    Crop,
    FitLength,
    FitSize,
    Pad,
    Transcode,
    Trim,
    plan_picture,
    plan_video,
)
from kling_desktop.engine.media import MediaError, probe_image, probe_video, sniff
from kling_desktop.i18n import _, format_number
from kling_desktop.ui.form.offers import FixOffer
from kling_desktop.ui.widgets import ProblemList, mute

__all__ = ["ConversionBar", "Finished", "FixRequest", "FixableProblemList", "Origin", "plan_fix",
           "run_conversion", "run_fix"]

_KIND_NAMES = {"webm": "WebM", "mkv": "MKV", "avi": "AVI", "gif": "GIF", "3gp": "3GP",
               "mov": "MOV", "mp4": "MP4", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF",
               "heic": "HEIC", "png": "PNG", "jpeg": "JPEG"}


@dataclass(frozen=True)
class Origin:
    """Where a converted input came from: the user's file, the note shown under its name,
    and the in and out points when it was trimmed (the editor reopens on them)."""

    source: str
    note: str
    trim: tuple[float, float] | None = None


@dataclass(frozen=True)
class Finished:
    """A conversion's result and the short note the slot shows under the original's name."""

    converted: Converted
    note: str


@dataclass(frozen=True)
class FixRequest:
    """What the user asked for: the safe fixes of ``source`` (with ``trim`` or ``shape``
    when chosen in the trim editor or the pad/crop dialogs)."""

    field: Literal["image", "video"]
    source: Path
    orientation: Orientation = Orientation.IMAGE
    keep_audio: bool = True
    trim: Trim | None = None
    shape: Pad | Crop | None = None


def plan_fix(request: FixRequest) -> ConversionPlan:
    """The engine's plan for ``request`` (reads headers). Raises ConversionError when
    there is nothing to do."""
    if request.field == "video":
        plan = plan_video(request.source, orientation=request.orientation,
                          keep_audio=request.keep_audio, trim=request.trim)
    else:
        plan = plan_picture(request.source, shape=request.shape)
    if plan is None:
        raise ConversionError(
            _("{name} needs no conversion.").format(name=request.source.name),
            fix=_("It can be sent as it is."))
    return plan


def run_fix(request: FixRequest, output_dir: Path, *,
            progress: Callable[[int, int], None] | None = None,
            cancel: threading.Event | None = None) -> Finished:
    """On a worker: plan ``request`` with the engine, then carry it out."""
    return run_conversion(plan_fix(request), output_dir, progress=progress, cancel=cancel)


def run_conversion(plan: ConversionPlan, output_dir: Path, *,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: threading.Event | None = None) -> Finished:
    """On a worker: carry out ``plan`` into ``output_dir``. Raises ConversionError (nothing
    written) or ConversionCancelled (nothing left)."""
    from kling_desktop.convert import convert

    try:
        kind = sniff(plan.source)
    except MediaError:
        kind = None
    facts = _facts(plan)
    converted = convert(plan, output_dir=output_dir, progress=progress, cancel=cancel)
    return Finished(converted, conversion_note(plan, converted, kind, facts))


def _facts(plan: ConversionPlan) -> tuple[int, int, float] | None:
    """The source's longest side, bytes and length (0: a picture), when its header says."""
    try:
        if plan.field == "video":
            clip = probe_video(plan.source)
            return max(clip.width, clip.height), clip.size_bytes, clip.duration
        picture = probe_image(plan.source)
        return max(picture.width, picture.height), picture.size_bytes, 0.0
    except MediaError:
        return None


def conversion_note(plan: ConversionPlan, converted: Converted, kind: str | None,
                    facts: tuple[int, int, float] | None = None) -> str:
    """"trimmed 2.0–9.5 s", "converted from WebM", "padded" … joined."""
    notes: list[str] = []
    fit = plan.find(FitLength)
    cut = isinstance(plan.find(Trim), Trim) or (
        converted.duration is not None and (
            converted.duration < facts[2] - 0.1 if facts is not None
            # (another container: its length was read while converting)
            else isinstance(fit, FitLength) and converted.duration >= fit.seconds - 0.1))
    if converted.trim is not None and cut:
        start, end = converted.trim
        notes.append(_("trimmed {start}–{end} s").format(
            start=format_number(start, 1), end=format_number(end, 1)))
    target = "jpeg" if converted.format_label.upper().startswith("JPEG") else (
        "png" if converted.field == "image" else "mp4")
    if kind is not None and kind != target and kind in _KIND_NAMES and (
            converted.field == "image" or isinstance(plan.find(Transcode), Transcode)) and (
            kind not in ("mp4", "mov") or converted.field == "image"):
        notes.append(_("converted from {format}").format(format=_KIND_NAMES[kind]))
    if facts is not None and max(converted.width, converted.height) < facts[0]:
        notes.append(_("scaled down"))
    elif facts is not None and isinstance(plan.find(FitSize), FitSize) and \
            converted.size_bytes < facts[1]:
        notes.append(_("made smaller"))
    if isinstance(plan.find(Crop), Crop):
        notes.append(_("cropped"))
    elif isinstance(plan.find(Pad), Pad) and converted.field == "image":
        notes.append(_("padded"))
    # TRANSLATORS: joins the notes of one conversion ("trimmed 2.0–9.5 s, scaled down").
    return _(", ").join(notes) or _("converted")


class ConversionBar(QWidget):
    """"Converting motion.webm…", a progress bar and Cancel (hidden while idle)."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversionBar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        # A plain label: an elided one measured while hidden came out empty.
        self.label = QLabel(self)
        self.label.setObjectName("conversionText")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)           # busy until the first report
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName(_("Conversion progress"))
        self.cancel_button = QPushButton(_("Cancel"), self)
        self.cancel_button.setObjectName("cancelConversion")
        self.cancel_button.setToolTip(_("Stop the conversion; the original stays as it is"))
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.setVisible(False)

    def start(self, name: str) -> None:
        text = _("Converting {name}…").format(name=name)
        self.label.setText(text)
        self.label.setToolTip(text)
        self.bar.setRange(0, 0)
        self.setVisible(True)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(max(0, min(1000, 1000 * done // total)))

    def stop(self) -> None:
        self.setVisible(False)

    @Slot()
    def on_cancel_button_clicked(self) -> None:
        self.cancel_requested.emit()


class FixableProblemList(ProblemList):
    """A slot's problems; beside a refusal's own fix, the conversions that fix it
    ("Trim to 10 s…", "Convert to MP4", "Pad…") and what each makes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._offers: tuple[FixOffer, ...] = ()

    def offers(self) -> tuple[FixOffer, ...]:
        return self._offers

    def set_offers(self, offers: Sequence[FixOffer]) -> None:
        offers = tuple(offers)
        if offers == self._offers:
            return
        self._offers = offers
        problems, self._problems = self._problems, ()
        self.set_problems(problems)

    def fix_buttons(self) -> list[QPushButton]:
        return [button for button in super().fix_buttons() if not button.isHidden()]

    def offer_buttons(self) -> list[QPushButton]:
        return [button for button in self.findChildren(QPushButton, "offerButton")
                if not button.isHidden()]       # (rows being replaced are hidden first)

    def offer_button(self, label: str) -> QPushButton | None:
        return next((b for b in self.offer_buttons() if b.text() == label), None)

    def _row(self, problem: object) -> QWidget:
        row = super()._row(problem)  # type: ignore[arg-type]
        message = getattr(problem, "message", None)
        mine = [offer for offer in self._offers if offer.message == message]
        if not mine:
            return row
        layout = row.layout()
        assert isinstance(layout, QVBoxLayout)
        line = _button_line(layout)
        if line is None:
            line = QHBoxLayout()
            line.setContentsMargins(0, 0, 0, 0)
            line.addStretch(1)
            layout.addLayout(line)
        for offer in mine:
            button = QPushButton(offer.label, row)
            button.setObjectName("offerButton")
            button.setToolTip(offer.outcome)
            button.setAccessibleName(offer.label)
            button.setAccessibleDescription(offer.outcome)
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            button.clicked.connect(
                lambda _checked=False, a=offer.action: self.on_fix_button_clicked(a))
            line.insertWidget(line.count() - 1, button)
        outcomes = list(dict.fromkeys(offer.outcome for offer in mine))
        outcome = QLabel("\n".join(outcomes), row)
        outcome.setObjectName("offerOutcome")
        outcome.setWordWrap(True)
        outcome.setTextFormat(Qt.TextFormat.PlainText)
        mute(outcome)
        layout.addWidget(outcome)
        return row


def _button_line(layout: QVBoxLayout) -> QHBoxLayout | None:
    for index in range(layout.count() - 1, -1, -1):
        item = layout.itemAt(index)
        inner: QLayout | None = item.layout() if item is not None else None
        if isinstance(inner, QHBoxLayout):
            return inner
    return None
