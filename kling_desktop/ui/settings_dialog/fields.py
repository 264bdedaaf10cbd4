"""Small pieces every section of the settings dialog lays out the same way."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QLayout, QSizePolicy, QVBoxLayout, QWidget

from kling_desktop.ui.widgets import error_color, muted_color, ok_color, set_text_color

MessageKind = Literal["error", "ok", "info"]
_COLORS = {"error": error_color, "ok": ok_color, "info": muted_color}


def message_label(parent: QWidget) -> QLabel:
    """A hidden, selectable, wrapping line of plain text for a field's messages."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


class ReservedMessage(QLabel):
    """A message line whose room is kept when it is empty, so nothing below it moves.

    For results that appear after a click (Test key, Test connection): the buttons
    under it stay where the pointer is. It holds ``lines`` lines; a longer text is cut
    at a word with "…" and shown whole in the tooltip (and :meth:`full_text`).
    """

    def __init__(self, parent: QWidget, lines: int = 3, *, placeholder: str = "") -> None:
        super().__init__(parent)
        self._full = ""
        self._placeholder = placeholder
        self._lines = lines
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)
        self.set_full_text("")

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if text else "")
        self.setAccessibleDescription(text)
        if not text:        # the room says what the button above it does, quietly
            set_text_color(self, muted_color(self.palette()))
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fits(self, text: str) -> bool:
        width = max(1, self.contentsRect().width())
        bounds = self.fontMetrics().boundingRect(QRect(0, 0, width, 100_000),
                                                 int(Qt.TextFlag.TextWordWrap), text)
        return bounds.height() <= self.contentsRect().height()

    def _fit(self) -> None:
        text = self._full or self._placeholder
        if text and not self._fits(text):
            words = text.split(" ")
            while len(words) > 1 and not self._fits(" ".join(words) + " …"):
                words.pop()
            text = " ".join(words) + " …"
        if text != self.text():
            super().setText(text)


def show_message(label: QLabel, text: str, kind: MessageKind = "error") -> None:
    """Say ``text`` in the colour of its kind; an empty text hides the label (a
    :class:`ReservedMessage` stays, empty, keeping its room)."""
    set_text_color(label, _COLORS[kind](label.palette()))
    if isinstance(label, ReservedMessage):
        label.set_full_text(text)
        return
    label.setText(text)
    label.setVisible(bool(text))


def message_text(label: QLabel) -> str:
    """The whole message shown by ``label`` (a reserved one may show it shortened)."""
    return label.full_text() if isinstance(label, ReservedMessage) else label.text()


def buddy(text: str, field: QWidget, parent: QWidget) -> QLabel:
    """A field's label whose mnemonic (``&``) moves the focus to the field."""
    label = QLabel(text, parent)
    label.setBuddy(field)
    return label


def stacked(*items: QWidget | QLayout) -> QVBoxLayout:
    """A field and the messages under it; hidden messages take no room."""
    column = QVBoxLayout()
    column.setSpacing(4)
    for item in items:
        if isinstance(item, QWidget):
            column.addWidget(item)
        else:
            column.addLayout(item)
    return column
