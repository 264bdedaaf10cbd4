"""One input of the form: the character picture(s) or the motion clip(s).

A ``MediaSlot`` takes files by drag-and-drop, by "Choose…", by pasting, or as
https links typed into its link field; it lists what was chosen, each removable
(:class:`~kling_desktop.ui.form.input_list.InputList`), and previews the selected
one (:class:`~kling_desktop.ui.form.preview.SlotPreview`).

One input by default: a new pick *replaces* the slot's input. The switch "Add more
pictures (batch)" makes picks *add*, and shows the rows of the batch; dropping or
choosing several files at once turns it on (the switch shows it).

Its height is shared out once: the preview takes what the fixed parts (header,
pick row, list, message area) leave, so nothing moves when an input, a refusal
or a note comes or goes.

The slot judges nothing itself: the form runs the engine's checks and hands the
slot its problems (``set_problems``) and the probe results (``set_infos``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.i18n import N_, _
from kling_desktop.ui.form.conversion import ConversionBar, FixableProblemList
from kling_desktop.ui.form.drop import source_from_typed_text, sources_from_mime
from kling_desktop.ui.form.input_list import InputList
from kling_desktop.ui.form.kinds import MediaKind, count_text, slot_text
from kling_desktop.ui.form.messages import MessageArea
from kling_desktop.ui.form.offers import ACTION_PREFIX, FixOffer
from kling_desktop.ui.form.preview import SlotPreview
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import ElidedLabel, mute

if TYPE_CHECKING:   # the checks load after the first paint (the infos come from them)
    from kling_desktop.engine.checks import ImageInfo, Problem, VideoInfo
    from kling_desktop.engine.origins import Origin

LINK_PLACEHOLDER = N_("or paste an https:// link")
LINK_PLACEHOLDER_SHORT = N_("or paste a link")
MESSAGE_LINES = 4.5     # text lines (plus a fix button) reserved for the slot's messages
MESSAGE_LINES_SHORT = 3.5   # ... in a short window (1024 × 700); a longer one scrolls


class MediaSlot(QFrame):
    """Where the user puts the picture(s) or the clip(s) of a job.

    Signals: ``inputs_changed(list[str])`` whenever the chosen inputs change;
    ``action_requested(str)`` when the user clicks a problem's fix button;
    ``preview_shown(str)`` when the preview of a source is on screen;
    ``conversion_cancel_requested()`` when Cancel under a running conversion is clicked.

    A converted input (:meth:`replace_input`) is listed under its original's name with a
    short note ("trimmed 2.0–9.5 s", "converted from WebM").
    """

    inputs_changed = Signal(list)
    action_requested = Signal(str)
    preview_shown = Signal(str)
    batch_changed = Signal(bool)
    conversion_cancel_requested = Signal()

    def __init__(self, kind: MediaKind | str, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = MediaKind(kind)
        self._tasks = tasks
        self._text = slot_text(self.kind)
        self._inputs: list[str] = []
        self._infos: dict[str, ImageInfo | VideoInfo | None] = {}
        self._last_dir = ""
        self._batch = False
        self._origins: dict[str, Origin] = {}

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
        self.hint_label = ElidedLabel(text["formats"], self, whole=True)
        self.hint_label.setToolTip(text["formats"])
        mute(self.hint_label)
        self.count_label = QLabel(self)
        mute(self.count_label)
        self.batch_check = QCheckBox(text["batch"], self)
        self.batch_check.setObjectName("batchSwitch")
        self.batch_check.setToolTip(text["batch_tip"])
        self.batch_check.toggled.connect(self.on_batch_check_toggled)
        header.addWidget(self.title_label)
        header.addWidget(self.hint_label, 1)
        header.addWidget(self.count_label)
        header.addWidget(self.batch_check)
        layout.addLayout(header)

        self.view = SlotPreview(self.kind, tasks=self._tasks, parent=self)
        self.view.shown.connect(self.preview_shown)
        self.view.note.connect(self._show_note)
        self.preview = self.view.canvas
        self.stack = self.view.stack
        self.play_button = self.view.play_button
        self.sound_button = self.view.sound_button
        self.info_label = self.view.info_label
        layout.addWidget(self.view, 1)

        pick_row = QHBoxLayout()
        pick_row.setSpacing(6)
        self.choose_button = QPushButton(_("Choose…"), self)
        self.choose_button.setToolTip(self._choose_tip())
        self.choose_button.setAccessibleName(text["choose_name"])
        self.choose_button.clicked.connect(self.on_choose_button_clicked)
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText(_(LINK_PLACEHOLDER))
        self.url_edit.setMinimumWidth(80)
        self.url_edit.setClearButtonEnabled(True)
        self.url_edit.setToolTip(text["link_tip"])
        self.url_edit.setAccessibleName(text["link_name"])
        self.url_edit.returnPressed.connect(self.on_url_edit_returnPressed)
        self.add_button = QPushButton(_("Add"), self)
        self.add_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.add_button.setMaximumWidth(
            self.add_button.fontMetrics().horizontalAdvance(self.add_button.text()) + 28)
        self.add_button.setToolTip(_("Add the link above"))
        self.add_button.setAccessibleName(text["add_name"])
        self.add_button.clicked.connect(self.on_add_button_clicked)
        pick_row.addWidget(self.choose_button)
        pick_row.addWidget(self.url_edit, 1)
        pick_row.addWidget(self.add_button)
        layout.addLayout(pick_row)

        self.list_widget = InputList(self.kind, text["list_name"], text["list_tip"], self)
        self.list_widget.remove_requested.connect(self.remove_input)
        self.list_widget.trim_requested.connect(self._request_trim)
        self.list_widget.source_selected.connect(self.view.show_source)
        layout.addWidget(self.list_widget)

        # Problems and notes in a box of fixed height (a long one scrolls inside it).
        self.messages = MessageArea(MESSAGE_LINES, self)
        self.messages.setAccessibleName(text["messages"])
        self.conversion_bar = ConversionBar(self.messages.widget())
        self.conversion_bar.cancel_requested.connect(self.conversion_cancel_requested)
        self.messages.add(self.conversion_bar)
        self.problem_list = FixableProblemList(self.messages.widget())
        self.problem_list.setAccessibleName(text["problems"])
        self.problem_list.action_requested.connect(self.action_requested)
        self.messages.add(self.problem_list)
        self.note_label = self.messages.add_note("slotNote")   # e.g. the clip cannot play
        layout.addWidget(self.messages)

        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.on_paste_shortcut_activated)

    def _choose_tip(self) -> str:
        return self._text["choose_many" if self._batch else "choose_one"]

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_placeholder()
        self._fit_batch_switch()

    def set_short(self, short: bool) -> None:
        """A short window: less room kept for messages (a longer one scrolls inside)."""
        self.messages.set_lines(MESSAGE_LINES_SHORT if short else MESSAGE_LINES)

    def _fit_batch_switch(self) -> None:
        """The batch switch's full words when the header has room beside the title, else
        the short ones ("Add more (batch)"; the tooltip says it all)."""
        check = self.batch_check
        text_width = check.fontMetrics().horizontalAdvance
        box = check.sizeHint().width() - text_width(check.text())   # indicator + margins
        room = (self.width() - self.title_label.sizeHint().width()
                - self.count_label.sizeHint().width() - 3 * 8 - 24)
        long_text = self._text["batch"]
        wanted = long_text if box + text_width(long_text) <= room else self._text["batch_short"]
        if check.text() != wanted:
            check.setText(wanted)

    def _fit_placeholder(self) -> None:
        """The long link hint when it fits the field, else the short one (tooltip: https)."""
        edit = self.url_edit
        room = edit.width() - 2 * edit.fontMetrics().horizontalAdvance("x") - 24
        long_text = _(LINK_PLACEHOLDER)
        fits = edit.fontMetrics().horizontalAdvance(long_text) <= room
        wanted = long_text if fits else _(LINK_PLACEHOLDER_SHORT)
        if edit.placeholderText() != wanted:
            edit.setPlaceholderText(wanted)

    # -- public API ---------------------------------------------------------------------------

    def inputs(self) -> list[str]:
        return list(self._inputs)

    def set_inputs(self, sources: Sequence[str],
                   origins: Mapping[str, Origin] | None = None) -> None:
        """Replace the chosen inputs (duplicates dropped, order kept); several turn the
        batch switch on. ``origins``: the inputs that are converted copies, listed under
        their original's name with its note (as right after converting them)."""
        new = list(dict.fromkeys(s for s in sources if s))
        if len(new) > 1:
            self.set_batch(True)
        kept = {s: o for s, o in self._origins.items() if s in new}
        kept.update({s: o for s, o in (origins or {}).items() if s in new})
        if new == self._inputs and kept == self._origins:
            return
        self._origins = kept
        changed = new != self._inputs
        self._inputs = new
        self._refresh()
        if changed:
            self.inputs_changed.emit(self.inputs())

    def take(self, sources: Sequence[str]) -> None:
        """What the user picked, dropped or pasted: in a batch it is added; otherwise it
        replaces the input (several at once turn the batch on, and are all kept)."""
        sources = [s for s in dict.fromkeys(sources) if s]
        if not sources:
            return
        if len(sources) > 1 and not self._batch:
            self.set_batch(True)
        if self._batch:
            self.add_inputs(sources)
        else:
            self.set_inputs(sources[:1])

    def is_batch(self) -> bool:
        return self._batch

    def set_batch(self, on: bool) -> None:
        """Batch on: picks add and the list shows every row. Off: one input, the one
        previewed (the others leave the slot)."""
        if on == self._batch:
            return
        self._batch = on
        self.batch_check.blockSignals(True)
        self.batch_check.setChecked(on)
        self.batch_check.blockSignals(False)
        self.choose_button.setToolTip(self._choose_tip())
        kept = self._inputs
        if not on and len(self._inputs) > 1:
            current = self.view.previewed_source()
            kept = [current if current in self._inputs else self._inputs[0]]
        if kept != self._inputs:
            for source in self._inputs:
                if source not in kept:
                    self.view.forget(source)
            self._inputs = list(kept)
            self._refresh()
            self.inputs_changed.emit(self.inputs())
        else:
            self._refresh()
        self.batch_changed.emit(on)

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
        self._origins.pop(source, None)
        self.view.forget(source)
        self._refresh()
        self.inputs_changed.emit(self.inputs())

    def clear_inputs(self) -> None:
        self.set_inputs([])

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show the engine's problems about this slot's inputs (empty: none)."""
        self.problem_list.set_problems(problems)
        if self.is_converting():
            self.problem_list.setVisible(False)
        self._order_fix_buttons()

    def set_offers(self, offers: Sequence[FixOffer]) -> None:
        """The conversions that fix this slot's refusals (:mod:`.offers`), beside them."""
        self.problem_list.set_offers([o for o in offers if o.source in self._inputs])
        self._order_fix_buttons()

    def offer_button(self, label: str) -> QPushButton | None:
        return self.problem_list.offer_button(label)

    def _order_fix_buttons(self) -> None:
        # A fix is reached by Tab right after the inputs it is about, not at the window's end.
        previous: QWidget = self.list_widget
        buttons = self.problem_list.findChildren(QPushButton)
        for button in buttons:
            if button.objectName() in ("fixButton", "offerButton"):
                QWidget.setTabOrder(previous, button)
                previous = button

    # -- conversions ----------------------------------------------------------------------------

    def origin(self, source: str) -> Origin | None:
        """Where a converted input came from (None: the user's own file)."""
        return self._origins.get(source)

    def replace_input(self, old: str, new: str, origin: Origin) -> None:
        """A conversion's result takes the place of ``old`` (listed under the original's
        name with ``origin.note``)."""
        if old not in self._inputs:
            return
        first = self._origins.pop(old, None)
        if first is not None:        # converted again: it still comes from the first file
            origin = first.then(origin)
        self._origins[new] = origin
        index = self._inputs.index(old)
        self._inputs[index:index + 1] = [new] if new not in self._inputs else []
        self.view.forget(old)
        self._refresh(select=new)
        self.inputs_changed.emit(self.inputs())

    def start_conversion(self, name: str) -> None:
        """The progress bar and Cancel take the refusal's place while it runs."""
        self.conversion_bar.start(name)
        self.problem_list.setVisible(False)

    def conversion_progress(self, done: int, total: int) -> None:
        self.conversion_bar.set_progress(done, total)

    def stop_conversion(self) -> None:
        self.conversion_bar.stop()
        self.problem_list.setVisible(bool(self.problem_list.problems()))

    def is_converting(self) -> bool:
        return not self.conversion_bar.isHidden()

    def info(self, source: str) -> ImageInfo | VideoInfo | None:
        """The checks' probe of ``source`` (None: not known yet, or a link)."""
        return self._infos.get(source)

    def show_note(self, text: str) -> None:
        self._show_note(text)

    def problems_text(self) -> str:
        return self.problem_list.text()

    def set_infos(self, infos: Mapping[str, ImageInfo | VideoInfo | None]) -> None:
        """Probe results from the engine's checks, by source; they win over the player's guess."""
        self._infos = {s: infos[s] for s in self._inputs if s in infos}
        self.list_widget.set_details(self._infos)
        self.view.set_infos(self._infos)

    def previewed_source(self) -> str | None:
        return self.view.previewed_source()

    def preview_image(self) -> QImage | None:
        return self.view.image()

    def info_text(self) -> str:
        """All the details of the previewed input (the label may show fewer)."""
        return self.view.info_text()

    def is_playing(self) -> bool:
        return self.view.is_playing()

    def stop_playback(self) -> None:
        self.view.stop_playback()

    def shutdown(self) -> None:
        """Stop players and forget pending previews (the window calls this on close)."""
        self.view.shutdown()

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
        self.take(sources)

    @Slot()
    def on_paste_shortcut_activated(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        sources = sources_from_mime(mime) if mime is not None else []
        if sources:
            self.take(sources)

    # -- user actions -------------------------------------------------------------------------

    @Slot()
    def on_choose_button_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # (its wrapper: not needed to show the form)

        text = self._text
        if self._batch:
            files, _filter = QFileDialog.getOpenFileNames(
                self, text["dialog"], self._last_dir, text["filter"])
        else:
            file, _filter = QFileDialog.getOpenFileName(
                self, text["dialog_one"], self._last_dir, text["filter"])
            files = [file] if file else []
        if files:
            self._last_dir = str(Path(files[-1]).parent)
            self.take(files)

    @Slot(bool)
    def on_batch_check_toggled(self, checked: bool) -> None:
        self.set_batch(checked)

    @Slot()
    def on_add_button_clicked(self) -> None:
        self.on_url_edit_returnPressed()

    @Slot()
    def on_url_edit_returnPressed(self) -> None:
        text = self.url_edit.text().strip()
        if not text:
            return
        # Whatever was typed goes to the engine's checks, which say what is wrong with it.
        self.url_edit.clear()
        self.take([source_from_typed_text(text)])

    # -- list ---------------------------------------------------------------------------------

    def _refresh(self, select: str | None = None) -> None:
        self.view.set_inputs(self._inputs)
        current = select or self.view.previewed_source()
        if current not in self._inputs:
            current = self._inputs[0] if self._inputs else None
        self.list_widget.show_inputs(self._inputs, self._origins, self._infos,
                                     batch=self._batch, current=current)
        rows = len(self._inputs)
        self.count_label.setText(count_text(self.kind, rows) if rows > 1 else "")
        if current is None:
            self.view.clear()
        else:
            self.view.show_source(current)

    def remove_buttons(self) -> list[QToolButton]:
        return self.list_widget.remove_buttons()

    def trim_buttons(self) -> list[QToolButton]:
        return self.list_widget.trim_buttons()

    @Slot(str)
    def _request_trim(self, source: str) -> None:
        self.action_requested.emit(f"{ACTION_PREFIX}trim:{source}")

    def _show_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))
