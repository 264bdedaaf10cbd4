"""Small pieces every section of the settings dialog lays out the same way."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

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


def show_message(label: QLabel, text: str, kind: MessageKind = "error") -> None:
    """Say ``text`` in the colour of its kind; an empty text hides the label."""
    set_text_color(label, _COLORS[kind](label.palette()))
    label.setText(text)
    label.setVisible(bool(text))


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
