"""The form's last line: what it says about the whole batch, the bill, and Generate.

Its messages (the batch's problems, the prompt's, the form's notes) sit in a box of
fixed height beside the billable length, the cost estimate and the Generate button,
so the button stays where it is whatever is said. The words come from
:mod:`.summary`; the form decides when Generate is enabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kling_desktop.i18n import _
from kling_desktop.ui.form.messages import MessageArea
from kling_desktop.ui.problems import ProblemList
from kling_desktop.ui.widgets import PrimaryButton, mute

FOOTER_MESSAGE_LINES = 2    # the footer's message area: batch and prompt problems, notes
FORM_MARGIN = 16


class FormFooter(QWidget):
    """A separator, then the messages, the summary and Generate on one row."""

    def __init__(self, prompt_problems: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formFooter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(FORM_MARGIN, 0, FORM_MARGIN, 12)
        layout.setSpacing(10)
        layout.addWidget(separator(self))
        row = QHBoxLayout()
        row.setSpacing(12)
        layout.addLayout(row)

        self.messages = MessageArea(FOOTER_MESSAGE_LINES, self)
        self.messages.setAccessibleName(_("Messages"))
        self.problems = ProblemList(self.messages.widget())
        self.problems.setAccessibleName(_("Batch problems"))
        self.messages.add(self.problems)
        self.messages.add(prompt_problems)
        self.note = self.messages.add_note("formNote")
        self.note.setAccessibleName(_("Note"))

        self.summary_label = QLabel(self)
        self.summary_label.setAccessibleName(_("Billable length"))
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.summary_label.setToolTip(
            _("The result is as long as the motion clip, and the provider bills per second "
              "of it."))
        self.cost_label = QLabel(self)
        self.cost_label.setAccessibleName(_("Estimated cost"))
        self.cost_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        mute(self.cost_label)
        policy = self.cost_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)   # the summary does not hop when a cost appears
        self.cost_label.setSizePolicy(policy)
        summary = QVBoxLayout()
        summary.setSpacing(0)
        summary.addWidget(self.summary_label)
        summary.addWidget(self.cost_label)

        self.generate_button = PrimaryButton(_("Generate"), self, object_name="generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip(_("Send the job(s) to the provider (Ctrl+Enter)"))
        self.generate_button.setAccessibleName(_("Generate"))

        row.addWidget(self.messages, 1)
        row.addStretch(0)
        row.addSpacing(12)
        row.addLayout(summary)
        row.addWidget(self.generate_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def show_summary(self, text: str, cost: str) -> None:
        self.summary_label.setText(text)
        self.cost_label.setText(cost)
        self.cost_label.setVisible(bool(cost))

    def show_notes(self, notes: Sequence[str]) -> None:
        self.note.setText("\n".join(notes))
        self.note.setVisible(bool(notes))


def separator(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
