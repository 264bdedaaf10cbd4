"""The job store: one SQLite file (WAL) holding jobs, their audit trail and the library index.

Every access goes through one connection guarded by one lock, so all writes
have one writer per process; across processes (the window and
``kling-desktop wait``) SQLite's own locking plus ``busy_timeout`` serialise
them, and the claim columns make sure two processes never run the same job.

Driver errors the user can act on (disk full, read-only, locked, corrupt) are
turned into :class:`StoreError` subclasses with plain words and a fix;
anything else (SQL mistakes, constraint violations) is a bug and propagates.

The schema evolves by :data:`MIGRATIONS`, applied in order according to
``PRAGMA user_version``, each in its own transaction. A database written by a
newer app is refused (:class:`DatabaseTooNewError`), never "repaired".
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobSpec, JobState
from kling_desktop.paths import make_private

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "UNMARKED",
    "DatabaseTooNewError",
    "FailureKind",
    "Job",
    "JobConflictError",
    "JobEvent",
    "JobNotFoundError",
    "JobSpec",
    "JobState",
    "JobStore",
    "ResultFilter",
    "ResultRecord",
    "StoreAccessError",
    "StoreCorruptError",
    "StoreDiskFullError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "owner_id",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- errors


class StoreError(KlingError):
    """The job database cannot be used right now, for a reason the user can act on."""

    default_message = "The job list could not be read or saved."
    default_fix = "Close other copies of the app, check the disk, then try again."

    def __init__(self, message: str | None = None, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)


class StoreDiskFullError(StoreError):
    default_message = "The disk is full, so the job list could not be saved."
    default_fix = (
        "Free some disk space (for example delete videos you do not need), then try again."
    )


class StoreReadOnlyError(StoreError):
    default_message = "The job list is in a folder this app may not write to."
    default_fix = (
        "Check that the data folder is on a writable disk and that your account may write "
        "to it, or point KLING_DATA_DIR at a writable folder."
    )


class StoreLockedError(StoreError):
    default_message = "The job list is busy: another program is holding it."
    default_fix = (
        "Wait a moment and try again. If it keeps happening, close other copies of the app."
    )


class StoreAccessError(StoreError):
    default_message = "The job list file could not be opened or read."
    default_fix = (
        "Check that the disk is connected and that your account may read and write the "
        "data folder."
    )


class StoreCorruptError(StoreError):
    default_message = "The job list file is damaged and cannot be read."
    default_fix = (
        "Quit the app and move the damaged file aside (it is named jobs.sqlite3 in the data "
        "folder). Your videos are safe in the library folder, and the library list can be "
        "rebuilt from it."
    )


class DatabaseTooNewError(StoreError):
    default_fix = (
        "Update the app to the newest version. Nothing was changed; your jobs and videos are "
        "untouched."
    )

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            "The job list was written by a newer version of Kling Motion Studio "
            f"(format {found}; this version understands up to {supported})."
        )
        self.found = found
        self.supported = supported


class JobConflictError(StoreError):
    """A job was not in the state a change expected: someone else moved it first."""

    default_fix = "Nothing was changed; the job list shows the job as it is now."

    def __init__(self, job_id: int, found: JobState, expected: Sequence[str]) -> None:
        super().__init__(f"Job {job_id} is {found.label.lower()} now, so it was left as it is.")
        self.job_id = job_id
        self.found = found
        self.expected = tuple(expected)


class JobNotFoundError(StoreError):
    default_fix = "Refresh the job list; the job may have been deleted in another window."

    def __init__(self, job_id: int) -> None:
        super().__init__(f"Job {job_id} no longer exists.")
        self.job_id = job_id


# SQLite primary result codes (the low byte of extended codes).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_KNOWN_CODES: Final[dict[int, type[StoreError]]] = {
    _SQLITE_FULL: StoreDiskFullError,
    _SQLITE_READONLY: StoreReadOnlyError,
    _SQLITE_BUSY: StoreLockedError,
    _SQLITE_LOCKED: StoreLockedError,
    _SQLITE_CORRUPT: StoreCorruptError,
    _SQLITE_NOTADB: StoreCorruptError,
    _SQLITE_CANTOPEN: StoreAccessError,
    _SQLITE_IOERR: StoreAccessError,
    _SQLITE_PERM: StoreReadOnlyError,
}


def known_error(exc: sqlite3.Error) -> StoreError | None:
    """The user-facing error for a driver error, or None when it is a bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    kind = _KNOWN_CODES.get(code & 0xFF)
    return kind() if kind is not None else None


