"""One input of the form: the character picture(s) or the motion clip(s).

A ``MediaSlot`` takes files by drag-and-drop, by "Choose…", by pasting, or as
https links typed into its link field; it lists what was chosen (each removable)
and previews the selected one: the picture scaled (decoded on the TaskRunner),
or the clip's first frame with its length and size, playable inline (muted
unless the user turns the sound on).

The slot judges nothing itself: the form runs the engine's checks and hands the
slot its problems (``set_problems``) and the probe results (``set_infos``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QObject,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.engine.checks import ImageInfo, VideoInfo
from kling_desktop.sources import display_name
from kling_desktop.sources import is_link as is_link
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
    ElidedLabel,
    ProblemList,
    format_bytes,
    format_seconds,
    muted_color,
)

if TYPE_CHECKING:
    from kling_desktop.engine.checks import Problem

PREVIEW_DECODE_MAX = 1280   # longest side of a decoded preview, in pixels
POSTER_TIMEOUT_MS = 8000    # give up on a poster frame after this long
INFO_SEPARATOR = " · "
LINK_PLACEHOLDER = "or paste an https:// link"
LINK_PLACEHOLDER_SHORT = "or paste a link"


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


_TEXT = {
    MediaKind.IMAGE: {
        "title": "Character picture",
        "formats": "JPG or PNG",
        "drop": "Drop a picture of the character here",
        "choose_tip": "Pick one or more JPG/PNG pictures from this computer",
        "filter": "Pictures (*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG);;All files (*)",
        "dialog": "Choose character pictures",
        "one": "picture",
        "many": "pictures",
    },
    MediaKind.VIDEO: {
        "title": "Motion video",
        "formats": "MP4 or MOV",
        "drop": "Drop a clip of the movement here",
        "choose_tip": "Pick one or more MP4/MOV clips from this computer",
        "filter": "Videos (*.mp4 *.mov *.MP4 *.MOV);;All files (*)",
        "dialog": "Choose motion videos",
        "one": "clip",
        "many": "clips",
    },
}


def source_name(source: str) -> str:
    """A short name for a path or a link, for lists and captions."""
    return display_name(source)


def sources_from_mime(mime: QMimeData) -> list[str]:
    """Local files and web links carried by a drop or the clipboard."""
    found: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                found.append(url.toLocalFile())
            elif is_link(url.toString()):
                found.append(url.toString())
    elif mime.hasText():
        for line in mime.text().splitlines():
            text = line.strip()
            if text.lower().startswith("file://"):
                found.append(QUrl(text).toLocalFile())
            elif is_link(text):
                found.append(text)
    return found


class _Preview(QWidget):
    """Paints the picture/poster scaled into the drop zone, or a placeholder."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self._drag_over = False
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        # As tall as its minimum: the form's layout hands the preview whatever height is left
        # (stretch), and a form that does not fit scrolls only below this.
        return QSize(320, self.minimumHeight())

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def placeholder(self) -> str:
        return self._placeholder

    def set_drag_over(self, value: bool) -> None:
        self._drag_over = value
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        if self._drag_over:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.SolidLine)
        elif self._pixmap is None:
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1.5, Qt.PenStyle.DashLine)
        else:
            pen = QPen(palette.color(QPalette.ColorRole.Mid), 1)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 8, 8)
        if self._pixmap is not None:
            area = rect.adjusted(6, 6, -6, -6).toRect()
            scaled = self._pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = area.x() + (area.width() - scaled.width()) // 2
            y = area.y() + (area.height() - scaled.height()) // 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(x, y, scaled.width(), scaled.height(), self._pixmap)
        else:
            painter.setPen(muted_color(palette))
            painter.drawText(rect.adjusted(16, 16, -16, -16),
                             int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                             self._placeholder)
        painter.end()


