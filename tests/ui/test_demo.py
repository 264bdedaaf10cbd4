"""The demo as a first-time artist meets it: the confirmation step rehearsed (marked
"nothing is billed"), and a result in which the sample character performs the motion.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop import paths
from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.batch import BatchReport, JobOptions, check_batch
from kling_desktop.engine.jobs import JobState
from kling_desktop.engine.settings import Settings, rate_key
from kling_desktop.ui.confirm import DEMO_MARK, build_confirm_box, confirmation_text
from kling_desktop.ui.demo import DemoSession
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.main_window.dialogs import confirm_send_again, confirm_stop_following
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES),
]


@pytest.fixture
def demo_window(windows: WindowFactory) -> Iterator[tuple[MainWindow, DemoSession]]:
    session = DemoSession(polls_until_done=2, latency=0.0).start()
    try:
        engine = session.create_engine()
        engine.settings.poll_min_interval = 0.05
        yield windows.window(engine, demo_session=session), session
        windows.close_all()
    finally:
        session.stop()


class BoxSeen:
    """What the modal confirmation said, then the button it was answered with."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.title = self.text = self.details = ""
        self.has_dont_ask = True
        self.shown = False

    def arm(self) -> None:
        QTimer.singleShot(0, self._look)

    def _look(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, self._look)
            return
        self.shown = True
        self.title, self.text = box.windowTitle(), box.text()
        self.details = box.informativeText()
        self.has_dont_ask = box.findChild(QCheckBox, "dontAskAgain") is not None
        for button in box.findChildren(QPushButton):
            if self.answer in (button.objectName(), button.text()):
                button.click()
                return
        raise AssertionError(f"no button {self.answer!r}")


