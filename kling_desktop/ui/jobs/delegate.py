"""Paints a job row (no widget per row, so a long list stays smooth) and turns clicks
on its painted buttons into actions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QTextLayout,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QToolTip,
)

from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.i18n import _
from kling_desktop.sources import is_link
from kling_desktop.ui.jobs.actions import action_label, action_tip
from kling_desktop.ui.jobs.layout import RowGeometry, row_width
from kling_desktop.ui.jobs.model import JobListModel, JobRole
from kling_desktop.ui.jobs.row_state import RowState
from kling_desktop.ui.jobs.thumbnails import ThumbnailCache
from kling_desktop.ui.jobs.wording import (
    detail_text,
    elapsed_text,
    elided_title,
    phase_progress,
    status_text,
    when_text,
)
from kling_desktop.ui.widgets import error_color, muted_color, ok_color, warning_color

__all__ = ["JobDelegate"]


def _centre_crop(width: int, height: int, box: QRect) -> QRectF:
    """The part of a ``width`` × ``height`` picture that fills ``box`` (centred, the
    overflow cut), in the picture's pixels."""
    if box.height() <= 0 or width <= 0 or height <= 0:
        return QRectF(0, 0, width, height)
    ratio = box.width() / box.height()
    if width / height > ratio:
        shown = height * ratio
        return QRectF((width - shown) / 2, 0, shown, height)
    shown = width / ratio
    return QRectF(0, (height - shown) / 2, width, shown)


