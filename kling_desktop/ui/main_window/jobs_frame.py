"""The jobs panel's frame, shown by the first paint while the jobs list itself loads.

The window paints first and loads the rest right after (issue 16): the jobs list, what
runs the jobs and the start panel import most of the app. Until they are built (a
fraction of a second), their place beside the form holds this frame: the panel's own
title, margins and width, and "Loading your jobs…", so nothing moves when the list
takes its place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kling_desktop.i18n import _
from kling_desktop.ui.widgets import JOBS_PANEL_MARGINS, JOBS_PANEL_MIN_WIDTH, mute


class JobsFrame(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsFrame")
        self.setMinimumWidth(JOBS_PANEL_MIN_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*JOBS_PANEL_MARGINS)
        layout.setSpacing(8)
        title = QLabel(_("Jobs"), self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        layout.addWidget(title)
        loading = QLabel(_("Loading your jobs…"), self)
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mute(loading)
        layout.addWidget(loading, 1)
