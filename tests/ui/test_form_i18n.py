"""The form, its refusals, the confirmation and the window's message boxes speak the
user's language: Chinese read as Chinese, and nothing visible escapes translation
(pseudo-language walk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLayout, QMessageBox, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model
from kling_desktop.engine.batch import JobOptions, check_batch
from kling_desktop.engine.settings import Settings, rate_key
from kling_desktop.ui.confirm import build_confirm_box
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.main_window.dialogs import (
    ask_about_running_jobs,
    confirm_send_again,
    confirm_stop_following,
)
from kling_desktop.ui.tasks import TaskRunner
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS
from tests.ui.i18n_support import language, untranslated

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES),
]

# Qt's own words (its standard buttons come from qtbase's catalog, not ours).
QT_OWN = ("Cancel", "&Cancel", "OK", "&OK")


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


def _form(qtbot: QtBot, tasks: TaskRunner, width: int = 1280,
          height: int = 800) -> tuple[GenerateForm, QWidget]:
    form = GenerateForm(tasks, Settings(rates={rate_key(Model.V3, Mode.STD): 0.25}))
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    layout.addWidget(form)
    qtbot.addWidget(host)
    host.resize(width, height)
    host.show()
    qtbot.waitExposed(host)
    return form, host


def _checked(qtbot: QtBot, form: GenerateForm) -> None:
    qtbot.waitUntil(lambda: form.report() is not None, timeout=WAIT_MS)


def test_the_form_reads_in_chinese(qtbot: QtBot, tasks: TaskRunner, media: Path) -> None:
    picture = make_image(media)
    short_clip = make_video(media, seconds=2)
    with language("zh_CN"):
        form, _host = _form(qtbot, tasks)
        form.set_inputs([str(picture)], [str(short_clip)])
        _checked(qtbot, form)
        assert form.image_slot.title_label.text() == "人物图片"
        assert form.video_slot.title_label.text() == "动作参考视频"
        assert form.image_slot.choose_button.text() == "选择…"
        assert form.generate_button.text() == "生成"
        assert form.image_slot.batch_check.text() == "添加多张图片（批量）"
        # The refusal and its fix, whole Chinese sentences with the numbers in place.
        qtbot.waitUntil(lambda: "动作参考视频时长" in form.video_slot.problems_text(),
                        timeout=WAIT_MS)
        assert "至少需要 3 秒" in form.video_slot.problems_text()
        assert form.summary_label.text() == ""   # nothing accepted, nothing billed
        form.shutdown()


def test_the_prompt_counts_chinese_characters_as_the_provider_does(
        qtbot: QtBot, tasks: TaskRunner, media: Path) -> None:
    with language("zh_CN"):
        form, _host = _form(qtbot, tasks)
        form.set_inputs([str(make_image(media))], [str(make_video(media, seconds=5))])
        _checked(qtbot, form)
        form.prompt_edit.setPlainText("舞" * MAX_PROMPT_CHARS)
        qtbot.waitUntil(lambda: form.generate_button.isEnabled()
                        and form.options().prompt == "舞" * MAX_PROMPT_CHARS, timeout=WAIT_MS)
        assert form.prompt_problems.text() == ""
        assert form.summary_label.text().startswith("计费 ")

        form.prompt_edit.setPlainText("舞" * (MAX_PROMPT_CHARS + 1))
        qtbot.waitUntil(lambda: not form.generate_button.isEnabled(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "提示词共" in form.prompt_problems.text(), timeout=WAIT_MS)
        assert "请至少删减 1 个字符" in form.prompt_problems.text()
        form.shutdown()


def test_nothing_visible_in_the_form_escapes_translation(
        qtbot: QtBot, tasks: TaskRunner, media: Path) -> None:
    picture = make_image(media)
    clips = [make_video(media, seconds=5, name=f"clip{n}.mp4") for n in (1, 2)]
    with language("pseudo"):
        form, host = _form(qtbot, tasks, 1024, 700)
        form.video_slot.set_batch(True)
        form.set_inputs([str(picture)], [str(c) for c in clips])
        _checked(qtbot, form)
        form.prompt_edit.setPlainText("x" * (MAX_PROMPT_CHARS + 1))  # a prompt problem
        qtbot.waitUntil(lambda: form.prompt_problems.text() != "", timeout=WAIT_MS)
        files = [picture, *clips]
        names = [*(f.name for f in files), *(str(f) for f in files),
                 "x" * (MAX_PROMPT_CHARS + 1), "PNG", "MP4"]
        assert untranslated(host, allowed=names) == []
        form.shutdown()


def test_nothing_in_the_confirmation_escapes_translation(qtbot: QtBot, media: Path) -> None:
    with language("pseudo"):
        batch = check_batch([str(make_image(media))],
                            [str(make_video(media, seconds=5, name=f"c{n}.mp4")) for n in (1, 2)],
                            JobOptions())
        assert batch.ok
        for demo in (False, True):
            box = build_confirm_box(None, batch, JobOptions(),
                                    Settings(rates={rate_key(Model.V3, Mode.STD): 0.25}),
                                    demo=demo)
            qtbot.addWidget(box)
            box.show()
            assert untranslated(box, allowed=QT_OWN) == []
    with language("zh_CN"):
        box = build_confirm_box(None, batch, JobOptions(), Settings())
        qtbot.addWidget(box)
        assert "生成 2 个视频？" in box.text()
        assert box.windowTitle() == "生成"
        assert "2 个任务 · 共计费 10.0" in box.informativeText()


def _walk_next_box(seen: list[str], answer: str) -> None:
    """Walk the next modal message box's texts into ``seen``, then press ``answer``."""

    def look() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, look)
            return
        seen.extend(untranslated(box, allowed=QT_OWN))
        seen.append(f"shown: {box.text()}")
        for button in box.buttons():
            if button.objectName() == answer or button.text() == answer:
                button.click()
                return
        box.reject()

    QTimer.singleShot(0, look)


def test_nothing_in_the_message_boxes_escapes_translation(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    with language("pseudo"):
        for ask in (
            lambda: ask_about_running_jobs(parent, 3, unsent=1, demo=False),
            lambda: ask_about_running_jobs(parent, 2, unsent=0, demo=True),
            lambda: confirm_stop_following(parent),
            lambda: confirm_stop_following(parent, demo=True),
            lambda: confirm_send_again(parent),
            lambda: confirm_send_again(parent, demo=True),
        ):
            seen: list[str] = []
            _walk_next_box(seen, "dontQuit")
            ask()
            problems = [line for line in seen if not line.startswith("shown: ")]
            assert problems == []
            assert len(seen) == len(problems) + 1, "the box was not seen"
    with language("zh_CN"):
        seen = []
        _walk_next_box(seen, "dontQuit")
        ask_about_running_jobs(parent, 3, unsent=1, demo=False)
        assert "shown: 保留 3 个正在运行的任务，下次继续？" in seen
