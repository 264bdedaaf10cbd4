"""The demo banner: a clear strip across the top of the window while the demo runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kling_desktop.ui.demo import DEMO_BANNER


class DemoBanner(QFrame):
    """Says the demo is running; ``leave_requested`` when the user wants their own key."""

    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.Highlight))
        palette.setColor(QPalette.ColorRole.WindowText,
                         palette.color(QPalette.ColorRole.HighlightedText))
        self.setPalette(palette)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(12)
        self.label = QLabel(DEMO_BANNER, self)
        font = self.label.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.label.setFont(font)
        self.label.setAccessibleName(DEMO_BANNER)
        layout.addWidget(self.label)
        detail = QLabel("Videos are made by the built-in simulator from the sample clip.", self)
        layout.addWidget(detail, 1)
        self.leave_button = QPushButton("Use my API key…", self)
        self.leave_button.setObjectName("leaveDemo")
        self.leave_button.setToolTip("Leave the demo and work with your provider.")
        self.leave_button.clicked.connect(self.leave_requested)
        layout.addWidget(self.leave_button)

    def text(self) -> str:
        return self.label.text()
