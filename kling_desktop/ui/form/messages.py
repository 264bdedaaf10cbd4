"""A message area of fixed height: what the form says never pushes a button down.

Problems, notes and hints appear inside a reserved box that keeps its height
whatever it holds (nothing, one line, a problem with its fix button); a longer
text scrolls inside it. The slots and the footer each have one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from kling_desktop.ui.widgets import mute


class MessageArea(QScrollArea):
    """A frameless box of ``lines`` text lines plus one button row, always that tall."""

    def __init__(self, lines: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageArea")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        # Our own viewport, in the window's colour: asking Qt's for its wrapper
        # (viewport()) before the first paint makes PySide build the Python type of every
        # widget class (~9 ms), as it does for any plain QWidget Qt made.
        viewport = QWidget(self)
        viewport.setBackgroundRole(QPalette.ColorRole.Window)
        viewport.setAutoFillBackground(True)
        self.setViewport(viewport)
        inner = QWidget(self)
        inner.setObjectName("messageAreaContents")
        inner.setBackgroundRole(QPalette.ColorRole.Window)
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.set_lines(lines)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_lines(self, lines: float) -> None:
        """Room for ``lines`` text lines plus one button row (whatever is shown)."""
        button_row = self.fontMetrics().height() + 14
        self.setFixedHeight(int(lines * self.fontMetrics().lineSpacing()) + button_row)

    def add(self, widget: QWidget) -> QWidget:
        """Show ``widget`` in the area (above the ones added before the stretch)."""
        self._layout.insertWidget(self._layout.count() - 1, widget)
        return widget

    def add_note(self, name: str) -> QLabel:
        """A wrapped, muted line of words (hidden while empty)."""
        label = QLabel(self.widget())
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setVisible(False)
        mute(label)
        self.add(label)
        return label
