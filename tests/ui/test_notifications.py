"""A job that ends while the window is in the background reaches the person.

On Linux the desktop's notification service (``org.freedesktop.Notifications`` on the
session bus) tells: these tests run a private bus (``dbus-daemon``) with a small fake
service on it, which records every ``Notify`` call with the D-Bus signature it
received, and can click a notification (``ActionInvoked``). Without a service, as on
the offscreen platform, which has no tray either, the window's banner tells, and stays
until the person has seen it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop import APP_ID, APP_NAME
from kling_desktop.api.models import GenerationOptions, Mode, Model
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.ui import notifications
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.notifications import (
    CHANNEL_WORDS,
    Channel,
    Notifier,
    channel_words,
    job_title,
    notification_text,
)
from kling_desktop.ui.notify_dbus import ServerSignal
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory
from tests.ui.i18n_support import MARK, language

jeepney = pytest.importorskip("jeepney")
from jeepney import (  # type: ignore[import-untyped]  # noqa: E402
    DBusAddress,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]  # noqa: E402
from jeepney.io.threading import (  # type: ignore[import-untyped]  # noqa: E402
    DBusRouter,
    Proxy,
    ReceiveStopped,
    open_dbus_connection,
)
from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]  # noqa: E402

# The offscreen platform cannot raise a window above others (a real desktop can).
pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES, "This plugin does not support raise")]

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def finished(job_id: int, state: JobState = JobState.COMPLETED, *, prompt: str = "",
             image: str = "/pics/hero.png", **fields: object) -> Job:
    now = time.time()
    values: dict[str, object] = {
        "id": job_id, "state": state, "base_url": "https://api.example.com", "demo": False,
        "spec": JobSpec(image=image, video="/clips/dance.mp4",
                        options=GenerationOptions(model=Model.V3, mode=Mode.STD, prompt=prompt),
                        billable_seconds=5.0),
        "created_at": now - 60, "updated_at": now,
    }
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


def in_background(qtbot: QtBot, window: MainWindow) -> QWidget:
    """Another window takes the focus, as when the person works elsewhere."""
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow(), timeout=WAIT_MS)
    return other


# -- a private session bus and a fake notification service on it ----------------------------

@pytest.fixture(autouse=True)
def desktop_not_asked_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a window learnt about the desktop's service stays in this test."""
    monkeypatch.setattr(notifications, "_desktop_service", None)


