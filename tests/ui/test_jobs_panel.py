"""The jobs panel on its own: real widgets, real media, real poster frames.

Jobs are plain ``Job`` values (as the store hands them over); the result videos
and pictures are real files made by ffmpeg, so posters are really decoded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QLoggingCategory, Qt
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import GenerationOptions, Mode, Model
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.ui.jobs import JobsPanel
from kling_desktop.ui.jobs.wording import title_text, tooltip_text, when_text
from kling_desktop.ui.tasks import TaskRunner
from tests.media import make_image, make_video

WAIT_MS = 15_000


@pytest.fixture(autouse=True, scope="module")
def quiet_decoder_notes() -> Iterator[None]:
    """The poster thread's per-clip codec note, silenced (see tests/ui/test_gallery.py)."""
    QLoggingCategory.setFilterRules("qt.multimedia.playbackengine.codec.info=false")
    yield
    QLoggingCategory.setFilterRules("")


@pytest.fixture
def tasks() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


@pytest.fixture
def panel(qtbot: QtBot, tasks: TaskRunner) -> Iterator[JobsPanel]:
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    jobs = JobsPanel(tasks, host)
    layout.addWidget(jobs)
    host.resize(520, 700)
    host.show()
    qtbot.waitExposed(host)
    yield jobs
    assert jobs.shutdown(5000), "the poster thread outlived the test"


_ids = iter(range(1, 10_000))


def a_job(image: Path, clip: Path, *, prompt: str = "", state: JobState = JobState.COMPLETED,
          output: Path | None = None) -> Job:
    now = time.time()
    spec = JobSpec(image=str(image), video=str(clip),
                   options=GenerationOptions(model=Model.V3, mode=Mode.PRO, prompt=prompt))
    return Job(id=next(_ids), spec=spec, state=state, base_url="https://api.example.com",
               demo=False, created_at=now, updated_at=now, task_id="task-unified-1-abcdefgh",
               output_path=str(output) if output is not None else None)


def test_jobs_made_from_one_picture_read_apart_by_their_prompts(
        qtbot: QtBot, panel: JobsPanel, media: Path) -> None:
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    waving = a_job(image, clip, prompt="waves both arms above the head", state=JobState.QUEUED)
    spinning = a_job(image, clip, prompt="spins around twice, then bows", state=JobState.QUEUED)
    plain = a_job(image, clip, state=JobState.QUEUED)
    panel.set_jobs([waving, spinning, plain])

    titles = {title_text(job) for job in (waving, spinning, plain)}
    assert titles == {"hero — waves both arms above the head",
                      "hero — spins around twice, then bows", "hero + dance"}
    rows = [panel.model.index(row).data(Qt.ItemDataRole.DisplayRole) for row in range(3)]
    assert all("task" not in row and "abcdefgh" not in row for row in rows)
    tip = tooltip_text(waving)
    assert "hero.png + dance.mp4" in tip          # the full names stay one hover away
    assert when_text(waving) in tip               # so does when it was made


def test_a_saved_job_shows_its_results_poster_not_its_picture(
        qtbot: QtBot, panel: JobsPanel, media: Path) -> None:
    image = make_image(media / "in", width=300, height=400, name="hero.png")
    clip = make_video(media / "in", seconds=1, width=320, height=240, name="dance.mp4")
    result = make_video(media / "out", seconds=1, width=640, height=360, name="result.mp4")
    running = a_job(image, clip, state=JobState.SUBMITTED)
    saved = a_job(image, clip, output=result)
    panel.set_jobs([running, saved])
    thumbs = panel.thumbnails

    # the running job shows its picture; the saved one its result's first frame
    qtbot.waitUntil(lambda: thumbs.has(str(image)), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: thumbs.shows_poster(saved), timeout=WAIT_MS)
    assert not thumbs.shows_poster(running)
    poster = thumbs.get(saved, 1.0)
    assert isinstance(poster, QPixmap)
    assert abs(poster.width() / poster.height() - 640 / 360) < 0.05   # the result's shape
    picture = thumbs.get(running, 1.0)
    assert picture is not None
    assert picture.width() == picture.height()    # the picture, cropped square


