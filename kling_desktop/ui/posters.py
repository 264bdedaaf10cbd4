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
2. on a miss, the first frame grabbed by a :class:`PosterGrabber` living in a
   worker ``QThread`` (the main thread never converts frames), or the
   kept character picture when the clip cannot be decoded.

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
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from kling_desktop.ui.images import decode_picture
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:   # handed out by name on first use (see __getattr__)
    from kling_desktop.ui.poster_grabber import POSTER_TIMEOUT_MS as POSTER_TIMEOUT_MS
    from kling_desktop.ui.poster_grabber import PosterGrabber as PosterGrabber

log = logging.getLogger(__name__)

THUMB_MAX = 360            # longest side of a cached poster, in pixels
DECODE_TIMEOUT_MS = 6000   # the tiles give up on a clip's first frame after this long
STALE_AFTER = 1.0          # seconds: a request no paint repeated is dropped
DISK_READS_AT_ONCE = 3

# The posters' limits, all here:
MEMORY_BYTES = 64 * 1024 * 1024      # pixmaps kept in memory, by their pixels' bytes
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


def prune_disk_cache(folder: Path, *, max_bytes: int = DISK_BYTES,
                     max_age: float = DISK_MAX_AGE, now: float | None = None) -> int:
    """Remove the posters in ``folder`` (its own ``*.jpg`` files, nothing else) older than
    ``max_age`` seconds, then the oldest until the rest fit in ``max_bytes``. Age is the
    last use (a read touches the file). Runs on a worker; returns how many were removed."""
    now = time.time() if now is None else now
    entries: list[tuple[float, int, Path]] = []
    try:
        with os.scandir(folder) as found:
            for entry in found:
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


def _fit(image: QImage, box: QSize) -> QImage:
    if image.width() <= box.width() and image.height() <= box.height():
        return image
    return image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def _save_jpeg(image: QImage, target: Path) -> None:
    """Write the poster atomically (another window may be reading the cache)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if image.save(str(tmp), "JPEG", quality=85):  # type: ignore[call-overload]
        os.replace(tmp, target)
    else:
        with contextlib.suppress(OSError):
            tmp.unlink()


@dataclass
class _Request:
    key: str
    video: Path
    fallback: Path | None
    asked: float


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


class _PosterWorker(QObject):
    """Lives in the poster thread: one :class:`PosterGrabber`, one clip at a time; falls
    back to the kept picture, writes the poster to the disk cache."""

    done = Signal(str, QImage)     # key, poster (scaled to THUMB_MAX, also written to disk)
    failed = Signal(str)           # key

    def __init__(self) -> None:
        super().__init__()
        self._grabber: PosterGrabber | None = None
        self._job: tuple[str, Path, Path | None, Path] | None = None
        self.box = QSize(THUMB_MAX, THUMB_MAX)

    def _ensure(self) -> PosterGrabber:
        if self._grabber is None:   # made here, in the poster thread
            from kling_desktop.ui.poster_grabber import PosterGrabber

            self._grabber = PosterGrabber(self, timeout_ms=DECODE_TIMEOUT_MS)
            self._grabber.grabbed.connect(self.on_grabber_grabbed)
            self._grabber.failed.connect(self.on_grabber_failed)
        return self._grabber

    @Slot(str, str, str, str)
    def grab(self, key: str, video: str, fallback: str, target: str) -> None:
        grabber = self._ensure()
        self._job = (key, Path(video), Path(fallback) if fallback else None, Path(target))
        if not Path(video).is_file():   # gone since it was asked for
            self._finish(None)
            return
        grabber.grab(video)

    def _finish(self, image: QImage | None) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        key, _video, fallback, target = job
        if (image is None or image.isNull()) and fallback is not None and fallback.is_file():
            image = decode_picture(fallback, QSize(THUMB_MAX, THUMB_MAX)).image
        if image is None or image.isNull():
            self.failed.emit(key)
            return
        image = _fit(image, QSize(THUMB_MAX, THUMB_MAX))
        if image.format() != QImage.Format.Format_RGB32:
            image = image.convertToFormat(QImage.Format.Format_RGB32)
        try:
            _save_jpeg(image, target)
        except OSError as exc:   # a full or read-only cache only costs the next start time
            log.warning("thumbnail cache: %s", exc)
        self.done.emit(key, _fit(image, self.box))

    @Slot(str, QImage, int)
    def on_grabber_grabbed(self, _source: str, image: QImage, _duration: int) -> None:
        if self._job is not None:
            self._finish(image)

    @Slot(str, str)
    def on_grabber_failed(self, _source: str, _reason: str) -> None:
        if self._job is not None:
            self._finish(None)

    @Slot()
    def close(self) -> None:
        self._job = None
        if self._grabber is not None:
            self._grabber.cancel()


class Thumbnails(QObject):
    """Posters by key (the library's tiles, the jobs list's results), ``box``-sized, made
    off the main thread and kept on disk; ``ready(key)`` when one becomes available."""

    ready = Signal(str)
    wanted = Signal()          # stale requests were dropped: repaint to renew the visible ones
    _grab = Signal(str, str, str, str)
    _close = Signal()

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
        self._thread: QThread | None = None
        self._worker: _PosterWorker | None = None
        self._closed = False
        self._pruned = False
        self._worker_idle: Callable[[], None] | None = None
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
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName("posters")
            self._worker = _PosterWorker()
            self._worker.box = QSize(self._box)
            self._worker.moveToThread(self._thread)
            self._thread.finished.connect(self._worker.deleteLater)
            self._grab.connect(self._worker.grab)
            self._close.connect(self._worker.close)
            self._worker.done.connect(self.on_worker_done)
            self._worker.failed.connect(self.on_worker_failed)
            self._thread.start()
        self._decoding = request.key
        fallback = str(request.fallback) if request.fallback is not None else ""
        self._grab.emit(request.key, str(request.video), fallback, str(self._cache / name))

    def _decoded(self, key: str) -> None:
        if key == self._decoding:
            self._decoding = None
        if self._worker_idle is not None:
            self._worker_idle()

    @Slot(str, QImage)
    def on_worker_done(self, key: str, image: QImage) -> None:
        self._decoded(key)
        if not self._closed:
            self.made += 1
            self._remember(key, image)
            self._pump_timer.start()

    @Slot(str)
    def on_worker_failed(self, key: str) -> None:
        self._decoded(key)
        if not self._closed:
            self._failed.add(key)
            self.ready.emit(key)
            self._pump_timer.start()

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
        thread = self._thread
        if thread is None:
            return True
        if self._decoding is not None:
            # Interrupting FFmpeg while it opens a file makes it complain; the clip in
            # hand is a fraction of a second from done (or from its own time-out).
            loop = QEventLoop()
            self._worker_idle = loop.quit
            QTimer.singleShot(min(max(0, timeout_ms), DECODE_TIMEOUT_MS), loop.quit)
            loop.exec()
            self._worker_idle = None
        self._thread = None
        self._close.emit()
        thread.quit()
        ended = thread.wait(max(0, timeout_ms))
        if not ended:
            log.warning("the thumbnail thread did not stop within %d ms", timeout_ms)
        return bool(ended)
