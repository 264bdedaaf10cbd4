"""Desktop notifications when a job ends while the window is in the background.

Uses ``QSystemTrayIcon.showMessage``. Where there is no system tray (some
Linux desktops, the offscreen platform of the tests) it does nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from kling_desktop import APP_NAME
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.sources import display_name

MESSAGE_MS = 8000


def notification_text(job: Job) -> tuple[str, str, bool]:
    """Title, body and whether it is bad news, for a job that reached a resting state."""
    name = job.spec.options.prompt.strip()[:40] or display_name(job.spec.image)
    demo = " (demo)" if job.demo else ""
    if job.state is JobState.COMPLETED:
        return f"Video saved{demo}", f"{name} is in your library.", False
    if job.state is JobState.UNCERTAIN:
        return "A job needs your decision", (job.error_message or name), True
    if job.state is JobState.CANCELLED:
        return f"Job cancelled{demo}", name, False
    message = job.error_message or "The provider could not make this video."
    return f"{job.state.label}: {name}", message, True


class Notifier(QObject):
    """Shows a tray message for a job, unless the window is active or no tray exists."""

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self._tray: QSystemTrayIcon | None = None
        self.shown: list[tuple[str, str]] = []   # what was shown (tests, accessibility log)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    def notify_job(self, job: Job, window: QWidget) -> bool:
        """True when a message was shown."""
        if window.isActiveWindow() or not self.available():
            return False
        title, body, bad = notification_text(job)
        tray = self._ensure_tray(window)
        icon = (QSystemTrayIcon.MessageIcon.Warning if bad
                else QSystemTrayIcon.MessageIcon.Information)
        tray.showMessage(title, body, icon, MESSAGE_MS)
        self.shown.append((title, body))
        return True

    def _ensure_tray(self, window: QWidget) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QSystemTrayIcon(self._icon, self)
            self._tray.setToolTip(APP_NAME)
            self._tray.activated.connect(lambda _reason: _raise(window))
            self._tray.messageClicked.connect(lambda: _raise(window))
            self._tray.show()
        return self._tray

    def close(self) -> None:
        if self._tray is not None:
            self._tray.hide()
            self._tray.deleteLater()
            self._tray = None


def _raise(window: QWidget) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()
