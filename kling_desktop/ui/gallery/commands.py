"""What the user can ask of the selected results, wired once for every way of asking.

:class:`ResultCommands` owns the grid's ``QAction`` s (keys K, X, U, Enter,
Space, Ctrl+O, Ctrl+Shift+S, Ctrl+E, Delete and the context menu) and answers
the detail pane's buttons with the same handlers; the work itself is done by
:class:`~.actions.GalleryActions`. It asks the gallery for the selection
(``selection()``) and tells it through signals what only the gallery can do:
``use_settings_again(entry)``, ``compare_wanted()``, ``selection_changed()``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from kling_desktop.i18n import _
from kling_desktop.ui.gallery.actions import GalleryActions, Target
from kling_desktop.ui.gallery.detail import DetailPane
from kling_desktop.ui.gallery.view import GalleryView


class ResultCommands(QObject):
    """The actions on the selection; ``enable_for(targets)`` enables what fits it."""

    use_settings_again = Signal(object)   # LibraryEntry
    compare_wanted = Signal()
    selection_changed = Signal()          # results left: show what is selected now

    def __init__(self, view: GalleryView, detail: DetailPane, actions: GalleryActions,
                 selection: Callable[[], list[Target]]) -> None:
        super().__init__(view)
        self.view = view
        self.detail = detail
        self.actions = actions
        self.selection = selection
        self._add_actions()
        self._connect_detail()
        view.customContextMenuRequested.connect(self.on_view_customContextMenuRequested)

    def _add_actions(self) -> None:
        def action(text: str, name: str, keys: QKeySequence | str | None,
                   slot: Callable[[], None]) -> QAction:
            act = QAction(text, self.view)
            act.setObjectName(name)
            if keys:
                act.setShortcut(QKeySequence(keys))
                act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(slot)
            self.view.addAction(act)
            return act

        self.act_keeper = action(_("★ Mark as keeper"), "actKeeper", "K",
                                 lambda: self.set_mark("keeper"))
        self.act_reject = action(_("✕ Mark as reject"), "actReject", "X",
                                 lambda: self.set_mark("reject"))
        self.act_unmark = action(_("Clear the mark"), "actUnmark", "U", lambda: self.set_mark(None))
        self.act_compare = action(_("Compare with the motion clip"), "actCompare", "Return",
                                  self.compare_wanted.emit)
        self.act_play = action(_("Play / pause"), "actPlay", "Space",
                               self.detail.toggle_play)
        self.act_again = action(_("Use these settings again"), "actAgain", None,
                                self.on_detail_use_settings_requested)
        self.act_open = action(_("Open in the system player"), "actOpen", "Ctrl+O",
                               self.on_detail_open_requested)
        self.act_reveal = action(_("Show in folder"), "actReveal", None,
                                 self.on_detail_reveal_requested)
        self.act_save = action(_("Save a copy…"), "actSaveCopy", "Ctrl+Shift+S",
                               self.on_detail_save_copy_requested)
        self.act_export = action(_("Export selected with descriptions…"), "actExport", "Ctrl+E",
                                 self.on_detail_export_requested)
        self.act_delete = action(_("Move to trash…"), "actDelete",
                                 QKeySequence(QKeySequence.StandardKey.Delete),
                                 self.on_detail_delete_requested)

    def _connect_detail(self) -> None:
        d = self.detail
        d.mark_requested.connect(self.set_mark)
        d.compare_requested.connect(self.compare_wanted)
        d.use_settings_requested.connect(self.on_detail_use_settings_requested)
        d.open_requested.connect(self.on_detail_open_requested)
        d.reveal_requested.connect(self.on_detail_reveal_requested)
        d.save_copy_requested.connect(self.on_detail_save_copy_requested)
        d.delete_requested.connect(self.on_detail_delete_requested)
        d.export_requested.connect(self.on_detail_export_requested)

    def enable_for(self, targets: list[Target]) -> None:
        """Enable what works on ``targets`` (one readable result, one result, any)."""
        one = len(targets) == 1
        readable = one and targets[0].entry is not None
        for act in (self.act_compare, self.act_again):
            act.setEnabled(readable)
        for act in (self.act_open, self.act_reveal, self.act_save, self.act_play):
            act.setEnabled(one)
        for act in (self.act_keeper, self.act_reject, self.act_unmark, self.act_export,
                    self.act_delete):
            act.setEnabled(bool(targets))

    # -- the commands -----------------------------------------------------------------------

    def set_mark(self, mark: object) -> None:
        if mark is None or mark in ("keeper", "reject"):
            self.actions.set_mark(self.selection(), mark if isinstance(mark, str) else None)

    def one(self) -> Target | None:
        """The selected result when exactly one is selected."""
        targets = self.selection()
        return targets[0] if len(targets) == 1 else None

    @Slot()
    def on_detail_use_settings_requested(self) -> None:
        target = self.one()
        if target is not None and target.entry is not None:
            self.use_settings_again.emit(target.entry)

    @Slot()
    def on_detail_open_requested(self) -> None:
        target = self.one()
        if target is not None:
            self.detail.player.pause()
            self.actions.open_in_player(target)

    @Slot()
    def on_detail_reveal_requested(self) -> None:
        target = self.one()
        if target is not None:
            self.actions.reveal(target)

    @Slot()
    def on_detail_save_copy_requested(self) -> None:
        target = self.one()
        if target is not None:
            self.actions.save_copy(target)

    @Slot()
    def on_detail_export_requested(self) -> None:
        self.actions.export(self.selection())

    @Slot()
    def on_detail_delete_requested(self) -> None:
        targets = self.selection()
        if targets:
            self.detail.player.set_source(None)   # let go of the file before it moves
            if not self.actions.delete(targets):
                self.selection_changed.emit()     # kept: show it again
            # (moving: the list follows when they are gone, see GalleryActions.removed)

    @Slot(QPoint)
    def on_view_customContextMenuRequested(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self.view)
        for act in (self.act_keeper, self.act_reject, self.act_unmark, None, self.act_compare,
                    self.act_again, None, self.act_open, self.act_reveal, self.act_save,
                    self.act_export, None, self.act_delete):
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)
        menu.popup(self.view.viewport().mapToGlobal(pos))
