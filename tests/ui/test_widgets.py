"""Small shared widgets: an elided label that may only show its text whole; a list of problems."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kling_desktop.engine.checks import Problem
from kling_desktop.ui.problems import ProblemList
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


def test_a_new_list_of_problems_is_shown_at_once(qtbot: QtBot) -> None:
    """Rows replacing a shown list are visible when set_problems returns, not one event
    later (a check's offers rebuild the rows; the fix was briefly unreachable)."""
    problems = ProblemList()
    qtbot.addWidget(problems)
    problems.show()
    problems.set_problems([Problem("video", "Too long.", "Trim it.", "orientation=video")])
    qtbot.waitUntil(lambda: len(problems.fix_buttons()) == 1)
    problems.set_problems([Problem("video", "Far too long.", "Trim it.", "orientation=video")])
    [fix] = problems.fix_buttons()
    assert fix.isVisible()
