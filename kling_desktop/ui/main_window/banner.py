"""The demo banner: a clear strip across the top of the window while the demo runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kling_desktop.i18n import _, ngettext


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
        from kling_desktop.ui.demo import DEMO_BANNER  # ui.demo imports the simulator

        self.label = QLabel(_(DEMO_BANNER), self)
        font = self.label.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.label.setFont(font)
        self.label.setAccessibleName(self.label.text())
        layout.addWidget(self.label)
        detail = QLabel(_("Every job gives the sample video: the sample character dancing."),
                        self)
        layout.addWidget(detail, 1)
        self.leave_button = QPushButton(_("Use my API key…"), self)
        self.leave_button.setObjectName("leaveDemo")
        self.leave_button.setToolTip(_("Leave the demo and work with your provider."))
        self.leave_button.clicked.connect(self.leave_requested)
        layout.addWidget(self.leave_button)

    def text(self) -> str:
        return self.label.text()


class DoneBanner(QFrame):
    """Jobs that ended while the window was in the background, where the desktop has no
    notifications of its own. Stays until seen: closed, or the job opened.

    ``open_requested(job_id)``: the person wants to see the latest of them.
    """

    open_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("doneBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self._jobs: dict[int, str] = {}        # job id -> its line, oldest first
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 6, 12, 6)
        layout.setSpacing(12)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.open_button = QPushButton(_("Show"), self)
        self.open_button.setObjectName("doneBannerShow")
        self.open_button.setToolTip(_("Select this job in the jobs list"))
        self.open_button.clicked.connect(self.on_open_button_clicked)
        layout.addWidget(self.open_button)
        self.close_button = QPushButton(_("Dismiss"), self)
        self.close_button.setObjectName("doneBannerDismiss")
        self.close_button.clicked.connect(self.clear)
        layout.addWidget(self.close_button)
        self.setVisible(False)

    def text(self) -> str:
        return self.label.text()

    def job_ids(self) -> list[int]:
        return list(self._jobs)

    def add(self, job_id: int, title: str, body: str) -> None:
        self._jobs.pop(job_id, None)
        self._jobs[job_id] = _("{title}: {details}").format(title=title, details=body)
        self._show()

    def seen(self, job_id: int) -> None:
        """The person opened this job: it no longer needs telling."""
        if self._jobs.pop(job_id, None) is not None:
            self._show()

    def clear(self) -> None:
        self._jobs.clear()
        self._show()

    def _show(self) -> None:
        lines = list(self._jobs.values())
        if len(lines) > 1:
            text = ngettext("{n} job ended while you were away. Latest: {latest}",
                            "{n} jobs ended while you were away. Latest: {latest}",
                            len(lines)).format(n=len(lines), latest=lines[-1])
        else:
            text = lines[0] if lines else ""
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self.open_button.setText(_("Show latest") if len(lines) > 1 else _("Show"))
        self.setVisible(bool(lines))

    def on_open_button_clicked(self) -> None:
        if self._jobs:
            self.open_requested.emit(next(reversed(self._jobs)))
