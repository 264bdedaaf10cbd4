"""The grid: a ``QListView`` in icon mode, each result painted by :class:`GalleryDelegate`.

Each item is painted, never built from widgets: the poster frame (or a
placeholder while it is made), the length, model and mode badges, the date,
the keeper/reject mark, a "Demo" badge, and a warning when the result's
description file cannot be read. Rejects are dimmed so keepers stand out when
reviewing a season's work.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QStaticText,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from kling_desktop.engine.library import Library, LibraryEntry
from kling_desktop.engine.store import ResultRecord
from kling_desktop.i18n import _
from kling_desktop.ui.gallery.labels import (
    format_date,
    format_duration,
    mode_badge,
    model_badge,
    title_of,
)
from kling_desktop.ui.gallery.model import ENTRY_ROLE, RECORD_ROLE
from kling_desktop.ui.posters import Thumbnails
from kling_desktop.ui.widgets import muted_color

CELL = QSize(212, 268)        # grid cell, logical pixels
THUMB = QSize(196, 196)       # the poster box inside a cell
PAD = 8

_KEEPER = QColor("#f5b301")
_REJECT = QColor("#e5484d")
_DEMO = QColor("#8e6ad8")
_WARN = QColor("#f0a030")
_BADGE_BG = QColor(0, 0, 0, 170)
_BOX_BG = QColor("#202124")
_WHITE = QColor("white")


def two_lines(text: str, metrics: QFontMetrics, width: int) -> list[str]:
    """``text`` in at most two lines of ``width``: broken between words (or between
    characters for a word too long for a line, as Chinese and Japanese titles are), the
    rest elided."""
    if metrics.horizontalAdvance(text) <= width:
        return [text]
    words = text.split(" ")
    first = words[0]
    taken = 1
    while taken < len(words) and metrics.horizontalAdvance(
            f"{first} {words[taken]}") <= width:
        first = f"{first} {words[taken]}"
        taken += 1
    if metrics.horizontalAdvance(first) > width:   # one very long word: cut it where it ends
        cut = len(first)
        while cut > 1 and metrics.horizontalAdvance(first[:cut]) > width:
            cut -= 1
        return [first[:cut], metrics.elidedText(text[cut:].lstrip(),
                                                Qt.TextElideMode.ElideRight, width)]
    rest = " ".join(words[taken:])
    return [first, metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)]


class GalleryDelegate(QStyledItemDelegate):
    """Paints one result; asks :class:`Thumbnails` for its poster when it is painted."""

    def __init__(self, thumbnails: Thumbnails, library: Library, view: QListView) -> None:
        super().__init__(view)
        self.thumbnails = thumbnails
        self.library = library
        base = view.font()
        self._title_font = QFont(base)
        self._title_font.setWeight(QFont.Weight.DemiBold)
        self._small_font = QFont(base)
        self._small_font.setPointSizeF(max(7.0, base.pointSizeF() * 0.86))
        self._badge_font = QFont(self._small_font)
        self._badge_font.setWeight(QFont.Weight.Bold)
        self._title_metrics = QFontMetrics(self._title_font)
        self._small_metrics = QFontMetrics(self._small_font)
        self._badge_metrics = QFontMetrics(self._badge_font)
        self._texts: dict[str, QStaticText] = {}
        self._lines: OrderedDict[tuple[str, int], tuple[str, str]] = OrderedDict()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(CELL)

    def fallback_picture(self, index: QModelIndex | QPersistentModelIndex) -> Path | None:
        """The kept character picture (used when the clip gives no frame); not checked here."""
        entry = index.data(ENTRY_ROLE)
        if not isinstance(entry, LibraryEntry):
            return None
        return self.library.input_path(entry.image, must_exist=False)

    def _static(self, text: str) -> QStaticText:
        """Laid-out text, kept: shaping the same labels on every paint is what costs."""
        cached = self._texts.get(text)
        if cached is None:
            cached = QStaticText(text)
            cached.setTextFormat(Qt.TextFormat.PlainText)
            cached.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
            if len(self._texts) > 4000:
                self._texts.clear()
            self._texts[text] = cached
        return cached

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        record = index.data(RECORD_ROLE)
        rect = QRect(option.rect)
        state = option.state
        palette: QPalette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        card = QRectF(rect.adjusted(3, 3, -3, -3))
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(60)
            painter.setPen(QPen(highlight, 2))
            painter.setBrush(fill)
            painter.drawRoundedRect(card, 8, 8)
        elif state & QStyle.StateFlag.State_MouseOver:
            hover = QColor(palette.color(QPalette.ColorRole.Highlight))
            hover.setAlpha(25)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hover)
            painter.drawRoundedRect(card, 8, 8)
        box = QRect(rect.x() + (rect.width() - THUMB.width()) // 2, rect.y() + PAD,
                    THUMB.width(), THUMB.height())
        if isinstance(record, ResultRecord):
            self._paint_poster(painter, box, record, index)
            self._paint_badges(painter, box, record)
            self._paint_text(painter, rect, box, record, palette, selected)
        else:   # the row vanished between the query and the paint
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_BOX_BG)
            painter.drawRoundedRect(QRectF(box), 6, 6)
        if state & QStyle.StateFlag.State_HasFocus:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(2, 2, -2, -2), 7, 7)
        painter.restore()

    # -- parts ------------------------------------------------------------------------------

    def _paint_poster(self, painter: QPainter, box: QRect, record: ResultRecord,
                      index: QModelIndex | QPersistentModelIndex) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BOX_BG)
        painter.drawRoundedRect(QRectF(box), 6, 6)
        pixmap = self.thumbnails.cached(record.video_rel)
        if pixmap is None:
            pixmap = self.thumbnails.pixmap(record.video_rel,
                                            self.library.path_of(record.video_rel),
                                            self.fallback_picture(index))
        if record.mark == "reject":
            painter.setOpacity(0.38)
        if pixmap is not None and not pixmap.isNull():
            ratio = pixmap.devicePixelRatio() or 1.0
            size = QSize(round(pixmap.width() / ratio), round(pixmap.height() / ratio))
            if size.width() > box.width() or size.height() > box.height():
                size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(box.x() + (box.width() - size.width()) // 2,
                           box.y() + (box.height() - size.height()) // 2,
                           size.width(), size.height())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(QColor(255, 255, 255, 90))
            painter.setFont(self._small_font)
            text = self._static(_("No preview") if self.thumbnails.has_failed(record.video_rel)
                                else _("Loading preview…"))
            text_size = text.size()
            painter.drawStaticText(QPointF(box.center().x() - text_size.width() / 2,
                                           box.center().y() - text_size.height() / 2), text)
        painter.setOpacity(1.0)

    def _chip(self, painter: QPainter, text: str, x: float, y: float, background: QColor,
              foreground: QColor | None = None, *, right: bool = False) -> float:
        """A rounded label at (x, y) (its right edge at x when ``right``); returns its width."""
        painter.setFont(self._badge_font)
        label = self._static(text)
        size = label.size()
        width = size.width() + 10
        height = self._badge_metrics.height() + 4
        left = x - width if right else x
        chip = QRectF(left, y, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(chip, height / 2, height / 2)
        painter.setPen(foreground if foreground is not None else _WHITE)
        painter.drawStaticText(QPointF(left + 5, y + (height - size.height()) / 2), label)
        return width

    def _paint_badges(self, painter: QPainter, box: QRect, record: ResultRecord) -> None:
        height = self._badge_metrics.height() + 4
        top = float(box.y() + 6)
        # top left: the mark
        left = float(box.x() + 6)
        if record.mark == "keeper":
            left += self._chip(painter, _("★ Keeper"), left, top, _KEEPER,
                               QColor("#1d1d1d")) + 4
        elif record.mark == "reject":
            left += self._chip(painter, _("✕ Reject"), left, top, _REJECT) + 4
        # top right: model and mode
        right = float(box.right() - 5)
        mode = mode_badge(record.mode)
        if mode:
            right -= self._chip(painter, mode, right, top, _BADGE_BG, right=True) + 4
        model = model_badge(record.model)
        if model:
            self._chip(painter, model, right, top, _BADGE_BG, right=True)
        # bottom: demo, length
        bottom = box.bottom() - height - 5
        if record.demo:
            self._chip(painter, _("Demo"), box.x() + 6, bottom, _DEMO)
        duration = format_duration(record.duration)
        if duration:
            self._chip(painter, duration, box.right() - 5, bottom, _BADGE_BG, right=True)
        if not record.sidecar_ok:
            band = QRectF(box.x(), box.center().y() - height, box.width(), height * 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 190))
            painter.drawRect(band)
            painter.setPen(_WARN)
            painter.setFont(self._badge_font)
            label = self._static(_("⚠ Description unreadable") if record.sidecar_rel
                                 else _("⚠ No description file"))
            size = label.size()
            painter.drawStaticText(QPointF(band.center().x() - size.width() / 2,
                                           band.center().y() - size.height() / 2), label)

    def _paint_text(self, painter: QPainter, rect: QRect, box: QRect, record: ResultRecord,
                    palette: QPalette, selected: bool) -> None:
        x = rect.x() + PAD + 2
        width = rect.width() - 2 * PAD - 4
        y = box.bottom() + 6
        text_color = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText)
        if record.mark == "reject" and not selected:
            text_color = muted
        title, detail = self._text_lines(record, width)
        painter.setFont(self._title_font)
        painter.setPen(text_color)
        for line in title.split("\n"):   # two lines at most: ten tries of one picture differ
            painter.drawStaticText(QPointF(x, y), self._static(line))   # in their prompts
            y += self._title_metrics.height()
        y += 1
        painter.setFont(self._small_font)
        painter.setPen(muted)
        painter.drawStaticText(QPointF(x, y), self._static(detail))

    def _text_lines(self, record: ResultRecord, width: int) -> tuple[str, str]:
        key = (record.video_rel, width)
        lines = self._lines.get(key)
        if lines is None:
            title = "\n".join(two_lines(title_of(record), self._title_metrics, width))
            detail = format_date(record.saved_at)   # never cut: the size goes first
            if record.width and record.height:
                sized = _("{date} · {width}×{height}").format(
                    date=detail, width=record.width, height=record.height)
                if self._small_metrics.horizontalAdvance(sized) <= width:
                    detail = sized
            detail = self._small_metrics.elidedText(detail, Qt.TextElideMode.ElideRight, width)
            lines = (title, detail)
            self._lines[key] = lines
            while len(self._lines) > 2000:
                self._lines.popitem(last=False)
        return lines

    def forget(self, key: str) -> None:
        for cached in [k for k in self._lines if k[0] == key]:
            del self._lines[cached]


class GalleryView(QListView):
    """The grid. ``activated`` (Enter / double click) opens the compare view; when it is
    empty it shows ``empty_text`` (where results will appear, or "nothing matches")."""

    empty_text = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryGrid")
        self.setAccessibleName(_("Results"))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setMouseTracking(True)
        self.setDragEnabled(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def visible_rows(self) -> range:
        """Rows whose cells intersect the viewport (the grid is regular)."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return range(0)
        first = self.indexAt(self.viewport().rect().topLeft() + QPoint(4, 4))
        columns = max(1, self.viewport().width() // CELL.width())
        rows_on_screen = self.viewport().height() // CELL.height() + 2
        start = first.row() if first.isValid() else 0
        start -= start % columns
        return range(start, min(model.rowCount(), start + columns * rows_on_screen))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            painter = QPainter(self.viewport())
            painter.setPen(muted_color(self.palette()))
            painter.drawText(self.viewport().rect().adjusted(40, 40, -40, -40),
                             int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                             self.empty_text)
            painter.end()
