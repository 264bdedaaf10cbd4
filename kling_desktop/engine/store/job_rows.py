"""Job rows: jobs, their audit trail (events), holder labels, compare-and-set transitions.

A :class:`~kling_desktop.engine.jobs.Job` is one row of ``jobs``: its spec's
fields plus the options record's, flattened into plain columns. Every state
change is written with an event line in the same durable transaction, and with
``expect=`` only happens while the job is still in a state the caller named.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.origins import Origin, origin_from_text, origin_text
from kling_desktop.engine.store.connection import Connection
from kling_desktop.engine.store.errors import JobConflictError, JobNotFoundError

__all__ = ["JobEvent", "JobRows", "StateSet", "owner_id"]

StateSet = JobState | Iterable[JobState]

# The spec's columns: its own plain fields plus the options record's, flattened.
_OPTION_FIELDS: Final = tuple(f.name for f in dataclasses.fields(GenerationOptions))
_SPEC_FIELDS: Final = tuple(f.name for f in dataclasses.fields(JobSpec) if f.name != "options")
_JOB_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Job) if f.name != "spec")
# Fields update()/transition() accept ("spec" replaces every spec column).
_UPDATABLE: Final = frozenset(_JOB_FIELDS) - {"id", "created_at", "state"} | {"spec"}

_BOOL_COLUMNS: Final = frozenset({"demo", "keep_original_sound"})
_ORIGIN_COLUMNS: Final = frozenset({"image_origin", "video_origin"})   # JSON text


def _to_db(name: str, value: object) -> object:
    if value is None:
        return None
    if name in _BOOL_COLUMNS:
        return 1 if value else 0
    if isinstance(value, Origin):
        return origin_text(value)
    if name == "state":
        return str(JobState(str(value)))
    if name == "error_kind":
        return str(FailureKind(str(value)))
    if name == "blocked_on":
        return str(BlockedOn(str(value)))
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return str(value)  # plain str, also for StrEnum members
    return value


def _spec_columns(spec: JobSpec) -> dict[str, object]:
    columns = {name: _to_db(name, getattr(spec, name)) for name in _SPEC_FIELDS}
    columns.update({name: _to_db(name, getattr(spec.options, name)) for name in _OPTION_FIELDS})
    return columns


def _job_from_row(row: sqlite3.Row) -> Job:
    options = GenerationOptions(
        model=Model(row["model"]),
        mode=Mode(row["mode"]),
        prompt=row["prompt"],
        orientation=Orientation(row["orientation"]),
        keep_original_sound=bool(row["keep_original_sound"]),
    )
    fields: dict[str, Any] = {name: row[name] for name in _SPEC_FIELDS}
    for name in _ORIGIN_COLUMNS:
        fields[name] = origin_from_text(fields[name])   # unusable: the user's own file
    spec = JobSpec(options=options, **fields)
    values: dict[str, Any] = {name: row[name] for name in _JOB_FIELDS}
    values["state"] = JobState(values["state"])
    values["demo"] = bool(values["demo"])
    if values["error_kind"] is not None:
        values["error_kind"] = FailureKind(values["error_kind"])
    if values["blocked_on"] is not None:
        try:
            values["blocked_on"] = BlockedOn(values["blocked_on"])
        except ValueError:
            values["blocked_on"] = BlockedOn.PROVIDER
    return Job(spec=spec, **values)


@dataclass(frozen=True)
class JobEvent:
    """One line of a job's audit trail."""

    job_id: int
    time: float
    state: JobState
    message: str


def owner_id() -> str:
    """This process, for holder labels: ``"<hostname>:<pid>"``."""
    if hasattr(os, "uname"):   # what socket.gethostname() answers, without the socket module
        return f"{os.uname().nodename}:{os.getpid()}"
    import socket  # Windows

    return f"{socket.gethostname()}:{os.getpid()}"


def _state_names(states: StateSet) -> list[str]:
    if isinstance(states, JobState):
        return [str(states)]
    return [str(JobState(state)) for state in states]


