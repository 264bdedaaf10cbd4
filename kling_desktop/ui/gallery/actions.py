"""What the user can do with results: marks, open, reveal, save a copy, trash, export.

:class:`GalleryActions` does the work (file copies on the :class:`TaskRunner`,
never on the main thread) and reports through ``changed(keys)`` (the index rows
of those results changed: refresh them), ``removed(keys)`` and
``status_message(text)``. The dialogs it needs are module functions
(:func:`ask_folder`, :func:`ask_save_path`, :func:`confirm_delete`) so a test can
answer them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QFile, QObject, QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from kling_desktop.engine.library import ExportReport, Library, LibraryEntry
from kling_desktop.engine.store import JobStore, ResultRecord
from kling_desktop.errors import KlingError, error_text
from kling_desktop.files import copy_file
from kling_desktop.i18n import _, ngettext
from kling_desktop.ui.desktop import DesktopOpener, reveal
from kling_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One selected result: its index row and, when its sidecar is readable, its entry."""

    record: ResultRecord
    entry: LibraryEntry | None
    video: Path

    @property
    def key(self) -> str:
        return self.record.video_rel


# -- the platform ------------------------------------------------------------------------------

def move_to_trash(path: Path) -> bool:
    """Qt's system trash (Recycle Bin, Finder Trash, XDG trash). True when it went there."""
    result = QFile.moveToTrash(str(path))
    ok = result[0] if isinstance(result, tuple) else result
    return bool(ok)


#: What moves a file to the trash (looked up when used: tests put theirs here).
system_trash = move_to_trash


# -- dialogs (tests replace these) ----------------------------------------------------------------

def ask_folder(parent: QWidget, title: str) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, title)
    return Path(folder) if folder else None


def ask_save_path(parent: QWidget, title: str, suggested: Path) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(
        parent, title, str(suggested),
        _("Videos ({patterns})").format(patterns="*.mp4 *.mov") + ";;"
        + _("All files ({patterns})").format(patterns="*"))
    return Path(name) if name else None


