"""Where everything in a job row goes, and how tall the row is (measured, cached).

Painting and hit-testing both ask :class:`RowGeometry`, so a button is clicked
exactly where it is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QListView, QStyleOptionViewItem

from kling_desktop.engine.jobs import Job
from kling_desktop.ui.jobs.actions import action_label, actions_for
from kling_desktop.ui.jobs.row_state import RowState, needs_attention
from kling_desktop.ui.jobs.thumbnails import THUMB_SIDE
from kling_desktop.ui.jobs.wording import badges_for, detail_text, status_text

__all__ = ["RowFonts", "RowGeometry", "RowLayout", "row_width"]

PAD = 10
GAP = 12
MAX_STATUS_LINES = 3
MAX_DETAIL_LINES = 3
MIN_ROW_WIDTH = 360


def row_width(view: QListView) -> int:
    """The width every row of ``view`` is laid out in."""
    return max(MIN_ROW_WIDTH, view.viewport().width() - 2 * view.spacing())


@dataclass(frozen=True)
class RowFonts:
    base: QFont
    title: QFont
    small: QFont


@dataclass(frozen=True)
class RowLayout:
    thumb: QRect
    title: QRect
    badges: list[tuple[str, QRect]]
    elapsed: QRect
    status: QRect
    status_lines: int
    detail: QRect
    detail_lines: int
    bar: QRect
    buttons: list[tuple[str, QRect]]


class RowGeometry:
    """Lays out a job row in a given rectangle; caches fonts and row heights."""

    def __init__(self) -> None:
        self._heights: dict[tuple[object, ...], int] = {}
        self._font_cache: dict[str, RowFonts] = {}

    def fonts(self, option: QStyleOptionViewItem) -> RowFonts:
        key = option.font.key()
        fonts = self._font_cache.get(key)
        if fonts is None:
            base = QFont(option.font)
            title = QFont(base)
            title.setWeight(QFont.Weight.DemiBold)
            small = QFont(base)
            small.setPointSizeF(max(7.0, base.pointSizeF() * 0.9))
            fonts = RowFonts(base, title, small)
            self._font_cache = {key: fonts}
        return fonts

    def row_height(self, option: QStyleOptionViewItem, job: Job, state: RowState,
                   width: int) -> int:
        """The row's height; cached (rows of the same kind share one height)."""
        if needs_attention(job, state):
            key: tuple[object, ...] = (width, option.font.key(), status_text(job, state),
                                       detail_text(job, state), tuple(actions_for(job, state)))
        else:
            key = (width, option.font.key())
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) > 2000:
                self._heights.clear()
            opt = QStyleOptionViewItem(option)
            opt.rect = QRect(0, 0, width, 100)
            geo = self.layout(opt, job, state)
            bottom = max(geo.thumb.bottom(), geo.detail.bottom(), geo.bar.bottom(),
                         max((r.bottom() for _a, r in geo.buttons), default=0))
            height = bottom + 1 + PAD
            self._heights[key] = height
        return height

    @staticmethod
    def empty_height() -> int:
        """The height of a row with nothing in it yet."""
        return THUMB_SIDE + 2 * PAD

    def layout(self, option: QStyleOptionViewItem, job: Job, state: RowState) -> RowLayout:
        rect = option.rect
        fonts = self.fonts(option)
        fm_title = QFontMetrics(fonts.title)
        fm_base = QFontMetrics(fonts.base)
        fm_small = QFontMetrics(fonts.small)
        thumb = QRect(rect.left() + PAD, rect.top() + PAD, THUMB_SIDE, THUMB_SIDE)
        left = rect.left() + PAD + THUMB_SIDE + GAP
        width = max(120, rect.right() - PAD - left + 1)
        right = left + width - 1
        actions = actions_for(job, state)

        # line 1: title ........ elapsed
        y = rect.top() + PAD - 1
        line_h = fm_title.height()
        elapsed_w = fm_small.horizontalAdvance("0:00:00")
        elapsed = QRect(right - elapsed_w + 1, y, elapsed_w, line_h)
        title = QRect(left, y, max(0, elapsed.left() - 8 - left), line_h)
        y += line_h + 2

        # line 2: badges (demo, model, quality)
        badges: list[tuple[str, QRect]] = []
        x = left
        badge_h = fm_small.height() + 2
        for text in badges_for(job):
            badge_w = fm_small.horizontalAdvance(text) + 14
            badges.append((text, QRect(x, y, badge_w, badge_h)))
            x += badge_w + 5
        y += badge_h + 5

        button_h = QFontMetrics(option.font).height() + 12
        if needs_attention(job, state):
            # The provider's words in full, what to do, then the buttons on their own line.
            status_lines = _wrapped_lines(fm_base, status_text(job, state), width,
                                          MAX_STATUS_LINES)
            status = QRect(left, y, width, status_lines * fm_base.lineSpacing())
            y = status.bottom() + 1 + 4
            detail_lines = _wrapped_lines(fm_small, detail_text(job, state), width,
                                          MAX_DETAIL_LINES)
            detail = QRect(left, y, width, detail_lines * fm_small.lineSpacing())
            y = (detail.bottom() + 1 + 8) if detail_lines else y + 4
            buttons = _buttons(actions, fm_base, right, y, button_h)
            bar = QRect(left, y, 0, 0)
            return RowLayout(thumb, title, badges, elapsed, status, status_lines, detail,
                             detail_lines, bar, buttons)

        # line 3: status; line 4: progress bar or small print ......... buttons
        status = QRect(left, y, width, fm_base.height())
        y += fm_base.height() + 6
        buttons = _buttons(actions, fm_base, right, y, button_h)
        x = buttons[0][1].left() if buttons else right + 1
        detail = QRect(left, y, max(0, x - 10 - left), button_h)
        bar = QRect(left, y + (button_h - 8) // 2, max(0, x - 16 - left), 8)
        return RowLayout(thumb, title, badges, elapsed, status, 1, detail, 1, bar,
                         buttons)


def _wrapped_lines(fm: QFontMetrics, text: str, width: int, limit: int) -> int:
    if not text:
        return 0
    bound = fm.boundingRect(QRect(0, 0, width, 100000), int(Qt.TextFlag.TextWordWrap), text)
    return max(1, min(limit, math.ceil(bound.height() / max(1, fm.lineSpacing()))))


def _buttons(actions: Sequence[str], fm: QFontMetrics, right: int, y: int,
             height: int) -> list[tuple[str, QRect]]:
    """The buttons right-aligned on one line, in order."""
    buttons: list[tuple[str, QRect]] = []
    x = right + 1
    for action in reversed(actions):
        label = action_label(action)
        width = fm.horizontalAdvance(label) + 28
        button = QRect(x - width, y, width, height)
        buttons.insert(0, (action, button))
        x = button.left() - 8
    return buttons
