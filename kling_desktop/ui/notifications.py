"""Telling the person that a job ended while the window was in the background.

Channels, best first:

- on Linux, the desktop's own notification service (``org.freedesktop.Notifications``
  over D-Bus: GNOME, KDE, dunst, mako…), see :mod:`kling_desktop.ui.notify_dbus`.
  Whether it is there is asked once, on a worker, when the window starts; sending
  runs on a worker too, and clicking the notification raises the window with the job
  selected (``open_requested``);
- the system tray's message (``QSystemTrayIcon.showMessage``: Windows, macOS, and
  Linux desktops with a tray but no notification service);
- where the desktop offers neither (the offscreen platform of the tests), a banner in
  the window that stays until the person has seen it (closed it, or opened the job).

A notification the service does not take (it went away) falls back to the tray or the
banner, so a job that ends unseen is always told. :meth:`Notifier.channel` says which
channel this desktop gets, for Settings (:func:`channel_words`).
"""

from __future__ import annotations

import html
import logging
import os
from collections import deque
from dataclasses import replace
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from kling_desktop import APP_ID, APP_NAME
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.i18n import N_, _
from kling_desktop.paths import resources_dir
from kling_desktop.ui import notify_dbus
from kling_desktop.ui.notify_dbus import (
    CALL_TIMEOUT,
    URGENCY_CRITICAL,
    URGENCY_NORMAL,
    Notification,
    NotificationService,
    NotifyFailed,
    ServerInfo,
    ServerSignal,
)
from kling_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

MESSAGE_MS = 8000
DEFAULT_ACTION = "default"      # the specification's key for a click on the notification
ICON_FILE = "app-128.png"
EARLY_SIGNALS = 16              # signals kept for notifications whose id is not known yet


class Channel(StrEnum):
    DBUS = "dbus"
    TRAY = "tray"
    BANNER = "banner"


CHANNEL_WORDS = {
    Channel.DBUS: N_("Desktop notifications: through this desktop's notification service "
                     "(a message appears when a video is done while the window is in the "
                     "background; click it to see the job)."),
    Channel.TRAY: N_("Desktop notifications: available through the system tray (a message "
                     "appears when a video is done while the window is in the background)."),
    Channel.BANNER: N_("Desktop notifications are not available on this desktop: finished "
                       "jobs are shown in a banner in the window until you have seen them."),
}

# What the desktop's notification service said when a window asked (None: not there,
# or not asked yet). One desktop per process: Settings reads it through channel().
_desktop_service: ServerInfo | None = None


def channel_words(channel: Channel | None = None) -> str:
    """What Settings says about this desktop's notifications, in the user's language."""
    return _(CHANNEL_WORDS[channel if channel is not None else Notifier.channel()])


def job_title(job: Job) -> str:
    """A job's human title: the core's one title (:attr:`JobSpec.title`, made by
    :func:`kling_desktop.sources.title_for` from the picture, the clip and the prompt)."""
    return job.spec.title


def notification_text(job: Job) -> tuple[str, str, bool]:
    """Title, body and whether it is bad news, for a job that reached a resting state."""
    name = job_title(job)
    if job.state is JobState.COMPLETED:
        title = _("Video saved (demo)") if job.demo else _("Video saved")
        return title, _("{title} is in your library.").format(title=name), False
    if job.state is JobState.UNCERTAIN:
        return _("A job needs your decision"), (job.error_message or name), True
    if job.state is JobState.CANCELLED:
        return (_("Job cancelled (demo)") if job.demo else _("Job cancelled")), name, False
    message = job.error_message or _("The provider could not make this video.")
    return _("{state}: {title}").format(state=job.state.label, title=name), message, True


def desktop_notification(job: Job) -> Notification:
    """The freedesktop notification for ``job`` (without the server's capabilities)."""
    title, body, bad = notification_text(job)
    if job.state is JobState.COMPLETED:
        category = "transfer.complete"
    elif bad:
        category = "transfer.error"
    else:
        category = "transfer"
    urgency = URGENCY_CRITICAL if job.state is JobState.UNCERTAIN else URGENCY_NORMAL
    icon = resources_dir() / "icons" / ICON_FILE
    return Notification(
        summary=title, body=body, app_name=APP_NAME,
        app_icon=str(icon) if icon.is_file() else APP_ID,
        hints={"desktop-entry": ("s", APP_ID), "urgency": ("y", urgency),
               "category": ("s", category)})


class _SignalRelay(QObject):
    """Lives in the main thread; the listening thread emits, Qt queues the call over."""

    received = Signal(object)     # ServerSignal


