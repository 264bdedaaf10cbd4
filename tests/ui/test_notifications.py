"""A job that ends while the window is in the background reaches the person.

The offscreen platform has no system tray: there, as on GNOME without a tray, the
window's banner tells, and stays until the person has seen it.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import GenerationOptions, Mode, Model
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.notifications import CHANNEL_WORDS, Channel, Notifier, job_title
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]


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


def test_this_desktop_has_no_tray_so_the_window_tells(qapp: object) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()        # the offscreen platform
    assert Notifier.channel() is Channel.BANNER
    assert "not available on this desktop" in CHANNEL_WORDS[Notifier.channel()]


def test_a_job_that_ends_unseen_stays_in_a_banner_until_it_is_opened(
        qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.window(windows.engine(), has_key=True)
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
    assert "knight.png" in window.done_banner.text()
    assert "refused the picture" in window.done_banner.text()
    assert job_title(jobs[0]) == "a slow spin on the rooftop"

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


def test_the_banner_can_be_dismissed(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.window(windows.engine(), has_key=True)
    in_background(qtbot, window)
    window.on_controller_job_finished(finished(5))
    assert window.done_banner.isVisible()
    window.done_banner.close_button.click()
    assert not window.done_banner.isVisible()
    assert window.done_banner.job_ids() == []


def test_no_banner_when_the_person_turned_notifications_off(
        qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.window(windows.engine(notify_when_done=False), has_key=True)
    in_background(qtbot, window)
    window.on_controller_job_finished(finished(6))
    assert not window.done_banner.isVisible()
