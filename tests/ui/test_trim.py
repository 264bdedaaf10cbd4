"""The trim editor on the motion slot: offered on the 14 s refusal, frame stepping, the
billable seconds, and the trimmed clip replacing the input up to the simulator's upload.

Real clips made by ffmpeg, the real form and window, the real conversion step on the
TaskRunner; tests wait on conditions, never sleep.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import Orientation
from kling_desktop.engine.checks import check_video
from kling_desktop.simulator import Simulator
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.widgets import ElidedLabel
from tests.conftest import TEST_KEY
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory
from tests.ui.test_generate_form import drop_files

if TYPE_CHECKING:
    from kling_desktop.ui.form.trim import TrimDialog

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    # The recorder says so when a clip's rate comes from its frames (as here), and a
    # headless machine has no sound server for the editor's player.
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES, r"Invalid frameRate 0 ; Using the default",
                              r"^PulseAudioService: pa_context_connect\(\) failed$"),
]

CONVERT_MS = 60_000
TRIM_10 = "Trim to 10 s…"




def offer(qtbot: QtBot, form: GenerateForm, label: str, *, video: bool = True) -> QPushButton:
    slot = form.video_slot if video else form.image_slot
    qtbot.waitUntil(lambda: slot.offer_button(label) is not None, timeout=WAIT_MS)
    button = slot.offer_button(label)
    assert button is not None
    return button


def open_editor(qtbot: QtBot, form: GenerateForm, clip: Path) -> TrimDialog:
    from kling_desktop.ui.form.trim import TrimDialog

    drop_files(form.video_slot, [clip])
    QTest.mouseClick(offer(qtbot, form, TRIM_10), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.trim_dialog is not None, timeout=WAIT_MS)
    assert isinstance(form.trim_dialog, TrimDialog)
    return form.trim_dialog


def test_the_long_clip_refusal_offers_trim_beside_the_switch(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    clip = make_video(media, seconds=14, width=360, height=360, fps=24)
    drop_files(form.video_slot, [clip])
    button = offer(qtbot, form, TRIM_10)
    assert "14 s" in form.video_slot.problems_text()
    def shown() -> list[QPushButton]:
        return [b for b in form.video_slot.problem_list.fix_buttons() if not b.isHidden()]

    # A row laid out again leaves its old buttons to deleteLater(): let them go.
    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=WAIT_MS)
    switch = shown()
    assert [b.text() for b in switch] == ["Switch to “Match the video”"]
    assert button.parent() is switch[0].parent()          # side by side, in the same row
    assert "10.0 s" in button.toolTip()                    # what will come out, before


def test_the_editor_opens_on_the_first_ten_seconds_and_steps_a_frame(
        qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    clip = make_video(media, seconds=14, width=360, height=360, fps=24)
    dialog = open_editor(qtbot, form, clip)
    qtbot.waitUntil(lambda: dialog.frame() == pytest.approx(1 / 24), timeout=WAIT_MS)
    assert dialog.selection() == (0.0, 10.0)
    assert dialog.billable_label.text() == "Billed: 10.0 s"
    assert dialog.apply_button.isEnabled()
    for _ in range(3):
        QTest.keyClick(dialog.timeline, Qt.Key.Key_Comma)
    assert dialog.selection()[1] == pytest.approx(10 - 3 / 24)
    assert dialog.billable_label.text() == "Billed: 9.9 s"
    QTest.keyClick(dialog.timeline, Qt.Key.Key_Period)
    assert dialog.selection()[1] == pytest.approx(10 - 2 / 24)
    # Past the limit: the checks on the selection refuse it, Apply waits.
    dialog.set_selection(0.0, 12.0)
    assert not dialog.apply_button.isEnabled()
    assert "the limit is 10 s" in dialog.verdict_label.text()
    # I and O at the playhead.
    dialog.timeline.set_position(2.0)
    QTest.keyClick(dialog.timeline, Qt.Key.Key_I)
    dialog.timeline.set_position(9.5)
    QTest.keyClick(dialog.timeline, Qt.Key.Key_O)
    assert dialog.selection() == (2.0, 9.5)
    assert dialog.billable_label.text() == "Billed: 7.5 s"
    dialog.reject()


def test_a_trimmed_clip_replaces_the_input_and_is_what_the_simulator_receives(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path,
        tmp_path: Path) -> None:
    picture = make_image(media, width=600, height=800)
    clip = make_video(media, seconds=14, width=360, height=360, fps=24)
    original = clip.read_bytes()
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    form = window.form
    drop_files(form.image_slot, [picture])
    dialog = open_editor(qtbot, form, clip)
    qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=WAIT_MS)
    QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: form.videos() != [str(clip)], timeout=CONVERT_MS)
    trimmed = Path(form.videos()[0])
    assert trimmed.parent == window.engine.library.root / ".inputs" / "converted"
    info, problems = check_video(str(trimmed), Orientation.IMAGE)
    assert problems == []
    assert info is not None
    assert info.duration == pytest.approx(10.0, abs=1 / 24)
    assert clip.read_bytes() == original                        # never changed
    origin = form.video_slot.origin(str(trimmed))
    assert origin is not None
    assert origin.note == "trimmed 0.0–10.0 s"
    item = form.video_slot.list_widget.item(0)
    row = form.video_slot.list_widget.itemWidget(item)
    names = [label.full_text() for label in row.findChildren(ElidedLabel)]
    assert names == [clip.name, "trimmed 0.0–10.0 s"]           # under the original's name

    qtbot.waitUntil(form.generate_button.isEnabled, timeout=WAIT_MS)
    QTest.mouseClick(form.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sim.count("create") == 1, timeout=WAIT_MS)
    uploads = [p for p in (tmp_path / "sim" / "uploads").rglob("*")
               if p.is_file() and not p.name.startswith(".")]
    assert any(p.read_bytes() == trimmed.read_bytes() for p in uploads)
    assert not any(p.read_bytes() == original for p in uploads)


def test_the_editor_and_the_picture_dialogs_speak_only_through_translation(
        qtbot: QtBot, media: Path) -> None:
    from kling_desktop.ui.form.shape import CropDialog, PadDialog, load_preview
    from kling_desktop.ui.form.trim import TrimDialog
    from tests.ui.i18n_support import QT_OWN, language, untranslated

    clip = make_video(media, seconds=5, width=360, height=360, fps=24)
    banner = make_image(media, width=200, height=800, name="banner.png")
    with language("pseudo"):
        editor = TrimDialog(clip, orientation=Orientation.IMAGE, duration=5.0,
                            size=(360, 360), name=clip.name)
        qtbot.addWidget(editor)
        editor.show()
        qtbot.waitExposed(editor)
        loaded = load_preview(banner)
        pad = PadDialog(banner, loaded)
        crop = CropDialog(banner, loaded)
        for dialog in (pad, crop):
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.waitExposed(dialog)
        user_data = {clip.name, banner.name, *QT_OWN}
        found = [*untranslated(editor, allowed=user_data), *untranslated(pad, allowed=user_data),
                 *untranslated(crop, allowed=user_data)]
        editor.reject()
        pad.reject()
        crop.reject()
    assert found == []
