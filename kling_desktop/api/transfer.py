"""Moving bytes: streamed uploads, capped decoded reads, resumable result downloads.

- time: :class:`Deadline` bounds one API request; uploads and downloads are
  bounded by progress instead (``stall_timeout`` per read or write);
- size: bodies are counted in DECODED bytes (:class:`Decoder` inflates a gzip
  bomb step by step, so it stops at the cap). Results are asked for with
  ``Accept-Encoding: identity``; an encoded one is decoded under ``max_bytes``;
- links: redirects are followed by hand (at most 5 hops), each hop checked
  (https, or loopback only for a loopback provider), and the ``Authorization``
  header goes only to the provider's own origin, never to a hop after another.

Downloads resume: the partial file lives at ``.<name>.part`` next to ``dest`` (a
stable name, so a later call, even from another process, continues it with
``Range: bytes=N-``). Only a 206 whose ``Content-Range`` starts at N and runs to
the end is appended; anything else restarts from byte 0. A cut connection or a
cancel keeps the partial; a result that is too large, an insecure link or an
answer that is not a video (HTML, empty) removes it. A complete file is flushed,
fsynced and renamed to ``dest``, then the folder is fsynced. ``dest`` must be
unique to its task: the partial is trusted to be the start of the same video.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx

from kling_desktop.api.errors import (
    CancelledError,
    IncompleteDownloadError,
    InsecureBaseURLError,
    MalformedResponseError,
    NetworkError,
    ResultTooLargeError,
)
from kling_desktop.api.links import join_url, origin
from kling_desktop.api.retry import AttemptFailed, transport_failure
from kling_desktop.files import partial_path
from kling_desktop.i18n import _, ngettext
from kling_desktop.sniff import looks_like_html

if TYPE_CHECKING:
    from kling_desktop.api.connection import ProviderConnection

__all__ = [
    "REDIRECT_STATUSES",
    "Deadline",
    "Decoder",
    "ProgressCallback",
    "ProgressReader",
    "download_once",
    "partial_path",
    "raise_if_cancelled",
    "read_limited",
    "unlink_quietly",
]

ProgressCallback = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``; ``total_bytes`` is 0 when unknown."""

_DECODE_STEP = 256 * 1024
#: How many pieces (up to 1 MiB each) a download may read ahead of its file writes.
WRITE_BEHIND_DEPTH = 8
WRITE_BEHIND_THREAD = "result-writer"
_MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


