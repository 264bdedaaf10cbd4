"""Handing links, files and folders to the desktop: its default applications and its
file manager (selecting the file where the platform can)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from kling_desktop.i18n import _


def open_with_desktop(parent: QWidget, url: QUrl) -> bool:
    """Open a link or a file with the desktop's default application; say so, in plain
    words, when none can."""
    if QDesktopServices.openUrl(url):
        return True
    QMessageBox.warning(parent, _("Could not open"), cannot_open_text(url))
    return False


def cannot_open_text(url: QUrl) -> str:
    """Why nothing opened ``url``, for a person (a file by its name, never ``file:///``)."""
    if url.isLocalFile():
        path = Path(url.toLocalFile())
        if path.suffix.lower() in (".mp4", ".mov"):
            return _("No video player on this computer opened “{file}”.\n\n"
                     "Play it in the app instead (the Library tab), or install a video "
                     "player and make it the one for MP4 files.").format(file=path.name)
        if not path.suffix:
            return _("The folder “{folder}” could not be opened: no file manager "
                     "answered.").format(folder=path.name or path)
        return _("No program on this computer opened “{file}”.").format(file=path.name)
    return _("No web browser on this computer opened {address}.\n\n"
             "Copy the address into a browser yourself.").format(address=url.toDisplayString())


def reveal(path: Path, open_url: Callable[[QUrl], bool]) -> None:
    """Show ``path`` selected in the file manager (Windows, macOS), else open its folder
    with ``open_url``."""
    if sys.platform == "win32" and QProcess.startDetached(
            "explorer", ["/select,", str(path)])[0]:
        return
    if sys.platform == "darwin" and QProcess.startDetached("open", ["-R", str(path)])[0]:
        return
    open_url(QUrl.fromLocalFile(str(path.parent)))
