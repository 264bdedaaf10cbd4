"""Small shared widgets: an elided label that may only show its text whole."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kling_desktop.ui.widgets import ElidedLabel


def test_a_whole_label_is_shown_whole_or_not_at_all(qtbot: QtBot) -> None:
    label = ElidedLabel("JPG or PNG", whole=True)
    qtbot.addWidget(label)
    label.show()
    wide = label.fontMetrics().horizontalAdvance("JPG or PNG") + 20
    label.resize(wide, 20)
    qtbot.waitUntil(lambda: label.text() == "JPG or PNG")
    label.resize(wide // 2, 20)
    qtbot.waitUntil(lambda: label.text() == "")
    assert label.full_text() == "JPG or PNG"


def test_an_ordinary_label_is_cut_with_an_ellipsis(qtbot: QtBot) -> None:
    label = ElidedLabel("JPG or PNG")
    qtbot.addWidget(label)
    label.show()
    label.resize(label.fontMetrics().horizontalAdvance("JPG or PNG") // 2 + 10, 20)
    qtbot.waitUntil(lambda: label.text().endswith("…"))