def _os_error(exc: OSError) -> StoreError:
    if exc.errno == errno.ENOSPC:
        return StoreDiskFullError()
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnlyError()
    return StoreAccessError()


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        mapped = known_error(exc)
        if mapped is None:
            raise
        log.warning("job database: %s (%s)", type(mapped).__name__, exc)
        raise mapped from exc


# ------------------------------------------------------------------------ schema

# Each migration is a sequence of statements run in one transaction; migration
# N (1-based) brings the database to ``user_version`` N. Append, never edit.
#
# A prompt search can later be added as a migration creating an external-content
# FTS5 table over ``results(prompt)`` keyed by ``results.id`` plus triggers.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: jobs and their audit trail
    (
        """
        CREATE TABLE jobs (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            image               TEXT NOT NULL,
            video               TEXT NOT NULL,
            model               TEXT NOT NULL,
            mode                TEXT NOT NULL,
            prompt              TEXT NOT NULL DEFAULT '',
            orientation         TEXT NOT NULL,
            keep_original_sound INTEGER NOT NULL DEFAULT 1,
            billable_seconds    REAL,
            batch_id            TEXT,
            state               TEXT NOT NULL,
            base_url            TEXT NOT NULL,
            demo                INTEGER NOT NULL DEFAULT 0,
            created_at          REAL NOT NULL,
            updated_at          REAL NOT NULL,
            task_id             TEXT,
            provider_status     TEXT,
            progress            INTEGER NOT NULL DEFAULT 0,
            transfer_done       INTEGER NOT NULL DEFAULT 0,
            transfer_total      INTEGER NOT NULL DEFAULT 0,
            estimated_time      REAL,
            error_kind          TEXT,
            error_code          TEXT,
            error_message       TEXT,
            error_fix           TEXT,
            submitted_at        REAL,
            completed_at        REAL,
            result_url          TEXT,
            result_expires_at   REAL,
            output_path         TEXT,
            create_calls        INTEGER NOT NULL DEFAULT 0,
            next_poll_at        REAL
        )
        """,
        "CREATE INDEX jobs_state ON jobs(state)",
        "CREATE INDEX jobs_task_id ON jobs(task_id)",
        """
        CREATE TABLE events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            time    REAL NOT NULL,
            state   TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX events_job ON events(job_id, id)",
    ),
    # 2: claims, so two processes never run the same job
    (
        "ALTER TABLE jobs ADD COLUMN claim_owner TEXT",
        "ALTER TABLE jobs ADD COLUMN claim_at REAL",
    ),
    # 3: the library index (rebuildable from the sidecars at any time)
    (
        """
        CREATE TABLE results (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            video_rel           TEXT NOT NULL UNIQUE,
            sidecar_rel         TEXT,
            task_id             TEXT,
            job_id              INTEGER,
            model               TEXT,
            mode                TEXT,
            orientation         TEXT,
            prompt              TEXT NOT NULL DEFAULT '',
            keep_original_sound INTEGER,
            created_at          REAL,
            completed_at        REAL,
            saved_at            REAL,
            duration            REAL,
            width               INTEGER,
            height              INTEGER,
            file_size           INTEGER NOT NULL DEFAULT 0,
            demo                INTEGER NOT NULL DEFAULT 0,
            mark                TEXT CHECK (mark IN ('keeper', 'reject')),
            sidecar_ok          INTEGER NOT NULL DEFAULT 0,
            sidecar_json        TEXT
        )
        """,
        "CREATE INDEX results_saved_at ON results(saved_at)",
        "CREATE INDEX results_model ON results(model)",
        "CREATE INDEX results_mode ON results(mode)",
        "CREATE INDEX results_task_id ON results(task_id)",
    ),
    # 4: the gallery sorts by length and filters by look, kind and mark
    (
        "CREATE INDEX results_duration ON results(duration)",
        "CREATE INDEX results_orientation ON results(orientation)",
        "CREATE INDEX results_mark ON results(mark)",
        "CREATE INDEX results_demo ON results(demo, saved_at)",
    ),
    # 5: the job service: reused uploads, why an active job waits, what the provider
    #    reports about the result (its real length, the model used, the charge)
    (
        "ALTER TABLE jobs ADD COLUMN image_url TEXT",
        "ALTER TABLE jobs ADD COLUMN video_url TEXT",
        "ALTER TABLE jobs ADD COLUMN uploaded_at REAL",
        "ALTER TABLE jobs ADD COLUMN blocked_on TEXT",
        "ALTER TABLE jobs ADD COLUMN download_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN result_duration REAL",
        "ALTER TABLE jobs ADD COLUMN model_used TEXT",
        "ALTER TABLE jobs ADD COLUMN provider_usage TEXT",
    ),
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


# ------------------------------------------------------------------------- rows

# The spec's columns: its own plain fields plus the options record's, flattened.
_OPTION_FIELDS: Final = tuple(f.name for f in dataclasses.fields(GenerationOptions))
_SPEC_FIELDS: Final = tuple(f.name for f in dataclasses.fields(JobSpec) if f.name != "options")
_JOB_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Job) if f.name != "spec")
# Fields update()/transition() accept ("spec" replaces every spec column).
_UPDATABLE: Final = frozenset(_JOB_FIELDS) - {"id", "created_at", "state"} | {"spec"}

_BOOL_COLUMNS: Final = frozenset({"demo", "keep_original_sound"})


def _to_db(name: str, value: object) -> object:
    if value is None:
        return None
    if name in _BOOL_COLUMNS:
        return 1 if value else 0
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
    spec = JobSpec(options=options, **{name: row[name] for name in _SPEC_FIELDS})
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


@dataclass(frozen=True)
class ResultRecord:
    """One row of the library index: a result video (paths relative to the library root)."""

    video_rel: str
    sidecar_rel: str | None = None
    task_id: str | None = None
    job_id: int | None = None
    model: str | None = None
    mode: str | None = None
    orientation: str | None = None
    prompt: str = ""
    keep_original_sound: bool | None = None
    created_at: float | None = None
    completed_at: float | None = None
    saved_at: float | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    file_size: int = 0
    demo: bool = False
    mark: str | None = None  # "keeper" | "reject" | None
    sidecar_ok: bool = False
    sidecar_json: str | None = None


_RESULT_COLUMNS: Final = tuple(f.name for f in dataclasses.fields(ResultRecord))
_RESULT_ORDER: Final = {
    "saved_at": "saved_at",
    "completed_at": "completed_at",
    "created_at": "created_at",
    "model": "model",
    "mode": "mode",
    "file_size": "file_size",
    "date": "saved_at",       # the gallery's "date": when the result reached the library
    "duration": "duration",
}
# Orders whose column may be NULL (unreadable sidecars): those rows go last either way.
_NULLS_LAST: Final = frozenset({"duration"})
MARKS: Final = ("keeper", "reject")
UNMARKED: Final = "unmarked"   # list_results(mark=UNMARKED): rows with no mark


@dataclass(frozen=True)
class ResultFilter:
    """What the gallery asks of the results index (every field optional, all combined).

    ``text``: case-insensitive substring of the prompt; ``mark``: "keeper",
    "reject" or :data:`UNMARKED`; ``since``/``until``: UNIX times bounding
    ``saved_at`` (``since`` inclusive, ``until`` exclusive); ``demo``: True for
    demo results only, False for real ones only.
    """

    model: str | None = None
    mode: str | None = None
    mark: str | None = None
    text: str | None = None
    orientation: str | None = None
    since: float | None = None
    until: float | None = None
    demo: bool | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL condition (``""`` when nothing is filtered) and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        for name in ("model", "mode", "orientation"):
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{name} = ?")
                params.append(str(value))
        if self.mark == UNMARKED:
            clauses.append("mark IS NULL")
        elif self.mark is not None:
            clauses.append("mark = ?")
            params.append(str(self.mark))
        if self.text:
            escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("prompt LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        if self.since is not None:
            clauses.append("saved_at >= ?")
            params.append(float(self.since))
        if self.until is not None:
            clauses.append("saved_at < ?")
            params.append(float(self.until))
        if self.demo is not None:
            clauses.append("demo = ?")
            params.append(1 if self.demo else 0)
        return " AND ".join(clauses), params


def _order_clause(order_by: str, newest_first: bool) -> str:
    column = _RESULT_ORDER.get(order_by)
    if column is None:
        raise ValueError(f"cannot order results by {order_by!r}")
    direction = "DESC" if newest_first else "ASC"
    nulls = f"({column} IS NULL), " if order_by in _NULLS_LAST else ""
    return f" ORDER BY {nulls}{column} {direction}, id {direction}"


def _result_params(record: ResultRecord) -> list[object]:
    params: list[object] = []
    for name in _RESULT_COLUMNS:
        value = getattr(record, name)
        if isinstance(value, bool):
            value = int(value)
        params.append(value)
    return params


def _result_from_row(row: sqlite3.Row) -> ResultRecord:
    values: dict[str, Any] = {name: row[name] for name in _RESULT_COLUMNS}
    values["demo"] = bool(values["demo"])
    values["sidecar_ok"] = bool(values["sidecar_ok"])
    if values["keep_original_sound"] is not None:
        values["keep_original_sound"] = bool(values["keep_original_sound"])
    return ResultRecord(**values)


# ---------------------------------------------------------------------- holders


def owner_id() -> str:
    """This process, for holder labels: ``"<hostname>:<pid>"``."""
    return f"{socket.gethostname()}:{os.getpid()}"


StateSet = JobState | Iterable[JobState]

# A file this old and still empty is not one another process is creating right now.
_EMPTY_GRACE_SECONDS: Final = 10.0


def _is_abandoned_empty(path: Path) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_size == 0 and time.time() - info.st_mtime > _EMPTY_GRACE_SECONDS


def _move_aside(path: Path, why: str) -> Path:
    """Rename the database (and its WAL files) to ``<name>.<why>-<time>``; never delete."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{counter}")
    try:
        os.replace(path, target)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, target.with_name(target.name + suffix))
    except OSError as exc:
        raise _os_error(exc) from exc
    return target