class Deadline:
    """The end of one request's time, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def check(self) -> None:
        """Raise a retryable, "sent" failure once the time is up."""
        if time.monotonic() >= self.end:
            raise AttemptFailed(
                NetworkError(_("The video service did not answer in time.")), sent=True
            )

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        """``base`` with every phase capped to what is left (so no read outlives it)."""
        left = max(0.001, self.remaining())

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect), read=cap(base.read), write=cap(base.write),
            pool=cap(base.pool),
        )


class Decoder:
    """Content-Encoding undone step by step, so a small bomb cannot inflate at once.

    ``identity`` (or none), ``gzip`` and ``deflate`` are understood; anything else
    is :class:`MalformedResponseError`. Each piece it yields is at most
    ``_DECODE_STEP`` bytes, so a caller counting pieces stops near its cap.
    """

    def __init__(self, header: str | None) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise MalformedResponseError(
                _("The provider's answer uses an encoding this app does not read.")
            )
        self.encoded = bool(codings)
        self._deflate = codings == ["deflate"]
        self._started = False
        self._inflater: Any = None
        if codings:
            self._inflater = zlib.decompressobj(
                zlib.MAX_WBITS if self._deflate else 16 + zlib.MAX_WBITS
            )

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            if data:
                yield data
            return
        pending = data
        while pending:
            try:
                piece = self._inflater.decompress(pending, _DECODE_STEP)
            except zlib.error:
                if self._deflate and not self._started:  # raw deflate, without zlib header
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise MalformedResponseError(
                    _("The provider's answer could not be decoded.")
                ) from None
            self._started = True
            pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                pending = b""  # anything after the end of the stream is ignored
            if piece:
                yield piece


def raise_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledError()


def read_limited(
    response: httpx.Response, limit: int, deadline: Deadline, *, strict: bool = False
) -> bytes:
    """Up to ``limit`` decoded bytes of a body, read before ``deadline``.

    ``strict`` (a 2xx answer we need whole): a broken connection or a missed
    deadline is an :class:`AttemptFailed` (sent), an unreadable encoding a
    :class:`MalformedResponseError`. Otherwise (an error body): whatever arrived.
    """
    body = bytearray()
    try:
        decoder = Decoder(response.headers.get("Content-Encoding"))
        for raw in response.iter_raw():
            deadline.check()
            for piece in decoder.feed(raw):
                body += piece
                if len(body) >= limit:
                    return bytes(body[:limit])
    except httpx.TransportError as exc:
        if strict:
            raise transport_failure(exc) from exc
    except (AttemptFailed, MalformedResponseError):
        if strict:
            raise
    return bytes(body)


# ------------------------------------------------------------ results


def download_once(
    conn: ProviderConnection,
    url: httpx.URL,
    dest: Path,
    partial: Path,
    max_bytes: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Path:
    """One try at the result: continue (or restart) the partial, then rename it to ``dest``."""
    offset = _file_size(partial)
    if offset > max_bytes:
        partial.unlink()
        offset = 0
    opened = _open_result(conn, url, offset)
    if opened is None:  # the partial cannot be continued: start again from byte 0
        partial.unlink(missing_ok=True)
        offset = 0
        opened = _open_result(conn, url, 0)
        if opened is None:
            raise MalformedResponseError(
                _("The provider answered with a piece of the video instead of all of it.")
            )
    response, total = opened
    if response.status_code != 206:  # the whole video: the partial is overwritten
        offset = 0
    with contextlib.closing(response):
        if "html" in response.headers.get("Content-Type", "").lower():
            raise _not_a_video()
        if total is not None and total > max_bytes:
            raise _too_large(max_bytes)
        with partial.open("ab" if offset else "wb") as handle:
            done = _stream_result(
                response, handle, offset, total, max_bytes, progress, cancel
            )
            handle.flush()
            os.fsync(handle.fileno())
    if done == 0:
        raise MalformedResponseError(
            _("The provider sent an empty answer instead of the video."),
            fix=_("Try again later; if it keeps happening, contact the provider."),
        )
    if total is not None and done != total:
        raise AttemptFailed(IncompleteDownloadError(), sent=True)
    os.replace(partial, dest)
    _fsync_folder(dest.parent)
    return dest


def _open_result(
    conn: ProviderConnection, url: httpx.URL, offset: int
) -> tuple[httpx.Response, int | None] | None:
    """The open 2xx answer for a result and the video's full size when known.

    Follows redirects by hand (every hop checked, the key only on the provider's
    origin). None: the server will not continue at ``offset`` (416, or a 206 that
    does not start there).
    """
    on_origin = origin(url) == conn.origin
    for hop in range(_MAX_REDIRECTS + 1):
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        if on_origin:
            headers.update(conn.auth_header())
        request = conn.http.build_request(
            "GET", url, headers=headers, timeout=conn.stall_timeouts()
        )
        try:
            response = conn.send(request, redirects=True)
        except AttemptFailed as failed:
            if offset and failed.error.status == 416:
                return None
            raise
        if response.status_code not in REDIRECT_STATUSES:
            return _accept_result(response, offset)
        location = response.headers.get("Location", "")
        response.close()
        if hop == _MAX_REDIRECTS:
            break
        following = join_url(url, location)
        if following is None or not conn.link_allowed(following):
            raise InsecureBaseURLError(
                _("The video link redirected to an insecure (http://) address."),
                fix=_("Contact the provider; the app only downloads over https."),
            )
        on_origin = on_origin and origin(following) == conn.origin
        url = following
    raise MalformedResponseError(_("The provider's link redirected too many times."))


def _accept_result(
    response: httpx.Response, offset: int
) -> tuple[httpx.Response, int | None] | None:
    """``(response, full size or None)`` when its body continues the partial at ``offset``.

    A 200 is the whole video (the partial is overwritten), unless it is encoded
    while we hold a partial. A 206 must be unencoded, start at ``offset`` and run
    to the end. None (response closed): start again from byte 0.
    """
    length = _content_length(response)
    encoded = Decoder(response.headers.get("Content-Encoding")).encoded
    if response.status_code != 206:
        if not encoded:
            return response, length
        if offset == 0:
            return response, None
    else:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is not None and not encoded:
            first, last, size = int(match.group(1)), int(match.group(2)), match.group(3)
            total = None if size == "*" else int(size)
            if (
                first == offset
                and last >= first
                and (total is None or last == total - 1)
                and (length is None or length == last - first + 1)
            ):
                return response, last + 1
    response.close()
    return None


def _stream_result(
    response: httpx.Response,
    handle: io.BufferedWriter,
    done: int,
    total: int | None,
    max_bytes: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> int:
    """Append the (decoded) body to ``handle``; returns the bytes now in the file.

    A broken or stalled connection is an :class:`IncompleteDownloadError`
    (retryable: the partial is kept and resumed).
    """
    decoder = Decoder(response.headers.get("Content-Encoding"))
    sniff = done == 0
    try:
        with WriteBehind(handle) as out:
            for raw in response.iter_raw():
                raise_if_cancelled(cancel)
                for piece in decoder.feed(raw):
                    if sniff:
                        if looks_like_html(piece):
                            raise _not_a_video()
                        sniff = False
                    done += len(piece)
                    if done > max_bytes:
                        raise _too_large(max_bytes)
                    out.write(piece)
                if progress is not None:
                    progress(done, total or 0)
    except httpx.TransportError as exc:
        raise AttemptFailed(IncompleteDownloadError(), sent=True) from exc
    return done


class WriteBehind:
    """Writes pieces to ``handle`` on a thread of its own while the next ones are read.

    Reading the socket (and h11's copies) and the kernel's copy into the file then use
    both cores instead of taking turns: on a 1 GiB loopback download this took the
    client from ~0.75x curl's throughput to ~0.9x (benchmarks/bench_download.py).
    At most ``depth`` pieces wait (1 MiB each at most: the socket's read size), so
    memory stays bounded. A failed write (a full disk) is raised by the next
    :meth:`write` or on leaving the block; leaving the block waits until every piece
    handed over is written (or dropped after a failure), so the caller's flush and
    fsync come after the last byte. An exception already leaving the block wins
    over a write failure.
    """

    def __init__(self, handle: BinaryIO, depth: int = WRITE_BEHIND_DEPTH) -> None:
        self._handle = handle
        self._pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name=WRITE_BEHIND_THREAD, daemon=True)

    def __enter__(self) -> WriteBehind:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        self._pieces.put(None)
        self._thread.join()
        if kind is None and self._error is not None:
            raise self._error

    def write(self, piece: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._pieces.put(piece)

    def _run(self) -> None:
        while (piece := self._pieces.get()) is not None:
            if self._error is None:
                try:
                    self._handle.write(piece)
                except Exception as exc:  # raised to the reader; later pieces are dropped
                    self._error = exc


def _not_a_video() -> MalformedResponseError:
    return MalformedResponseError(
        _("The provider sent a web page instead of the video."),
        fix=_("Try again later; if it keeps happening, contact the provider."),
    )


def _too_large(max_bytes: int) -> ResultTooLargeError:
    return ResultTooLargeError(
        _("The provider sent more than {size} for one video: "
          "this is not a video result.").format(size=_format_size(max_bytes))
    )


def _format_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return ngettext("{n} byte", "{n} bytes", size).format(n=size)


def _content_length(response: httpx.Response) -> int | None:
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX only; Windows cannot open folders)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):  # the file is complete; this is only durability
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ProgressReader(io.BufferedReader):
    """A file opened for upload that reports progress and stops when cancelled.

    httpx reads multipart file objects in 64 KiB chunks (``FileField.render_data``)
    and learns the size from ``fileno()``, so the upload is streamed with a
    known Content-Length and the file is never held in memory.
    """

    def __init__(
        self, path: Path, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._total = os.fstat(self.fileno()).st_size
        self._progress = progress
        self._cancel = cancel

    def read(self, size: int | None = -1, /) -> bytes:
        raise_if_cancelled(self._cancel)
        chunk = super().read(size)
        if self._progress is not None and chunk:
            self._progress(self.tell(), self._total)
        return chunk