def start_bus(daemon: str) -> tuple[str, int]:
    """A new session bus daemon (in the background): its address and process id."""
    config = Path(__file__).parents[1] / "session-bus.conf"    # starts nothing on demand
    out = subprocess.run([daemon, f"--config-file={config}", "--fork", "--print-address=1",
                          "--print-pid=1"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    address, pid = out.split()[:2]
    return address, int(pid)


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A session bus of this test's own (a developer's desktop may already run a real
    notification service on theirs)."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("dbus-daemon is not installed")
    address, pid = start_bus(daemon)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    os.kill(pid, signal.SIGTERM)


@pytest.fixture
def quiet_desktop(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A desktop without a notification service: a private bus with nobody on it, or
    no session bus at all where dbus-daemon is missing."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
        yield
        return
    address, pid = start_bus(daemon)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield
    os.kill(pid, signal.SIGTERM)


@dataclass
class Received:
    """One ``Notify`` call as the service saw it."""

    signature: str
    sender: str
    notification_id: int
    app_name: str
    replaces_id: int
    app_icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, tuple[str, Any]]
    expire_timeout: int


class FakeNotificationServer:
    """Owns ``org.freedesktop.Notifications`` and answers as a desktop's service does;
    its signals go to the connection that made the notification (as GNOME Shell's)."""

    def __init__(self, capabilities: tuple[str, ...] = ("actions", "body")) -> None:
        self.capabilities = list(capabilities)
        self.calls: list[Received] = []
        self._ids = itertools.count(41)
        self._conn = open_dbus_connection(bus="SESSION")
        with DBusRouter(self._conn) as router:
            (reply,) = Proxy(message_bus, router, timeout=10).RequestName(SERVICE, 4)
        assert reply == 1, "the test bus already has a notification service"
        self._thread = threading.Thread(target=self._serve, name="fake-notifications")
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                msg = self._conn.receive()
            except (ReceiveStopped, OSError):
                return
            if msg.header.message_type is not MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if member == "GetServerInformation":
                reply = new_method_return(msg, "ssss", ("fake", "tests", "1.0", "1.2"))
            elif member == "GetCapabilities":
                reply = new_method_return(msg, "as", (self.capabilities,))
            elif member == "Notify":
                number = next(self._ids)
                self.calls.append(Received(
                    msg.header.fields.get(HeaderFields.signature, ""),
                    msg.header.fields[HeaderFields.sender], number, *msg.body))
                reply = new_method_return(msg, "u", (number,))
            else:
                reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")
            self._conn.send(reply)

    def click(self, call: Received, action: str = "default") -> None:
        """The person clicks the notification."""
        self._emit(call, "ActionInvoked", "us", (call.notification_id, action))

    def _emit(self, call: Received, name: str, sig: str, body: tuple[Any, ...]) -> None:
        message = new_signal(DBusAddress(PATH, interface=SERVICE), name, sig, body)
        message.header.fields[HeaderFields.destination] = call.sender
        self._conn.send(message)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._conn.interrupt()
            self._thread.join(timeout=10)
            self._conn.close()


@pytest.fixture
def server(bus: str) -> Iterator[FakeNotificationServer]:
    fake = FakeNotificationServer()
    yield fake
    fake.stop()


def name_has_owner(name: str) -> bool:
    with open_dbus_connection(bus="SESSION") as conn, DBusRouter(conn) as router:
        (owned,) = Proxy(message_bus, router, timeout=10).NameHasOwner(name)
    return bool(owned)


def started_window(qtbot: QtBot, windows: WindowFactory, **settings: Any) -> MainWindow:
    """A window that has asked the desktop for its notification service and loaded its
    (empty) jobs list, so the jobs a test sets are not replaced by that load."""
    window = windows.window(windows.engine(**settings), has_key=True)
    qtbot.waitUntil(lambda: window.notifier.service_asked and window.jobs_panel.stack
                    .currentWidget() is window.jobs_panel.empty_label, timeout=WAIT_MS)
    return window


# -- the desktop's notification service -------------------------------------------------------

def test_a_job_that_ends_unseen_reaches_the_desktops_notification_service(
        qtbot: QtBot, server: FakeNotificationServer, windows: WindowFactory) -> None:
    window = started_window(qtbot, windows)
    assert Notifier.channel() is Channel.DBUS
    assert "this desktop's notification service" in channel_words()
    jobs = [finished(1, prompt="a slow spin on the rooftop"),
            finished(2, JobState.FAILED, image="/pics/knight.png",
                     error_message="The provider refused the picture.")]
    window.jobs_panel.set_jobs(jobs)

    in_background(qtbot, window)
    window.on_controller_job_finished(jobs[0])
    window.on_controller_job_finished(jobs[1])
    qtbot.waitUntil(lambda: len(server.calls) == 2, timeout=WAIT_MS)

    # Sent from two workers: in either order.
    done, refused = sorted(server.calls, key=lambda call: call.summary != "Video saved")
    # The types a strict server checks: replaces_id is a uint32, the hints a{sv}.
    assert done.signature == refused.signature == "susssasa{sv}i"
    assert (done.app_name, done.replaces_id, done.expire_timeout) == (APP_NAME, 0, -1)
    assert done.app_icon.endswith("app-128.png")
    assert os.path.isfile(done.app_icon)
    assert done.summary == "Video saved"
    assert done.body == "hero — a slow spin on the rooftop is in your library."
    assert done.actions == ["default", "Show"]
    assert done.hints == {"desktop-entry": ("s", APP_ID), "urgency": ("y", 1),
                          "category": ("s", "transfer.complete")}
    assert refused.summary == "Failed: knight + dance"
    assert refused.body == "The provider refused the picture."
    assert refused.hints["category"] == ("s", "transfer.error")
    # The desktop told: no banner in the window as well.
    assert not window.done_banner.isVisible()

    # A click on the first one brings the window back with that job selected.
    server.click(done)
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.jobs_panel.view.currentIndex().row()
                    == window.jobs_panel.model.row_of(1), timeout=WAIT_MS)
    assert window.tabs.currentWidget() is window.pages


def test_a_service_that_reads_markup_gets_the_text_escaped_and_no_buttons_it_cannot_show(
        qtbot: QtBot, bus: str, windows: WindowFactory) -> None:
    server = FakeNotificationServer(capabilities=("body", "body-markup"))
    try:
        window = started_window(qtbot, windows)
        in_background(qtbot, window)
        window.on_controller_job_finished(
            finished(3, JobState.UNCERTAIN, error_message="Sent <twice> & maybe billed"))
        qtbot.waitUntil(lambda: len(server.calls) == 1, timeout=WAIT_MS)
        (call,) = server.calls
        assert call.body == "Sent &lt;twice&gt; &amp; maybe billed"
        assert call.actions == []
        assert call.hints["urgency"] == ("y", 2)        # a decision is waiting
        assert call.summary == "A job needs your decision"
    finally:
        windows.close_all()
        server.stop()


def test_a_service_that_went_away_leaves_the_telling_to_the_window(
        qtbot: QtBot, server: FakeNotificationServer, windows: WindowFactory) -> None:
    window = started_window(qtbot, windows)
    assert Notifier.channel() is Channel.DBUS
    server.stop()
    qtbot.waitUntil(lambda: not name_has_owner(SERVICE), timeout=WAIT_MS)

    in_background(qtbot, window)
    window.on_controller_job_finished(finished(7, prompt="a jump"))
    qtbot.waitUntil(window.done_banner.isVisible, timeout=WAIT_MS)
    assert window.done_banner.job_ids() == [7]
    assert "hero — a jump" in window.done_banner.text()


