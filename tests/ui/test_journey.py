"""Whole journeys through the real window: real files, real checks, the simulator over
loopback, real SQLite, the real library. Tests wait on signals and conditions, never sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import Orientation
from kling_desktop.engine.jobs import JobState
from kling_desktop.simulator import Simulator
from kling_desktop.ui.demo import DEMO_BANNER, DemoSession
from kling_desktop.ui.jobs import badges_for
from kling_desktop.ui.main_window import MainWindow
from tests.conftest import TEST_KEY
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES),
]


def drop_files(target: QWidget, paths: list[Path]) -> None:
    """Drag real file URLs onto ``target`` and drop them, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = target.rect().center()
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted(), "the slot refused the drag"
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted(), "the slot refused the drop"


def only_job_id(window: MainWindow, qtbot: QtBot) -> int:
    qtbot.waitUntil(lambda: len(window.jobs_panel.job_ids()) == 1, timeout=WAIT_MS)
    return window.jobs_panel.job_ids()[0]


def generate(window: MainWindow, qtbot: QtBot) -> int:
    """Press Generate once the form is ready; the new job's id."""
    before = set(window.jobs_panel.job_ids())
    qtbot.waitUntil(window.form.generate_button.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.submitted, timeout=WAIT_MS) as submitted:
        QTest.mouseClick(window.form.generate_button, Qt.MouseButton.LeftButton)
    jobs = submitted.args[0]
    assert len(jobs) == 1
    assert jobs[0].id not in before
    return int(jobs[0].id)


def wait_state(window: MainWindow, qtbot: QtBot, job_id: int, state: JobState) -> None:
    def reached() -> bool:
        job = window.jobs_panel.job(job_id)
        return job is not None and job.state is state

    qtbot.waitUntil(reached, timeout=WAIT_MS)


# -- the artist's journey ---------------------------------------------------------------------

def test_drop_refusal_fix_generate_and_find_it_again(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path) -> None:
    picture = make_image(media, width=600, height=800)
    long_clip = make_video(media, seconds=12, width=640, height=480)
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    assert not window.is_start_panel_shown()

    drop_files(window.form.image_slot, [picture])
    drop_files(window.form.video_slot, [long_clip])

    # The 12 s clip is refused inline for orientation "image", with a one-click fix.
    qtbot.waitUntil(lambda: "10 s" in window.form.video_slot.problems_text(), timeout=WAIT_MS)
    assert not window.form.generate_button.isEnabled()
    def visible_fixes() -> list[QPushButton]:
        return [b for b in window.form.findChildren(QPushButton, "fixButton") if b.isVisible()]

    # The row is laid out again once the fixes the converter could make are known.
    qtbot.waitUntil(lambda: bool(visible_fixes()), timeout=WAIT_MS)
    switch = [b for b in visible_fixes() if "Match the video" in b.text()]
    assert switch, "the refusal offers no switch to “Match the video”"
    QTest.mouseClick(switch[0], Qt.MouseButton.LeftButton)
    assert window.form.orientation() is Orientation.VIDEO
    qtbot.waitUntil(lambda: window.form.video_slot.problems_text() == "", timeout=WAIT_MS)

    job_id = generate(window, qtbot)
    # Progress is shown in words while it runs, then "Saved".
    seen: set[str] = set()
    window.controller.job_updated.connect(
        lambda job: seen.add(window.jobs_panel.status_of(job.id).split(" ")[0]))
    wait_state(window, qtbot, job_id, JobState.COMPLETED)
    assert window.jobs_panel.status_of(job_id).startswith("Saved")
    assert seen & {"Uploading", "Generating", "Queued", "Downloading"}

    job = window.jobs_panel.job(job_id)
    assert job is not None
    assert job.output_path
    video = Path(job.output_path)
    assert video.is_file()
    assert video.stat().st_size > 0
    assert video.is_relative_to(window.engine.library.root)
    assert sim.count("create") == 1

    # Close (nothing running: no question) and open a new window on the same data folder.
    with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
        window.close()
    again = windows.window(windows.engine(sim, key=TEST_KEY))
    qtbot.waitUntil(lambda: job_id in again.jobs_panel.job_ids(), timeout=WAIT_MS)
    assert again.jobs_panel.status_of(job_id).startswith("Saved")
    assert again.jobs_panel.actions_of(job_id) == ["play", "show_in_folder"]


