"""The job store: one SQLite file (WAL) holding jobs, their audit trail and the library index.

One connection guarded by one lock (:mod:`.connection`) gives one writer per
process; across processes (the window and ``kling-desktop wait``) SQLite's own
locking plus ``busy_timeout`` serialise writes, and OS file locks
(:mod:`~kling_desktop.engine.ownership`) make sure two processes never run the
same job. Driver errors the user can act on become :class:`StoreError`
subclasses (:mod:`.errors`); anything else is a bug and propagates. The schema
evolves by :data:`MIGRATIONS` (:mod:`.schema`). Job rows live in
:mod:`.job_rows`, the library index in :mod:`.result_index`.
"""

from __future__ import annotations

from kling_desktop.engine.jobs import FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.store.errors import (
    DatabaseTooNewError,
    JobConflictError,
    JobNotFoundError,
    StoreAccessError,
    StoreCorruptError,
    StoreDiskFullError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    known_error,
)
from kling_desktop.engine.store.job_rows import JobEvent, JobRows, owner_id
from kling_desktop.engine.store.result_index import (
    MARKS,
    UNMARKED,
    ResultFilter,
    ResultIndex,
    ResultRecord,
)
from kling_desktop.engine.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "MARKS",
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
    "known_error",
    "owner_id",
]


class JobStore(JobRows, ResultIndex):
    """The SQLite job store: jobs and events, plus the library index. Thread-safe; use one
    instance per process."""