def _state_names(states: StateSet) -> list[str]:
    if isinstance(states, JobState):
        return [str(states)]
    return [str(JobState(state)) for state in states]


# ------------------------------------------------------------------------ store


class JobStore:
    """The SQLite job store. Thread-safe; use one instance per process."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        #: Where an empty or damaged job list was moved before a new one was started
        #: (the faces tell the user; the file is never deleted).
        self.moved_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(exc) from exc
        if _is_abandoned_empty(self.path):
            self.moved_aside = _move_aside(self.path, "empty")
        try:
            self._open(busy_timeout)
        except StoreCorruptError:
            self.moved_aside = _move_aside(self.path, "damaged")
            self._open(busy_timeout)
        if self.moved_aside is not None:
            log.warning("job database: %s was unusable and was moved to %s; started a new one",
                        self.path.name, self.moved_aside)
        make_private(self.path)

    def _open(self, busy_timeout: float) -> None:
        with _translated():
            self._db = sqlite3.connect(
                self.path,
                timeout=busy_timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,
            )
        self._closed = False
        try:
            self._db.row_factory = sqlite3.Row
            with _translated():
                self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                self._db.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning("job database: WAL mode unavailable (journal_mode=%s)", mode)
                self._db.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            self._db.close()
            self._closed = True
            raise

    @property
    def moved_aside_message(self) -> str | None:
        """Plain words for the user when the job list had to be started anew."""
        if self.moved_aside is None:
            return None
        return (f"The job list {self.path} was empty or damaged, so a new one was started. "
                f"The old file was kept as {self.moved_aside}; your videos in the library are "
                "untouched.")

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock, _translated():
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- plumbing ------------------------------------------------------------

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), errors translated."""
        with self._lock, _translated():
            if durable:
                self._db.execute("PRAGMA synchronous = FULL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _translated():
            yield self._db

    def _rollback(self) -> None:
        if self._db.in_transaction:
            with suppress(sqlite3.Error):  # the original error is the one to report
                self._db.execute("ROLLBACK")

    def _migrate(self) -> None:
        while True:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise DatabaseTooNewError(version, SCHEMA_VERSION)
                if version == SCHEMA_VERSION:
                    self._db.execute("COMMIT")
                    return
                for statement in MIGRATIONS[version]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            log.info("job database: migrated to format %d", version + 1)

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

    # -- jobs ----------------------------------------------------------------

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

    def delete_job(self, job_id: int) -> bool:
        """Forget a job and its events (its video stays in the library). True if it existed."""
        with self._write() as db:
            return db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    # -- holders -------------------------------------------------------------

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

    # -- library index -------------------------------------------------------

    _UPSERT: Final = (
        f"INSERT INTO results ({', '.join(_RESULT_COLUMNS)}) "  # noqa: S608 - known names
        f"VALUES ({', '.join('?' for _ in _RESULT_COLUMNS)}) "
        "ON CONFLICT(video_rel) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _RESULT_COLUMNS if c != "video_rel")
    )

    def upsert_result(self, record: ResultRecord) -> None:
        with self._write() as db:
            db.execute(self._UPSERT, _result_params(record))

    def replace_results(self, records: Sequence[ResultRecord]) -> None:
        """Swap the whole index for ``records`` in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM results")
            db.executemany(self._UPSERT, [_result_params(r) for r in records])

    def remove_result(self, video_rel: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM results WHERE video_rel = ?",
                              (video_rel,)).rowcount > 0

    def set_result_mark(self, video_rel: str, mark: str | None) -> bool:
        if mark not in (None, *MARKS):
            raise ValueError(f"mark must be one of {MARKS} or None")
        with self._write() as db:
            return db.execute("UPDATE results SET mark = ? WHERE video_rel = ?",
                              (mark, video_rel)).rowcount > 0

    def get_result(self, video_rel: str) -> ResultRecord | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM results WHERE video_rel = ?",
                             (video_rel,)).fetchone()
        return None if row is None else _result_from_row(row)

    def list_results(
        self,
        *,
        model: str | None = None,
        mode: str | None = None,
        mark: str | None = None,
        text: str | None = None,
        order_by: str = "saved_at",
        newest_first: bool = True,
        limit: int | None = None,
        offset: int = 0,
        orientation: str | None = None,
        since: float | None = None,
        until: float | None = None,
        demo: bool | None = None,
        where: ResultFilter | None = None,
    ) -> list[ResultRecord]:
        """Index rows, filtered; ``text`` is a case-insensitive substring of the prompt.

        ``where`` (a :class:`ResultFilter`) replaces the individual filter arguments.
        ``order_by`` is a column name or "date" / "duration" ("newest first" then
        means longest first); rows without a duration come last.
        """
        if where is None:
            where = ResultFilter(model=model, mode=mode, mark=mark, text=text,
                                 orientation=orientation, since=since, until=until, demo=demo)
        condition, params = where.where()
        sql = "SELECT * FROM results"
        if condition:
            sql += " WHERE " + condition
        sql += _order_clause(order_by, newest_first) + " LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else int(limit), int(offset)])
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [_result_from_row(row) for row in rows]

    def result_keys(self, where: ResultFilter | None = None, *, order_by: str = "saved_at",
                    newest_first: bool = True) -> list[str]:
        """Only the ``video_rel`` of the matching rows, in order (cheap even for 10,000)."""
        condition, params = (where or ResultFilter()).where()
        sql = "SELECT video_rel FROM results"
        if condition:
            sql += " WHERE " + condition
        sql += _order_clause(order_by, newest_first)
        with self._read() as db:
            return [row[0] for row in db.execute(sql, params).fetchall()]

    def get_results(self, video_rels: Sequence[str]) -> dict[str, ResultRecord]:
        """The rows for ``video_rels`` (missing ones are simply absent), by ``video_rel``."""
        found: dict[str, ResultRecord] = {}
        keys = list(dict.fromkeys(video_rels))
        with self._read() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = db.execute(
                    f"SELECT * FROM results WHERE video_rel IN ({marks})",  # noqa: S608
                    chunk).fetchall()
                for row in rows:
                    record = _result_from_row(row)
                    found[record.video_rel] = record
        return found

    def result_facets(self) -> dict[str, list[str]]:
        """The distinct models, modes and orientations in the index (for filter menus)."""
        facets: dict[str, list[str]] = {}
        with self._read() as db:
            for name in ("model", "mode", "orientation"):
                rows = db.execute(
                    f"SELECT DISTINCT {name} FROM results "  # noqa: S608 - known names
                    f"WHERE {name} IS NOT NULL ORDER BY {name}").fetchall()
                facets[name] = [str(row[0]) for row in rows]
        return facets

    def clear_results(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM results")

    def count_results(self, where: ResultFilter | None = None) -> int:
        condition, params = (where or ResultFilter()).where()
        sql = "SELECT COUNT(*) FROM results"
        if condition:
            sql += " WHERE " + condition
        with self._read() as db:
            return int(db.execute(sql, params).fetchone()[0])