def test_quitting_keeps_running_jobs_and_the_next_start_resumes_them(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        answer_box: Callable[[str], None]) -> None:
    picture = make_image(media)
    clip = make_video(media, seconds=4)
    sim.config.polls_until_done = 10_000       # the provider keeps working until told
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    window.form.set_inputs([str(picture)], [str(clip)])
    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.SUBMITTED)
    assert window.controller.active_count() == 1

    answer_box("Keep for next time")
    with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
        window.close()
    assert not window.isVisible()
    stored = window.engine.store.get(job_id)
    assert stored is not None
    assert stored.state is JobState.SUBMITTED

    # Next start: the task is polled (never created again) and finishes.
    sim.config.polls_until_done = 1
    again = windows.window(windows.engine(sim, key=TEST_KEY))
    wait_state(again, qtbot, job_id, JobState.COMPLETED)
    assert sim.count("create") == 1
    job = again.jobs_panel.job(job_id)
    assert job is not None
    assert job.create_calls == 1


def test_quitting_can_stop_jobs_not_sent_yet(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        answer_box: Callable[[str], None]) -> None:
    """Quit-and-stop: an upload in progress is aborted and no create ever goes out."""
    sim.config.upload_bytes_per_second = 20_000
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    window.form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=4))])
    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.UPLOADING)
    answer_box("stopJobs")
    with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
        window.close()
    stored = window.engine.store.get(job_id)
    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert sim.count("create") == 0


def test_quitting_keeps_jobs_the_provider_already_has(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        answer_box: Callable[[str], None]) -> None:
    sim.config.polls_until_done = 10_000
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    window.form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=4))])
    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.SUBMITTED)
    answer_box("keepJobs")
    with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
        window.close()
    stored = window.engine.store.get(job_id)
    assert stored is not None
    assert stored.state is JobState.SUBMITTED     # paid for: followed again next time
    assert stored.task_id


def test_dont_quit_keeps_the_window(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        answer_box: Callable[[str], None]) -> None:
    sim.config.polls_until_done = 10_000
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    window.form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=4))])
    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.SUBMITTED)
    answer_box("dontQuit")
    assert not window.close()
    assert window.isVisible()
    assert window.controller.active_count() == 1


# -- the demo ---------------------------------------------------------------------------------

def test_demo_generates_a_result_labelled_demo(qtbot: QtBot, windows: WindowFactory,
                                              answer_box: Callable[[str], None]) -> None:
    session = DemoSession(polls_until_done=2, latency=0.0).start()
    try:
        engine = session.create_engine()
        engine.settings.poll_min_interval = 0.05
        window = windows.window(engine, demo_session=session)
        assert window.banner is not None
        assert window.banner.isVisible()
        assert window.banner.text() == DEMO_BANNER
        assert "Demo" in window.windowTitle()
        images, videos = DemoSession.sample_inputs()
        assert window.form.images() == images
        assert window.form.videos() == videos

        answer_box("generateButton")   # the demo rehearses the confirmation
        job_id = generate(window, qtbot)
        wait_state(window, qtbot, job_id, JobState.COMPLETED)
        job = window.jobs_panel.job(job_id)
        assert job is not None
        assert job.demo
        assert "Demo" in badges_for(job)
        assert job.output_path
        assert Path(job.output_path).is_file()
        assert session.simulator.count("create") == 1
        windows.close_all()
    finally:
        session.stop()
    assert not session.running


@pytest.mark.qt_log_ignore(r"^PulseAudioService: pa_context_connect\(\) failed$",
                           r"^No audio device detected$")
def test_a_saved_result_appears_in_the_library_tab_and_its_settings_come_back(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path) -> None:
    picture = make_image(media, width=600, height=800)
    clip = make_video(media, seconds=4, width=640, height=480)
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    window.form.set_inputs([str(picture)], [str(clip)])
    window.form.prompt_edit.setPlainText("a slow bow")
    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.COMPLETED)

    window.show_gallery()
    gallery = window.gallery
    assert gallery is not None
    assert window.tabs.currentWidget() is window.library_page
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 1, timeout=WAIT_MS)

    # Start over with an empty form, then bring the saved result's settings back.
    window.form.set_inputs([], [])
    window.form.prompt_edit.setPlainText("")
    (entry,) = window.engine.library.entries()
    gallery.use_settings_again.emit(entry)     # the kept copies are named on a worker
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.pages, timeout=WAIT_MS)
    assert window.form.options().prompt == "a slow bow"
    images, videos = window.form.images(), window.form.videos()
    assert len(images) == 1
    assert len(videos) == 1
    # The kept copies inside the library, byte for byte the inputs that were sent.
    assert Path(images[0]).read_bytes() == picture.read_bytes()
    assert Path(videos[0]).read_bytes() == clip.read_bytes()
    assert Path(images[0]).is_relative_to(window.engine.library.root)