class JobDelegate(QStyledItemDelegate):
    """Paints a job row and turns clicks on its painted buttons into ``action_clicked``."""

    action_clicked = Signal(str, object)   # action id, Job

    def __init__(self, view: QListView, model: JobListModel, thumbs: ThumbnailCache) -> None:
        super().__init__(view)
        self._view = view
        self._model = model
        self._thumbs = thumbs
        self.geometry = RowGeometry()
        # Each row is drawn once into a pixmap and re-blitted until something it shows
        # changes: repaints of unchanged rows cost one call, not a hundred.
        self._pixmaps: dict[int, tuple[tuple[object, ...], QPixmap]] = {}
        self._hover: tuple[int, str] | None = None
        self._pressed: tuple[int, str] | None = None

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        width = row_width(self._view)
        entry = self._model.entry(index.row())
        if entry is None:
            return QSize(width, self.geometry.empty_height())
        return QSize(width, self.geometry.row_height(option, entry[0], entry[1], width))

    def _entry(self, index: QModelIndex | QPersistentModelIndex) -> tuple[Job, RowState] | None:
        return self._model.entry(index.row()) if index.isValid() else None

    # painting
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        entry = self._entry(index)
        if entry is None:
            return
        job, state = entry
        row = index.row()
        dpr = self._view.devicePixelRatioF()
        key = (job, state, elapsed_text(job), status_text(job, state), option.rect.size(),
               int(option.state.value), self._hover if self._hover and self._hover[0] == row
               else None, self._pressed if self._pressed and self._pressed[0] == row else None,
               dpr, option.palette.cacheKey(), self._thumbs.shows_poster(job),
               self._thumbs.has(job.spec.image))
        cached = self._pixmaps.get(job.id)
        if cached is None or cached[0] != key:
            size = option.rect.size()
            pixmap = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            local = QStyleOptionViewItem(option)
            local.rect = QRect(QPoint(0, 0), size)
            target = QPainter(pixmap)
            try:
                self._render(target, local, job, state, row)
            finally:
                target.end()
            if len(self._pixmaps) > 400:
                self._pixmaps.clear()
            cached = (key, pixmap)
            self._pixmaps[job.id] = cached
        painter.drawPixmap(option.rect.topLeft(), cached[1])

    def _render(self, painter: QPainter, option: QStyleOptionViewItem, job: Job,
                state: RowState, row: int) -> None:
        opt = QStyleOptionViewItem(option)   # no initStyleOption: it asks the model per role
        widget = self._view
        style = widget.style()
        painter.save()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = (QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        text_color = palette.color(text_role)
        muted = text_color if selected else muted_color(palette)
        geo = self.geometry.layout(option, job, state)
        fonts = self.geometry.fonts(option)

        self._paint_thumb(painter, geo.thumb, job, palette, widget.devicePixelRatioF())

        painter.setFont(fonts.title)
        painter.setPen(text_color)
        painter.drawText(geo.title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         elided_title(job, QFontMetrics(fonts.title), geo.title.width()))

        painter.setFont(fonts.small)
        for text, rect in geo.badges:
            self._paint_badge(painter, rect, text, palette, demo=text == _("Demo"))
        painter.setPen(muted)
        painter.drawText(geo.elapsed, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         elapsed_text(job))

        painter.setPen(text_color if selected else self._status_color(job, state, palette))
        self._draw_text(painter, geo.status, status_text(job, state), fonts.base,
                        geo.status_lines)

        progress = phase_progress(job)
        if progress is not None and not state.interrupted:
            self._paint_bar(painter, geo.bar, progress, option)
        else:
            detail = detail_text(job, state)
            if job.state is JobState.COMPLETED:   # the file's name is a hover away
                detail = "" if state.gone else when_text(job, short=True)
                if detail and QFontMetrics(fonts.small).horizontalAdvance(
                        detail) > geo.detail.width():    # a narrow card: the time alone
                    detail = when_text(job, shortest=True)
            painter.setPen(muted)
            self._draw_text(painter, geo.detail, detail, fonts.small, geo.detail_lines)

        painter.setFont(fonts.base)
        for action, rect in geo.buttons:
            self._paint_button(painter, rect, action, row, option)
        if option.state & QStyle.StateFlag.State_HasFocus:
            self._paint_focus(painter, option)
        painter.restore()

    def _paint_focus(self, painter: QPainter, option: QStyleOptionViewItem) -> None:
        """The keyboard's place in the list: a frame around the current row, visible in
        every style (some draw no focus for item views at all)."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pen = QPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                        else QPalette.ColorRole.Highlight), 2)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5), 5, 5)
        painter.restore()

    @staticmethod
    def _draw_text(painter: QPainter, rect: QRect, text: str, font: QFont, lines: int) -> None:
        """``text`` in ``rect``: one elided line, or word-wrapped with the last line elided."""
        if not text or rect.width() <= 0:
            return
        painter.setFont(font)
        fm = QFontMetrics(font)
        if lines <= 1:
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
            return
        layout = QTextLayout(text, font)
        layout.beginLayout()
        y = 0.0
        shown = 0
        while shown < lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(rect.width())
            line.setPosition(QPointF(0, y))
            y += fm.lineSpacing()
            shown += 1
        layout.endLayout()
        for number in range(layout.lineCount()):
            line = layout.lineAt(number)
            start, length = line.textStart(), line.textLength()
            piece = text[start:start + length]
            if number == lines - 1 and start + length < len(text):
                piece = fm.elidedText(text[start:], Qt.TextElideMode.ElideRight, rect.width())
            painter.drawText(QRect(rect.left(), rect.top() + number * fm.lineSpacing(),
                                   rect.width(), fm.lineSpacing()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             piece.rstrip())

    @staticmethod
    def _status_color(job: Job, state: RowState, palette: QPalette) -> QColor:
        if job.state in (JobState.FAILED, JobState.EXPIRED):
            return error_color(palette)
        if job.state is JobState.UNCERTAIN:
            return warning_color(palette)
        if state.interrupted and job.state.is_active:
            return warning_color(palette)
        if job.state is JobState.COMPLETED:
            return muted_color(palette) if state.gone else ok_color(palette)
        return palette.color(QPalette.ColorRole.Text)

    def _paint_thumb(self, painter: QPainter, rect: QRect, job: Job, palette: QPalette,
                     dpr: float) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 6, 6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setClipPath(path)
        picture = self._thumbs.get(job, dpr)
        if picture is not None and not picture.isNull():
            source = _centre_crop(picture.width(), picture.height(), rect)
            if isinstance(picture, QPixmap):
                painter.drawPixmap(QRectF(rect), picture, source)
            else:
                painter.drawImage(QRectF(rect), picture, source)
        else:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Midlight))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                             _("link") if is_link(job.spec.image) else "…")
        painter.restore()

    @staticmethod
    def _paint_badge(painter: QPainter, rect: QRect, text: str, palette: QPalette, *,
                     demo: bool) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if demo:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), rect.height() / 2,
                                    rect.height() / 2)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_bar(self, painter: QPainter, rect: QRect, value: int,
                   option: QStyleOptionViewItem) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = rect
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = value
        bar.textVisible = False
        bar.palette = option.palette
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        self._view.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter,
                                       self._view)

    def _paint_button(self, painter: QPainter, rect: QRect, action: str, row: int,
                      option: QStyleOptionViewItem) -> None:
        button = QStyleOptionButton()
        button.rect = rect
        button.text = action_label(action)
        button.palette = option.palette
        button.fontMetrics = QFontMetrics(option.font)
        state = QStyle.StateFlag.State_Enabled
        if self._hover == (row, action):
            state |= QStyle.StateFlag.State_MouseOver
        if self._pressed == (row, action):
            state |= QStyle.StateFlag.State_Sunken
        else:
            state |= QStyle.StateFlag.State_Raised
        button.state = state
        self._view.style().drawControl(QStyle.ControlElement.CE_PushButton, button, painter,
                                       self._view)

    # interaction
    def _buttons(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> list[tuple[str, QRect]]:
        entry = self._entry(index)
        if entry is None:
            return []
        return self.geometry.layout(option, *entry).buttons

    def button_at(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                  pos: QPoint) -> str | None:
        return next((action for action, rect in self._buttons(option, index)
                     if rect.contains(pos)), None)

    def button_rect(self, option: QStyleOptionViewItem, index: QModelIndex, action: str) -> QRect:
        return next((rect for name, rect in self._buttons(option, index) if name == action),
                    QRect())

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem,
                    index: QModelIndex | QPersistentModelIndex) -> bool:
        kind = event.type()
        if not isinstance(event, QMouseEvent) or kind not in (
                QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress,
                QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick):
            return super().editorEvent(event, model, option, index)
        pos = event.position().toPoint()
        action = self.button_at(option, index, pos)
        key = (index.row(), action) if action else None
        if kind == QEvent.Type.MouseMove:
            if key != self._hover:
                self._hover = key
                self._view.viewport().update()
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self._pressed = key
            if key is not None:
                self._view.viewport().update()
                return True
            return False
        pressed, self._pressed = self._pressed, None
        if key is not None and pressed == key and action is not None:
            self._view.viewport().update()
            self.action_clicked.emit(action, index.data(JobRole))
            return True
        if pressed is not None:
            self._view.viewport().update()
            return True
        return False

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex) -> bool:
        action = self.button_at(option, index, event.pos())
        job = index.data(JobRole)
        if action is not None and isinstance(job, Job):
            QToolTip.showText(event.globalPos(), action_tip(action, job), view)
            return True
        return super().helpEvent(event, view, option, index)

    def clear_hover(self) -> None:
        self._hover = None
        self._pressed = None
