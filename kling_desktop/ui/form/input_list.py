"""The rows of a media slot: what was chosen, each with its size or length and a ✕.

One row per input, exactly the list's width (a long name is shortened in the middle,
the full path is in its tooltip). A converted input is shown under its original's name
with the conversion's note; a local clip has a "Trim…" button. The list's height is
fixed for the mode (one row, or a batch's rows) so nothing below it ever moves.

The list decides nothing: it says which input the user removed, wants to trim or
selected (:attr:`InputList.remove_requested`, ``trim_requested``, ``source_selected``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from kling_desktop.i18n import _
from kling_desktop.sources import is_link
from kling_desktop.ui.form.drop import source_name
from kling_desktop.ui.form.kinds import MediaKind
from kling_desktop.ui.widgets import ElidedLabel, format_seconds, mute

if TYPE_CHECKING:   # the checks load after the first paint (the infos come from them)
    from kling_desktop.engine.checks import ImageInfo, VideoInfo
    from kling_desktop.engine.origins import Origin

BATCH_ROWS = 4          # rows shown at once in a batch (more scroll)


class InputList(QListWidget):
    """The inputs of one slot, a row each (see the module's docstring)."""

    remove_requested = Signal(str)
    trim_requested = Signal(str)
    source_selected = Signal(str)

    def __init__(self, kind: MediaKind, name: str, tip: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._sources: list[str] = []
        self._origins: dict[str, Origin] = {}
        self.setAccessibleName(name)
        self.setToolTip(tip)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Rows fit the width (long names are shortened, the full path is in the tooltip).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.currentRowChanged.connect(self.on_current_row_changed)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        self.setStyleSheet(
            "QListWidget::item:selected { background: rgba("
            f"{highlight.red()}, {highlight.green()}, {highlight.blue()}, 70); }}")
        # Hidden while empty, its room kept: the preview above never changes height.
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        sample = self._row("sample.png")
        self._row_height = sample.sizeHint().height()
        sample.deleteLater()
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.on_delete_shortcut_activated)

    def show_inputs(self, sources: Sequence[str], origins: Mapping[str, Origin],
                    infos: Mapping[str, ImageInfo | VideoInfo | None], *, batch: bool,
                    current: str | None) -> None:
        """One row per source, ``current`` selected; the height of the mode's rows."""
        self._sources = list(sources)
        self._origins = dict(origins)
        self.blockSignals(True)
        self.clear()
        for source in self._sources:
            item = QListWidgetItem(self)
            item.setData(Qt.ItemDataRole.UserRole, source)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, source_name(source))
            item.setToolTip(source)
            row = self._row(source)
            item.setSizeHint(self._row_size(row))
            self.setItemWidget(item, row)
        if current in self._sources:
            self.setCurrentRow(self._sources.index(current))
        if len(self._sources) < 2:   # nothing to choose between: no highlight
            self.clearSelection()
        self.blockSignals(False)
        self.setVisible(bool(self._sources))
        # A fixed height for the mode, whatever the rows: one row, or a batch's rows.
        shown = BATCH_ROWS if batch else 1
        self.setFixedHeight(shown * self._row_height + 2 * self.frameWidth() + 2)
        self.set_details(infos)

    def set_details(self, infos: Mapping[str, ImageInfo | VideoInfo | None]) -> None:
        """Each row's size (pictures) or length (clips), from the checks' probes."""
        for index, source in enumerate(self._sources):
            item = self.item(index)
            row = self.itemWidget(item) if item is not None else None
            detail = row.findChild(QLabel, "detail") if row is not None else None
            if isinstance(detail, QLabel):
                detail.setText(_short_detail(source, infos.get(source)))

    def remove_buttons(self) -> list[QToolButton]:
        return [button for button in self._row_buttons() if button.objectName() != "trimButton"]

    def trim_buttons(self) -> list[QToolButton]:
        return [button for button in self._row_buttons() if button.objectName() == "trimButton"]

    def _row_buttons(self) -> list[QToolButton]:
        buttons: list[QToolButton] = []
        for index in range(self.count()):
            row = self.itemWidget(self.item(index))
            if row is not None:
                buttons.extend(row.findChildren(QToolButton))
        return buttons

    # -- rows ---------------------------------------------------------------------------------

    def _row_size(self, row: QWidget) -> QSize:
        """Exactly the list's width: the row shortens its name rather than overflow."""
        width = max(row.minimumSizeHint().width(), self.viewport().width())
        return QSize(width, row.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        # A scroll area's resizeEvent is its viewport's: the rows follow the width it has.
        # (Watching viewport() instead would ask PySide for the viewport's wrapper before
        # the first paint: for a plain QWidget made by Qt, it then builds the Python type
        # of every widget class, ~9 ms.)
        super().resizeEvent(event)
        for index in range(self.count()):
            item = self.item(index)
            row = self.itemWidget(item)
            if row is not None:
                item.setSizeHint(self._row_size(row))

    def _row(self, source: str) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(6, 1, 2, 1)
        layout.setSpacing(6)
        # Shortened in the middle, so the extension (and the start) stay readable.
        origin = self._origins.get(source)
        shown = source_name(origin.source) if origin is not None else source_name(source)
        name = ElidedLabel(shown, row, mode=Qt.TextElideMode.ElideMiddle)
        name.setObjectName("name")
        name.setToolTip(source if origin is None else _(
            "{path}\n{note}, from {original}").format(path=source, note=origin.note,
                                                     original=origin.source))
        detail = QLabel(row)
        detail.setObjectName("detail")
        mute(detail)
        remove = QToolButton(row)
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(_("Remove {name}").format(name=source_name(source)))
        remove.setAccessibleName(_("Remove {name}").format(name=source_name(source)))
        remove.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        remove.clicked.connect(lambda _checked=False, s=source: self.remove_requested.emit(s))
        layout.addWidget(name, 1)
        if origin is not None:
            note = ElidedLabel(origin.note, row)
            note.setObjectName("conversionNote")
            note.setToolTip(origin.note)
            mute(note)
            layout.addWidget(note, 1)
        layout.addWidget(detail)
        if self.kind is MediaKind.VIDEO and not is_link(source):
            trim = QToolButton(row)
            trim.setObjectName("trimButton")
            trim.setText(_("Trim…"))
            trim.setAutoRaise(True)
            trim.setToolTip(_("Choose which seconds of {name} to send (the clip's length is "
                              "the bill)").format(name=shown))
            trim.setAccessibleName(_("Trim {name}").format(name=shown))
            trim.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            trim.clicked.connect(lambda _checked=False, s=source: self.trim_requested.emit(s))
            layout.addWidget(trim)
        layout.addWidget(remove)
        return row

    # -- user actions -------------------------------------------------------------------------

    @Slot(int)
    def on_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self._sources):
            self.source_selected.emit(self._sources[row])

    @Slot()
    def on_delete_shortcut_activated(self) -> None:
        row = self.currentRow()
        if 0 <= row < len(self._sources):
            self.remove_requested.emit(self._sources[row])


def _short_detail(source: str, info: ImageInfo | VideoInfo | None) -> str:
    if info is None:
        return _("link") if is_link(source) else ""
    from kling_desktop.engine.checks import VideoInfo

    if isinstance(info, VideoInfo):
        return format_seconds(info.duration)
    return f"{info.width} × {info.height}"
