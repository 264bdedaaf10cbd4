"""A form that stays still: Choose… and Generate do not move, whatever the form shows.

Real widgets in a 1280×800 host, real files (ffmpeg), the engine's real checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import MAX_PROMPT_CHARS
from kling_desktop.ui.form import GenerateForm
from tests.media import ffmpeg_available, make_image, make_truncated_png, make_video
from tests.ui.test_generate_form import WAIT_MS, wait_checked

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(r"No RHI backend\. Using CPU conversion\."),
]




def place(form: GenerateForm, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(form, QPoint(0, 0)), widget.size())


def next_tab_stop(widget: QWidget) -> QWidget:
    found = widget.nextInFocusChain()
    while found is not None and (not (found.focusPolicy() & Qt.FocusPolicy.TabFocus)
                                 or not found.isVisible()):
        found = found.nextInFocusChain()
    assert found is not None
    return found


def geometry(form: GenerateForm) -> dict[str, QRect]:
    return {
        "choose picture": place(form, form.image_slot.choose_button),
        "choose clip": place(form, form.video_slot.choose_button),
        "picture card": place(form, form.image_slot.stack),
        "clip card": place(form, form.video_slot.stack),
        "generate": place(form, form.generate_button),
    }


def test_choose_and_generate_never_move(qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    before = geometry(form)
    assert before["picture card"].height() == before["clip card"].height()
    picture = make_image(media, width=600, height=800)
    long_clip = make_video(media, seconds=12, width=640, height=480)
    seen: list[tuple[str, dict[str, QRect]]] = [("empty", before)]

    with qtbot.waitSignal(form.image_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([str(picture)], [])
    wait_checked(qtbot, form)
    seen.append(("picture", geometry(form)))

    with qtbot.waitSignal(form.video_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([str(picture)], [str(long_clip)])
    wait_checked(qtbot, form)
    [fix] = form.video_slot.problem_list.fix_buttons()   # a refusal with its fix, shown
    assert next_tab_stop(form.video_slot.list_widget) is fix   # Tab reaches it next
    seen.append(("clip refused with a fix", geometry(form)))

    form.set_inputs([str(make_truncated_png(media))], [str(long_clip)])
    wait_checked(qtbot, form)
    qtbot.waitUntil(lambda: "incomplete" in form.image_slot.problems_text(), timeout=WAIT_MS)
    seen.append(("refused picture", geometry(form)))

    form.prompt_edit.setPlainText("舞" * (MAX_PROMPT_CHARS + 1))
    wait_checked(qtbot, form)
    assert form.prompt_problems.text()
    form.video_slot.note_label.setText("This clip cannot be played here: no decoder.")
    form.video_slot.note_label.setVisible(True)
    seen.append(("messages everywhere", geometry(form)))

    for name, now in seen[1:]:
        assert now == before, f"the form moved with {name}: {now} != {before}"


def test_a_small_picture_is_not_stretched(qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    small = make_image(media, width=100, height=100, name="tiny.png")
    with qtbot.waitSignal(form.image_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([str(small)], [])
    drawn = form.image_slot.preview.image_rect()
    assert (drawn.width(), drawn.height()) == (100, 100)   # its own size, in the middle
    card = form.image_slot.preview.rect()
    assert abs(drawn.center().x() - card.center().x()) <= 1
    assert abs(drawn.center().y() - card.center().y()) <= 1


def test_a_large_picture_keeps_its_shape(qtbot: QtBot, form: GenerateForm, media: Path) -> None:
    tall = make_image(media, width=600, height=1200, name="tall.png")
    with qtbot.waitSignal(form.image_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([str(tall)], [])
    drawn = form.image_slot.preview.image_rect()
    card = form.image_slot.preview.rect()
    assert drawn.height() < 1200
    assert card.contains(drawn)
    assert abs(drawn.width() * 2 - drawn.height()) <= 2


def test_the_players_controls_come_with_a_clip_it_can_play(qtbot: QtBot, form: GenerateForm,
                                                          media: Path) -> None:
    """Play and the preview's speaker show over a clip that plays here, not over an empty
    slot or a web link (they could do nothing there), and the slot does not move when they
    come and go."""
    slot = form.video_slot
    controls = (slot.play_button, slot.sound_button)
    card = place(form, slot.stack)
    assert not any(button.isVisibleTo(form) for button in controls)

    clip = make_video(media, seconds=4)
    with qtbot.waitSignal(slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([], [str(clip)])
    assert all(button.isVisibleTo(form) and button.isEnabled() for button in controls)
    assert place(form, slot.stack) == card

    form.set_inputs([], ["https://cdn.example.com/dance.mp4"])
    assert not any(button.isVisibleTo(form) for button in controls)
    assert place(form, slot.stack) == card
    assert not any(button.isVisibleTo(form) for button in
                   (form.image_slot.play_button, form.image_slot.sound_button))


def test_the_preview_speaker_is_not_the_sound_option(qtbot: QtBot, form: GenerateForm,
                                                     media: Path) -> None:
    with qtbot.waitSignal(form.video_slot.preview_shown, timeout=WAIT_MS):
        form.set_inputs([], [str(make_video(media, seconds=4))])
    speaker = form.video_slot.sound_button
    assert not speaker.icon().isNull()
    assert "Sound" not in speaker.text()
    assert speaker.accessibleName() == "Unmute preview"
    speaker.click()
    assert speaker.toolTip().startswith("Mute preview")
    assert speaker.accessibleName() == "Mute preview"
    assert not speaker.icon().isNull()
    assert form.keep_sound_check.text().replace("&", "") == "Keep the clip's own sound"


def test_input_rows_follow_the_lists_width(qtbot: QtBot, form: GenerateForm,
                                           media: Path) -> None:
    """Each row of a slot's list is exactly the list's width: narrower when the window
    is, its long name shortened in the middle rather than running under the ✕."""
    long_name = "a-character-picture-with-a-very-long-name-" * 3 + ".png"
    pictures = [make_image(media, name=f"{n}-{long_name}") for n in range(2)]
    form.image_slot.batch_check.setChecked(True)
    form.set_inputs([str(p) for p in pictures], [])
    wait_checked(qtbot, form)
    rows = form.image_slot.list_widget

    def fitted() -> bool:
        width = rows.viewport().width()
        return rows.count() == 2 and all(
            rows.item(n).sizeHint().width() == width
            and rows.itemWidget(rows.item(n)).width() <= width for n in range(2))

    qtbot.waitUntil(fitted, timeout=WAIT_MS)
    wide = rows.viewport().width()
    host = form.window()
    host.resize(900, host.height())
    qtbot.waitUntil(lambda: rows.viewport().width() < wide - 40 and fitted(),
                    timeout=WAIT_MS)