class JobRows(Connection):
    """The ``jobs`` and ``events`` tables of the job store."""

    @staticmethod
    def _select_job(db: sqlite3.Connection, job_id: int) -> Job:
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        return _job_from_row(row)

    @staticmethod
    def _assignments(fields: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(fields) - _UPDATABLE)
        if "state" in unknown:
            raise TypeError("use JobStore.transition() to change a job's state")
        if unknown:
            raise TypeError(f"unknown job field(s): {', '.join(unknown)}")
        columns: dict[str, object] = {}
        for name, value in fields.items():
            if name == "spec":
                if not isinstance(value, JobSpec):
                    raise TypeError("spec must be a JobSpec")
                columns.update(_spec_columns(value))
            else:
                columns[name] = _to_db(name, value)
        return columns

    @staticmethod
    def _apply(db: sqlite3.Connection, job_id: int, columns: dict[str, object],
               expect: StateSet | None = None) -> None:
        sql = ", ".join(f"{name} = ?" for name in columns)
        params: list[object] = [*columns.values(), job_id]
        where = "id = ?"
        if expect is not None:
            wanted = _state_names(expect)
            where += f" AND state IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        cursor = db.execute(f"UPDATE jobs SET {sql} WHERE {where}",  # noqa: S608 - known names
                            params)
        if cursor.rowcount == 0:
            row = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            raise JobConflictError(job_id, JobState(row["state"]), _state_names(expect or ()))

    @staticmethod
    def _add_event(db: sqlite3.Connection, job_id: int, when: float, state: JobState,
                   message: str) -> None:
        db.execute("INSERT INTO events (job_id, time, state, message) VALUES (?, ?, ?, ?)",
                   (job_id, when, str(state), message))


    def add_job(self, spec: JobSpec, *, base_url: str, demo: bool) -> Job:
        now = time.time()
        columns = _spec_columns(spec)
        columns.update(state=str(JobState.QUEUED), base_url=base_url, demo=int(demo),
                       created_at=now, updated_at=now)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        with self._write(durable=True) as db:
            cursor = db.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})",  # noqa: S608
                                list(columns.values()))
            job_id = cursor.lastrowid
            assert job_id is not None
            self._add_event(db, job_id, now, JobState.QUEUED, "added")
            return self._select_job(db, job_id)

    def get(self, job_id: int) -> Job | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job_from_row(row)

    def find_by_task_id(self, task_id: str) -> Job | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM jobs WHERE task_id = ? ORDER BY id DESC LIMIT 1",
                             (task_id,)).fetchone()
        return None if row is None else _job_from_row(row)

    def list_jobs(self, *, states: Iterable[JobState] | None = None,
                  limit: int | None = None) -> list[Job]:
        """Jobs, newest first; optionally only those in ``states``."""
        sql = "SELECT * FROM jobs"
        params: list[object] = []
        if states is not None:
            wanted = [str(JobState(s)) for s in states]
            if not wanted:
                return []
            sql += f" WHERE state IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        sql += " ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [_job_from_row(row) for row in rows]

    def unfinished(self) -> list[Job]:
        """Jobs a runner should resume (``state.is_active``), oldest first."""
        active = [s for s in JobState if s.is_active]
        return sorted(self.list_jobs(states=active), key=lambda job: (job.created_at, job.id))

    def update(self, job_id: int, *, expect: StateSet | None = None, **fields: object) -> Job:
        """Change some fields of a job (not its state: see :meth:`transition`).

        With ``expect``, only while the job is in one of those states
        (:class:`JobConflictError` otherwise).
        """
        columns = self._assignments(fields)
        columns.setdefault("updated_at", time.time())
        with self._write() as db:
            self._apply(db, job_id, columns, expect)
            return self._select_job(db, job_id)

    def transition(self, job_id: int, state: JobState, *, expect: StateSet | None = None,
                   message: str = "", **fields: object) -> Job:
        """Move a job to ``state`` (plus ``fields``) and log it, durably, in one transaction.

        ``expect`` makes it a compare-and-set: the move happens only when the job is
        still in one of those states, else :class:`JobConflictError` and nothing changes.
        Every move the job service makes names the state it expects to leave.
        """
        state = JobState(state)
        columns = self._assignments(fields)
        now = time.time()
        columns["state"] = str(state)
        columns.setdefault("updated_at", now)
        with self._write(durable=True) as db:
            self._apply(db, job_id, columns, expect)
            self._add_event(db, job_id, now, state, message)
            return self._select_job(db, job_id)

    def events(self, job_id: int) -> list[JobEvent]:
        with self._read() as db:
            rows = db.execute(
                "SELECT job_id, time, state, message FROM events WHERE job_id = ? ORDER BY id",
                (job_id,)).fetchall()
        return [JobEvent(row["job_id"], row["time"], JobState(row["state"]), row["message"])
                for row in rows]


    def output_path_claimed(self, path: str, *, other_than: int) -> bool:
        """Whether a job other than ``other_than`` has ``path`` as its result's file."""
        with self._read() as db:
            row = db.execute("SELECT 1 FROM jobs WHERE output_path = ? AND id != ? LIMIT 1",
                             (path, other_than)).fetchone()
        return row is not None

    def set_holder(self, job_id: int, holder: str | None) -> None:
        """Record who follows a job now, for display only ("the window (pid 4242)").

        Ownership itself is the operating system's lock (:mod:`ownership`); this
        label only lets another process say who holds it. A stale label is harmless.
        """
        with self._write() as db:
            db.execute("UPDATE jobs SET claim_owner = ?, claim_at = ? WHERE id = ?",
                       (holder, time.time() if holder else None, job_id))

    def holder(self, job_id: int) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT claim_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row["claim_owner"]

