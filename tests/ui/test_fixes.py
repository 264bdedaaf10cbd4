"""One-click fixes on the slots' refusals: a WebM converted to MP4, a 1:4 banner padded
or cropped, a conversion cancelled midway, and Generate waiting while one runs.

Real media made by ffmpeg, the real form, the real conversion step on the TaskRunner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kling_desktop.engine.checks import check_image
from kling_desktop.ui.form import GenerateForm
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS
from tests.ui.test_generate_form import drop_files
from tests.ui.test_trim import CONVERT_MS, offer

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES, r"Invalid frameRate 0 ; Using the default"),
]




def accepted(form: GenerateForm, field: str) -> bool:
    report = form.report()
    return report is not None and not any(p.field == field for p in report.problems)


def test_a_webm_gets_convert_to_mp4_and_ends_accepted(
        qtbot: QtBot, form: GenerateForm, media: Path, tmp_path: Path) -> None:
    webm = make_video(media, seconds=4, width=480, height=360, fmt="webm", fps=30)
    drop_files(form.video_slot, [webm])
    button = offer(qtbot, form, "Convert to MP4")
    assert "MP4" in button.toolTip()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.videos() != [str(webm)], timeout=CONVERT_MS)
    converted = Path(form.videos()[0])
    assert converted.parent == tmp_path / "converted"
    assert converted.suffix == ".mp4"
    assert webm.is_file()
    qtbot.waitUntil(lambda: accepted(form, "video"), timeout=WAIT_MS)
    origin = form.video_slot.origin(str(converted))
    assert origin is not None
    assert origin.note == "converted from WebM"
    assert origin.source == str(webm)


@pytest.mark.parametrize("shape", ["Pad…", "Crop…"])
def test_a_one_to_four_banner_gets_pad_and_crop_and_ends_accepted(
        qtbot: QtBot, form: GenerateForm, media: Path, shape: str) -> None:
    from kling_desktop.ui.form.shape import CropDialog, PadDialog

    banner = make_image(media, width=400, height=1600)
    drop_files(form.image_slot, [banner])
    assert offer(qtbot, form, "Crop…", video=False) is not None
    QTest.mouseClick(offer(qtbot, form, shape, video=False), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.trim_dialog is not None, timeout=WAIT_MS)
    dialog = form.trim_dialog
    if shape == "Pad…":
        assert isinstance(dialog, PadDialog)
        dialog.choices["white"].click()
        assert dialog.pad().colour == "#ffffff"
        assert "640 × 1600 px" in dialog.outcome_label.text()
    else:
        assert isinstance(dialog, CropDialog)
        dialog.canvas.move_frame(0, -10_000)         # dragged to the top
        assert dialog.crop().y == 0
        assert "400 × 1000 px" in dialog.outcome_label.text()
    QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.images() != [str(banner)], timeout=CONVERT_MS)
    info, problems = check_image(form.images()[0])
    assert problems == []
    assert info is not None
    assert (info.width, info.height) == ((640, 1600) if shape == "Pad…" else (400, 1000))
    qtbot.waitUntil(lambda: accepted(form, "image"), timeout=WAIT_MS)


def test_cancel_mid_conversion_leaves_no_file_and_the_original_input(
        qtbot: QtBot, form: GenerateForm, media: Path, tmp_path: Path) -> None:
    picture = make_image(media, width=600, height=800)
    webm = make_video(media, seconds=8, width=480, height=360, fmt="webm", fps=30)
    form.set_inputs([str(picture)], [str(webm)])
    QTest.mouseClick(offer(qtbot, form, "Convert to MP4"), Qt.MouseButton.LeftButton)
    bar = form.video_slot.conversion_bar
    # While it runs: Generate waits, and says for what.
    assert form.is_converting()
    assert not form.generate_button.isEnabled()
    assert not bar.isHidden()
    assert "Waiting for the conversion of " + webm.name in form.form_note.text()
    qtbot.waitUntil(lambda: bar.bar.value() > 0, timeout=CONVERT_MS)
    QTest.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)
    assert bar.isHidden()
    assert form.videos() == [str(webm)]
    assert "stopped" in form.video_slot.note_label.text()
    assert "Waiting" not in form.form_note.text()
    folder = tmp_path / "converted"
    qtbot.waitUntil(lambda: form._tasks.is_idle(), timeout=CONVERT_MS)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert webm.is_file()
    qtbot.waitUntil(lambda: accepted(form, "image"), timeout=WAIT_MS)
