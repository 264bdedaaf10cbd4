"""A form's problems, inline: each refusal in the error colour, with its fix in words
and, where one exists, a button that applies it ("Switch to “Match the video”").

The list shows what the engine's checks found (:class:`~kling_desktop.engine.checks.Problem`);
it decides nothing. ``action_requested(action)`` when a fix button is clicked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.ui.widgets import action_label, clear_layout, error_color

if TYPE_CHECKING:
    from kling_desktop.engine.checks import Problem

__all__ = ["ProblemList"]


class ProblemList(QWidget):
    """Problems of one field, in words, with a one-click fix when a Problem offers one.

    Empty (and taking no room) when there is nothing to say.
    """

    action_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._problems: tuple[Problem, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setVisible(False)

    def problems(self) -> tuple[Problem, ...]:
        return self._problems

    def text(self) -> str:
        """Everything shown, as plain text (for tests and screen readers)."""
        return "\n".join(f"{p.message} {p.fix}".strip() for p in self._problems)

    def fix_buttons(self) -> list[QPushButton]:
        """The fix buttons of the problems shown now (rows taken out by a new list are
        hidden at once but deleted later: they are left out)."""
        return [button for button in self.findChildren(QPushButton, "fixButton")
                if button.isVisibleTo(self)]

    def set_problems(self, problems: Sequence[Problem]) -> None:
        problems = tuple(problems)
        if problems == self._problems:
            return
        self._problems = problems
        clear_layout(self._layout)
        for problem in problems:
            row = self._row(problem)
            self._layout.addWidget(row)
            row.show()       # now, not one event later: its fix is reachable at once
        self.setVisible(bool(problems))
        self.setAccessibleDescription(self.text())

    def _row(self, problem: Problem) -> QWidget:
        row = QFrame(self)
        row.setObjectName("problemRow")
        color = error_color(self.palette())
        row.setStyleSheet(
            f"QFrame#problemRow {{ border: none; border-left: 3px solid {color.name()}; }}"
        )
        layout = QVBoxLayout(row)
        layout.setContentsMargins(8, 2, 0, 2)
        layout.setSpacing(4)
        message = QLabel(row)
        message.setObjectName("problemText")
        message.setWordWrap(True)
        message.setTextFormat(Qt.TextFormat.PlainText)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        message.setText(problem.message)
        pal = message.palette()
        pal.setColor(QPalette.ColorRole.WindowText, color)
        message.setPalette(pal)
        font = message.font()
        font.setBold(True)
        message.setFont(font)
        layout.addWidget(message)
        if problem.fix:
            fix = QLabel(problem.fix, row)
            fix.setWordWrap(True)
            fix.setTextFormat(Qt.TextFormat.PlainText)
            fix.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(fix)
        label = action_label(problem.action) if problem.action else None
        if label is not None and problem.action is not None:
            button = QPushButton(label, row)
            button.setObjectName("fixButton")
            button.setToolTip(problem.fix or label)
            button.setAccessibleName(label)
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            action = problem.action
            button.clicked.connect(lambda _checked=False, a=action: self.on_fix_button_clicked(a))
            line = QHBoxLayout()
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(button)
            line.addStretch(1)
            layout.addLayout(line)
        return row

    @Slot(str)
    def on_fix_button_clicked(self, action: str) -> None:
        self.action_requested.emit(action)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._problems:
            # Light <-> dark: pick the readable red for the new palette.
            problems, self._problems = self._problems, ()
            self.set_problems(problems)
