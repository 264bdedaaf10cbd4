"""The log: a rotating file under the data folder, opened once the window is painted.

The command line opens it at once (:func:`setup_logging`). The window's start holds what
is logged in memory (:func:`start_logging`) and opens the file right after its first
paint, on a worker (:func:`open_log_file`): the file's handler and what it imports
(``logging.handlers``, with ``socket``, ``pickle`` and ``queue``), the data folder's
checks and the file itself are not needed to show the window. The lines held are written
first, in order, once each. The API key is never logged anywhere.
"""

from __future__ import annotations

import logging
import threading

from kling_desktop.paths import app_paths

__all__ = ["open_log_file", "setup_logging", "start_logging"]

LOG_NAME = "kling-desktop.log"
LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 3
#: Lines held before the file opens, at most (the window's start logs a few).
HELD_LIMIT = 1000
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

log = logging.getLogger(__name__)


class _Log(logging.Handler):
    """The root logger's handler for the log file: holds the records until the file is
    open, then writes them and every later one to it (one handler throughout, so no
    record is written twice or lost while the file opens)."""

    def __init__(self) -> None:
        super().__init__()
        self._held: list[logging.LogRecord] = []
        self._dropped = 0
        self._file: logging.Handler | None = None
        self._opened = False

    def emit(self, record: logging.LogRecord) -> None:   # (called with self.lock held)
        if self._file is not None:
            self._file.handle(record)
        elif self._opened:
            return   # the file could not be opened: nothing to write to
        elif len(self._held) < HELD_LIMIT:
            self._held.append(record)
        else:
            self._dropped += 1

    def open(self) -> None:
        """Open the file (once) and write the records held until now."""
        self.acquire()   # (records from other threads wait meanwhile)
        try:
            if self._opened:
                return
            file = _file_handler()   # (what it logs itself, this thread, is held too)
            self._opened = True
            held, self._held = self._held, []
            dropped, self._dropped = self._dropped, 0
            if file is None:
                return
            for record in held:
                file.handle(record)
            self._file = file
        finally:
            self.release()
        if dropped:
            log.warning("logging: %d lines of the start were not kept", dropped)

    # The file, once set, stays: flushing and closing it need no lock of ours (the file's
    # handler takes its own).
    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def _file_handler() -> logging.Handler | None:
    """The rotating file under the logs folder, or None when it cannot be opened (the
    app works on without its log)."""
    from kling_desktop.log_file import PrivateRotatingFileHandler

    try:
        logs = app_paths().ensure().logs_dir
        handler = PrivateRotatingFileHandler(logs / LOG_NAME, maxBytes=LOG_MAX_BYTES,
                                             backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


_setup_lock = threading.Lock()


def _the_log() -> _Log | None:
    root = logging.getLogger()
    return next((h for h in root.handlers if isinstance(h, _Log)), None)


def start_logging(*, debug: bool = False) -> None:
    """Log from now on (INFO, or DEBUG with ``debug``), held in memory until
    :func:`open_log_file`. Once per process; a second call changes nothing."""
    with _setup_lock:
        if _the_log() is not None:
            return
        root = logging.getLogger()
        root.addHandler(_Log())
        root.setLevel(logging.DEBUG if debug else logging.INFO)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)


def open_log_file() -> None:
    """Open the log file promised by :func:`start_logging` (once; from any thread) and
    write what was held. Nothing when logging was not started (tests build windows
    without it)."""
    handler = _the_log()
    if handler is not None:
        handler.open()


def setup_logging(*, debug: bool = False) -> None:
    """Log to the file from now on (the command line)."""
    start_logging(debug=debug)
    open_log_file()
