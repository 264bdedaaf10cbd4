"""The generate form, its media slots, the confirm box and the TaskRunner: real widgets.

Everything runs offscreen with real files made by ffmpeg and the engine's real
checks on the real TaskRunner; tests wait on signals, never sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kling_desktop.api.errors import NetworkError
from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation
from kling_desktop.engine.batch import BatchReport, JobOptions, check_batch, rate_key
from kling_desktop.engine.settings import Settings
from kling_desktop.ui.confirm import (
    NO_RATE_TEXT,
    build_confirm_box,
    confirm_generation,
    confirmation_text,
)
from kling_desktop.ui.form import PREVIEW_DECODE_MAX, GenerateForm, MediaSlot
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import muted_color, warning_color
from tests.media import ffmpeg_available, make_image, make_large_png, make_video

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    # Headless test machines have no GPU: Qt Multimedia says it converts video frames
    # (the poster frame, the inline player) on the CPU instead. Desktops never see it.
    pytest.mark.qt_log_ignore(r"No RHI backend\. Using CPU conversion\."),
]

WAIT_MS = 15_000


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


def hosted(qtbot: QtBot, widget: QWidget) -> QWidget:
    """Show ``widget`` in a 1280×800 window, as the main window would embed it.

    Keep the returned host referenced: qtbot holds widgets weakly.

    The host's layout sets no size constraint on the window, so the offscreen
    platform (which cannot apply window size hints) has nothing to warn about.
    """
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    layout.addWidget(widget)
    qtbot.addWidget(host)
    host.resize(1280, 800)
    host.show()
    qtbot.waitExposed(host)
    return host


@pytest.fixture
def form(qtbot: QtBot, tasks: TaskRunner) -> Iterator[GenerateForm]:
    widget = GenerateForm(tasks, Settings())
    host = hosted(qtbot, widget)
    yield widget
    widget.shutdown()
    host.close()


def drop_files(slot: QWidget, paths: list[Path]) -> bool:
    """Drag real file URLs onto ``slot`` and drop them; True if the drag was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = slot.rect().center()
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(slot, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(slot, drop)
    return drop.isAccepted()


def wait_checked(qtbot: QtBot, form: GenerateForm) -> BatchReport:
    qtbot.waitUntil(lambda: form.report() is not None, timeout=WAIT_MS)
    report = form.report()
    assert report is not None
    return report


# -- media slots ---------------------------------------------------------------------------

def test_dropping_a_picture_shows_its_preview_and_size(qtbot: QtBot, form: GenerateForm,
                                                      media: Path) -> None:
    picture = make_image(media, width=600, height=800)
    with qtbot.waitSignal(form.image_slot.preview_shown, timeout=WAIT_MS) as shown:
        assert drop_files(form.image_slot, [picture])
    assert shown.args == [str(picture)]
    assert form.images() == [str(picture)]
    image = form.image_slot.preview_image()
    assert image is not None
    assert not image.isNull()
    assert (image.width(), image.height()) == (600, 800)
    qtbot.waitUntil(lambda: "600 × 800 px" in form.image_slot.info_text(), timeout=WAIT_MS)
    assert "PNG" in form.image_slot.info_text()


def test_a_large_picture_is_previewed_at_preview_size(qtbot: QtBot, form: GenerateForm,
                                                      media: Path) -> None:
    picture = make_large_png(media, width=7000, height=5000)   # 35 MP: accepted
    with qtbot.waitSignal(form.image_slot.preview_shown, timeout=WAIT_MS):
        assert drop_files(form.image_slot, [picture])
    image = form.image_slot.preview_image()
    assert image is not None
    assert (image.width(), image.height()) == (PREVIEW_DECODE_MAX, 914)
    qtbot.waitUntil(lambda: "7000 × 5000 px" in form.image_slot.info_text(), timeout=WAIT_MS)


def test_a_64_megapixel_picture_is_refused_and_never_decoded(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    picture = make_large_png(media, width=8000, height=8000)   # ~190 KB on disk
    assert drop_files(form.image_slot, [picture])
    report = wait_checked(qtbot, form)
    assert not report.ok
    problems = form.image_slot.problems_text()
    assert "8000 × 8000 px, 64 megapixels; the limit is 40 megapixels" in problems
    assert "Scale it down" in problems
    qtbot.waitUntil(
        lambda: form.image_slot.preview.placeholder() == "No preview for this file.",
        timeout=WAIT_MS)
    assert form.image_slot.preview_image() is None


def test_dropping_a_clip_shows_its_first_frame_length_and_resolution(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    clip = make_video(media, seconds=5, width=640, height=480)
    with qtbot.waitSignal(form.video_slot.preview_shown, timeout=WAIT_MS):
        assert drop_files(form.video_slot, [clip])
    poster = form.video_slot.preview_image()
    assert poster is not None
    assert (poster.width(), poster.height()) == (640, 480)
    # The player's own reading first, then the engine's probe (with the container).
    qtbot.waitUntil(lambda: "MP4" in form.video_slot.info_text(), timeout=WAIT_MS)
    assert "5.0 s" in form.video_slot.info_text()
    assert "640 × 480" in form.video_slot.info_text()


def test_a_drag_without_files_or_links_is_refused(qtbot: QtBot, tasks: TaskRunner) -> None:
    slot = MediaSlot("image", tasks)
    _host = hosted(qtbot, slot)
    mime = QMimeData()
    mime.setText("just some words")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(slot, enter)
    assert not enter.isAccepted()
    assert slot.inputs() == []


def test_links_and_removal(qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    picture = make_image(media)
    form.set_inputs([str(picture)], [])
    link = "https://cdn.example.com/clips/dance.mp4"
    with qtbot.waitSignal(form.video_slot.inputs_changed) as changed:
        QTest.keyClicks(form.video_slot.url_edit, link)
        QTest.keyClick(form.video_slot.url_edit, Qt.Key.Key_Return)
    assert changed.args == [[link]]
    assert form.video_slot.url_edit.text() == ""
    report = wait_checked(qtbot, form)
    assert report.ok
    assert form.summary_label.text() == "length unknown for links"
    assert form.generate_button.isEnabled()

    [remove] = form.video_slot.remove_buttons()
    with qtbot.waitSignal(form.video_slot.inputs_changed) as changed:
        remove.click()
    assert changed.args == [[]]
    wait_checked(qtbot, form)
    assert not form.generate_button.isEnabled()
    assert form.summary_label.text() == "Add a motion video"
    # An empty slot shows its placeholder, not a red "nothing chosen".
    assert form.video_slot.problems_text() == ""


def test_the_clip_plays_inline_muted(qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    clip = make_video(media, seconds=4)
    with qtbot.waitSignal(form.video_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([], [str(clip)])
    slot = form.video_slot
    slot.play_button.click()
    qtbot.waitUntil(slot.is_playing, timeout=WAIT_MS)
    assert not slot.sound_button.isChecked()   # muted by default: no audio output at all
    slot.play_button.click()
    qtbot.waitUntil(lambda: not slot.is_playing(), timeout=WAIT_MS)
    slot.stop_playback()


# -- the form's checks ---------------------------------------------------------------------

def test_a_12_second_clip_is_refused_until_the_offered_fix_is_clicked(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    picture = make_image(media)
    clip = make_video(media, seconds=12)
    form.set_inputs([str(picture)], [str(clip)])
    report = wait_checked(qtbot, form)
    assert not report.ok
    assert form.orientation() is Orientation.IMAGE
    assert "12 s long" in form.video_slot.problems_text()
    assert not form.generate_button.isEnabled()

    [fix] = form.video_slot.problem_list.fix_buttons()
    assert "Match the video" in fix.text()
    with qtbot.waitSignal(form.checked, timeout=WAIT_MS) as checked:
        fix.click()
    assert form.orientation() is Orientation.VIDEO
    assert form.options().orientation is Orientation.VIDEO
    assert checked.args[0].ok
    assert form.generate_button.isEnabled()
    assert form.video_slot.problems_text() == ""
    assert form.summary_label.text() == "12.0 s billable"


def test_prompt_counter_counts_characters_and_warns_past_the_limit(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=5))])
    wait_checked(qtbot, form)
    locale = QLocale()   # numbers as the user's locale writes them

    def counter(n: int) -> str:
        return f"{locale.toString(n)} / {locale.toString(MAX_PROMPT_CHARS)}"

    assert form.prompt_counter.text() == counter(0)

    QTest.keyClicks(form.prompt_edit, "A dancer ")
    form.prompt_edit.insertPlainText("在雨中")   # as an input method commits it
    assert form.prompt_counter.text() == counter(12)
    assert form.prompt_counter.palette().color(QPalette.ColorRole.WindowText) == \
        muted_color(form.palette())
    assert form.options().prompt == "A dancer 在雨中"

    # The provider counts characters: 2,500 Chinese characters pass, 2,501 do not.
    form.prompt_edit.setPlainText("舞" * MAX_PROMPT_CHARS)
    assert form.prompt_counter.text() == counter(MAX_PROMPT_CHARS)
    qtbot.waitUntil(lambda: form.generate_button.isEnabled()
                    and form.options().prompt == "舞" * MAX_PROMPT_CHARS, timeout=WAIT_MS)
    assert form.prompt_problems.text() == ""

    form.prompt_edit.setPlainText("舞" * (MAX_PROMPT_CHARS + 1))
    assert form.prompt_counter.text() == counter(MAX_PROMPT_CHARS + 1)
    assert form.prompt_counter.palette().color(QPalette.ColorRole.WindowText) == \
        warning_color(form.palette())
    qtbot.waitUntil(lambda: not form.generate_button.isEnabled(), timeout=WAIT_MS)
    assert "prompt" in form.prompt_problems.text().lower()

    form.prompt_edit.setPlainText("舞" * MAX_PROMPT_CHARS)
    qtbot.waitUntil(form.generate_button.isEnabled, timeout=WAIT_MS)
    assert form.prompt_problems.text() == ""


def test_ctrl_enter_requests_generation_exactly_once(qtbot: QtBot, form: GenerateForm,
                                                     media: Path) -> None:
    form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=5))])
    form.apply_options(JobOptions(model=Model.V2_6, mode=Mode.PRO, prompt="walks",
                                  keep_original_sound=False))
    qtbot.waitUntil(form.is_ready, timeout=WAIT_MS)
    host = form.window()
    host.activateWindow()
    qtbot.waitUntil(host.isActiveWindow)
    form.prompt_edit.setFocus()

    with qtbot.waitSignal(form.generate_requested, timeout=WAIT_MS) as requested:
        QTest.keyClick(form.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    report, options = requested.args[0]
    assert isinstance(report, BatchReport)
    assert report.ok
    assert report.job_count == 1
    assert options == JobOptions(model=Model.V2_6, mode=Mode.PRO, prompt="walks",
                                 keep_original_sound=False)
    assert form.prompt_edit.toPlainText() == "walks"   # the shortcut typed no newline
    assert not form.generate_button.isEnabled()

    with qtbot.assertNotEmitted(form.generate_requested, wait=300):
        QTest.keyClick(form.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        form.generate_button.click()

    form.generation_accepted()
    assert form.generate_button.isEnabled()
    assert form.images()   # kept for the next job
    assert form.videos()
    with qtbot.waitSignal(form.generate_requested, timeout=WAIT_MS):
        form.generate_button.click()
    form.generation_done()
    assert form.generate_button.isEnabled()


def test_a_batch_of_three_pictures_and_one_clip(qtbot: QtBot, tasks: TaskRunner,
                                                media: Path) -> None:
    rates = {rate_key(Model.V3, Mode.STD): 0.1}
    form = GenerateForm(tasks, Settings(rates=rates))
    _host = hosted(qtbot, form)
    pictures = [make_image(media, width=600, height=800 + i, name=f"hero-{i}.png")
                for i in range(3)]
    clip = make_video(media, seconds=5)
    assert drop_files(form.image_slot, pictures)
    assert drop_files(form.video_slot, [clip])
    report = wait_checked(qtbot, form)
    assert report.ok
    assert report.job_count == 3
    assert form.summary_label.text() == "3 jobs · 15.0 s billable"
    assert form.cost_label.text() == "about $1.50 at your rate"
    assert form.generate_button.text() == "Generate 3 videos"
    assert form.image_slot.count_label.text() == "3 pictures"

    form.set_settings(Settings())   # no rate for this model and mode: no cost shown
    assert form.cost_label.text() == ""
    form.shutdown()


def test_apply_options_round_trips(qtbot: QtBot, form: GenerateForm) -> None:
    options = JobOptions(model=Model.V2_6, mode=Mode.PRO, prompt="跳舞",
                         orientation=Orientation.VIDEO, keep_original_sound=False)
    form.apply_options(options)
    assert form.options() == options
    assert form.apply_action("orientation=image")
    assert form.options().orientation is Orientation.IMAGE
    assert not form.apply_action("launch=rockets")


# -- confirm -------------------------------------------------------------------------------

def _checked_batch(media: Path, clips: int = 1) -> BatchReport:
    videos = [str(make_video(media, seconds=5, name=f"clip-{i}.mp4")) for i in range(clips)]
    batch = check_batch([str(make_image(media))], videos, JobOptions())
    assert batch.ok
    return batch


def test_confirm_states_jobs_seconds_and_cost(qtbot: QtBot, media: Path) -> None:
    batch = _checked_batch(media, clips=2)
    settings = Settings(rates={rate_key(Model.V3, Mode.STD): 0.25})
    box = build_confirm_box(None, batch, JobOptions(), settings)
    qtbot.addWidget(box)
    assert "Generate 2 videos?" in box.text()
    question, details = confirmation_text(batch, JobOptions(), settings)
    assert question == "Generate 2 videos?"
    assert "2 jobs · 10.0 s billable" in details
    assert "about $2.50" in details
    assert "about $2.50" in box.informativeText()

    question, details = confirmation_text(batch, JobOptions(mode=Mode.PRO), settings)
    assert NO_RATE_TEXT in details


def _answer_confirm(dont_ask: bool, accept: bool) -> None:
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    check = box.findChild(QCheckBox, "dontAskAgain")
    assert check is not None
    check.setChecked(dont_ask)
    name = "generateButton" if accept else "cancelButton"
    button = box.findChild(QPushButton, name)
    assert button is not None
    button.click()


# A QMessageBox fixes its own size when shown; the offscreen platform cannot apply
# window size hints and says so. Real platforms do apply them.
OFFSCREEN_SIZE_HINTS = r"^This plugin does not support propagateSizeHints\(\)$"


@pytest.mark.qt_log_ignore(OFFSCREEN_SIZE_HINTS)
@pytest.mark.parametrize(("dont_ask", "accept"), [(True, True), (False, True), (True, False)])
def test_confirm_generation_answers_and_dont_ask_again(
        qtbot: QtBot, media: Path, dont_ask: bool, accept: bool) -> None:
    batch = _checked_batch(media)
    settings = Settings()
    parent = QWidget()
    qtbot.addWidget(parent)
    QTimer.singleShot(0, lambda: _answer_confirm(dont_ask, accept))
    assert confirm_generation(parent, batch, JobOptions(), settings) is accept
    assert settings.confirm_before_generate is not (dont_ask and accept)


# -- the task runner -----------------------------------------------------------------------

def test_results_and_failures_arrive_on_the_main_thread(qtbot: QtBot,
                                                        tasks: TaskRunner) -> None:
    main = threading.get_ident()
    results: list[tuple[object, int]] = []
    failures: list[tuple[BaseException, int]] = []

    def work(x: int) -> tuple[int, int]:
        return x * 2, threading.get_ident()

    def broken() -> None:
        raise NetworkError()

    tasks.run(work, 21, on_done=lambda r: results.append((r, threading.get_ident())))
    tasks.run(broken, on_failed=lambda e: failures.append((e, threading.get_ident())))
    qtbot.waitUntil(lambda: len(results) + len(failures) == 2, timeout=WAIT_MS)
    [(result, delivered_on)] = results
    assert isinstance(result, tuple)
    doubled, worked_on = result
    assert doubled == 42
    assert worked_on != main
    assert delivered_on == main
    [(error, delivered_on)] = failures
    assert isinstance(error, NetworkError)
    assert delivered_on == main


def test_a_newer_request_with_the_same_key_drops_the_older_result(
        qtbot: QtBot, tasks: TaskRunner) -> None:
    release = threading.Event()
    delivered: list[str] = []

    def slow(name: str, cancel: threading.Event) -> str:
        release.wait(5)
        return name if not cancel.is_set() else f"{name} (cancelled)"

    first = tasks.run(slow, "old", key="k", pass_cancel=True, on_done=delivered.append)
    tasks.run(slow, "new", key="k", pass_cancel=True, on_done=delivered.append)
    assert first.cancelled
    assert first.cancel_event.is_set()
    release.set()
    qtbot.waitUntil(lambda: delivered == ["new"], timeout=WAIT_MS)
    qtbot.waitUntil(tasks.is_idle, timeout=WAIT_MS)
    assert delivered == ["new"]


def test_shutdown_waits_and_drops_pending_callbacks(qtbot: QtBot) -> None:
    runner = TaskRunner(max_threads=1)
    started = threading.Event()
    release = threading.Event()
    delivered: list[object] = []

    def block() -> str:
        started.set()
        release.wait(5)
        return "late"

    runner.run(block, on_done=delivered.append)
    runner.run(block, on_done=delivered.append)   # queued behind the first: discarded
    assert started.wait(5)
    releaser = threading.Timer(0.05, release.set)   # the main thread is blocked in shutdown
    releaser.start()
    assert runner.shutdown(5000)
    releaser.join()
    assert runner.closed
    with pytest.raises(RuntimeError):
        runner.run(block)
    QApplication.processEvents()
    assert delivered == []
