"""The window is one face of the job service: it shares jobs with `kling-desktop wait`
without ever paying twice, and refuses what the command line refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kling_desktop.engine.jobs import JobSpec, JobState
from kling_desktop.simulator import Simulator
from tests.cli_support import RunningCli, cli_env, write_settings
from tests.conftest import TEST_KEY
from tests.media import make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]


def test_the_window_and_wait_follow_one_job_with_one_create(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        data_dir: Path) -> None:
    picture = make_image(media)
    clip = make_video(media, seconds=6, width=1280, height=720)
    write_settings(data_dir)
    sim.config.upload_bytes_per_second = 400_000   # the upload outlasts any timer
    engine = windows.engine(sim, key=TEST_KEY)
    job = engine.store.add_job(JobSpec(image=str(picture), video=str(clip),
                                       billable_seconds=6.0),
                               base_url=sim.base_url, demo=False)
    window = windows.window(engine, has_key=True)

    def state() -> JobState | None:
        shown = window.jobs_panel.job(job.id)
        return None if shown is None else shown.state

    qtbot.waitUntil(lambda: state() is JobState.UPLOADING, timeout=WAIT_MS)
    other = RunningCli(["wait", "--json"], cli_env(data_dir, sim.base_url))
    line = other.wait_for_line(lambda text: "being followed by" in text)
    assert "the window" in line
    qtbot.waitUntil(lambda: state() is JobState.COMPLETED, timeout=60_000)
    assert other.finish() == 0, "\n".join(other.lines)
    assert sim.count("create") == 1
    assert sim.count("download", status=200) == 1


def test_the_window_refuses_an_unwritable_library_before_anything_is_sent(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the library folder should be")
    engine = windows.engine(sim, key=TEST_KEY, library_dir=str(blocker / "library"))
    window = windows.window(engine, has_key=True)
    window.form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=4))])
    with qtbot.waitSignal(window.controller.submit_failed, timeout=WAIT_MS) as refused:
        qtbot.waitUntil(window.form.generate_button.isEnabled, timeout=WAIT_MS)
        window.form.generate_button.click()
    error = refused.args[0]
    assert "library folder" in error.message
    assert "Settings" in error.fix
    assert engine.store.list_jobs() == []
    assert sim.requests == []
