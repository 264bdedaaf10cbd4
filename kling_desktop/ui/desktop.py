"""Handing links, files and folders to the desktop: its default applications and its
file manager (selecting the file where the platform can).

Qt's ``QDesktopServices.openUrl`` answers at once on Windows and macOS. On Linux it only
starts ``xdg-open`` and reports success whatever happens next, so a computer without a
video player stayed silent after "Open" (or answered seconds later). There the opener
first asks the desktop which application handles the file's type (``xdg-mime query
default``, a few milliseconds, off the main thread as a process) and says at once when
none does; otherwise, and whenever the question cannot be asked, Qt opens it as usual.
Inside a Flatpak or Snap sandbox Qt goes through the desktop portal: it is left to Qt.

Qt's process, MIME and desktop classes are imported where they are used: their Python
wrappers (built on first use, with their enums) are not needed to show the window.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from shiboken6 import isValid

from kling_desktop.i18n import _

if TYPE_CHECKING:
    from PySide6.QtCore import QProcess

#: A desktop that has not answered the question by then is not asked again: Qt opens it.
QUERY_TIMEOUT_MS = 3000


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


def handler_query(url: QUrl) -> list[str] | None:
    """The command that names the desktop's application for ``url``'s type, or None
    where it cannot be asked (not Linux, a sandbox, no xdg-mime, an unknown type)."""
    if not sys.platform.startswith("linux") or os.environ.get("FLATPAK_ID") \
            or os.environ.get("SNAP"):
        return None
    program = shutil.which("xdg-mime")
    if program is None:
        return None
    if url.isLocalFile():
        from PySide6.QtCore import QMimeDatabase

        path = url.toLocalFile()
        kind = ("inode/directory" if os.path.isdir(path)
                else QMimeDatabase().mimeTypeForFile(path).name())
    elif url.scheme() in ("http", "https"):
        kind = f"x-scheme-handler/{url.scheme()}"
    else:
        return None
    if not kind or kind == "application/octet-stream":
        return None
    return [program, "query", "default", kind]


class DesktopOpener(QObject):
    """Opens links, files and folders with the desktop's applications.

    ``failed(str)``: nothing could open it; the words say what and what to do
    (:func:`cannot_open_text`). Never blocks the main thread on the desktop.
    """

    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queries: set[QProcess] = set()

    def open(self, url: QUrl) -> None:
        query = handler_query(url)
        if query is None:
            self._open_now(url)
            return
        from PySide6.QtCore import QProcess

        process = QProcess()     # not a child: it ends its own way if the opener goes first
        self._queries.add(process)
        process.setProgram(query[0])
        process.setArguments(query[1:])
        process.setStandardErrorFile(QProcess.nullDevice())
        # Owned by the process: gone with it, never firing at a deleted one.
        deadline = QTimer(process)
        deadline.setSingleShot(True)
        deadline.setInterval(QUERY_TIMEOUT_MS)
        deadline.timeout.connect(process.kill)      # (finished follows: Qt opens it)
        process.finished.connect(
            lambda code, status: self._answered(process, url, code, status))
        process.errorOccurred.connect(
            lambda error: self._not_asked(process, url)
            if error == QProcess.ProcessError.FailedToStart else None)
        process.start()
        deadline.start()

    def _answered(self, process: QProcess, url: QUrl, code: int,
                  status: QProcess.ExitStatus) -> None:
        from PySide6.QtCore import QProcess

        if not isValid(self):             # the window went while the desktop answered
            process.deleteLater()
            return
        raw = process.readAllStandardOutput()
        named = "" if raw.isEmpty() else raw.toStdString()
        self._forget(process)
        if status == QProcess.ExitStatus.NormalExit and code == 0 and not named.strip():
            self.failed.emit(cannot_open_text(url))     # no application handles it
        else:
            self._open_now(url)

    def _not_asked(self, process: QProcess, url: QUrl) -> None:
        if not isValid(self):
            process.deleteLater()
            return
        self._forget(process)
        self._open_now(url)

    def _forget(self, process: QProcess) -> None:
        self._queries.discard(process)
        process.deleteLater()

    def _open_now(self, url: QUrl) -> None:
        from PySide6.QtGui import QDesktopServices

        if not QDesktopServices.openUrl(url):
            self.failed.emit(cannot_open_text(url))


def reveal(path: Path, opener: DesktopOpener) -> None:
    """Show ``path`` selected in the file manager (Windows, macOS), else open its folder."""
    from PySide6.QtCore import QProcess

    if sys.platform == "win32" and QProcess.startDetached(
            "explorer", ["/select,", str(path)])[0]:
        return
    if sys.platform == "darwin" and QProcess.startDetached("open", ["-R", str(path)])[0]:
        return
    opener.open(QUrl.fromLocalFile(str(path.parent)))