class PosterGrabber(QObject):
    """Fetches a clip's first frame with QMediaPlayer + QVideoSink (decoding is Qt's own threads).

    One clip at a time; a newer ``grab`` replaces the older one.
    """

    grabbed = Signal(str, QImage, int)   # source, first frame, duration in ms (-1: unknown)
    failed = Signal(str, str)            # source, reason

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player: QMediaPlayer | None = None
        self._sink: QVideoSink | None = None
        self._source: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(POSTER_TIMEOUT_MS)
        self._timer.timeout.connect(self.on_timer_timeout)

    def source(self) -> str | None:
        return self._source

    def grab(self, source: str) -> None:
        if self._player is None:
            self._player = QMediaPlayer(self)
            self._sink = QVideoSink(self)
            self._player.setVideoSink(self._sink)
            self._sink.videoFrameChanged.connect(self.on_sink_videoFrameChanged)
            self._player.errorOccurred.connect(self.on_player_errorOccurred)
        self._source = source
        self._player.setSource(QUrl.fromLocalFile(source))
        self._player.play()
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._source = None
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())

    @Slot(QVideoFrame)
    def on_sink_videoFrameChanged(self, frame: QVideoFrame) -> None:
        if self._source is None or self._player is None or not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():
            return
        source, duration = self._source, int(self._player.duration())
        self.cancel()
        self.grabbed.emit(source, image, duration if duration > 0 else -1)

    @Slot(QMediaPlayer.Error, str)
    def on_player_errorOccurred(self, error: QMediaPlayer.Error, text: str) -> None:
        source = self._source
        if source is None or error == QMediaPlayer.Error.NoError:
            return
        self.cancel()
        self.failed.emit(source, text or "the clip could not be decoded")

    @Slot()
    def on_timer_timeout(self) -> None:
        source = self._source
        if source is not None:
            self.cancel()
            self.failed.emit(source, "no frame arrived in time")


