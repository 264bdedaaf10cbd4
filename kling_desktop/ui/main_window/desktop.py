"""Handing links, files and folders to the desktop: its default applications and its
file manager (selecting the file where the platform can)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def open_with_desktop(parent: QWidget, url: QUrl) -> bool:
    """Open a link or a file with the desktop's default application; say so when none can."""
    if QDesktopServices.openUrl(url):
        return True
    QMessageBox.warning(parent, "Could not open",
                        f"Nothing on this computer could open:\n{url.toDisplayString()}")
    return False


def reveal(path: Path, open_url: Callable[[QUrl], bool]) -> None:
    """Show ``path`` selected in the file manager (Windows, macOS), else open its folder
    with ``open_url``."""
    if sys.platform == "win32" and QProcess.startDetached(
            "explorer", ["/select,", str(path)])[0]:
        return
    if sys.platform == "darwin" and QProcess.startDetached("open", ["-R", str(path)])[0]:
        return
    open_url(QUrl.fromLocalFile(str(path.parent)))
