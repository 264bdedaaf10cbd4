"""One picture and one clip by default; a batch only when the artist asks for it.

Real widgets, real files (ffmpeg), the engine's real checks on the real TaskRunner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from kling_desktop.ui.form import GenerateForm
from tests.media import ffmpeg_available, make_image, make_truncated_png, make_video
from tests.ui.test_generate_form import WAIT_MS, drop_files, wait_checked

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(r"No RHI backend\. Using CPU conversion\."),
]




class FakeDialog:
    """Stands in for the file dialog: answers each call with the next pick."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, picks: list[list[Path]]) -> None:
        self.picks = picks
        self.asked: list[str] = []
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self.one)
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", self.many)

    def one(self, *_args: object) -> tuple[str, str]:
        self.asked.append("one")
        [path] = self.picks.pop(0)
        return str(path), ""

    def many(self, *_args: object) -> tuple[list[str], str]:
        self.asked.append("many")
        return [str(p) for p in self.picks.pop(0)], ""


def test_choose_replaces_the_picture_by_default(qtbot: QtBot, form: GenerateForm, media: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_image(media, name="first.png")
    second = make_image(media, width=640, name="second.png")
    dialog = FakeDialog(monkeypatch, [[first], [second]])
    slot = form.image_slot
    assert not slot.batch_check.isChecked()
    assert slot.batch_check.text() == "Add more pictures (batch)"
    assert slot.batch_check.isVisible()
    slot.choose_button.click()
    slot.choose_button.click()
    assert dialog.asked == ["one", "one"]   # one file at a time: the dialog says so too
    assert form.images() == [str(second)]
    assert not slot.is_batch()


def test_a_drop_replaces_the_clip_by_default(qtbot: QtBot, form: GenerateForm,
                                             media: Path) -> None:
    first = make_video(media, seconds=4, name="walk.mp4")
    second = make_video(media, seconds=5, name="jump.mp4")
    with qtbot.waitSignal(form.video_slot.preview_shown, timeout=WAIT_MS):
        assert drop_files(form.video_slot, [first])
    assert drop_files(form.video_slot, [second])
    assert form.videos() == [str(second)]
    form.set_inputs([str(make_image(media))], form.videos())
    report = wait_checked(qtbot, form)
    assert report.ok
    assert report.job_count == 1
    assert form.summary_label.text() == "5.0 s billable"
    assert form.generate_button.text() == "Generate"


def test_the_batch_switch_makes_picks_add(qtbot: QtBot, form: GenerateForm, media: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pictures = [make_image(media, width=600, height=800 + i, name=f"hero-{i}.png")
                for i in range(3)]
    dialog = FakeDialog(monkeypatch, [[pictures[0]], [pictures[1], pictures[2]]])
    slot = form.image_slot
    slot.choose_button.click()
    slot.batch_check.click()
    assert slot.is_batch()
    slot.choose_button.click()
    assert dialog.asked == ["one", "many"]
    assert form.images() == [str(p) for p in pictures]
    assert slot.count_label.text() == "3 pictures"
    form.set_inputs(form.images(), [str(make_video(media, seconds=5))])
    report = wait_checked(qtbot, form)
    assert report.job_count == 3
    assert form.summary_label.text() == "3 jobs · 15.0 s billable"

    # Off again: one picture, the one on show; the others leave the slot.
    slot.list_widget.setCurrentRow(1)
    slot.batch_check.click()
    assert not slot.is_batch()
    assert form.images() == [str(pictures[1])]


def test_dropping_several_files_turns_the_batch_on(qtbot: QtBot, form: GenerateForm,
                                                   media: Path) -> None:
    pictures = [make_image(media, width=600, height=800 + i, name=f"hero-{i}.png")
                for i in range(2)]
    assert drop_files(form.image_slot, pictures)
    assert form.image_slot.is_batch()
    assert form.image_slot.batch_check.isChecked()
    assert form.images() == [str(p) for p in pictures]
    extra = make_image(media, width=600, height=900, name="hero-extra.png")
    assert drop_files(form.image_slot, [extra])   # in a batch, a drop adds
    assert form.images() == [*map(str, pictures), str(extra)]


def test_refused_inputs_do_not_count_toward_jobs_or_seconds(qtbot: QtBot, form: GenerateForm,
                                                           media: Path) -> None:
    good = [make_image(media, width=600, height=800 + i, name=f"ok-{i}.png") for i in range(2)]
    refused = make_truncated_png(media)
    form.set_inputs([*map(str, good), str(refused)], [str(make_video(media, seconds=4))])
    report = wait_checked(qtbot, form)
    assert not report.ok
    assert form.summary_label.text() == "2 of 3 jobs ready · 8.0 s billable"
    assert not form.generate_button.isEnabled()

    form.set_inputs([str(refused)], form.videos())
    wait_checked(qtbot, form)
    assert form.summary_label.text() == ""   # nothing would be made: the refusal says why
    qtbot.waitUntil(lambda: "incomplete" in form.image_slot.problems_text(), timeout=WAIT_MS)
