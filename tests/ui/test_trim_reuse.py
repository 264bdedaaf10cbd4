"""A trimmed clip's origin goes with the job and the result, and comes back with "Use these
settings again": the slot lists the kept copy under the original's name with its note, and
Trim… reopens the editor on the original at the recorded in and out points (on the kept
copy once the original is gone).

The real window, the real trim editor and conversion, the simulator over loopback, the
real library; tests wait on conditions, never sleep.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kling_desktop.engine.jobs import JobState
from kling_desktop.engine.library import LibraryEntry, read_sidecar
from kling_desktop.engine.origins import Origin
from kling_desktop.simulator import Simulator
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.form.trim import TrimDialog
from kling_desktop.ui.jobs import Action
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.widgets import ElidedLabel
from tests.conftest import TEST_KEY
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory
from tests.ui.test_generate_form import drop_files
from tests.ui.test_journey import generate, wait_state
from tests.ui.test_trim import CONVERT_MS, open_editor

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(*QT_LOG_IGNORES, r"Invalid frameRate 0 ; Using the default",
                              r"^PulseAudioService: pa_context_connect\(\) failed$",
                              r"^No audio device detected$"),
]

NOTE = "trimmed 2.0–9.5 s"


def row_texts(form: GenerateForm) -> list[str]:
    item = form.video_slot.list_widget.item(0)
    row = form.video_slot.list_widget.itemWidget(item)
    return [label.full_text() for label in row.findChildren(ElidedLabel)]


def trim_again(qtbot: QtBot, form: GenerateForm) -> TrimDialog:
    """Press the row's Trim… and wait for the editor to know the clip's length."""
    (button,) = form.video_slot.trim_buttons()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.trim_dialog is not None, timeout=WAIT_MS)
    dialog = form.trim_dialog
    assert isinstance(dialog, TrimDialog)
    qtbot.waitUntil(lambda: dialog.selection()[1] > 0, timeout=WAIT_MS)   # its length read
    return dialog


def close_editor(qtbot: QtBot, form: GenerateForm, dialog: TrimDialog) -> None:
    dialog.reject()
    qtbot.waitUntil(lambda: form.trim_dialog is None, timeout=WAIT_MS)


def put_back(qtbot: QtBot, window: MainWindow, entry: LibraryEntry) -> str:
    """"Use these settings again" on a saved result, into an emptied form: the clip."""
    window.form.set_inputs([], [])
    window.library_page.use_settings_again.emit(entry)
    qtbot.waitUntil(lambda: len(window.form.videos()) == 1, timeout=WAIT_MS)
    return window.form.videos()[0]


def test_a_trimmed_clip_comes_back_under_its_original_with_its_span(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path) -> None:
    picture = make_image(media, width=600, height=800)
    clip = make_video(media, seconds=14, width=360, height=360, fps=24, name="motion.mp4")
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    form = window.form
    drop_files(form.image_slot, [picture])
    dialog = open_editor(qtbot, form, clip)
    qtbot.waitUntil(dialog.apply_button.isEnabled, timeout=WAIT_MS)
    dialog.set_selection(2.0, 9.5)
    QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.videos() != [str(clip)], timeout=CONVERT_MS)
    trimmed = form.videos()[0]
    assert row_texts(form) == ["motion.mp4", NOTE]

    job_id = generate(window, qtbot)
    wait_state(window, qtbot, job_id, JobState.COMPLETED)
    assert sim.count("create") == 1
    # the job remembers the original and the span ...
    job = window.jobs_panel.job(job_id)
    assert job is not None
    expected = Origin("motion.mp4", str(clip), (2.0, 9.5))
    assert job.spec.video == trimmed
    assert job.spec.video_origin == expected
    assert job.spec.image_origin is None
    # ... and so does the result's sidecar
    assert job.output_path
    entry = read_sidecar(Path(job.output_path).with_suffix(".json"))
    assert entry.video.origin == expected
    assert entry.image.origin is None

    # The library's detail says it under the inputs.
    window.show_gallery()
    gallery = window.gallery
    assert gallery is not None
    qtbot.waitUntil(lambda: gallery.select_key(
        window.engine.library.relative(entry.video_path)), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: f"motion.mp4 — {NOTE}" in gallery.detail.clip_caption.text(),
                    timeout=WAIT_MS)

    # "Use these settings again" from the library: the kept copy, under the original's name.
    video = put_back(qtbot, window, entry)
    assert window.tabs.currentWidget() is window.pages
    assert Path(video).is_relative_to(window.engine.library.root)
    assert Path(video).read_bytes() == Path(trimmed).read_bytes()
    assert form.video_slot.origin(video) == expected
    assert row_texts(form) == ["motion.mp4", NOTE]
    # Trim… opens the original, at the recorded in and out points.
    editor = trim_again(qtbot, form)
    assert editor.source == clip
    assert editor.selection() == (2.0, 9.5)
    close_editor(qtbot, form, editor)

    # From the job's card: the same.
    form.set_inputs([], [])
    window.job_actions.trigger(Action.REUSE, job)
    assert form.videos() == [trimmed]
    assert row_texts(form) == ["motion.mp4", NOTE]

    # The original gone: the editor opens on the kept copy, whole.
    clip.rename(clip.with_name("moved away.mp4"))
    video = put_back(qtbot, window, entry)
    assert row_texts(form) == ["motion.mp4", NOTE]
    editor = trim_again(qtbot, form)
    assert editor.source == Path(video)
    start, end = editor.selection()
    assert (start, end) == pytest.approx((0.0, 7.5), abs=1 / 24)
    close_editor(qtbot, form, editor)
    assert sim.count("create") == 1              # reusing sends nothing