# -- no service, no tray: the window's banner --------------------------------------------------

def test_this_desktop_has_no_tray_so_the_window_tells(qapp: object) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()        # the offscreen platform
    assert Notifier.channel() is Channel.BANNER
    assert "not available on this desktop" in CHANNEL_WORDS[Notifier.channel()]
    assert channel_words(Channel.BANNER) == CHANNEL_WORDS[Channel.BANNER]


def test_a_job_that_ends_unseen_stays_in_a_banner_until_it_is_opened(
        qtbot: QtBot, quiet_desktop: None, windows: WindowFactory) -> None:
    window = started_window(qtbot, windows)
    assert Notifier.channel() is Channel.BANNER          # nobody on the bus
    jobs = [finished(1, prompt="a slow spin on the rooftop"),
            finished(2, JobState.FAILED, image="/pics/knight.png",
                     error_message="The provider refused the picture.")]
    window.jobs_panel.set_jobs(jobs)
    assert not window.done_banner.isVisible()

    # Seen while the window is active: the status bar is enough, no banner.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    window.on_controller_job_finished(jobs[0])
    assert not window.done_banner.isVisible()

    in_background(qtbot, window)
    window.on_controller_job_finished(jobs[0])
    window.on_controller_job_finished(jobs[1])
    assert window.done_banner.isVisible()
    assert window.done_banner.job_ids() == [1, 2]
    assert "2 jobs ended" in window.done_banner.text()
    assert "knight + dance" in window.done_banner.text()
    assert "refused the picture" in window.done_banner.text()
    assert job_title(jobs[0]) == "hero — a slow spin on the rooftop"

    # It stays: coming back to the window does not hide it.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    assert window.done_banner.isVisible()

    # Opening a job (selecting it in the jobs list) counts as seen.
    window.jobs_panel.view.setCurrentIndex(window.jobs_panel.model.index(
        window.jobs_panel.model.row_of(2) or 0))
    assert window.done_banner.job_ids() == [1]
    assert "rooftop" in window.done_banner.text()
    # "Show" opens the last one left; then nothing is left to tell.
    window.done_banner.open_button.click()
    assert window.jobs_panel.view.currentIndex().row() == window.jobs_panel.model.row_of(1)
    assert not window.done_banner.isVisible()


def test_the_banner_can_be_dismissed(
        qtbot: QtBot, quiet_desktop: None, windows: WindowFactory) -> None:
    window = started_window(qtbot, windows)
    in_background(qtbot, window)
    window.on_controller_job_finished(finished(5))
    assert window.done_banner.isVisible()
    window.done_banner.close_button.click()
    assert not window.done_banner.isVisible()
    assert window.done_banner.job_ids() == []


def test_no_notification_when_the_person_turned_notifications_off(
        qtbot: QtBot, server: FakeNotificationServer, windows: WindowFactory) -> None:
    window = started_window(qtbot, windows, notify_when_done=False)
    in_background(qtbot, window)
    window.on_controller_job_finished(finished(6))
    assert not window.done_banner.isVisible()
    assert window.notifier.shown == []
    assert server.calls == []


def test_a_click_that_overtakes_the_notifications_id_still_opens_the_job(
        qtbot: QtBot, server: FakeNotificationServer, windows: WindowFactory) -> None:
    """The service's signals and the worker's report of the id travel on different
    threads: a click may reach the window before it knows which job the id is."""
    window = started_window(qtbot, windows)
    window.jobs_panel.set_jobs([finished(1), finished(2, prompt="a second try")])
    in_background(qtbot, window)
    # The fake service numbers its notifications from 41: the click on 41 comes first
    # (with one for another app's notification), the job's notification after it.
    window.notifier.on_relay_received(ServerSignal("ActionInvoked", 41, "default"))
    window.notifier.on_relay_received(ServerSignal("ActionInvoked", 7, "default"))
    assert window.jobs_panel.view.currentIndex().row() == -1
    assert not window.isActiveWindow()
    opened: list[int] = []
    window.notifier.open_requested.connect(opened.append)

    window.on_controller_job_finished(finished(2, prompt="a second try"))
    qtbot.waitUntil(lambda: opened == [2], timeout=WAIT_MS)
    assert server.calls[0].notification_id == 41
    assert window.isActiveWindow()
    assert window.jobs_panel.view.currentIndex().row() == window.jobs_panel.model.row_of(2)


def test_the_words_go_through_translation(qapp: object) -> None:
    with language("pseudo"):
        title, body, _bad = notification_text(finished(9, JobState.FAILED))
        assert title.startswith(MARK)
        assert body.startswith(MARK)                      # "could not make this video"
        assert notification_text(finished(9))[1].startswith(MARK)
        for channel in Channel:
            assert channel_words(channel).startswith(MARK)
    assert notification_text(finished(9))[0] == "Video saved"