class MediaSlot(QFrame):
    """Where the user puts the picture(s) or the clip(s) of a job.

    Signals: ``inputs_changed(list[str])`` whenever the chosen inputs change;
    ``action_requested(str)`` when the user clicks a problem's fix button;
    ``preview_shown(str)`` when the preview of a source is on screen.
    """

    inputs_changed = Signal(list)
    action_requested = Signal(str)
    preview_shown = Signal(str)

    def __init__(self, kind: MediaKind | str, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = MediaKind(kind)
        self._tasks = tasks
        self._text = _TEXT[self.kind]
        self._inputs: list[str] = []
        self._infos: dict[str, ImageInfo | VideoInfo | None] = {}
        self._previews: dict[str, QImage] = {}      # decoded pictures / poster frames
        self._durations: dict[str, float] = {}      # from the player, until the engine's probe
        self._frame_sizes: dict[str, QSize] = {}
        self._preview_failed: dict[str, str] = {}
        self._previewed: str | None = None
        self._last_dir = ""
        self._player: QMediaPlayer | None = None
        self._audio: QAudioOutput | None = None
        self._video_widget: QVideoWidget | None = None
        self._poster: PosterGrabber | None = None

        self.setObjectName("mediaSlot")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setAccessibleName(self._text["title"])
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._build()
        self._refresh()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        text = self._text
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        header = QHBoxLayout()
        header.setSpacing(8)
        self.title_label = QLabel(text["title"], self)
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title_label.setFont(font)
        # The formats give way (shortened) before the title does.
        self.hint_label = ElidedLabel(text["formats"], self)
        self.hint_label.setToolTip(text["formats"])
        self._mute(self.hint_label)
        self.count_label = QLabel(self)
        self._mute(self.count_label)
        header.addWidget(self.title_label)
        header.addWidget(self.hint_label, 1)
        header.addWidget(self.count_label)
        layout.addLayout(header)

        self.preview = _Preview(text["drop"] + "\nor choose below", self)
        self.preview.setAccessibleName(f"{text['title']} preview")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.preview)
        self.stack.setMinimumHeight(110)
        layout.addWidget(self.stack, 1)

        info_row = QHBoxLayout()
        info_row.setSpacing(6)
        self.play_button = QToolButton(self)
        self.play_button.setText("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the clip here (muted unless you turn the sound on)")
        self.play_button.setAccessibleName("Play the motion video")
        self.play_button.toggled.connect(self.on_play_button_toggled)
        self.sound_button = QToolButton(self)
        self.sound_button.setText("Sound off")
        self.sound_button.setCheckable(True)
        self.sound_button.setToolTip("Hear the clip's own sound while it plays")
        self.sound_button.setAccessibleName("Play the clip with sound")
        self.sound_button.toggled.connect(self.on_sound_button_toggled)
        # Long details drop their last parts ("12.0 s · 640 × 480 · …"); all of it is in the
        # tooltip. Never wider than the slot, so both slots keep the same width.
        self.info_label = ElidedLabel(parent=self, separator=INFO_SEPARATOR)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setAccessibleName(f"{text['title']} details")
        self._mute(self.info_label)
        info_row.addWidget(self.play_button)
        info_row.addWidget(self.sound_button)
        info_row.addWidget(self.info_label, 1)
        # Same height in both slots, so their rows line up side by side.
        self.info_label.setMinimumHeight(self.play_button.sizeHint().height())
        layout.addLayout(info_row)
        is_video = self.kind is MediaKind.VIDEO
        self.play_button.setVisible(is_video)
        self.sound_button.setVisible(is_video)

        pick_row = QHBoxLayout()
        pick_row.setSpacing(6)
        self.choose_button = QPushButton("Choose…", self)
        self.choose_button.setToolTip(text["choose_tip"])
        self.choose_button.setAccessibleName(f"Choose {text['title'].lower()} files")
        self.choose_button.clicked.connect(self.on_choose_button_clicked)
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText(LINK_PLACEHOLDER)
        self.url_edit.setMinimumWidth(80)
        self.url_edit.setClearButtonEnabled(True)
        self.url_edit.setToolTip(
            f"A public link to a {text['formats']} file; press Enter to add it")
        self.url_edit.setAccessibleName(f"{text['title']} link")
        self.url_edit.returnPressed.connect(self.on_url_edit_returnPressed)
        self.add_button = QPushButton("Add", self)
        self.add_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.add_button.setMaximumWidth(
            self.add_button.fontMetrics().horizontalAdvance("Add") + 28)
        self.add_button.setToolTip("Add the link above")
        self.add_button.setAccessibleName(f"Add {text['title'].lower()} link")
        self.add_button.clicked.connect(self.on_add_button_clicked)
        pick_row.addWidget(self.choose_button)
        pick_row.addWidget(self.url_edit, 1)
        pick_row.addWidget(self.add_button)
        layout.addLayout(pick_row)

        self.list_widget = QListWidget(self)
        self.list_widget.setAccessibleName(f"Chosen {text['many']}")
        self.list_widget.setToolTip(
            f"The {text['many']} of this batch. Select one to preview it; Delete removes it.")
        self.list_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Rows fit the width (long names are shortened, the full path is in the tooltip).
        self.list_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget.setHorizontalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list_widget.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list_widget.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list_widget.viewport().installEventFilter(self)
        self.list_widget.currentRowChanged.connect(self.on_list_widget_currentRowChanged)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        self.list_widget.setStyleSheet(
            "QListWidget::item:selected { background: rgba("
            f"{highlight.red()}, {highlight.green()}, {highlight.blue()}, 70); }}")
        layout.addWidget(self.list_widget)

        self.note_label = QLabel(self)   # the slot's own notes (e.g. the clip cannot play)
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)
        layout.addWidget(self.note_label)

        self.problem_list = ProblemList(self)
        self.problem_list.setAccessibleName(f"{text['title']} problems")
        self.problem_list.action_requested.connect(self.action_requested)
        layout.addWidget(self.problem_list)

        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list_widget)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.on_delete_shortcut_activated)
        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.on_paste_shortcut_activated)

    def _mute(self, label: QLabel) -> None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, muted_color(self.palette()))
        label.setPalette(palette)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_placeholder()

    def _fit_placeholder(self) -> None:
        """The long link hint when it fits the field, else the short one (tooltip: https)."""
        edit = self.url_edit
        room = edit.width() - 2 * edit.fontMetrics().horizontalAdvance("x") - 24
        fits = edit.fontMetrics().horizontalAdvance(LINK_PLACEHOLDER) <= room
        wanted = LINK_PLACEHOLDER if fits else LINK_PLACEHOLDER_SHORT
        if edit.placeholderText() != wanted:
            edit.setPlaceholderText(wanted)

    # -- public API ---------------------------------------------------------------------------

    def inputs(self) -> list[str]:
        return list(self._inputs)

    def set_inputs(self, sources: Sequence[str]) -> None:
        """Replace the chosen inputs (duplicates dropped, order kept)."""
        new = list(dict.fromkeys(s for s in sources if s))
        if new == self._inputs:
            return
        self._inputs = new
        self._refresh()
        self.inputs_changed.emit(self.inputs())

    def add_inputs(self, sources: Sequence[str]) -> None:
        added = [s for s in dict.fromkeys(sources) if s and s not in self._inputs]
        if not added:
            return
        self._inputs.extend(added)
        self._refresh(select=added[-1])
        self.inputs_changed.emit(self.inputs())

    def remove_input(self, source: str) -> None:
        if source not in self._inputs:
            return
        self._inputs.remove(source)
        self._previews.pop(source, None)
        self._refresh()
        self.inputs_changed.emit(self.inputs())

    def clear_inputs(self) -> None:
        self.set_inputs([])

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show the engine's problems about this slot's inputs (empty: none)."""
        self.problem_list.set_problems(problems)

    def problems_text(self) -> str:
        return self.problem_list.text()

    def set_infos(self, infos: Mapping[str, ImageInfo | VideoInfo | None]) -> None:
        """Probe results from the engine's checks, by source; they win over the player's guess."""
        self._infos = {s: infos[s] for s in self._inputs if s in infos}
        self._update_list_details()
        self._update_info()

    def previewed_source(self) -> str | None:
        return self._previewed

    def preview_image(self) -> QImage | None:
        return self.preview.image()

    def info_text(self) -> str:
        """All the details of the previewed input (the label may show fewer)."""
        return self.info_label.full_text()

    def is_playing(self) -> bool:
        return (self._player is not None
                and self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)

    def stop_playback(self) -> None:
        if self._player is not None:
            self._player.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(False)
        self.play_button.setText("▶ Play")
        self.play_button.blockSignals(False)
        self.stack.setCurrentWidget(self.preview)

    def shutdown(self) -> None:
        """Stop players and forget pending previews (the window calls this on close)."""
        self.stop_playback()
        if self._poster is not None:
            self._poster.cancel()
        self._tasks.cancel(self._preview_key)

    # -- drag and drop, paste -----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if sources_from_mime(event.mimeData()):
            event.acceptProposedAction()
            self.preview.set_drag_over(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if sources_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.preview.set_drag_over(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.preview.set_drag_over(False)
        sources = sources_from_mime(event.mimeData())
        if not sources:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_inputs(sources)

    @Slot()
    def on_paste_shortcut_activated(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        sources = sources_from_mime(mime) if mime is not None else []
        if sources:
            self.add_inputs(sources)

    # -- user actions -------------------------------------------------------------------------

    @Slot()
    def on_choose_button_clicked(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(
            self, self._text["dialog"], self._last_dir, self._text["filter"])
        if files:
            self._last_dir = str(Path(files[-1]).parent)
            self.add_inputs(files)

    @Slot()
    def on_add_button_clicked(self) -> None:
        self.on_url_edit_returnPressed()

    @Slot()
    def on_url_edit_returnPressed(self) -> None:
        text = self.url_edit.text().strip()
        if not text:
            return
        # Whatever was typed goes to the engine's checks, which say what is wrong with it.
        if text.lower().startswith("file://"):
            text = QUrl(text).toLocalFile()
        elif not is_link(text):
            text = str(Path(text).expanduser())
        self.url_edit.clear()
        self.add_inputs([text])

    @Slot()
    def on_delete_shortcut_activated(self) -> None:
        row = self.list_widget.currentRow()
        if 0 <= row < len(self._inputs):
            self.remove_input(self._inputs[row])

    @Slot(int)
    def on_list_widget_currentRowChanged(self, row: int) -> None:
        if 0 <= row < len(self._inputs):
            self._show_preview(self._inputs[row])

    # -- list ---------------------------------------------------------------------------------

    def _refresh(self, select: str | None = None) -> None:
        current = select or self._previewed
        if current not in self._inputs:
            current = self._inputs[0] if self._inputs else None
        self.list_widget.blockSignals(True)
        self.list_widget.clear()
        for source in self._inputs:
            item = QListWidgetItem(self.list_widget)
            item.setData(Qt.ItemDataRole.UserRole, source)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, source_name(source))
            item.setToolTip(source)
            row = self._list_row(source)
            item.setSizeHint(self._row_size(row))
            self.list_widget.setItemWidget(item, row)
        if current is not None:
            self.list_widget.setCurrentRow(self._inputs.index(current))
        if len(self._inputs) < 2:   # nothing to choose between: no highlight
            self.list_widget.clearSelection()
        self.list_widget.blockSignals(False)
        rows = len(self._inputs)
        self.list_widget.setVisible(rows > 0)
        row_height = self.list_widget.sizeHintForRow(0) if rows else 0
        frame = 2 * self.list_widget.frameWidth()
        self.list_widget.setFixedHeight(min(rows, 4) * row_height + frame + 2)
        noun = self._text["one"] if rows == 1 else self._text["many"]
        self.count_label.setText(f"{rows} {noun}" if rows > 1 else "")
        self._update_list_details()
        if current is None:
            self._clear_preview()
        else:
            self._show_preview(current)

    def _row_size(self, row: QWidget) -> QSize:
        """Exactly the list's width: the row shortens its name rather than overflow."""
        width = max(row.minimumSizeHint().width(), self.list_widget.viewport().width())
        return QSize(width, row.sizeHint().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.list_widget.viewport():
            for index in range(self.list_widget.count()):
                item = self.list_widget.item(index)
                row = self.list_widget.itemWidget(item)
                if row is not None:
                    item.setSizeHint(self._row_size(row))
        return super().eventFilter(watched, event)

    def _list_row(self, source: str) -> QWidget:
        row = QWidget(self.list_widget)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(6, 1, 2, 1)
        layout.setSpacing(6)
        # Shortened in the middle, so the extension (and the start) stay readable.
        name = ElidedLabel(source_name(source), row, mode=Qt.TextElideMode.ElideMiddle)
        name.setObjectName("name")
        name.setToolTip(source)
        detail = QLabel(row)
        detail.setObjectName("detail")
        self._mute(detail)
        remove = QToolButton(row)
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(f"Remove {source_name(source)}")
        remove.setAccessibleName(f"Remove {source_name(source)}")
        remove.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        remove.clicked.connect(lambda _checked=False, s=source: self.remove_input(s))
        layout.addWidget(name, 1)
        layout.addWidget(detail)
        layout.addWidget(remove)
        return row

    def remove_buttons(self) -> list[QToolButton]:
        buttons: list[QToolButton] = []
        for index in range(self.list_widget.count()):
            row = self.list_widget.itemWidget(self.list_widget.item(index))
            if row is not None:
                buttons.extend(row.findChildren(QToolButton))
        return buttons

    def _update_list_details(self) -> None:
        for index, source in enumerate(self._inputs):
            item = self.list_widget.item(index)
            row = self.list_widget.itemWidget(item) if item is not None else None
            detail = row.findChild(QLabel, "detail") if row is not None else None
            if isinstance(detail, QLabel):
                detail.setText(self._short_detail(source))

    def _short_detail(self, source: str) -> str:
        info = self._infos.get(source)
        if isinstance(info, VideoInfo):
            return format_seconds(info.duration)
        if info is not None:
            return f"{info.width} × {info.height}"
        if is_link(source):
            return "link"
        return ""

    # -- preview ------------------------------------------------------------------------------

    @property
    def _preview_key(self) -> str:
        return f"slot-preview-{id(self)}"

    def _clear_preview(self) -> None:
        self.stop_playback()
        self._previewed = None
        self.preview.set_image(None)
        self.preview.set_placeholder(self._text["drop"] + "\nor choose below")
        self.play_button.setEnabled(False)
        self.sound_button.setEnabled(False)
        self._update_info()

    def _show_preview(self, source: str) -> None:
        if source == self._previewed and (source in self._previews
                                          or source in self._preview_failed):
            return
        if source != self._previewed:
            self.stop_playback()
        self._previewed = source
        local = not is_link(source)
        self.play_button.setEnabled(local and self.kind is MediaKind.VIDEO)
        self.sound_button.setEnabled(local and self.kind is MediaKind.VIDEO)
        self._update_info()
        if source in self._previews:
            self.preview.set_image(self._previews[source])
            self.preview_shown.emit(source)
            return
        self.preview.set_image(None)
        if not local:
            self.preview.set_placeholder(
                "A web link: no preview here.\nThe provider fetches it when the job is sent.")
            return
        if source in self._preview_failed:
            self.preview.set_placeholder("No preview for this file.")
            return
        self.preview.set_placeholder("Loading preview…")
        if self.kind is MediaKind.IMAGE:
            box = QSize(PREVIEW_DECODE_MAX, PREVIEW_DECODE_MAX)
            load_picture(self._tasks, source, box, partial(self._on_decoded, source),
                         key=self._preview_key)
        else:
            if self._poster is None:
                self._poster = PosterGrabber(self)
                self._poster.grabbed.connect(self.on_poster_grabbed)
                self._poster.failed.connect(self.on_poster_failed)
            self._poster.grab(source)

    def _on_decoded(self, source: str, picture: Picture) -> None:
        if picture.image is not None:
            self._store_preview(source, picture.image)
        else:
            self._on_preview_failed(source, picture.error)

    def _store_preview(self, source: str, image: QImage) -> None:
        if source not in self._inputs:
            return
        self._previews[source] = image
        if source == self._previewed:
            self.preview.set_image(image)
            self._update_info()
            self.preview_shown.emit(source)

    def _on_preview_failed(self, source: str, reason: str) -> None:
        self._preview_failed[source] = reason
        if source == self._previewed:
            self.preview.set_placeholder("No preview for this file.")

    @Slot(str, QImage, int)
    def on_poster_grabbed(self, source: str, image: QImage, duration_ms: int) -> None:
        if duration_ms > 0:
            self._durations[source] = duration_ms / 1000.0
        self._frame_sizes[source] = image.size()
        if max(image.width(), image.height()) > PREVIEW_DECODE_MAX:
            image = image.scaled(PREVIEW_DECODE_MAX, PREVIEW_DECODE_MAX,
                                 Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self._store_preview(source, image)

    @Slot(str, str)
    def on_poster_failed(self, source: str, reason: str) -> None:
        self._on_preview_failed(source, reason)

    def _update_info(self) -> None:
        source = self._previewed
        if source is None:
            self.info_label.set_full_text("")
            self.info_label.setToolTip("")
            return
        info = self._infos.get(source)
        parts: list[str] = []
        if isinstance(info, VideoInfo):
            parts.append(format_seconds(info.duration))
            parts.append(f"{info.width} × {info.height}")
            parts.append(info.container.upper())
            parts.append(format_bytes(info.size_bytes))
            if info.has_audio is False:
                parts.append("no sound")
        elif isinstance(info, ImageInfo):
            parts.append(f"{info.width} × {info.height} px")
            parts.append(info.format.upper())
            parts.append(format_bytes(info.size_bytes))
        elif source in self._durations:
            parts.append(format_seconds(self._durations[source]))
            size = self._frame_sizes.get(source)
            if size is not None:
                parts.append(f"{size.width()} × {size.height()}")
        elif is_link(source):
            parts.append("Web link")
        text = INFO_SEPARATOR.join(parts)
        self.info_label.set_full_text(text)
        self.info_label.setToolTip(text)

    # -- inline playback ----------------------------------------------------------------------

    @Slot(bool)
    def on_play_button_toggled(self, checked: bool) -> None:
        source = self._previewed
        if source is None or is_link(source):
            self.stop_playback()
            return
        if not checked:
            if self._player is not None:
                self._player.pause()
            self.play_button.setText("▶ Play")
            return
        if self._player is None:
            self._player = QMediaPlayer(self)
            self._player.setLoops(QMediaPlayer.Loops.Infinite)
            self._video_widget = QVideoWidget(self.stack)
            self._video_widget.setAccessibleName("Motion video player")
            self.stack.addWidget(self._video_widget)
            self._player.setVideoOutput(self._video_widget)
            self._player.errorOccurred.connect(self.on_player_errorOccurred)
        wanted = QUrl.fromLocalFile(source)
        if self._player.source() != wanted:
            self._player.setSource(wanted)
        self._apply_sound()
        assert self._video_widget is not None
        self.stack.setCurrentWidget(self._video_widget)
        self.play_button.setText("❚❚ Pause")
        self._player.play()

    @Slot(bool)
    def on_sound_button_toggled(self, checked: bool) -> None:
        self.sound_button.setText("Sound on" if checked else "Sound off")
        self._apply_sound()

    def _apply_sound(self) -> None:
        if self._player is None:
            return
        if self.sound_button.isChecked():
            # The audio output (and the audio device behind it) exists only once asked for.
            if self._audio is None:
                self._audio = QAudioOutput(self)
                self._player.setAudioOutput(self._audio)
            self._audio.setMuted(False)
        elif self._audio is not None:
            self._audio.setMuted(True)

    @Slot(QMediaPlayer.Error, str)
    def on_player_errorOccurred(self, error: QMediaPlayer.Error, text: str) -> None:
        if error != QMediaPlayer.Error.NoError:
            self.stop_playback()
            self._show_note(f"This clip cannot be played here: {text}")

    def _show_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))