class Notifier(QObject):
    """Tells about a job that ended while the window was not active.

    Through the desktop's notification service where there is one (with ``tasks``, on
    Linux), else the tray; otherwise ``banner_requested(job)`` asks the window for its
    in-window banner (which stays until seen). ``open_requested(job_id)``: the person
    clicked a desktop notification (the window is raised already). ``service_checked``
    (True when there is a service) once the desktop has answered.
    """

    banner_requested = Signal(object)     # Job
    open_requested = Signal(int)          # job id
    service_checked = Signal(bool)

    def __init__(self, icon: QIcon, parent: QObject | None = None, *,
                 tasks: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self._tray: QSystemTrayIcon | None = None
        self._tasks = tasks
        self._window: QWidget | None = None
        self._sent: dict[int, int] = {}          # the service's notification id -> job id
        self._tokens: dict[int, str] = {}        # notification id -> activation token
        self._early: deque[ServerSignal] = deque(maxlen=EARLY_SIGNALS)  # ids not known yet
        self.shown: list[tuple[str, str]] = []   # what was shown (tests, accessibility log)
        self._relay = _SignalRelay(self)
        self._relay.received.connect(self.on_relay_received)
        self._service: NotificationService | None = None
        self._service_info: ServerInfo | None = None
        self.service_asked = False               # the desktop has answered (or cannot)
        if tasks is not None and notify_dbus.supported():
            self._service = NotificationService(self._relay.received.emit)
            tasks.run(self._service.open, CALL_TIMEOUT, on_done=self.on_service_opened,
                      on_failed=self.on_service_failed)
        else:
            self.service_asked = True            # nothing to ask here

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows messages of its own (its notification service, or a
        system tray that can)."""
        return _desktop_service is not None or (
            QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages())

    @classmethod
    def channel(cls) -> Channel:
        if _desktop_service is not None:
            return Channel.DBUS
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            return Channel.TRAY
        return Channel.BANNER

    # -- the desktop's service ----------------------------------------------------------------

    def on_service_opened(self, info: object) -> None:
        global _desktop_service
        self._service_info = info if isinstance(info, ServerInfo) else None
        if self._service_info is not None:
            _desktop_service = self._service_info
        self.service_asked = True
        self.service_checked.emit(self._service_info is not None)

    def on_service_failed(self, _error: BaseException) -> None:
        self._service_info = None
        self.service_asked = True
        self.service_checked.emit(False)

    @Slot(object)
    def on_relay_received(self, signal: object) -> None:
        if not isinstance(signal, ServerSignal):
            return
        number = signal.notification_id
        if number not in self._sent:
            # Another app's notification, or ours before the worker that sent it has
            # reported its id (a signal may overtake that report): kept for a moment.
            self._early.append(signal)
            return
        if signal.kind == "ActivationToken":
            self._tokens[number] = str(signal.value)
        elif signal.kind == "NotificationClosed":
            self._sent.pop(number, None)
            self._tokens.pop(number, None)
        elif signal.kind == "ActionInvoked" and signal.value == DEFAULT_ACTION \
                and self._window is not None:
            _raise(self._window, self._tokens.pop(number, ""))
            self.open_requested.emit(self._sent[number])

    # -- telling ------------------------------------------------------------------------------

    def notify_job(self, job: Job, window: QWidget) -> bool:
        """True when the person was told (or is being told: the desktop's service is
        asked on a worker and, should it fail, the tray or the banner tell instead)."""
        if window.isActiveWindow():
            return False
        self._window = window
        title, body, _bad = notification_text(job)
        if self._service is not None and self._service_info is not None \
                and self._tasks is not None and not self._tasks.closed:
            self._send(job, self._service, self._service_info)
        else:
            self._fallback(job, window)
        self.shown.append((title, body))
        return True

    def _send(self, job: Job, service: NotificationService, info: ServerInfo) -> None:
        note = desktop_notification(job)
        if info.body_markup:
            note = replace(note, body=html.escape(note.body, quote=False))
        if info.actions:
            note = replace(note, actions=(DEFAULT_ACTION, _("Show")))
        assert self._tasks is not None

        def sent(result: object) -> None:
            if isinstance(result, int):
                self._sent[result] = job.id
                mine = [sig for sig in self._early if sig.notification_id == result]
                for sig in mine:
                    self._early.remove(sig)
                    self.on_relay_received(sig)
                return
            log.info("the desktop's notification service did not take the message (%s); "
                     "telling through the tray or the window", result)
            if self._window is not None:
                self._fallback(job, self._window)

        self._tasks.run(_notify, service, note, on_done=sent)

    def _fallback(self, job: Job, window: QWidget) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            title, body, bad = notification_text(job)
            icon = (QSystemTrayIcon.MessageIcon.Warning if bad
                    else QSystemTrayIcon.MessageIcon.Information)
            self._ensure_tray(window).showMessage(title, body, icon, MESSAGE_MS)
        else:
            self.banner_requested.emit(job)

    def _ensure_tray(self, window: QWidget) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QSystemTrayIcon(self._icon, self)
            self._tray.setToolTip(APP_NAME)
            self._tray.activated.connect(lambda _reason: _raise(window))
            self._tray.messageClicked.connect(lambda: _raise(window))
            self._tray.show()
        return self._tray

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None
            self._service_info = None
        if self._tray is not None:
            self._tray.hide()
            self._tray.deleteLater()
            self._tray = None


def _notify(service: NotificationService, note: Notification) -> int | str:
    """On a worker: the service's id for the notification, or why it was not taken
    (a desktop without the service is not a bug: no error with a traceback)."""
    try:
        return service.notify(note)
    except NotifyFailed as exc:
        return str(exc) or "no answer"


def _raise(window: QWidget, activation_token: str = "") -> None:
    """Bring the window to the front. On Wayland, the token the notification service gave
    for the click lets the compositor hand over the focus (Qt reads it from the
    environment when asked to activate)."""
    if activation_token:
        os.environ["XDG_ACTIVATION_TOKEN"] = activation_token
    # Out of the task bar without losing "maximized"; shown again if it was hidden.
    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized)
                          | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
    if activation_token:
        os.environ.pop("XDG_ACTIVATION_TOKEN", None)
