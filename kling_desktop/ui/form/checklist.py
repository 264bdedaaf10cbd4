"""The pre-flight checklist: what the service cannot check, said before Generate.

Two faces of the same words: a box beside the slots (wide forms) and one wrapped
line under them (narrow forms); the form shows one of them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kling_desktop.ui.widgets import mute

CHECKLIST = (
    "One person in the picture and in the clip",
    "Head and upper body visible and unobstructed in both",
    "One continuous shot: no cuts",
    "The person fills a good part of the frame",
)
CHECKLIST_SIDE_WIDTH = 230
CHECKLIST_NOTE = "The service can't check these, and results suffer when they're off."
CHECKLIST_NAME = "Before you generate: checklist"


def checklist_box(parent: QWidget) -> QFrame:
    """The checklist as a box of its own, for beside the slots."""
    box = QFrame(parent)
    box.setObjectName("checklist")
    box.setFixedWidth(CHECKLIST_SIDE_WIDTH)
    box.setFrameShape(QFrame.Shape.StyledPanel)
    box.setAccessibleName(CHECKLIST_NAME)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(12, 10, 12, 10)
    layout.setSpacing(8)
    title = QLabel("Before you generate", box)
    font = title.font()
    font.setBold(True)
    title.setFont(font)
    layout.addWidget(title)
    note = QLabel(CHECKLIST_NOTE, box)
    note.setWordWrap(True)
    mute(note)
    layout.addWidget(note)
    for item in CHECKLIST:
        label = QLabel(f"•  {item}", box)
        label.setWordWrap(True)
        layout.addWidget(label)
    return box


def checklist_strip(parent: QWidget) -> QLabel:
    """The checklist as one wrapped line, for under the slots."""
    strip = QLabel(parent)
    strip.setObjectName("checklistStrip")
    strip.setWordWrap(True)
    strip.setTextFormat(Qt.TextFormat.RichText)
    # Items break between each other, never inside (non-breaking spaces within).
    items = "&nbsp;&nbsp; ".join(
        "•&nbsp;" + item.replace(" ", "&nbsp;") for item in CHECKLIST)
    strip.setText(f"<b>Before you generate:</b>&nbsp;&nbsp; {items}")
    strip.setToolTip(CHECKLIST_NOTE)
    strip.setAccessibleName(CHECKLIST_NAME)
    strip.setAccessibleDescription(" ".join(CHECKLIST))
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)   # as many lines as its width needs, no more
    strip.setSizePolicy(policy)
    return strip
