"""Poster frames (a clip's first frame): the window's one way to grab them.

:class:`PosterGrabber` (in :mod:`kling_desktop.ui.poster_grabber`, loaded on first use
with QtMultimedia) grabs one clip's first frame with Qt's own player
(``QMediaPlayer`` + ``QVideoSink``); the form's clip preview uses it as it is.

:class:`Thumbnails` (the library's tiles, the jobs list's cards) answers
``pixmap(key, video, fallback)`` from memory at once (``None`` while the picture
is being made; the delegate paints a placeholder). Behind it:

1. a disk cache under ``<cache_dir>/thumbnails``: one JPEG per video, named by a
   hash of the video's path, modification time and size (so a replaced file gets
   a new picture and a second start shows every known picture immediately),
   read on the :class:`TaskRunner` pool;
2. on a miss, the first frame grabbed by the poster helper, a child process
   (:mod:`kling_desktop.ui.poster_helper`: FFmpeg's memory and any crash or hang of
   the decoder on a hostile clip stay out of the window), or the kept character
   picture when the clip cannot be decoded; the helper writes the poster to the disk
   cache and the window reads it back on the pool.

The limits are at the top: the pixmaps in memory are bounded by bytes
(:data:`MEMORY_BYTES`, least recently painted dropped first) and the disk cache is
pruned by age and size (:func:`prune_disk_cache`, on a worker).

Only what is painted asks for a picture: a request not repeated by a paint
within :data:`STALE_AFTER` seconds (the item scrolled away) is dropped before any
work is done, and the newest requests are served first.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QSize, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from kling_desktop.ui.images import decode_picture
from kling_desktop.ui.poster_helper import helper_command, parse_answer, request_line
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:   # handed out by name on first use (see __getattr__)
    from kling_desktop.ui.poster_grabber import POSTER_TIMEOUT_MS as POSTER_TIMEOUT_MS
    from kling_desktop.ui.poster_grabber import PosterGrabber as PosterGrabber

log = logging.getLogger(__name__)

_TEMPORARY = re.compile(r"\.[0-9a-f]+\.jpg\.[0-9a-f]+\.tmp")

THUMB_MAX = 360            # longest side of a cached poster, in pixels
DECODE_TIMEOUT_MS = 6000   # the tiles give up on a clip's first frame after this long
STALE_AFTER = 1.0          # seconds: a request no paint repeated is dropped
DISK_READS_AT_ONCE = 3
HELPER_START_MS = 4000     # allowed on top of DECODE_TIMEOUT_MS for the helper to start
HELPER_IDLE_MS = 20_000    # the helper ends after this long without a clip
HELPER_STOP_MS = 2000      # closing waits this long for the clip in hand, then kills
MAX_ANSWER_BYTES = 4096    # a line from the helper longer than this is not an answer

# The posters' limits, all here:
MEMORY_BYTES = 32 * 1024 * 1024      # pixmaps kept in memory, by their pixels' bytes
DISK_BYTES = 256 * 1024 * 1024       # the disk cache is cut back to this, oldest first
DISK_MAX_AGE = 90 * 24 * 3600        # seconds: a poster not read for this long is removed


def __getattr__(name: str) -> object:
    # The grabber brings QtMultimedia (~30 ms and the FFmpeg plug-in): loaded when a clip
    # is first decoded or previewed, never with the window.
    if name in ("PosterGrabber", "POSTER_TIMEOUT_MS"):
        from kling_desktop.ui import poster_grabber

        return getattr(poster_grabber, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pixmap_bytes(pixmap: QPixmap) -> int:
    """What a pixmap's pixels take in memory."""
    return pixmap.width() * pixmap.height() * max(1, pixmap.depth()) // 8


def _left_over(entry: os.DirEntry[str], now: float) -> bool:
    """A poster's temporary file (``.<poster>.jpg.<random>.tmp``, see
    :func:`kling_desktop.files.write_atomic`) over an hour old: its helper was stopped
    while writing it."""
    if _TEMPORARY.fullmatch(entry.name) is None:
        return False
    try:
        return (entry.is_file(follow_symlinks=False)
                and now - entry.stat(follow_symlinks=False).st_mtime > 3600)
    except OSError:
        return False


