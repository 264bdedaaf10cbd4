"""The simulator's HTTP plumbing: answers, request bodies, throttles, multipart uploads.

Nothing here knows the provider's rules: :class:`Body` reads a request body
incrementally (Content-Length or chunked), :class:`Throttle` paces bytes,
:class:`MultipartSink` streams the ``file`` part of an upload to disk (never
into memory), and :class:`Response` is an answer waiting to be written.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from python_multipart.multipart import parse_options_header

from kling_desktop.simulator.config import default_error_type
from kling_desktop.simulator.media import SNIFF_BYTES, VIDEO_KINDS, sniff

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = [
    "CHUNK",
    "HOSTILE_LIMIT_SECONDS",
    "Body",
    "ClientGone",
    "MultipartSink",
    "Response",
    "Throttle",
    "dumps",
    "error_answer",
    "json_answer",
]

CHUNK = 64 * 1024
HOSTILE_LIMIT_SECONDS = 60.0  # an endless or dribbling answer never lasts longer
MAX_FIELD_BYTES = 64 * 1024


class ClientGone(Exception):
    """The peer went away mid-request, or the simulator is stopping."""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    file: Path | None = None
    offset: int = 0
    length: int = 0
    close: bool = False
    dribble: float | None = None  # seconds between bytes of the body
    endless: bool = False         # no length; streams until the client hangs up

    @property
    def total(self) -> int:
        return len(self.body) if self.file is None else self.length


def dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_answer(status: int, obj: object, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, dumps(obj), headers=list(headers))


def error_answer(
    status: int,
    message: str,
    error_type: str | None = None,
    code: str | None = None,
    *,
    param: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    err: dict[str, Any] = {"message": message, "type": error_type or default_error_type(status)}
    if code is not None:
        err["code"] = code
    if param is not None:
        err["param"] = param
    return json_answer(status, {"error": err}, headers)


class Throttle:
    """Sleeps so that ``spent`` bytes flow at no more than ``rate`` bytes per second.

    ``spent(n)`` returns once ``n`` more bytes are allowed, counted from creation.
    """

    def __init__(self, rate: float | None, stopping: threading.Event) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.stopping = stopping
        self.start = time.monotonic()
        self.done = 0

    def chunk_size(self) -> int:
        if self.rate is None:
            return CHUNK
        return max(1024, min(CHUNK, int(self.rate / 10)))

    def spent(self, n: int) -> None:
        self.done += n
        if self.rate is None:
            if self.stopping.is_set():
                raise ClientGone
            return
        delay = self.start + self.done / self.rate - time.monotonic()
        if delay > 0 and self.stopping.wait(delay):
            raise ClientGone


class Body:
    """The request body, read incrementally (Content-Length or chunked)."""

    def __init__(
        self, rfile: io.BufferedIOBase, headers: Message, throttle: Throttle
    ) -> None:
        self._rfile = rfile
        self._throttle = throttle
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.declared: int | None = None
        self._left = 0
        self._chunk_left = 0
        if not self.chunked:
            raw = (headers.get("Content-Length") or "0").strip()
            if not raw.isdigit():
                raise ValueError("invalid Content-Length")
            self.declared = int(raw)
            self._left = self.declared
        self.finished = not self.chunked and self._left == 0

    def _read_exact(self, n: int) -> bytes:
        data = self._rfile.read(n)
        if len(data) < n:
            raise ClientGone
        return data

    def _read_line(self) -> bytes:
        line = self._rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise ClientGone
        return line

    def read(self, n: int = CHUNK, *, throttled: bool = True) -> bytes:
        if self.finished:
            return b""
        if throttled:
            n = min(n, self._throttle.chunk_size())
        if not self.chunked:
            data = self._read_exact(min(n, self._left))
            self._left -= len(data)
            self.finished = self._left == 0
        else:
            if self._chunk_left == 0:
                size_text = self._read_line().split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise ClientGone from None
                if size == 0:
                    while self._read_line() not in (b"\r\n", b"\n"):
                        pass
                    self.finished = True
                    return b""
                self._chunk_left = size
            data = self._read_exact(min(n, self._chunk_left))
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._read_line()
        if throttled:
            self._throttle.spent(len(data))
        return data

    def read_all(self, limit: int) -> bytes | None:
        """The whole body, or None when it is longer than ``limit``."""
        parts: list[bytes] = []
        total = 0
        while chunk := self.read():
            total += len(chunk)
            if total > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)

    def drain(self) -> None:
        while self.read(CHUNK, throttled=False):
            pass


class MultipartSink:
    """Callbacks for python-multipart: the ``file`` part goes to disk, fields to memory."""

    def __init__(self, partial: Path, accepts_video: bool) -> None:
        self.partial = partial
        self.accepts_video = accepts_video
        self.fields: dict[str, bytearray] = {}
        self.part_filename: str | None = None
        self.has_file = False
        self.size = 0
        self.kind: str | None = None
        self.refused = False
        self.ended = False
        self._head = bytearray()
        self._sniffed = False
        self._file: BinaryIO | None = None
        self._field: bytearray | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._field = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == "file" and not self.has_file:
            self.has_file = True
            raw_name = options.get(b"filename")
            if raw_name is not None:
                self.part_filename = raw_name.decode("utf-8", "replace")
            self._file = self.partial.open("wb")
        else:
            self._field = self.fields.setdefault(name, bytearray())

    def _sniff(self) -> None:
        self._sniffed = True
        self.kind = sniff(bytes(self._head))
        if self.kind in VIDEO_KINDS and not self.accepts_video:
            self.refused = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            piece = data[start:end]
            if not self._sniffed:
                self._head += piece[: SNIFF_BYTES - len(self._head)]
                if len(self._head) >= SNIFF_BYTES:
                    self._sniff()
            if not self.refused:
                self._file.write(piece)
            self.size += end - start
        elif self._field is not None and len(self._field) < MAX_FIELD_BYTES:
            self._field += data[start:end]

    def _part_end(self) -> None:
        if self._file is not None:
            if not self._sniffed:
                self._sniff()
            self._file.close()
            self._file = None
        self._field = None

    def _end(self) -> None:
        self.ended = True

    def field_text(self, name: str) -> str:
        return bytes(self.fields.get(name, b"")).decode("utf-8", "replace").strip()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        self.close()
        self.partial.unlink(missing_ok=True)