def test_a_saved_job_whose_video_is_gone_keeps_its_picture(
        qtbot: QtBot, panel: JobsPanel, media: Path) -> None:
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    saved = a_job(image, clip, output=media / "out" / "moved away.mp4")
    panel.set_jobs([saved])
    thumbs = panel.thumbnails
    qtbot.waitUntil(lambda: thumbs.posters.has_failed(str(media / "out" / "moved away.mp4"))
                    and thumbs.has(str(image)), timeout=WAIT_MS)
    assert not thumbs.shows_poster(saved)
    assert thumbs.get(saved, 1.0) is not None


def test_the_current_row_shows_a_focus_frame(qtbot: QtBot, panel: JobsPanel,
                                             media: Path) -> None:
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    panel.set_jobs([a_job(image, clip, state=JobState.QUEUED)])
    view, delegate = panel.view, panel.delegate
    index = panel.model.index(0)

    def painted(focus: bool) -> QImage:
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = view.visualRect(index)
        if focus:
            option.state |= QStyle.StateFlag.State_HasFocus
        else:
            option.state &= ~QStyle.StateFlag.State_HasFocus
        picture = QImage(view.viewport().size(), QImage.Format.Format_ARGB32)
        picture.fill(0)
        painter = QPainter(picture)
        delegate.paint(painter, option, index)
        painter.end()
        return picture

    plain, focused = painted(False), painted(True)
    assert plain != focused
    # the frame is on the row's edge: its left column changes, in the highlight colour
    rect = view.visualRect(index)
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    edge = [focused.pixelColor(rect.left() + 1, y) for y in range(rect.top() + 8,
                                                                   rect.bottom() - 8)]
    assert any(abs(c.red() - highlight.red()) + abs(c.green() - highlight.green())
               + abs(c.blue() - highlight.blue()) < 60 for c in edge)


def _listed_with_one_selected(panel: JobsPanel, media: Path, state: JobState, *,
                              count: int, chosen: int) -> tuple[list[Job], int]:
    """``count`` jobs listed in ``panel``, ``jobs[chosen]`` selected; the jobs and its row."""
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    jobs = [a_job(image, clip, prompt=f"dance {n}", state=state) for n in range(count)]
    panel.set_jobs(jobs)
    row = panel.model.row_of(jobs[chosen].id)
    assert row is not None
    panel.view.setCurrentIndex(panel.model.index(row))
    return jobs, row


def test_the_list_read_again_keeps_the_selection_and_the_scroll(
        qtbot: QtBot, panel: JobsPanel, media: Path) -> None:
    """The list is read again once a key is set up: the job the user picked stays picked
    and where it was on screen; a job that changed meanwhile shows its new state."""
    jobs, row = _listed_with_one_selected(panel, media, JobState.QUEUED, count=30, chosen=3)
    qtbot.waitUntil(lambda: panel.view.visualRect(panel.model.index(row)).isValid(),
                    timeout=WAIT_MS)                  # (rows are laid out in batches)
    panel.view.scrollTo(panel.model.index(row))      # far down the list
    qtbot.waitUntil(lambda: panel.view.verticalScrollBar().value() > 0, timeout=WAIT_MS)
    scrolled = panel.view.verticalScrollBar().value()
    waiting = panel.status_of(jobs[5].id)
    moved_on = replace(jobs[5], state=JobState.CANCELLED, updated_at=jobs[5].updated_at + 1)
    older = replace(jobs[6], state=JobState.FAILED, updated_at=jobs[6].updated_at - 1)
    panel.set_jobs([*jobs[:5], moved_on, older, *jobs[7:]])
    assert panel.view.currentIndex().row() == row
    assert panel.view.verticalScrollBar().value() == scrolled
    assert panel.status_of(moved_on.id) != waiting
    listed = panel.model.job(moved_on.id)
    assert listed is not None
    assert listed.state is JobState.CANCELLED
    kept = panel.model.job(older.id)
    assert kept is not None
    assert kept.state is JobState.QUEUED


def test_a_list_with_a_new_job_keeps_the_selected_job(
        qtbot: QtBot, panel: JobsPanel, media: Path) -> None:
    jobs, row = _listed_with_one_selected(panel, media, JobState.CANCELLED, count=5, chosen=2)
    chosen = jobs[2]
    newer = a_job(Path(jobs[0].spec.image), Path(jobs[0].spec.video), prompt="a newer dance",
                  state=JobState.CANCELLED)
    panel.set_jobs([*jobs, newer])
    assert panel.model.rowCount() == 6
    current = panel.view.currentIndex()
    assert current.isValid()
    assert current.row() == row + 1
    entry = panel.model.entry(current.row())
    assert entry is not None
    assert entry[0].id == chosen.id
