"""The selected result in full: its player, every parameter used, its inputs and file facts.

With several results selected the pane offers what works on all of them
(marks, export, trash). A result whose description file cannot be read still
plays and can be kept, exported or trashed; the pane says what is wrong with
the file and how to fix it, and never touches the video.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.library import InputRef, Library, SidecarError, read_sidecar
from kling_desktop.engine.runner import DEMO_BASE_URL
from kling_desktop.errors import error_text
from kling_desktop.i18n import _, ngettext
from kling_desktop.ui.gallery.actions import Target
from kling_desktop.ui.gallery.labels import (
    describe_orientation,
    format_duration,
    format_moment,
    input_name,
    input_tip,
    label_of,
    title_of,
)
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.posters import Thumbnails
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import format_bytes, muted_color, warning_color

if TYPE_CHECKING:   # the player brings Qt Multimedia: loaded when a result is shown
    from kling_desktop.ui.gallery.player import VideoPlayer

INPUT_PREVIEW = QSize(150, 150)


class _Value(QLabel):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)


class DetailPane(QWidget):
    """Shows :class:`Target` s; asks the gallery to act through its signals."""

    mark_requested = Signal(object)        # "keeper" | "reject" | None
    compare_requested = Signal()
    use_settings_requested = Signal()
    open_requested = Signal()
    reveal_requested = Signal()
    save_copy_requested = Signal()
    delete_requested = Signal()
    export_requested = Signal()

    def __init__(self, library: Library, tasks: TaskRunner, thumbnails: Thumbnails,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryDetail")
        self.library = library
        self.tasks = tasks
        self.thumbnails = thumbnails
        self._targets: list[Target] = []
        self.setMinimumWidth(340)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget(self)
        outer.addWidget(self.pages)

        self.empty = QLabel(_("Select a result to review it here.\n\nTip: K marks a keeper, "
                              "X a reject, Enter compares with the motion clip."), self)
        self.empty.setObjectName("detailEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(24, 24, 24, 24)
        self.pages.addWidget(self.empty)

        self.body_scroll = QScrollArea(self)
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(self.body_scroll)
        self.body_scroll.setWidget(body)
        self.pages.addWidget(self.body_scroll)
        column = QVBoxLayout(body)
        column.setContentsMargins(12, 8, 12, 12)
        column.setSpacing(8)

        self.title = QLabel(body)
        self.title.setObjectName("detailTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setWeight(font.Weight.DemiBold)
        self.title.setFont(font)
        column.addWidget(self.title)

        # the player (and with it the media back end) is made when first needed
        self._player: VideoPlayer | None = None
        self._player_slot = QVBoxLayout()
        self._player_slot.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._player_slot)

        self.warning = QLabel(body)
        self.warning.setObjectName("detailWarning")
        self.warning.setWordWrap(True)
        self.warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning.setFrameShape(QFrame.Shape.StyledPanel)
        self.warning.setContentsMargins(8, 6, 8, 6)
        self.warning.hide()
        column.addWidget(self.warning)

        marks = QHBoxLayout()
        self.keeper_button = self._button(_("★ Keeper"), "keeperButton",
                                          _("Mark as a keeper (K)"), checkable=True)
        self.reject_button = self._button(_("✕ Reject"), "rejectButton",
                                          _("Mark as a reject (X)"), checkable=True)
        self.keeper_button.clicked.connect(self.on_keeper_button_clicked)
        self.reject_button.clicked.connect(self.on_reject_button_clicked)
        self.compare_button = self._button(_("Compare with the clip"), "compareButton",
                                           _("The motion clip and the result side by side "
                                             "(Enter)"))
        self.compare_button.clicked.connect(self.compare_requested)
        for widget in (self.keeper_button, self.reject_button, self.compare_button):
            marks.addWidget(widget)
        column.addLayout(marks)

        self.again_button = self._button(_("Use these settings again"), "useAgainButton",
                                         _("Fill the form with this result's inputs and "
                                           "settings"))
        self.again_button.clicked.connect(self.use_settings_requested)
        column.addWidget(self.again_button)

        files = QGridLayout()
        self.open_button = self._button(_("Open in system player"), "openButton",
                                        _("Play it in your computer's own video player"))
        self.open_button.clicked.connect(self.open_requested)
        self.reveal_button = self._button(_("Show in folder"), "revealButton",
                                          _("Open the library folder at this video"))
        self.reveal_button.clicked.connect(self.reveal_requested)
        self.save_button = self._button(_("Save a copy…"), "saveCopyButton",
                                        _("Copy the video somewhere else"))
        self.save_button.clicked.connect(self.save_copy_requested)
        self.delete_button = self._button(_("Move to trash…"), "deleteButton",
                                          _("Move the video and its description to the "
                                            "system trash (Delete)"))
        self.delete_button.clicked.connect(self.delete_requested)
        files.addWidget(self.open_button, 0, 0)
        files.addWidget(self.reveal_button, 0, 1)
        files.addWidget(self.save_button, 1, 0)
        files.addWidget(self.delete_button, 1, 1)
        column.addLayout(files)

        self.params = QFormLayout()
        self.params.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.params.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, _Value] = {}
        for key, caption in (("prompt", _("Prompt")), ("model", _("Model")),
                             ("mode", _("Quality")), ("orientation", _("Orientation")),
                             ("sound", _("Original sound")), ("length", _("Length")),
                             ("resolution", _("Resolution")), ("size", _("File size")),
                             ("made", _("Finished")), ("saved", _("Saved on")),
                             ("kind", _("Kind")), ("batch", _("Batch")),
                             ("provider", _("Provider")), ("file", _("File"))):
            value = _Value(body)
            value.setObjectName(f"detail_{key}")
            self.values[key] = value
            self.params.addRow(caption, value)
        task_row = QHBoxLayout()
        self.task_value = _Value(body)
        self.task_value.setObjectName("detail_task")
        self.copy_task_button = QToolButton(body)
        self.copy_task_button.setObjectName("copyTaskId")
        self.copy_task_button.setText(_("Copy"))
        self.copy_task_button.setToolTip(_("Copy the task id (for the provider's support)"))
        self.copy_task_button.clicked.connect(self.on_copy_task_button_clicked)
        task_row.addWidget(self.task_value, 1)
        task_row.addWidget(self.copy_task_button)
        self.params.insertRow(1, _("Task id"), task_row)
        column.addLayout(self.params)

        inputs = QHBoxLayout()
        self.image_preview, self.image_caption = self._input_box(body, _("Character picture"),
                                                                 "inputImage")
        self.clip_preview, self.clip_caption = self._input_box(body, _("Motion clip"),
                                                               "inputClip")
        inputs.addLayout(self._stack(self.image_preview, self.image_caption))
        inputs.addLayout(self._stack(self.clip_preview, self.clip_caption))
        self.inputs_title = QLabel(_("Inputs"), body)
        self.inputs_title.setFont(font)
        column.addWidget(self.inputs_title)
        column.addLayout(inputs)
        column.addStretch(1)

        # several selected
        self.multi = QWidget(self)
        self.multi.setObjectName("detailMulti")
        multi = QVBoxLayout(self.multi)
        multi.setContentsMargins(16, 16, 16, 16)
        self.multi_label = QLabel(self.multi)
        self.multi_label.setFont(font)
        multi.addWidget(self.multi_label)
        for text, name, slot in (
                (_("★ Mark all as keepers"), "multiKeeper", lambda: self.mark_requested.emit(
                    "keeper")),
                (_("✕ Mark all as rejects"), "multiReject", lambda: self.mark_requested.emit(
                    "reject")),
                (_("Clear their marks"), "multiClear", lambda: self.mark_requested.emit(None)),
                (_("Export with descriptions…"), "multiExport", self.export_requested.emit),
                (_("Move all to trash…"), "multiDelete", self.delete_requested.emit)):
            button = self._button(text, name, "")
            button.clicked.connect(slot)
            multi.addWidget(button)
        multi.addStretch(1)
        self.pages.addWidget(self.multi)
        self.thumbnails.ready.connect(self.on_thumbnails_ready)

    @property
    def player(self) -> VideoPlayer:
        if self._player is None:
            from kling_desktop.ui.gallery.player import VideoPlayer

            self._player = VideoPlayer(self.body_scroll.widget())
            self._player.setObjectName("detailPlayer")
            self._player.screen_stack.setMinimumHeight(220)
            self._player.screen_stack.setMaximumHeight(460)  # room for the details below
            self._player_slot.addWidget(self._player)
        return self._player

    def toggle_play(self) -> None:
        if self._player is not None:
            self._player.toggle_play()

    def _button(self, text: str, name: str, tip: str, *, checkable: bool = False
                ) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        if tip:
            button.setToolTip(tip)
        button.setCheckable(checkable)
        return button

    def _input_box(self, parent: QWidget, caption: str, name: str) -> tuple[QLabel, QLabel]:
        preview = QLabel(parent)
        preview.setObjectName(f"{name}Preview")
        preview.setFixedSize(INPUT_PREVIEW)
        preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        preview.setStyleSheet("background: #202124; color: #9aa0a6; border-radius: 6px;")
        text = QLabel(caption, parent)
        text.setObjectName(f"{name}Caption")
        text.setWordWrap(True)
        text.setMaximumWidth(INPUT_PREVIEW.width())
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return preview, text

    @staticmethod
    def _stack(preview: QLabel, caption: QLabel) -> QVBoxLayout:
        box = QVBoxLayout()
        box.addWidget(preview)
        box.addWidget(caption)
        box.addStretch(1)
        return box

    # -- content ----------------------------------------------------------------------------

    def targets(self) -> list[Target]:
        return list(self._targets)

    def show_targets(self, targets: Sequence[Target]) -> None:
        same = [t.key for t in targets] == [t.key for t in self._targets]
        self._targets = list(targets)
        if not targets:
            if self._player is not None:
                self._player.set_source(None)
            self.pages.setCurrentWidget(self.empty)
            return
        if len(targets) > 1:
            if self._player is not None:
                self._player.pause()
            self.multi_label.setText(ngettext("{n} result selected", "{n} results selected",
                                              len(targets)).format(n=len(targets)))
            self.pages.setCurrentWidget(self.multi)
            return
        self.pages.setCurrentWidget(self.body_scroll)
        self._show_one(targets[0], refresh_only=same)

    def _show_one(self, target: Target, *, refresh_only: bool) -> None:
        record, entry = target.record, target.entry
        self.title.setText(title_of(record))
        if not refresh_only:
            self.player.set_source(target.video)
            self._poster_key: str | None = target.key
            self.player.set_poster(self.thumbnails.cached(target.key))
        self.keeper_button.setChecked(record.mark == "keeper")
        self.reject_button.setChecked(record.mark == "reject")
        readable = entry is not None
        self.again_button.setEnabled(readable)
        v = self.values
        v["length"].setText(format_duration(record.duration) or "—")
        if record.width and record.height:
            v["resolution"].setText(_("{width} × {height}").format(width=record.width,
                                                                   height=record.height))
        else:
            v["resolution"].setText("—")
        v["size"].setText(format_bytes(record.file_size))
        v["file"].setText(Path(record.video_rel).name)
        v["saved"].setText(format_moment(record.saved_at))
        if entry is None:
            for key in ("prompt", "model", "mode", "orientation", "sound", "made", "kind",
                        "batch", "provider"):
                v[key].setText("—")
            self.task_value.setText(record.task_id or "—")
            self.copy_task_button.setEnabled(bool(record.task_id))
            self.compare_button.setEnabled(False)
            self._show_inputs(None, None)
            self._show_problem(target)
            self._hide_unknown_rows()
            self.inputs_title.hide()
            self._set_inputs_visible(False)
            return
        self.inputs_title.show()
        self._set_inputs_visible(True)
        self.warning.hide()
        v["prompt"].setText(entry.prompt or _("(no prompt)"))
        v["model"].setText(label_of(Model, entry.model))
        v["mode"].setText(label_of(Mode, entry.mode))
        v["orientation"].setText(describe_orientation(entry.orientation))
        v["sound"].setText(_("Kept from the clip") if entry.keep_original_sound
                           else _("Removed"))
        v["made"].setText(format_moment(entry.completed_at))
        v["kind"].setText(_("Demo (made by the built-in simulator, not billed)") if entry.demo
                          else _("Real (made by the provider)"))
        v["batch"].setText(entry.batch_id or "—")
        v["provider"].setText(_("The built-in simulator") if entry.base_url == DEMO_BASE_URL
                              else entry.base_url or "—")
        self.task_value.setText(entry.task_id or "—")
        self.copy_task_button.setEnabled(bool(entry.task_id))
        clip = self.library.input_path(entry.video)
        self.compare_button.setEnabled(True)
        self.compare_button.setToolTip(
            _("The motion clip and the result side by side (Enter)") if clip is not None else
            _("No copy of the motion clip was kept; the compare view shows the result alone"))
        self._show_inputs(entry.image, entry.video)
        self._hide_unknown_rows()

    def _set_inputs_visible(self, visible: bool) -> None:
        for widget in (self.image_preview, self.image_caption, self.clip_preview,
                       self.clip_caption):
            widget.setVisible(visible)

    def _show_problem(self, target: Target) -> None:
        color = warning_color(self.palette()).name()
        if target.record.sidecar_rel is None:
            self.warning.setText(_bold_head(
                color, _("No description file."),
                _("This video has no .json file next to it, so its settings are unknown. It "
                  "can still be played, kept, exported or moved to the trash.")))
            self.warning.show()
            return
        sidecar = self.library.path_of(target.record.sidecar_rel)
        unreadable = _("The description file cannot be read.")
        self.warning.setText(_bold_head(color, unreadable, _("Checking {name}…").format(
            name=sidecar.name)))
        self.warning.show()
        key = target.key

        def shown(error: object) -> None:
            if not self._targets or self._targets[0].key != key:
                return
            if isinstance(error, SidecarError):
                text = error_text(error)
            else:
                text = _("It reads fine now; the list will catch up on its next check of "
                         "the folder.")
            self.warning.setText(_bold_head(color, unreadable, text))

        def check() -> object:
            try:
                read_sidecar(sidecar)
            except SidecarError as exc:
                return exc
            return None

        self.tasks.run(check, on_done=shown,
                       on_failed=lambda error: self.warning.setText(error_text(error)),
                       key="gallery-detail-sidecar")

    # -- inputs -----------------------------------------------------------------------------

    def _show_inputs(self, image: InputRef | None, clip: InputRef | None) -> None:
        self._image_key: str | None = None
        self._clip_key: str | None = None
        for preview, caption, ref, kind in (
                (self.image_preview, self.image_caption, image, _("Character picture")),
                (self.clip_preview, self.clip_caption, clip, _("Motion clip"))):
            preview.clear()
            if ref is None:
                preview.setText("—")
                caption.setText(kind)
                continue
            path = self.library.input_path(ref)
            where = (_("kept in the library") if path is not None else
                     _("given as a link, not kept") if ref.url else _("no copy kept"))
            caption.setText(f"<b>{html.escape(kind)}</b><br>{html.escape(input_name(ref))}"
                            f"<br><i>{html.escape(where)}</i>")
            caption.setToolTip(input_tip(ref, path))
            if path is None:
                preview.setText(_("No copy"))
                continue
            preview.setText("…")
            if ref is image:
                self._image_key = str(path)
                load_picture(self.tasks, path, INPUT_PREVIEW * 2,
                             partial(self._on_image, str(path)), key="gallery-detail-image")
            else:
                self._clip_key = f"input:{path}"
                pixmap = self.thumbnails.pixmap(self._clip_key, path)
                if pixmap is not None:
                    self._set_preview(self.clip_preview, pixmap)

    def _on_image(self, key: str, picture: Picture) -> None:
        if key != getattr(self, "_image_key", None):
            return
        if picture.image is None:
            self.image_preview.setText(_("No preview"))
            self.image_preview.setToolTip(_("No preview: {reason}").format(
                reason=picture.error))
            return
        self._set_preview(self.image_preview, QPixmap.fromImage(picture.image))

    def _hide_unknown_rows(self) -> None:
        for value in self.values.values():
            self.params.setRowVisible(value, value.text() not in ("", "—"))

    @Slot(str)
    def on_thumbnails_ready(self, key: str) -> None:
        if key == getattr(self, "_poster_key", None) and self._player is not None:
            self._player.set_poster(self.thumbnails.cached(key))
        if key == getattr(self, "_clip_key", None):
            pixmap = self.thumbnails.cached(key)
            if pixmap is not None:
                self._set_preview(self.clip_preview, pixmap)

    def _set_preview(self, label: QLabel, pixmap: QPixmap) -> None:
        ratio = self.devicePixelRatioF()
        scaled = pixmap.scaled(INPUT_PREVIEW * ratio, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        label.setPixmap(scaled)

    # -- buttons ----------------------------------------------------------------------------

    @Slot()
    def on_keeper_button_clicked(self) -> None:
        self.mark_requested.emit("keeper" if self.keeper_button.isChecked() else None)

    @Slot()
    def on_reject_button_clicked(self) -> None:
        self.mark_requested.emit("reject" if self.reject_button.isChecked() else None)

    @Slot()
    def on_copy_task_button_clicked(self) -> None:
        text = self.task_value.text()
        if text and text != "—":
            QGuiApplication.clipboard().setText(text)

    def shutdown(self) -> None:
        if self._player is not None:
            self._player.shutdown()

    def muted_color(self) -> str:
        return muted_color(self.palette()).name()


def _bold_head(color: str, head: str, text: str) -> str:
    """A warning's rich text: its first sentence in bold and ``color``, then the rest."""
    # Two sentences, joined as the language joins them (no space in Chinese).
    return _("{message} {fix}").format(
        message=f"<b style='color:{color}'>{html.escape(head)}</b>", fix=html.escape(text))