def prune_disk_cache(folder: Path, *, max_bytes: int = DISK_BYTES,
                     max_age: float = DISK_MAX_AGE, now: float | None = None) -> int:
    """Remove the posters in ``folder`` (its own ``*.jpg`` files and their left-over
    temporary files, nothing else) older than
    ``max_age`` seconds, then the oldest until the rest fit in ``max_bytes``. Age is the
    last use (a read touches the file). Runs on a worker; returns how many were removed."""
    now = time.time() if now is None else now
    entries: list[tuple[float, int, Path]] = []
    try:
        with os.scandir(folder) as found:
            for entry in found:
                if _left_over(entry, now):   # a poster half written when its helper was killed
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                    continue
                if not entry.name.endswith(".jpg") or not entry.is_file(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    entries.append((info.st_mtime, info.st_size, Path(entry.path)))
    except OSError:
        return 0
    entries.sort()   # oldest first
    total = sum(size for _used, size, _path in entries)
    removed = 0
    for used, size, path in entries:
        if now - used <= max_age and total <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed += 1
    return removed


def cache_name(path: Path) -> str | None:
    """The disk-cache file name for ``path`` (path + mtime + size), None if it is gone."""
    try:
        info = path.stat()
    except OSError:
        return None
    text = f"{path.resolve()}|{info.st_mtime_ns}|{info.st_size}"
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest() + ".jpg"


@dataclass
class _Request:
    key: str
    video: Path
    fallback: Path | None
    asked: float


def _read_poster(path: Path, box: QSize) -> QImage | None:
    """Worker: a poster the helper just wrote, at ``box``."""
    image = decode_picture(path, box).image
    return image if image is not None and not image.isNull() else None


def _read_cached(cache: Path, video: Path, box: QSize) -> tuple[str | None, QImage | None]:
    """Worker: the cache file name and, if the poster is already on disk, the picture."""
    name = cache_name(video)
    if name is None:
        return None, None
    target = cache / name
    if not target.is_file():
        return name, None
    with contextlib.suppress(OSError):
        os.utime(target)   # used now: pruning removes the least recently used first
    return name, decode_picture(target, box).image


class _PosterProcess(QObject):
    """The window's side of the poster helper (:mod:`kling_desktop.ui.poster_helper`):
    starts it on the first clip, hands it one clip at a time, and reads its answers as
    they arrive (``QProcess``: nothing waits on the main thread). A clip the helper does
    not answer within ``timeout_ms`` (a hung decoder), or one it dies on (a crashed
    decoder), fails; the next clip starts the helper again. After ``idle_ms`` without a
    clip its input is closed and it ends, giving its memory back."""

    done = Signal(str, str)   # key, the poster's file (in the disk cache)
    failed = Signal(str)      # key

    def __init__(self, parent: QObject | None = None, *,
                 timeout_ms: int = DECODE_TIMEOUT_MS + HELPER_START_MS,
                 idle_ms: int = HELPER_IDLE_MS) -> None:
        super().__init__(parent)
        # One QProcess, started again after each end (never deleted while in use).
        self._process = QProcess(self)
        program, arguments = helper_command()
        self._process.setProgram(program)
        self._process.setArguments(arguments)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self._process.setStandardErrorFile(QProcess.nullDevice())   # FFmpeg's chatter
        self._process.readyReadStandardOutput.connect(self.on_process_readyReadStandardOutput)
        self._process.finished.connect(self.on_process_finished)
        self._process.errorOccurred.connect(self.on_process_errorOccurred)
        self._buffer = bytearray()
        self._key: str | None = None
        self._target = ""
        self._number = 0
        self._closed = False
        self.started = 0     # helpers started this session (for tests)
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(timeout_ms)
        self._timeout.timeout.connect(self.on_timeout)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self.on_idle)

    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    def grab(self, key: str, video: Path, fallback: Path | None, target: Path) -> None:
        """Ask for ``video``'s poster in ``target``; ``done`` or ``failed`` follows."""
        if self._closed:
            return
        if not self.running():
            self._buffer.clear()
            self.started += 1
            self._process.start()
        self._idle.stop()
        self._number += 1
        self._key, self._target = key, str(target)
        line = request_line(self._number, video, fallback, target, THUMB_MAX)
        self._process.write(line.encode("utf-8"))
        self._timeout.start()

    @Slot()
    def on_process_readyReadStandardOutput(self) -> None:
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        while b"\n" in self._buffer:
            line, _sep, rest = bytes(self._buffer).partition(b"\n")
            self._buffer = bytearray(rest)
            self._answer(line)
        if len(self._buffer) > MAX_ANSWER_BYTES:   # not the helper's answers: start over
            log.warning("posters: the helper's output is not its answers; it is stopped")
            self._buffer.clear()
            self._process.kill()   # finished follows: the clip in hand fails

    def _answer(self, line: bytes) -> None:
        answer = parse_answer(line)
        if answer is None or answer[0] != self._number or self._key is None:
            return   # not an answer, or one for a clip given up on
        ok = answer[1]
        key, self._key = self._key, None
        self._timeout.stop()
        self._idle.start()
        if ok:
            self.done.emit(key, self._target)
        else:
            self.failed.emit(key)

    def _give_up(self, why: str) -> None:
        key, self._key = self._key, None
        self._timeout.stop()
        if key is not None:
            log.warning("posters: %s; that clip gets no poster", why)
            self.failed.emit(key)

    @Slot(int, QProcess.ExitStatus)
    def on_process_finished(self, _code: int, _status: QProcess.ExitStatus) -> None:
        self._give_up("the poster helper ended while reading a clip")

    @Slot(QProcess.ProcessError)
    def on_process_errorOccurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._give_up("the poster helper could not start")

    @Slot()
    def on_timeout(self) -> None:
        if self._key is not None:
            self._give_up("no poster arrived in time (the clip's decoder is stuck)")
            self._process.kill()

    @Slot()
    def on_idle(self) -> None:
        if self._key is None and self.running():
            self._process.closeWriteChannel()   # it ends after its last answer

    def shutdown(self, timeout_ms: int) -> bool:
        """End the helper (bounded): its input closed, killed if it is still there after
        ``timeout_ms`` (at most :data:`HELPER_STOP_MS`; the clip in hand is given up)."""
        self._closed = True
        self._timeout.stop()
        self._idle.stop()
        self._key = None
        if not self.running():
            return True
        self._process.closeWriteChannel()
        if not self._process.waitForFinished(max(0, min(timeout_ms, HELPER_STOP_MS))):
            self._process.kill()
            return bool(self._process.waitForFinished(1000))
        return True


