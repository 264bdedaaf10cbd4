"""The window's side of a conversion: what the slot shows while it runs and after.

:class:`ConversionBar` is the progress bar and Cancel in the slot;
:class:`FixableProblemList` is the slot's problem list with the offers of :mod:`.offers`
beside each refusal's own fix. The worker's side (the request, the call, its result) is
:mod:`.fix_runs`, loaded when the first fix starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

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

from kling_desktop.i18n import _
from kling_desktop.sources import canonical
from kling_desktop.ui.form.offers import FixOffer
from kling_desktop.ui.problems import ProblemList
from kling_desktop.ui.widgets import mute

if TYPE_CHECKING:   # (loads with the job store, or the first fix)
    from kling_desktop.engine.origins import Origin

__all__ = ["ConversionBar", "FixableProblemList", "by_canonical_source"]


class MediaSlotLike(Protocol):
    def inputs(self) -> list[str]: ...
    def origin(self, source: str) -> Origin | None: ...


def by_canonical_source(slots: Iterable[MediaSlotLike]) -> dict[str, Origin]:
    """The origins of the slots' converted inputs, by the canonical form the checks and
    the jobs name those inputs by."""
    found: dict[str, Origin] = {}
    for slot in slots:
        for source in slot.inputs():
            origin = slot.origin(source)
            if origin is None:
                continue
            try:
                found[canonical(source)] = origin
            except (OSError, RuntimeError, ValueError):   # not a file: nothing to send
                continue
    return found


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
