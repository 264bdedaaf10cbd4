"""The user's settings from the window's side: the one settings dialog it opens, and
pointing the running engine at what was saved."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from kling_desktop.engine.runner import Engine
from kling_desktop.engine.settings import Settings
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kling_desktop.ui.settings_dialog import SettingsDialog


def apply_settings(engine: Engine, settings: Settings) -> None:
    """Point a running engine at newly saved settings (address, library, pacing)."""
    if engine.demo:  # the demo keeps its own quick pacing and never asks to confirm
        keep = engine.settings
        settings = dataclasses.replace(
            settings, poll_min_interval=keep.poll_min_interval,
            poll_max_interval=keep.poll_max_interval, confirm_before_generate=False)
    engine.apply_settings(settings)


class SettingsDoor(QObject):
    """Opens the settings dialog, at most one at a time; ``saved(Settings)`` relays the
    dialog's."""

    saved = Signal(object)

    def __init__(self, parent: QWidget, tasks: TaskRunner, settings_file: Path) -> None:
        super().__init__(parent)
        self._parent = parent
        self._tasks = tasks
        self._settings_file = settings_file
        self._dialog: SettingsDialog | None = None

    def open(self, settings: Settings) -> None:
        """Show the dialog on ``settings`` (or bring the open one to the front)."""
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        from kling_desktop.ui.settings_dialog import SettingsDialog  # imported when opened

        dialog = SettingsDialog(settings, self._settings_file, self._parent, tasks=self._tasks)
        dialog.saved.connect(self.saved)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def close(self) -> None:
        """Close the open dialog, if any, without saving."""
        if self._dialog is not None:
            self._dialog.reject()

    def _on_dialog_finished(self, _result: int) -> None:
        self._dialog = None
