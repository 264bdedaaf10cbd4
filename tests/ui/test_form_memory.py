"""The form after a restart, in the demo, on Ctrl+Enter, and in the log.

Real widgets, real files (ffmpeg), a real form.json in the test's data folder.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kling_desktop import paths
from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.batch import JobOptions
from kling_desktop.engine.settings import Settings
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.form.generate_form import DEMO_NOTE
from kling_desktop.ui.form.memory import memory_file
from kling_desktop.ui.tasks import TaskRunner
from tests.media import ffmpeg_available, make_image, make_truncated_png, make_video
from tests.ui.test_generate_form import WAIT_MS, hosted, wait_checked

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(r"No RHI backend\. Using CPU conversion\."),
]

OPTIONS = JobOptions(model=Model.V2_6, mode=Mode.PRO, prompt="a slow bow, 雨",
                     orientation=Orientation.VIDEO, keep_original_sound=False)


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


def build(qtbot: QtBot, tasks: TaskRunner, *, demo: bool = False,
          ) -> tuple[GenerateForm, QWidget]:
    form = GenerateForm(tasks, Settings(), demo=demo)
    return form, hosted(qtbot, form)


def test_the_form_comes_back_after_a_restart(qtbot: QtBot, tasks: TaskRunner,
                                             media: Path) -> None:
    pictures = [str(make_image(media, width=600, height=800 + i, name=f"hero-{i}.png"))
                for i in range(2)]
    clip = str(make_video(media, seconds=12))
    form, host = build(qtbot, tasks)
    form.set_inputs(pictures, [clip])
    form.apply_options(OPTIONS)
    form.shutdown()       # the window's close: the last change is kept
    host.close()
    assert memory_file().is_file()
    assert "key" not in memory_file().read_text(encoding="utf-8").lower()

    again, host = build(qtbot, tasks)
    qtbot.waitUntil(lambda: again.images() == pictures, timeout=WAIT_MS)
    assert again.videos() == [clip]
    assert again.options() == OPTIONS
    assert again.image_slot.is_batch()
    assert not again.video_slot.is_batch()
    assert again.form_note.text() == ""
    again.shutdown()


def test_files_gone_since_are_left_out_with_a_quiet_note(qtbot: QtBot, tasks: TaskRunner,
                                                        media: Path) -> None:
    picture = make_image(media, name="moved-away.png")
    clip = str(make_video(media, seconds=4))
    form, host = build(qtbot, tasks)
    form.set_inputs([str(picture)], [clip])
    form.shutdown()
    host.close()
    picture.unlink()

    again, host = build(qtbot, tasks)
    qtbot.waitUntil(lambda: again.videos() == [clip], timeout=WAIT_MS)
    assert again.images() == []
    assert "moved-away.png" in again.form_note.text()
    assert again.form_note.isVisible()
    again.shutdown()


def test_the_demo_starts_clean_and_says_what_it_returns(qtbot: QtBot, tasks: TaskRunner,
                                                       media: Path) -> None:
    kept, host = build(qtbot, tasks)
    kept.set_inputs([str(make_image(media))], [])
    kept.shutdown()
    host.close()

    demo, _host = build(qtbot, tasks, demo=True)
    demo.set_inputs([str(paths.sample_character())], [str(paths.sample_motion())])
    wait_checked(qtbot, demo)
    assert demo.images() == [str(paths.sample_character())]   # nothing recalled over it
    assert not demo.form_note.isVisible()
    demo.set_inputs([str(make_image(media, name="my-hero.png"))], demo.videos())
    assert demo.form_note.text() == DEMO_NOTE
    assert demo.form_note.isVisible()
    demo.set_inputs([str(paths.sample_character())], demo.videos())
    assert not demo.form_note.isVisible()
    demo.shutdown()


def test_the_demo_knows_its_sample_by_its_bytes_under_another_name(
        qtbot: QtBot, tasks: TaskRunner, tmp_path: Path) -> None:
    # "Use these settings again" gives the sample back as a kept copy elsewhere.
    kept_copy = tmp_path / "kept" / "character.png"
    kept_copy.parent.mkdir()
    shutil.copyfile(paths.sample_character(), kept_copy)
    demo, _host = build(qtbot, tasks, demo=True)
    demo.set_inputs([str(kept_copy)], [str(paths.sample_motion())])
    wait_checked(qtbot, demo)
    assert not demo.form_note.isVisible()
    demo.shutdown()


def test_ctrl_enter_generates_from_anywhere_in_the_form(qtbot: QtBot, tasks: TaskRunner,
                                                       media: Path) -> None:
    form, host = build(qtbot, tasks)
    form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=4))])
    qtbot.waitUntil(form.is_ready, timeout=WAIT_MS)
    host.activateWindow()
    qtbot.waitUntil(host.isActiveWindow)
    for widget in (form.image_slot.choose_button, form.video_slot.url_edit,
                   form.model_combo, form.prompt_edit):
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus)
        with qtbot.waitSignal(form.generate_requested, timeout=WAIT_MS):
            QTest.keyClick(widget, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        form.generation_done()
    assert form.prompt_edit.toPlainText() == ""   # the prompt box did not eat it
    form.shutdown()


def test_a_refused_input_is_one_info_line(qtbot: QtBot, tasks: TaskRunner, media: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    form, _host = build(qtbot, tasks)
    form.set_inputs([str(make_truncated_png(media))], [str(make_video(media, seconds=4))])
    report = wait_checked(qtbot, form)
    assert not report.ok
    form.prompt_edit.setPlainText("again")   # checked again: the same refusal, not logged twice
    wait_checked(qtbot, form)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1
    [record] = refusals
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert "\n" not in record.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    form.shutdown()
