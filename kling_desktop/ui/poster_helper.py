"""The poster helper: a child process that grabs clips' first frames for the window.

The library's tiles and the jobs list's cards need a poster per clip; decoding one
loads FFmpeg (through Qt Multimedia) and its frame pools. Doing that in the window's
process cost it ~100 MB that stayed after the last poster, and put every clip in the
library folder (which may be hostile) one decoder crash or hang away from the window.
Here it runs in its own process: a clip that crashes or hangs the decoder costs its
poster (the window kills the helper after ``DECODE_TIMEOUT_MS`` and starts another),
and the memory goes back when the helper ends, which it does once the window has
asked for nothing for a while (the window closes the helper's input).

Protocol, one JSON object per line (UTF-8). The window writes
``{"id": n, "video": path, "fallback": path-or-"", "target": path, "max": pixels}``;
the helper writes the poster (no larger than ``max`` on its longest side, JPEG)
to ``target`` atomically and answers ``{"id": n, "ok": true|false}``. Nothing else
goes to standard output; Qt's and FFmpeg's messages go to standard error. The helper
ends at the end of its input, after the clip in hand.

Started as ``kling-desktop --poster-helper`` (the frozen app) or
``python -m kling_desktop --poster-helper`` (from source): see :func:`helper_command`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QObject,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage

from kling_desktop.files import write_atomic

HELPER_FLAG = "--poster-helper"
MAX_REQUEST_CHARS = 16 * 1024     # a request line longer than this is not the window's


def helper_command() -> tuple[str, list[str]]:
    """The program and arguments that start the helper from this installation.

    On Windows the frozen window (a windowed .exe, whose standard handles Python may
    leave unset) starts its console twin, ``kling-desktop-cli.exe``: the program the
    frozen self-test runs, and QProcess starts it without a console window when its
    parent has none.
    """
    if getattr(sys, "frozen", False):
        program = Path(sys.executable)
        if sys.platform == "win32" and not program.stem.endswith("-cli"):
            twin = program.with_name(f"{program.stem}-cli{program.suffix}")
            if twin.is_file():
                return str(twin), [HELPER_FLAG]
        return str(program), [HELPER_FLAG]
    return sys.executable, ["-m", "kling_desktop", HELPER_FLAG]


def fit(image: QImage, box: QSize) -> QImage:
    """``image`` scaled down (never up) to fit in ``box``, keeping its shape."""
    if image.width() <= box.width() and image.height() <= box.height():
        return image
    return image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def save_jpeg(image: QImage, target: Path) -> bool:
    """Write the poster atomically (a window may be reading the cache); False if not.
    Not fsynced: a poster a crash loses is made again from its clip."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "JPEG", quality=85):  # type: ignore[call-overload]
        return False
    try:
        write_atomic(target, bytes(data.data()), durable=False)
    except OSError:
        return False
    return True


def poster_image(frame: QImage | None, fallback: Path | None, longest: int) -> QImage | None:
    """The poster from a clip's first frame, else from the fallback picture (the kept
    character picture); ``None`` when neither gives one. RGB32, at most ``longest``."""
    box = QSize(longest, longest)
    image = frame
    if (image is None or image.isNull()) and fallback is not None and fallback.is_file():
        from kling_desktop.ui.images import decode_picture

        image = decode_picture(fallback, box).image
    if image is None or image.isNull():
        return None
    image = fit(image, box)
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    return image


@dataclass(frozen=True)
class _Job:
    number: int
    video: Path
    fallback: Path | None
    target: Path
    longest: int


def request_line(number: int, video: Path, fallback: Path | None, target: Path,
                 longest: int) -> str:
    """The window's request for ``video``'s poster in ``target`` (one line)."""
    return json.dumps({"id": number, "video": str(video),
                       "fallback": str(fallback) if fallback is not None else "",
                       "target": str(target), "max": longest}) + "\n"


def answer_line(number: int, ok: bool) -> str:
    """The helper's answer to request ``number`` (one line)."""
    return json.dumps({"id": number, "ok": ok}) + "\n"


