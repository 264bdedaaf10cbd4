"""The store's known errors, and the one place driver errors are sorted into them.

The qutebrowser ``misc/sql.py`` habit: every SQLite error the user can act on
(disk full, read-only, locked, corrupt) becomes a :class:`StoreError` with plain
words and a fix; anything else (SQL mistakes, constraint violations) is a bug
and propagates unchanged.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from kling_desktop.engine.jobs import JobState
from kling_desktop.errors import KlingError
from kling_desktop.i18n import N_, _

__all__ = [
    "DatabaseTooNewError",
    "JobConflictError",
    "JobNotFoundError",
    "StoreAccessError",
    "StoreCorruptError",
    "StoreDiskFullError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "known_error",
    "os_error",
    "translated",
]

log = logging.getLogger(__name__)

class StoreError(KlingError):
    """The job database cannot be used right now, for a reason the user can act on."""

    default_message = N_("The job list could not be read or saved.")
    default_fix = N_("Close other copies of the app, check the disk, then try again.")

    def __init__(self, message: str | None = None, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)


class StoreDiskFullError(StoreError):
    default_message = N_("The disk is full, so the job list could not be saved.")
    default_fix = N_(
        "Free some disk space (for example delete videos you do not need), then try again."
    )


class StoreReadOnlyError(StoreError):
    default_message = N_("The job list is in a folder this app may not write to.")
    default_fix = N_(
        "Check that the data folder is on a writable disk and that your account may write "
        "to it, or point KLING_DATA_DIR at a writable folder."
    )


class StoreLockedError(StoreError):
    default_message = N_("The job list is busy: another program is holding it.")
    default_fix = N_(
        "Wait a moment and try again. If it keeps happening, close other copies of the app."
    )


class StoreAccessError(StoreError):
    default_message = N_("The job list file could not be opened or read.")
    default_fix = N_(
        "Check that the disk is connected and that your account may read and write the "
        "data folder."
    )


class StoreCorruptError(StoreError):
    default_message = N_("The job list file is damaged and cannot be read.")
    default_fix = N_(
        "Quit the app and move the damaged file aside (it is named jobs.sqlite3 in the data "
        "folder). Your videos are safe in the library folder, and the library list can be "
        "rebuilt from it."
    )


class DatabaseTooNewError(StoreError):
    default_fix = N_(
        "Update the app to the newest version. Nothing was changed; your jobs and videos are "
        "untouched."
    )

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            _("The job list was written by a newer version of Kling Motion Studio "
              "(format {found}; this version understands up to {supported}).").format(
                  found=found, supported=supported)
        )
        self.found = found
        self.supported = supported


class JobConflictError(StoreError):
    """A job was not in the state a change expected: someone else moved it first."""

    default_fix = N_("Nothing was changed; the job list shows the job as it is now.")

    def __init__(self, job_id: int, found: JobState, expected: Sequence[str]) -> None:
        # TRANSLATORS: {state} is the job's state in words, e.g. "completed".
        super().__init__(_("Job {job_id} is {state} now, so it was left as it is.").format(
            job_id=job_id, state=found.label.lower()))
        self.job_id = job_id
        self.found = found
        self.expected = tuple(expected)


class JobNotFoundError(StoreError):
    default_fix = N_("Refresh the job list; the job may have been deleted in another window.")

    def __init__(self, job_id: int) -> None:
        super().__init__(_("Job {job_id} no longer exists.").format(job_id=job_id))
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


def os_error(exc: OSError) -> StoreError:
    """The user-facing error for a failed file operation on the database."""
    if exc.errno == errno.ENOSPC:
        return StoreDiskFullError()
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnlyError()
    return StoreAccessError()


@contextmanager
def translated() -> Iterator[None]:
    """Known driver errors raised inside become :class:`StoreError`; bugs pass unchanged."""
    try:
        yield
    except sqlite3.Error as exc:
        mapped = known_error(exc)
        if mapped is None:
            raise
        log.warning("job database: %s (%s)", type(mapped).__name__, exc)
        raise mapped from exc


