"""The jobs list model: jobs newest first, plus what the window knows about each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from kling_desktop.engine.jobs import Job
from kling_desktop.errors import KlingError
from kling_desktop.i18n import _
from kling_desktop.ui.job_controller import OfflineInfo
from kling_desktop.ui.jobs.row_state import RowState
from kling_desktop.ui.jobs.wording import detail_text, status_text, title_text, tooltip_text

__all__ = ["JobListModel", "JobRole", "RowStateRole"]

JobRole = Qt.ItemDataRole.UserRole + 1
RowStateRole = Qt.ItemDataRole.UserRole + 2

_Fact = TypeVar("_Fact")


def _newest_first(job: Job) -> tuple[float, int]:
    return job.created_at, job.id


class JobListModel(QAbstractListModel):
    """Jobs, newest first, plus what the window knows about each (waiting, stopped)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[int, int] = {}
        self._offline: dict[int, OfflineInfo] = {}
        self._notes: dict[int, KlingError] = {}
        self._service_notes: dict[int, str] = {}
        self._gone: set[int] = set()

    # Qt interface
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == JobRole:
            return job
        if role == RowStateRole:
            return self.row_state(job.id)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return _("{title}: {status}").format(
                title=title_text(job), status=status_text(job, self.row_state(job.id)))
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(job, self.row_state(job.id))
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return detail_text(job, self.row_state(job.id))
        return None

    # access (plain Python: the delegate reads rows without going through Qt's data())
    def entry(self, row: int) -> tuple[Job, RowState] | None:
        if not 0 <= row < len(self._jobs):
            return None
        job = self._jobs[row]
        return job, self.row_state(job.id)

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def job(self, job_id: int) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else self._jobs[row]

    def row_of(self, job_id: int) -> int | None:
        return self._rows.get(job_id)

    def lists_only(self, jobs: Sequence[Job]) -> bool:
        """Whether ``jobs`` are exactly the jobs listed (in any order)."""
        ids = {job.id for job in jobs}
        return len(ids) == len(self._rows) and all(job_id in self._rows for job_id in ids)

    def newer_than_listed(self, jobs: Sequence[Job]) -> list[Job]:
        """The snapshots in ``jobs`` that are not listed, or newer than the listed ones
        (a list read keeps the newer of the two)."""
        newer: list[Job] = []
        for job in jobs:
            listed = self.job(job.id)
            if listed is None or job.updated_at > listed.updated_at:
                newer.append(job)
        return newer

    def row_state(self, job_id: int) -> RowState:
        return RowState(self._offline.get(job_id), self._notes.get(job_id),
                        self._service_notes.get(job_id, ""), job_id in self._gone)

    def has_ticking_rows(self) -> bool:
        return any(job.state.is_active for job in self._jobs)

    # changes
    def set_jobs(self, jobs: Sequence[Job]) -> None:
        merged = {job.id: job for job in self._jobs}   # listed snapshots newer than the
        merged.update((job.id, job) for job in self.newer_than_listed(jobs))   # read win
        self.beginResetModel()
        self._jobs = sorted(merged.values(), key=_newest_first, reverse=True)
        self._reindex()
        self.endResetModel()

    def update_job(self, job: Job) -> None:
        row = self._rows.get(job.id)
        if row is None:
            position = 0
            while (position < len(self._jobs)
                   and _newest_first(self._jobs[position]) > _newest_first(job)):
                position += 1
            self.beginInsertRows(QModelIndex(), position, position)
            self._jobs.insert(position, job)
            self._reindex()
            self.endInsertRows()
            return
        self._replace(row, job)
        self._changed(row)

    def add_jobs(self, jobs: Sequence[Job]) -> None:
        """Rows for jobs not listed yet, in as few insertions as possible: jobs newer than
        every listed one (a batch just queued) go in as one block at the top."""
        fresh = sorted((job for job in {j.id: j for j in jobs}.values()
                        if job.id not in self._rows),
                       key=_newest_first, reverse=True)
        if not fresh:
            return
        if not self._jobs or _newest_first(fresh[-1]) > _newest_first(self._jobs[0]):
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._jobs[0:0] = fresh
            self._reindex()
            self.endInsertRows()
        elif len(fresh) == 1:
            self.update_job(fresh[0])
        else:
            self.set_jobs([*self._jobs, *fresh])

    def update_existing(self, jobs: Sequence[Job]) -> list[Job]:
        """Replace known jobs in place with one ``dataChanged``; returns the unknown ones."""
        unknown: list[Job] = []
        rows: list[int] = []
        for job in jobs:
            row = self._rows.get(job.id)
            if row is None:
                unknown.append(job)
                continue
            self._replace(row, job)
            rows.append(row)
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))
        return unknown

    def set_offline(self, job_id: int, info: OfflineInfo | None) -> None:
        self._remember(self._offline, job_id, info)

    def set_service_note(self, job_id: int, text: str) -> None:
        self._remember(self._service_notes, job_id, text or None)

    def set_gone(self, job_id: int, gone: bool) -> None:
        """A saved job's video left the library (or came back)."""
        if gone != (job_id in self._gone):
            if gone:
                self._gone.add(job_id)
            else:
                self._gone.discard(job_id)
            self._changed(self._rows.get(job_id))

    def set_note(self, job_id: int, error: KlingError | None) -> None:
        self._remember(self._notes, job_id, error)

    def tick(self) -> None:
        """Elapsed times and countdowns changed: repaint the active rows."""
        rows = [row for row, job in enumerate(self._jobs) if job.state.is_active]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DisplayRole])

    def _replace(self, row: int, job: Job) -> None:
        """A newer snapshot of the job in ``row``; an error that stopped it is forgotten
        once the job moved on."""
        old = self._jobs[row]
        if job.state != old.state or job.updated_at > old.updated_at or job.state.is_active:
            self._notes.pop(job.id, None)
        self._jobs[row] = job

    def _remember(self, known: dict[int, _Fact], job_id: int, fact: _Fact | None) -> None:
        """Keep (or, for None, forget) one thing the window knows about a job; repaint it."""
        if fact is None:
            known.pop(job_id, None)
        else:
            known[job_id] = fact
        self._changed(self._rows.get(job_id))

    def _changed(self, row: int | None) -> None:
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def _reindex(self) -> None:
        self._rows = {job.id: row for row, job in enumerate(self._jobs)}