def press_generate(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.waitUntil(window.form.generate_button.isEnabled, timeout=WAIT_MS)
    QTest.mouseClick(window.form.generate_button, Qt.MouseButton.LeftButton)


def test_the_demo_asks_first_marked_nothing_billed_and_goes_on_when_accepted(
        qtbot: QtBot, demo_window: tuple[MainWindow, DemoSession]) -> None:
    window, session = demo_window
    window.user_settings.confirm_before_generate = False   # "Don't ask again" earlier
    seen = BoxSeen("generateButton")
    seen.arm()
    with qtbot.waitSignal(window.controller.submitted, timeout=WAIT_MS):
        press_generate(window, qtbot)
    assert seen.shown
    assert "Demo" in seen.title
    assert "demo" in seen.text.lower()
    assert DEMO_MARK in seen.details
    assert "Estimated cost" not in seen.details
    assert not seen.has_dont_ask
    qtbot.waitUntil(lambda: session.simulator.count("create") == 1, timeout=WAIT_MS)
    assert window.user_settings.confirm_before_generate is False   # untouched


def test_cancelling_the_demo_confirmation_sends_nothing(
        qtbot: QtBot, demo_window: tuple[MainWindow, DemoSession]) -> None:
    window, session = demo_window
    seen = BoxSeen("cancelButton")
    seen.arm()
    press_generate(window, qtbot)
    qtbot.waitUntil(lambda: seen.shown, timeout=WAIT_MS)
    qtbot.waitUntil(window.form.generate_button.isEnabled, timeout=WAIT_MS)
    assert window.jobs_panel.job_ids() == []
    assert session.simulator.count("upload") == 0
    assert session.simulator.count("create") == 0


def test_a_demo_job_returns_the_sample_result_not_the_motion_clip(
        qtbot: QtBot, demo_window: tuple[MainWindow, DemoSession]) -> None:
    window, _session = demo_window
    seen = BoxSeen("generateButton")
    seen.arm()
    with qtbot.waitSignal(window.controller.submitted, timeout=WAIT_MS) as submitted:
        press_generate(window, qtbot)
    (job,) = submitted.args[0]
    assert seen.shown

    def saved() -> bool:
        current = window.jobs_panel.job(job.id)
        return current is not None and current.state is JobState.COMPLETED

    qtbot.waitUntil(saved, timeout=WAIT_MS)
    done = window.jobs_panel.job(job.id)
    assert done is not None
    assert done.output_path
    result = Path(done.output_path).read_bytes()
    assert result == paths.sample_result().read_bytes()
    assert result != paths.sample_motion().read_bytes()


def _batch(media: Path) -> BatchReport:
    batch = check_batch([str(make_image(media))], [str(make_video(media, seconds=5))],
                        JobOptions())
    assert batch.ok
    return batch


def test_demo_confirmation_words_never_bill(qtbot: QtBot, media: Path) -> None:
    batch = _batch(media)
    settings = Settings(rates={rate_key(Model.V3, Mode.STD): 0.25})
    question, details = confirmation_text(batch, JobOptions(), settings, demo=True)
    assert question == "Generate this demo video?"
    assert details.splitlines()[0] == DEMO_MARK
    real = details.splitlines()[2]
    assert real.startswith("With your own key this would bill 5.0 s, about ")
    assert "1.25" in real
    assert real.endswith(" at your rate.")
    assert "Estimated cost" not in details
    box = build_confirm_box(None, batch, JobOptions(), settings, demo=True)
    qtbot.addWidget(box)
    assert box.windowTitle() == "Generate — Demo"
    assert DEMO_MARK in box.informativeText()
    assert box.checkBox() is None

    # Without rates: no cost at all, and no nudge to set rates from the demo.
    _question, details = confirmation_text(batch, JobOptions(), Settings(), demo=True)
    assert "at your rate" not in details
    assert "Set your per-second rates" not in details


# -- the other boxes a demo job can meet ---------------------------------------------------

MONEY_WORDS = ("charge", "billed twice", "(and bill)", "dashboard", "balance")


def _words(seen: BoxSeen) -> str:
    return f"{seen.title}\n{seen.text}\n{seen.details}"


@pytest.mark.parametrize("ask", [confirm_send_again, confirm_stop_following])
def test_demo_boxes_say_nothing_is_billed_and_real_ones_warn(qtbot: QtBot, ask: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    demo = BoxSeen("Don't send" if ask is confirm_send_again else "Keep it")
    demo.arm()
    assert ask(parent, demo=True) is False
    assert demo.shown
    assert "Nothing is billed in the demo" in demo.details
    assert "demo" in demo.text.lower()
    assert not any(word in _words(demo).lower() for word in MONEY_WORDS)

    real = BoxSeen("Don't send" if ask is confirm_send_again else "Keep it")
    real.arm()
    assert ask(parent) is False
    assert "bill" in real.details
    assert "demo" not in _words(real).lower()


def test_stopping_a_demo_job_asks_in_demo_words(qtbot: QtBot) -> None:
    session = DemoSession(polls_until_done=10_000, latency=0.0).start()
    factory = WindowFactory(qtbot)
    try:
        engine = session.create_engine()
        engine.settings.poll_min_interval = 0.05
        window = factory.window(engine, demo_session=session)
        confirm = BoxSeen("generateButton")
        confirm.arm()
        with qtbot.waitSignal(window.controller.submitted, timeout=WAIT_MS) as submitted:
            press_generate(window, qtbot)
        (job,) = submitted.args[0]

        def at_provider() -> bool:
            current = window.jobs_panel.job(job.id)
            return current is not None and current.task_id is not None

        qtbot.waitUntil(at_provider, timeout=WAIT_MS)
        current = window.jobs_panel.job(job.id)
        assert current is not None
        stop = BoxSeen("Stop following")
        stop.arm()
        window.job_actions.cancel(current)

        def cancelled() -> bool:
            latest = window.jobs_panel.job(job.id)
            return latest is not None and latest.state is JobState.CANCELLED

        qtbot.waitUntil(cancelled, timeout=WAIT_MS)
    finally:
        factory.close_all()
        session.stop()
    assert stop.shown
    assert stop.text == "Stop this demo job?"
    assert not any(word in _words(stop).lower() for word in MONEY_WORDS)
