"""The window's menus (File, View, Help) and what their commands open.

The commands that belong to the window's own flow (Settings, Quit, the focus and tab
changes) stay the window's; the menus only call them. What only a click opens (About,
the keyboard help) is imported when it is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from kling_desktop import APP_NAME
from kling_desktop.errors import KlingError, error_text
from kling_desktop.i18n import _
from kling_desktop.ui.main_window.dialogs import show_error

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog

    from kling_desktop.ui.main_window.window import MainWindow


def platform_keys(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for ``standard`` (some platforms have none), then ``fallback``."""
    keys = [k for k in QKeySequence.keyBindings(standard) if not k.isEmpty()]
    extra = QKeySequence(fallback)
    if all(k != extra for k in keys):
        keys.append(extra)
    return keys


class WindowMenus(QObject):
    """Builds the menu bar of ``window`` and carries out the commands it owns."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._shortcuts_dialog: QDialog | None = None
        self._build()

    def _add(self, menu: QMenu, text: str, slot: Callable[[], object], *,
             keys: list[QKeySequence] | None = None,
             role: QAction.MenuRole | None = None) -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcuts(keys)
        if role is not None:
            action.setMenuRole(role)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build(self) -> None:
        window = self.window
        role = QAction.MenuRole
        bar = window.menuBar()
        file_menu = bar.addMenu(_("&File"))
        self.settings_action = self._add(
            file_menu, _("&Settings…"), window.open_settings, role=role.PreferencesRole,
            keys=platform_keys(QKeySequence.StandardKey.Preferences, "Ctrl+,"))
        self.library_action = self._add(
            file_menu, _("Open &library folder"), self.open_library_folder,
            keys=[QKeySequence("Ctrl+L")])
        file_menu.addSeparator()
        self.quit_action = self._add(
            file_menu, _("&Quit"), window.close, role=role.QuitRole,
            keys=platform_keys(QKeySequence.StandardKey.Quit, "Ctrl+Q"))

        view_menu = bar.addMenu(_("&View"))
        self.form_focus_action = self._add(
            view_menu, _("New &video form"), window.focus_form, keys=[QKeySequence("Ctrl+1")])
        self.jobs_focus_action = self._add(
            view_menu, _("&Jobs list"), window.focus_jobs, keys=[QKeySequence("Ctrl+2")])
        self.gallery_action = self._add(
            view_menu, _("&Library of results"), window.show_gallery,
            keys=[QKeySequence("Ctrl+3")])

        help_menu = bar.addMenu(_("&Help"))
        self.shortcuts_action = self._add(
            help_menu, _("&Keyboard shortcuts"), self.show_shortcuts,
            keys=platform_keys(QKeySequence.StandardKey.HelpContents, "F1"))
        self.log_action = self._add(help_menu, _("Open &log folder"), self.open_log_folder)
        help_menu.addSeparator()
        self.about_action = self._add(
            help_menu, _("&About {app}").format(app=APP_NAME), self.show_about,
            role=role.AboutRole)

    def actions(self) -> list[QAction]:
        """Every command of the menus (the keyboard help lists their keys)."""
        bar = self.window.menuBar()
        menus = [m for m in bar.findChildren(QMenu) if m.menuAction().isVisible()]
        return [action for menu in menus for action in menu.actions()
                if not action.isSeparator()]

    @Slot()
    def open_library_folder(self) -> None:
        window = self.window
        root = window.engine.library.root
        window.tasks.run(root.mkdir, parents=True, exist_ok=True,
                         on_done=lambda _r: self._open_folder(root),
                         on_failed=lambda exc: show_error(
                             window, _("The library folder cannot be opened"),
                             KlingError(f"{root}: {error_text(exc)}",
                                        fix=_("Choose another library folder in Settings."))))

    @Slot()
    def open_log_folder(self) -> None:
        self._open_folder(self.window.engine.paths.logs_dir)

    def _open_folder(self, folder: Path) -> None:
        self.window.open_url(QUrl.fromLocalFile(str(folder)))

    @Slot()
    def show_about(self) -> None:
        from kling_desktop.ui.about import show_about

        show_about(self.window, self.window.icon, self.window.engine.paths)

    @Slot()
    def show_shortcuts(self) -> None:
        """The keyboard help (one at a time; it does not block the window)."""
        if self._shortcuts_dialog is not None:      # already open: bring it to the front
            self._shortcuts_dialog.raise_()
            self._shortcuts_dialog.activateWindow()
            return
        from kling_desktop.ui.keyboard_help import build_shortcuts_dialog

        self._shortcuts_dialog = build_shortcuts_dialog(self.window, self.actions())
        self._shortcuts_dialog.finished.connect(self._on_shortcuts_dialog_finished)
        self._shortcuts_dialog.show()

    def _on_shortcuts_dialog_finished(self, _result: int) -> None:
        if self._shortcuts_dialog is not None:
            self._shortcuts_dialog.deleteLater()
            self._shortcuts_dialog = None
