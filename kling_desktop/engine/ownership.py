"""Who runs a job: the operating system decides, through one lock file per job.

A process follows a job only while it holds that job's lock: an exclusive,
non-blocking ``flock`` (POSIX) or ``msvcrt.locking`` (Windows) on
``<data>/locks/job-<id>.lock``. The operating system releases it when the
holder exits or is killed, so ownership can never go stale while its holder
lives, and the next process can take the job over the moment it dies. No timer
ever decides that a process is dead.

Locks are per open file: two :class:`JobLocks` in one process exclude each
other too, like two processes. The holder's label ("the window (pid 4242)")
is written to the job store only for display.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from pathlib import Path

__all__ = ["JobLocks"]

log = logging.getLogger(__name__)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


class JobLocks:
    """The job locks this process holds, in one folder. Thread-safe."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._held: dict[int, int] = {}   # job id -> open file descriptor
        self._lock = threading.Lock()

    def path(self, job_id: int) -> Path:
        return self.folder / f"job-{int(job_id)}.lock"

    def acquire(self, job_id: int) -> bool:
        """Take ``job_id`` now, or return False at once when another holder has it."""
        with self._lock:
            if job_id in self._held:
                return True
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.path(job_id)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(path, flags, 0o600)
            if not _try_lock(fd):
                os.close(fd)
                return False
            # The file may have been removed (by a holder finishing the job) between our
            # open and our lock: a lock on an unlinked file excludes nobody. Try again later.
            if not self._same_file(fd, path):
                _unlock(fd)
                os.close(fd)
                return False
            self._held[job_id] = fd
            return True

    def holds(self, job_id: int) -> bool:
        """True while this process holds ``job_id``'s lock and the lock file is still it.

        Checked again right before a create call is sent.
        """
        with self._lock:
            fd = self._held.get(job_id)
            return fd is not None and self._same_file(fd, self.path(job_id))

    def release(self, job_id: int, *, finished: bool = False) -> None:
        """Give ``job_id`` back. ``finished``: the job is over, its lock file is removed."""
        with self._lock:
            fd = self._held.pop(job_id, None)
            if fd is None:
                return
            if finished:
                with contextlib.suppress(OSError):
                    self.path(job_id).unlink()
            _unlock(fd)
            os.close(fd)

    def release_all(self) -> None:
        with self._lock:
            held = list(self._held)
        for job_id in held:
            self.release(job_id)

    def held(self) -> list[int]:
        with self._lock:
            return list(self._held)

    @staticmethod
    def _same_file(fd: int, path: Path) -> bool:
        try:
            mine = os.fstat(fd)
            now = os.stat(path)
        except OSError:
            return False
        if sys.platform == "win32":   # no stable inode numbers: the path is the file
            return True
        return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