def confirm_delete(parent: QWidget, count: int, name: str) -> bool:
    box = QMessageBox(parent)
    box.setObjectName("confirmDeleteBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(_("Move to the trash"))
    if count == 1:
        box.setText(_("Move “{name}” to the trash?").format(name=name))
    else:
        box.setText(ngettext("Move this {n} result to the trash?",
                             "Move these {n} results to the trash?", count).format(n=count))
    box.setInformativeText(_("The video and its description go to the system trash, where "
                             "you can restore them. The kept input copies stay in the "
                             "library."))
    delete = box.addButton(_("Move to trash"), QMessageBox.ButtonRole.DestructiveRole)
    delete.setObjectName("confirmDelete")
    keep = box.addButton(_("Keep"), QMessageBox.ButtonRole.RejectRole)
    keep.setObjectName("keepResult")
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is delete


# -- the actions ----------------------------------------------------------------------------------

class GalleryActions(QObject):
    changed = Signal(list)        # keys whose index rows changed
    removed = Signal(list)        # keys that left the library
    status_message = Signal(str)
    failed = Signal(str)          # a plain-words problem to show
    busy_changed = Signal(bool)

    def __init__(self, library: Library, store: JobStore, tasks: TaskRunner,
                 parent_widget: QWidget, *,
                 trash: Callable[[Path], bool] | None = None) -> None:
        super().__init__(parent_widget)
        self.library = library
        self.store = store
        self.tasks = tasks
        self.parent_widget = parent_widget
        self._trash = trash
        self._busy = 0
        self._trashing: set[str] = set()   # keys on their way to the trash
        self._opener = DesktopOpener(self)
        self._opener.failed.connect(self.failed)

    def _begin(self) -> None:
        self._busy += 1
        if self._busy == 1:
            self.busy_changed.emit(True)

    def _end(self) -> None:
        self._busy = max(0, self._busy - 1)
        if self._busy == 0:
            self.busy_changed.emit(False)

    def busy(self) -> bool:
        return self._busy > 0

    # -- marks ------------------------------------------------------------------------------

    def set_mark(self, targets: Sequence[Target], mark: str | None) -> None:
        """Keeper / reject / neither, into each sidecar and the index (on the pool)."""
        if not targets:
            return
        library, store = self.library, self.store

        def work() -> list[str]:
            done: list[str] = []
            for target in targets:
                if target.entry is not None:
                    library.set_mark(target.entry, mark)
                else:   # no usable sidecar: the index is the only place to keep it
                    store.set_result_mark(target.key, mark)
                done.append(target.key)
            return done

        def finished(keys: object) -> None:
            self._end()
            if isinstance(keys, list):
                self.changed.emit(keys)
                self.status_message.emit(_mark_said(mark, len(keys)))

        def failed(error: BaseException) -> None:
            self._end()
            self.changed.emit([t.key for t in targets])
            self.failed.emit(_("The mark could not be saved. {reason}").format(
                reason=error_text(error)))

        self._begin()
        self.tasks.run(work, on_done=finished, on_failed=failed)

    # -- the system -------------------------------------------------------------------------

    def open_in_player(self, target: Target) -> None:
        """The desktop's player; said at once when the computer has none."""
        self.status_message.emit(_("Opening “{name}”…").format(name=target.video.name))
        self._opener.open(QUrl.fromLocalFile(str(target.video)))

    def reveal(self, target: Target) -> None:
        reveal(target.video, self._opener)

    # -- copies -----------------------------------------------------------------------------

    def save_copy(self, target: Target) -> None:
        suggested = Path.home() / target.video.name
        dest = ask_save_path(self.parent_widget, _("Save a copy of the video"), suggested)
        if dest is None:
            return
        if dest.resolve() == target.video.resolve():
            self.failed.emit(_("That is the video itself; choose another place for the copy."))
            return

        def work() -> Path:
            final = dest
            if final.exists():    # the dialog asked about overwriting: honour "yes"
                final.unlink()
            return copy_file(target.video, final)

        def finished(path: object) -> None:
            self._end()
            if isinstance(path, Path):
                self.status_message.emit(_("Saved a copy as {path}.").format(path=path))

        def failed(error: BaseException) -> None:
            self._end()
            self.failed.emit(_("The copy could not be saved. {reason}").format(
                reason=_os_text(error)))

        self._begin()
        self.tasks.run(work, on_done=finished, on_failed=failed)

    def export(self, targets: Sequence[Target], folder: Path | None = None) -> None:
        """Selected results with their descriptions and kept inputs, into a folder."""
        if not targets:
            return
        if folder is None:
            folder = ask_folder(self.parent_widget, _("Export the selected results to…"))
            if folder is None:
                return
        items: list[LibraryEntry | Path] = [
            t.entry if t.entry is not None else t.video for t in targets]

        def finished(report: object) -> None:
            self._end()
            if not isinstance(report, ExportReport):
                return
            count = len(report.videos)
            inputs = ngettext("{n} input file", "{n} input files", len(report.inputs)).format(
                n=len(report.inputs))
            text = ngettext("Exported {n} result to {folder} ({inputs}).",
                            "Exported {n} results to {folder} ({inputs}).", count).format(
                n=count, folder=folder, inputs=inputs)
            if report.without_description:
                lone = len(report.without_description)
                text = _("{message} {fix}").format(message=text, fix=ngettext(
                    "{n} went without a description (it could not be read).",
                    "{n} went without a description (theirs could not be read).",
                    lone).format(n=lone))
            self.status_message.emit(text)

        def failed(error: BaseException) -> None:
            self._end()
            self.failed.emit(_("The export did not finish. {reason}").format(
                reason=_os_text(error)))

        self._begin()
        self.tasks.run(self.library.export_results, items, folder,
                       on_done=finished, on_failed=failed)

    # -- trash ------------------------------------------------------------------------------

    def delete(self, targets: Sequence[Target], *, confirm: bool = True) -> bool:
        """Move results to the system trash after asking, on a worker; ``removed`` follows.
        False when nothing is moving (the user kept them, or they already are)."""
        targets = [t for t in targets if t.key not in self._trashing]   # (asked twice)
        if not targets:
            return False
        if confirm and not confirm_delete(self.parent_widget, len(targets),
                                          targets[0].video.name):
            return False
        library, trash = self.library, self._trash or system_trash
        items = [(target.key, target.entry or target.video) for target in targets]
        keys = {key for key, _item in items}
        self._trashing |= keys

        # On a worker: the trash may be on another disk (a copy) or a slow network folder.
        def work() -> tuple[list[str], list[str]]:
            gone: list[str] = []
            problems: list[str] = []
            for key, item in items:      # in order: a problem stops nothing else
                try:
                    library.delete_result(item, trash)
                except (KlingError, OSError) as exc:
                    problems.append(_os_text(exc))
                else:
                    gone.append(key)
            return gone, problems

        def finished(outcome: object) -> None:
            self._end()
            self._trashing -= keys
            if not isinstance(outcome, tuple):
                return
            gone, problems = outcome
            if gone:
                self.removed.emit(gone)
                count = len(gone)
                self.status_message.emit(ngettext("Moved {n} result to the trash.",
                                                  "Moved {n} results to the trash.",
                                                  count).format(n=count))
            if problems:
                self.changed.emit([key for key in keys if key not in gone])   # still here
                self.failed.emit(" ".join(dict.fromkeys(problems)))

        def failed(error: BaseException) -> None:
            self._end()
            self._trashing -= keys
            self.changed.emit(list(keys))
            self.failed.emit(_os_text(error))

        self._begin()
        self.tasks.run(work, on_done=finished, on_failed=failed)
        return True


def _mark_said(mark: str | None, count: int) -> str:
    """"Marked it as a keeper.", "Marked 3 results as rejects."…"""
    if count == 1:
        return {"keeper": _("Marked it as a keeper."), "reject": _("Marked it as a reject."),
                None: _("Cleared its mark.")}[mark]
    if mark == "keeper":
        return ngettext("Marked {n} result as a keeper.", "Marked {n} results as keepers.",
                        count).format(n=count)
    if mark == "reject":
        return ngettext("Marked {n} result as a reject.", "Marked {n} results as rejects.",
                        count).format(n=count)
    return ngettext("Cleared the mark of {n} result.", "Cleared the marks of {n} results.",
                    count).format(n=count)


def _os_text(error: BaseException) -> str:
    if isinstance(error, OSError) and not isinstance(error, KlingError):
        return error.strerror or str(error)
    return error_text(error)