def parse_answer(line: str | bytes) -> tuple[int, bool] | None:
    """``(id, ok)`` of an answer line, or ``None`` when it is not one."""
    try:
        data = json.loads(line)
        number, ok = data["id"], data["ok"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(number, int) or not isinstance(ok, bool):
        return None
    return number, ok


def parse_request(line: str) -> _Job | None:
    """A request line as a job, or ``None`` when it is not one (ignored)."""
    if len(line) > MAX_REQUEST_CHARS:
        return None
    try:
        data = json.loads(line)
        number, video, target = data["id"], data["video"], data["target"]
        fallback, longest = data.get("fallback") or "", data.get("max", 360)
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(number, int) and isinstance(video, str) and isinstance(target, str)
            and isinstance(fallback, str) and isinstance(longest, int)
            and 16 <= longest <= 4096 and video and target):
        return None
    return _Job(number, Path(video), Path(fallback) if fallback else None, Path(target),
                longest)


class PosterService(QObject):
    """The helper's main-thread side: one clip at a time, in the order asked."""

    arrived = Signal(str)    # a request line (from the reader thread)
    ended = Signal()         # the end of the input (from the reader thread)

    def __init__(self, out: TextIO, *, timeout_ms: int) -> None:
        super().__init__()
        from kling_desktop.ui.poster_grabber import PosterGrabber

        self._out = out
        self._queue: deque[_Job] = deque()
        self._job: _Job | None = None
        self._ended = False
        self._grabber = PosterGrabber(self, timeout_ms=timeout_ms)
        self._grabber.grabbed.connect(self.on_grabber_grabbed)
        self._grabber.failed.connect(self.on_grabber_failed)
        self.arrived.connect(self.on_arrived)
        self.ended.connect(self.on_ended)

    @Slot(str)
    def on_arrived(self, line: str) -> None:
        job = parse_request(line)
        if job is None:
            print("poster helper: a request it does not understand was ignored",
                  file=sys.stderr, flush=True)
            return
        self._queue.append(job)
        self._next()

    @Slot()
    def on_ended(self) -> None:
        self._ended = True
        self._next()

    def _next(self) -> None:
        if self._job is not None:
            return
        if not self._queue:
            if self._ended:
                QCoreApplication.quit()
            return
        self._job = self._queue.popleft()
        if self._job.video.is_file():
            self._grabber.grab(str(self._job.video))
        else:   # gone since it was asked for: the fallback, if any
            self._finish(None)

    def _finish(self, frame: QImage | None) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        image = poster_image(frame, job.fallback, job.longest)
        ok = image is not None and save_jpeg(image, job.target)
        try:
            self._out.write(answer_line(job.number, ok))
            self._out.flush()
        except (OSError, ValueError):   # the window is gone: nobody to answer
            self._queue.clear()
            self._ended = True
        self._next()

    @Slot(str, QImage, int)
    def on_grabber_grabbed(self, _source: str, image: QImage, _duration: int) -> None:
        self._finish(image)

    @Slot(str, str)
    def on_grabber_failed(self, _source: str, _reason: str) -> None:
        self._finish(None)


def _read_lines(source: TextIO, service: PosterService) -> None:
    for line in source:
        if line.strip():
            service.arrived.emit(line)
    service.ended.emit()


def run_helper(timeout_ms: int = 6000) -> int:
    """Serve poster requests from standard input until it ends; the process exit code."""
    # No window system: the helper shows nothing (and gets no Dock icon on macOS).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    out = sys.stdout
    if out is None or sys.stdin is None:   # started without pipes: nobody to answer
        return 2
    sys.stdout = sys.stderr    # anything printed by mistake must not break the protocol
    app = QGuiApplication([sys.argv[0] if sys.argv else "kling-desktop"])
    service = PosterService(out, timeout_ms=timeout_ms)
    reader = threading.Thread(target=_read_lines, args=(sys.stdin, service),
                              name="poster-requests", daemon=True)
    reader.start()
    app.exec()
    return 0
