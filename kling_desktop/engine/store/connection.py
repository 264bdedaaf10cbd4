"""The store's one SQLite connection: opening it, its lock, and its transactions.

Every access goes through this connection guarded by one lock, so all writes
have one writer per process; across processes (the window and
``kling-desktop wait``) SQLite's own locking plus ``busy_timeout`` serialise
them. Driver errors are translated on the way out (:mod:`.errors`). An empty
or damaged database file is moved aside (never deleted) and a new one started.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from kling_desktop.engine.store import schema
from kling_desktop.engine.store.errors import StoreCorruptError, os_error, translated
from kling_desktop.files import aside_path
from kling_desktop.i18n import _
from kling_desktop.paths import make_private

__all__ = ["Connection"]

log = logging.getLogger(__name__)

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
    target = aside_path(path, why)
    try:
        os.replace(path, target)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, target.with_name(target.name + suffix))
    except OSError as exc:
        raise os_error(exc) from exc
    return target


class Connection:
    """The database file at ``path``, opened, migrated and in WAL mode. Thread-safe."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        #: Where an empty or damaged job list was moved before a new one was started
        #: (the faces tell the user; the file is never deleted).
        self.moved_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc) from exc
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
        with translated():
            self._db = sqlite3.connect(
                self.path,
                timeout=busy_timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,
            )
        self._closed = False
        try:
            self._db.row_factory = sqlite3.Row
            with translated():
                self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                self._db.execute("PRAGMA foreign_keys = ON")
                schema.migrate(self._db)
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
        return _("The job list {path} was empty or damaged, so a new one was started. The old "
                 "file was kept as {kept}; your videos in the library are untouched.").format(
                     path=self.path, kept=self.moved_aside)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), errors translated."""
        with self._lock, translated():
            if durable:
                self._db.execute("PRAGMA synchronous = FULL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    schema.rollback(self._db)
                    raise
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reading, under the lock, errors translated."""
        with self._lock, translated():
            yield self._db
