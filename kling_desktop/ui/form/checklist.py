"""The pre-flight checklist: what the service cannot check, said before Generate.

Two faces of the same words: a box beside the slots (wide forms) and one wrapped
line under them (narrow forms); the form shows one of them.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kling_desktop.i18n import N_, _
from kling_desktop.ui.widgets import mute

CHECKLIST = (
    N_("One person in the picture and in the clip"),
    N_("Head and upper body visible and unobstructed in both"),
    N_("One continuous shot: no cuts"),
    N_("The person fills a good part of the frame"),
)
CHECKLIST_SIDE_WIDTH = 230
CHECKLIST_NOTE = N_("The service can't check these, and results suffer when they're off.")
CHECKLIST_NAME = N_("Before you generate: checklist")


def checklist_box(parent: QWidget) -> QFrame:
    """The checklist as a box of its own, for beside the slots."""
    box = QFrame(parent)
    box.setObjectName("checklist")
    box.setFixedWidth(CHECKLIST_SIDE_WIDTH)
    box.setFrameShape(QFrame.Shape.StyledPanel)
    box.setAccessibleName(_(CHECKLIST_NAME))
    layout = QVBoxLayout(box)
    layout.setContentsMargins(12, 10, 12, 10)
    layout.setSpacing(8)
    title = QLabel(_("Before you generate"), box)
    font = title.font()
    font.setBold(True)
    title.setFont(font)
    layout.addWidget(title)
    note = QLabel(_(CHECKLIST_NOTE), box)
    note.setWordWrap(True)
    mute(note)
    layout.addWidget(note)
    for item in CHECKLIST:
        label = QLabel("•  " + _(item), box)
        label.setWordWrap(True)
        layout.addWidget(label)
    return box


def checklist_strip(parent: QWidget) -> QLabel:
    """The checklist as one wrapped line, for under the slots."""
    strip = QLabel(parent)
    strip.setObjectName("checklistStrip")
    strip.setWordWrap(True)
    strip.setTextFormat(Qt.TextFormat.RichText)
    # Items break between each other, never inside.
    items = "&nbsp;&nbsp; ".join(
        "•&nbsp;" + html.escape(_unbreakable(_(item))) for item in CHECKLIST)
    title = html.escape(_("Before you generate:"))
    strip.setText(f"<b>{title}</b>&nbsp;&nbsp; {items}")
    strip.setToolTip(_(CHECKLIST_NOTE))
    strip.setAccessibleName(_(CHECKLIST_NAME))
    strip.setAccessibleDescription(" ".join(_(item) for item in CHECKLIST))
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)   # as many lines as its width needs, no more
    strip.setSizePolicy(policy)
    return strip


_WIDE = 0x2E80   # CJK and later: a line may break between any two of these


def _unbreakable(text: str) -> str:
    """``text`` that never breaks across lines: non-breaking spaces, and a word joiner
    (U+2060) beside each CJK character, which may otherwise break anywhere."""
    out: list[str] = []
    for index, char in enumerate(text):
        out.append("\u00a0" if char == " " else char)
        following = text[index + 1] if index + 1 < len(text) else ""
        if following and following != " " and (ord(char) >= _WIDE or ord(following) >= _WIDE):
            out.append("\u2060")
    return "".join(out)
