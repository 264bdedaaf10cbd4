"""Telling the person that a job ended while the window was in the background.

Channels, best first: the system tray's message (``QSystemTrayIcon.showMessage``:
Windows, macOS and Linux desktops with a tray) and, where the desktop offers none
(GNOME without a tray extension, the offscreen platform of the tests), a banner in
the window that stays until the person has seen it (closed it, or opened the job).
:meth:`Notifier.channel` says which one this desktop gets, for Settings.

The freedesktop notification service over D-Bus (``org.freedesktop.Notifications``)
is not used yet: its ``Notify`` call takes a D-Bus ``uint32`` (``replaces_id``) and
PySide6's QtDBus marshals Python integers only as ``int32``/``int64``/``uint16``, which
strict servers (GNOME Shell, KDE, dunst) refuse. See the closing note of issue 13.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from kling_desktop import APP_NAME
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.sources import display_name

MESSAGE_MS = 8000


class Channel(StrEnum):
    TRAY = "tray"
    BANNER = "banner"


CHANNEL_WORDS = {
    Channel.TRAY: "Desktop notifications: available through the system tray (a message "
                  "appears when a video is done while the window is in the background).",
    Channel.BANNER: "Desktop notifications are not available on this desktop: finished "
                    "jobs are shown in a banner in the window until you have seen them.",
}


def job_title(job: Job) -> str:
    """A job's human title: THE one call site here (the prompt's first words, else the
    picture's name; to be replaced by the core's own title for a job)."""
    return job.spec.options.prompt.strip()[:40] or display_name(job.spec.image)


def notification_text(job: Job) -> tuple[str, str, bool]:
    """Title, body and whether it is bad news, for a job that reached a resting state."""
    name = job_title(job)
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
    """Tells about a job that ended while the window was not active.

    Through the tray where the desktop has one; otherwise ``banner_requested(job)`` asks
    the window for its in-window banner (which stays until seen).
    """

    banner_requested = Signal(object)     # Job

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self._tray: QSystemTrayIcon | None = None
        self.shown: list[tuple[str, str]] = []   # what was shown (tests, accessibility log)

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows messages of its own (a system tray that can)."""
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    @classmethod
    def channel(cls) -> Channel:
        return Channel.TRAY if cls.available() else Channel.BANNER

    def notify_job(self, job: Job, window: QWidget) -> bool:
        """True when the person was told (a tray message or the banner)."""
        if window.isActiveWindow():
            return False
        title, body, bad = notification_text(job)
        if self.channel() is Channel.BANNER:
            self.banner_requested.emit(job)
        else:
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