class Thumbnails(QObject):
    """Posters by key (the library's tiles, the jobs list's results), ``box``-sized, made
    off the main thread and kept on disk; ``ready(key)`` when one becomes available."""

    ready = Signal(str)
    wanted = Signal()          # stale requests were dropped: repaint to renew the visible ones

    def __init__(self, cache_dir: Path, tasks: TaskRunner, *, box: QSize,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache = Path(cache_dir) / "thumbnails"
        self._tasks = tasks
        self._box = QSize(box)
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._memory_bytes = 0
        self.memory_limit = MEMORY_BYTES
        self._failed: set[str] = set()
        self._pending: OrderedDict[str, _Request] = OrderedDict()   # not started yet
        self._reading: dict[str, _Request] = {}                     # disk lookups running
        self._decode_queue: OrderedDict[str, tuple[_Request, str]] = OrderedDict()
        self._decoding: str | None = None
        self._helper: _PosterProcess | None = None
        self._closed = False
        self._pruned = False
        self._hold_until = 0.0
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self.on_pump_timer_timeout)
        self.made = 0          # posters decoded this session (for tests and the benchmark)
        self.from_disk = 0     # posters read back from the disk cache

    # -- asking -----------------------------------------------------------------------------

    @property
    def box(self) -> QSize:
        return QSize(self._box)

    def pixmap(self, key: str, video: Path, fallback: Path | None = None) -> QPixmap | None:
        """The picture for ``key`` if ready; otherwise ask for it and return None."""
        pixmap = self._memory.get(key)
        if pixmap is not None:
            self._memory.move_to_end(key)
            return pixmap
        if key in self._failed or self._closed:
            return None
        now = time.monotonic()
        request = self._pending.get(key) or self._reading.get(key)
        if request is not None:
            request.asked = now
            if key in self._pending:
                self._pending.move_to_end(key)
        elif key in self._decode_queue:
            self._decode_queue[key][0].asked = now
            self._decode_queue.move_to_end(key)
        elif key != self._decoding:
            self._pending[key] = _Request(key, video, fallback, now)
        self._pump_timer.start()
        return None

    def cached(self, key: str) -> QPixmap | None:
        """The picture for ``key`` if it is in memory (asks for nothing)."""
        pixmap = self._memory.get(key)
        if pixmap is not None:
            self._memory.move_to_end(key)
        return pixmap

    def hold_decoding(self, seconds: float) -> None:
        """Start no new decode for ``seconds`` (while scrolling: the frames a decode hands
        over are converted with Python's lock held, which the painting thread needs)."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)

    def has_failed(self, key: str) -> bool:
        return key in self._failed

    def forget(self, key: str) -> None:
        """Drop what is known about ``key`` (its file changed or went away)."""
        pixmap = self._memory.pop(key, None)
        if pixmap is not None:
            self._memory_bytes -= pixmap_bytes(pixmap)
        self._failed.discard(key)

    def memory_bytes(self) -> int:
        """What the posters kept in memory take (at most :attr:`memory_limit`)."""
        return self._memory_bytes

    def prune_disk(self) -> None:
        """Cut the disk cache back to its limits, on a worker (once per start is plenty)."""
        self._tasks.run(prune_disk_cache, self._cache)

    def idle(self) -> bool:
        return not (self._pending or self._reading or self._decode_queue or self._decoding)

    # -- working ----------------------------------------------------------------------------

    @Slot()
    def on_pump_timer_timeout(self) -> None:
        self._pump_timer.setInterval(0)
        self._pump()

    def _pump(self) -> None:
        if self._closed:
            return
        if not self._pruned:   # on the first request, long after the first paint
            self._pruned = True
            self.prune_disk()
        now = time.monotonic()
        dropped = self._drop_stale(now)
        while self._pending and len(self._reading) < DISK_READS_AT_ONCE:
            key, request = self._pending.popitem(last=True)   # newest first
            self._reading[key] = request
            self._tasks.run(_read_cached, self._cache, request.video, self._box,
                            on_done=partial(self._on_read, key),
                            on_failed=partial(self._on_read_failed, key))
        if self._decoding is None and self._decode_queue:
            wait = self._hold_until - now
            if wait > 0:   # the user is scrolling: decode what is on screen once it settles
                self._pump_timer.setInterval(int(wait * 1000) + 1)
                self._pump_timer.start()
            else:
                key, (request, name) = self._decode_queue.popitem(last=True)
                self._start_decode(request, name)
        if dropped:
            self.wanted.emit()

    def _drop_stale(self, now: float) -> bool:
        dropped = False
        for queue in (self._pending, self._decode_queue):
            stale = [key for key, value in queue.items()
                     if now - (value.asked if isinstance(value, _Request) else value[0].asked)
                     > STALE_AFTER]
            for key in stale:
                del queue[key]
                dropped = True
        return dropped

    def _on_read_failed(self, key: str, _error: BaseException) -> None:
        self._on_read(key, (None, None))

    def _on_read(self, key: str, result: object) -> None:
        request = self._reading.pop(key, None)
        if request is None or self._closed:
            return
        name, image = result if isinstance(result, tuple) else (None, None)
        if isinstance(image, QImage) and not image.isNull():
            self.from_disk += 1
            self._remember(key, image)
        elif isinstance(name, str):
            self._decode_queue[key] = (request, name)
        else:
            self._failed.add(key)   # the video is gone; sync will drop the row
        self._pump_timer.start()

    def _start_decode(self, request: _Request, name: str) -> None:
        if self._helper is None:
            self._helper = _PosterProcess(self)
            self._helper.done.connect(self.on_helper_done)
            self._helper.failed.connect(self.on_helper_failed)
        self._decoding = request.key
        self._helper.grab(request.key, request.video, request.fallback, self._cache / name)

    def _decoded(self, key: str) -> None:
        if key == self._decoding:
            self._decoding = None

    @Slot(str, str)
    def on_helper_done(self, key: str, target: str) -> None:
        self._decoded(key)
        if not self._closed:   # the helper wrote it; read it back at the tiles' size
            self._tasks.run(_read_poster, Path(target), self._box,
                            on_done=partial(self._on_made, key),
                            on_failed=partial(self._on_made_failed, key))
            self._pump_timer.start()

    @Slot(str)
    def on_helper_failed(self, key: str) -> None:
        self._decoded(key)
        if not self._closed:
            self._failed.add(key)
            self.ready.emit(key)
            self._pump_timer.start()

    def _on_made(self, key: str, image: object) -> None:
        if self._closed:
            return
        if isinstance(image, QImage) and not image.isNull():
            self.made += 1
            self._remember(key, image)
        else:
            self.on_helper_failed(key)

    def _on_made_failed(self, key: str, _error: BaseException) -> None:
        self._on_made(key, None)

    def _remember(self, key: str, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        old = self._memory.pop(key, None)
        if old is not None:
            self._memory_bytes -= pixmap_bytes(old)
        self._memory[key] = pixmap
        self._memory_bytes += pixmap_bytes(pixmap)
        while self._memory_bytes > self.memory_limit and len(self._memory) > 1:
            _key, evicted = self._memory.popitem(last=False)   # least recently painted
            self._memory_bytes -= pixmap_bytes(evicted)
        self.ready.emit(key)

    # -- stopping ---------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop decoding and end the poster thread (bounded). True when it ended."""
        self._closed = True
        self._pump_timer.stop()
        self._pending.clear()
        self._decode_queue.clear()
        self._reading.clear()
        helper, self._helper = self._helper, None
        return helper.shutdown(timeout_ms) if helper is not None else True
