"""A local imitation of the provider (``shared/API.md``) on 127.0.0.1.

A real HTTP/1.1 server (stdlib ``ThreadingHTTPServer``, one daemon thread per
connection, keep-alive) that uploads, creates and advances tasks, serves results
as real MP4 files, and misbehaves on request (``inject``) so the client, the
engine and the GUI can be tested over loopback, and the app can run a demo.

The hostile faults (see :mod:`kling_desktop.simulator.config`) stay bounded: an
endless or dribbling answer stops as soon as the client hangs up, when the
simulator stops, and after ``HOSTILE_LIMIT_SECONDS`` in any case.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import io
import json
import logging
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from kling_desktop import paths
from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation, TaskStatus
from kling_desktop.simulator.config import (
    FAIL_FIELDS,
    RESULT_SHAPES,
    ROUTES,
    Fault,
    RequestRecord,
    SimulatorConfig,
    default_error_type,
)
from kling_desktop.simulator.media import (
    SNIFF_BYTES,
    VIDEO_KINDS,
    VideoFacts,
    sniff,
    video_facts,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

log = logging.getLogger("kling_desktop.simulator")

CHUNK = 64 * 1024
HOSTILE_LIMIT_SECONDS = 60.0  # an endless or dribbling answer never lasts longer
_MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
MAX_JSON_BODY = 64 * 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
API_ROUTES = frozenset({"upload", "create", "task"})
FAULT_ROUTES = frozenset({"upload", "create", "task", "download", "file"})
_CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_FILE_PATH = re.compile(r"/files/([A-Za-z0-9-]+)/([^/]+)")
_RESULT_PATH = re.compile(r"/results/([A-Za-z0-9-]+)\.mp4")
_TASK_PATH = re.compile(r"/v1/tasks/([^/]+)")


class _ClientGone(Exception):
    """The peer went away mid-request, or the simulator is stopping."""


# --------------------------------------------------------------------------- state


@dataclass
class _Upload:
    id: str
    filename: str
    stored_name: str
    path: Path
    size: int
    created: int
    kind: str | None


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str
    field: str
    error_type: str = "task_error"


@dataclass
class _Task:
    id: str
    created: int
    model: str
    mode: str
    prompt: str
    orientation: str
    keep_original_sound: str
    image_url: str
    video_url: str
    source: Path | None  # the uploaded reference clip; None: paths.sample_motion()
    facts: VideoFacts
    failure: _Failure | None
    request_id: str
    polls: int = 0
    status: TaskStatus = TaskStatus.PENDING
    progress: int = 0
    updated: int = 0
    completed_at: int | None = None


@dataclass
class _Response:
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


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(status: int, obj: object, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    return _Response(status, _dumps(obj), headers=list(headers))


def _error(
    status: int,
    message: str,
    error_type: str | None = None,
    code: str | None = None,
    *,
    param: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> _Response:
    err: dict[str, Any] = {"message": message, "type": error_type or default_error_type(status)}
    if code is not None:
        err["code"] = code
    if param is not None:
        err["param"] = param
    return _json(status, {"error": err}, headers)


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _fault_response(fault: Fault) -> _Response:
    headers: list[tuple[str, str]] = list(fault.headers)
    if fault.retry_after is not None:
        headers.append(("Retry-After", _format_seconds(fault.retry_after)))
    if fault.never_ends:
        return _Response(fault.status, content_type=fault.content_type or "video/mp4",
                         headers=headers, endless=True, close=True)
    if fault.body is not None:
        return _Response(
            fault.status,
            fault.body,
            content_type=fault.content_type or "application/json",
            headers=headers,
            dribble=fault.dribble_seconds,
        )
    response = _error(
        fault.status,
        fault.message or f"Simulated error {fault.status}",
        fault.error_type,
        fault.code,
        headers=headers,
    )
    if fault.content_type:
        response.content_type = fault.content_type
    response.dribble = fault.dribble_seconds
    return response


def _passed_through(real: _Response, fault: Fault) -> _Response:
    """The real answer with the fault's patches, extra headers and pace applied."""
    if (fault.patch or fault.drop) and real.file is None and real.content_type.startswith(
        "application/json"
    ):
        with contextlib.suppress(ValueError):
            data = json.loads(real.body)
            if isinstance(data, dict):
                for key in fault.drop:
                    data.pop(key, None)
                data.update(dict(fault.patch))
                real.body = _dumps(data)
    real.headers = [*real.headers, *fault.headers]
    real.dribble = fault.dribble_seconds
    return real


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return safe[-120:] or "upload"


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class _Throttle:
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
                raise _ClientGone
            return
        delay = self.start + self.done / self.rate - time.monotonic()
        if delay > 0 and self.stopping.wait(delay):
            raise _ClientGone


class _Body:
    """The request body, read incrementally (Content-Length or chunked)."""

    def __init__(
        self, rfile: io.BufferedIOBase, headers: Message, throttle: _Throttle
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
            raise _ClientGone
        return data

    def _read_line(self) -> bytes:
        line = self._rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise _ClientGone
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
                    raise _ClientGone from None
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


class _MultipartSink:
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


# --------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="kling-simulator-conn",
            daemon=True,
        )
        self.simulator._track(thread, add=True)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.simulator._track(threading.current_thread(), add=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KlingSimulator/1.0"
    sys_version = ""
    timeout = 60.0
    disable_nagle_algorithm = True

    _body: _Body

    @property
    def sim(self) -> Simulator:
        server = self.server
        assert isinstance(server, _Server)
        return server.simulator

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.sim._connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sim._connection(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        arrived = time.monotonic()
        sim = self.sim
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        route, action = self._route(method, path)
        status = 499
        recorded = False

        def record(final: int) -> None:
            # Recorded before the answer is written: once a client holds an answer,
            # ``count`` already includes it.
            nonlocal recorded
            if not recorded:
                recorded = True
                sim._record(RequestRecord(method, path, route, final, arrived, query=query,
                                          authorized="Authorization" in self.headers))

        try:
            try:
                self._body = _Body(
                    self.rfile,
                    self.headers,
                    _Throttle(sim.config.upload_bytes_per_second, sim._stopping),
                )
            except ValueError:
                response = _error(400, "Invalid Content-Length header", code="bad_request")
                response.close = True
                status = response.status
                record(status)
                self._write(response, None)
                return
            response, cut_after = self._answer(route, action)
            if response.close:
                self.close_connection = True
            elif not self._body.finished:
                self._body.drain()
            latency = sim.config.latency
            if route in API_ROUTES and latency > 0 and sim._stopping.wait(latency):
                raise _ClientGone
            status = response.status
            record(status)
            self._write(response, cut_after)
        except (_ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("simulator failed answering %s %s", method, path)
            self.close_connection = True
            if not recorded:
                status = 500
                record(status)
                with contextlib.suppress(OSError):
                    self._write(_error(500, "Simulator bug", code="internal_error"), None)
        finally:
            record(status)

    def _route(self, method: str, path: str) -> tuple[str, Callable[[], _Response]]:
        get = method in ("GET", "HEAD")
        if path in ("/v1/files/upload/stream", "/v1/files/upload/base64"):
            if method != "POST":
                return "upload", self._not_allowed
            if path.endswith("stream"):
                return "upload", self._upload_stream
            return "upload", self._upload_base64
        if path == "/v1/videos/generations":
            return "create", self._create if method == "POST" else self._not_allowed
        if match := _TASK_PATH.fullmatch(path):
            task_id = unquote(match.group(1))
            return "task", (lambda: self._get_task(task_id)) if get else self._not_allowed
        if match := _FILE_PATH.fullmatch(path):
            file_id, name = match.group(1), unquote(match.group(2))
            return "file", (lambda: self._get_file(file_id, name)) if get else self._not_allowed
        if match := _RESULT_PATH.fullmatch(path):
            task_id = match.group(1)
            return "download", (lambda: self._get_result(task_id)) if get else self._not_allowed
        return "other", lambda: _error(404, f"Unknown path: {path}", "not_found", "not_found")

    def _answer(
        self, route: str, action: Callable[[], _Response]
    ) -> tuple[_Response, int | None]:
        fault = self.sim._take_fault(route) if route in FAULT_ROUTES else None
        if fault is None:
            return action(), None
        log.debug("injecting fault %s on %s", fault.status, route)
        real = action() if fault.accept_anyway or fault.passes_through else None
        if fault.passes_through and real is not None:
            return _passed_through(real, fault), fault.cut_after
        return _fault_response(fault), fault.cut_after

    def _write(self, response: _Response, cut_after: int | None) -> None:
        total = response.total
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if not response.endless:
            self.send_header("Content-Length", str(total))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.endless:
            self._send_endless()
            return
        budget = total if cut_after is None else max(0, min(cut_after, total))
        if response.dribble is not None:
            budget = self._send_dribble(response, budget)
        elif response.file is None:
            self.wfile.write(response.body[:budget])
        else:
            sent = self._send_file(response.file, response.offset, budget)
            if sent < budget:
                budget = sent
        if budget < total:
            # Advertised the full length, sent less: drop the connection.
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _send_endless(self) -> None:
        """An MP4-looking head, then zeros, until the client hangs up or the hard limit."""
        ends = time.monotonic() + HOSTILE_LIMIT_SECONDS
        self.wfile.write(_MP4_HEAD)
        block = bytes(CHUNK)
        while time.monotonic() < ends and not self.sim._stopping.is_set():
            self.wfile.write(block)  # raises ConnectionError once the client is gone
        self.close_connection = True

    def _send_dribble(self, response: _Response, budget: int) -> int:
        """One byte every ``response.dribble`` seconds; returns the bytes sent."""
        assert response.dribble is not None
        if response.file is not None:
            with response.file.open("rb") as f:
                f.seek(response.offset)
                body = f.read(budget)
        else:
            body = response.body[:budget]
        self.wfile.flush()
        ends = time.monotonic() + HOSTILE_LIMIT_SECONDS
        sent = 0
        for index in range(len(body)):
            if time.monotonic() >= ends or self.sim._stopping.wait(response.dribble):
                break
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            sent += 1
        return sent

    def _send_file(self, path: Path, offset: int, budget: int) -> int:
        throttle = _Throttle(self.sim.config.download_bytes_per_second, self.sim._stopping)
        sent = 0
        with path.open("rb") as f:
            f.seek(offset)
            while sent < budget:
                data = f.read(min(throttle.chunk_size(), budget - sent))
                if not data:
                    break
                throttle.spent(len(data))  # wait first: the last byte arrives on time
                self.wfile.write(data)
                sent += len(data)
        return sent

    # -- checks

    def _not_allowed(self) -> _Response:
        return _error(405, f"Method {self.command} not allowed here", code="method_not_allowed")

    def _check_auth(self) -> _Response | None:
        header = (self.headers.get("Authorization") or "").strip()
        scheme, _, token = header.partition(" ")
        token = token.strip()
        challenge = [("WWW-Authenticate", 'Bearer realm="api"')]
        if scheme.lower() != "bearer" or not token:
            return _error(
                401,
                "Missing API key: send the header 'Authorization: Bearer <your key>'",
                code="missing_api_key",
                headers=challenge,
            )
        expected = self.sim.config.api_key
        if expected is not None and not hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
        ):
            return _error(
                401, "Invalid API key provided", code="invalid_api_key", headers=challenge
            )
        return None

    def _read_json(self) -> tuple[dict[str, Any] | None, _Response | None]:
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            return None, _error(
                400, "Content-Type must be application/json", code="invalid_content_type"
            )
        if self._body.declared is not None and self._body.declared > MAX_JSON_BODY:
            response = _error(413, "Request body too large", code="payload_too_large")
            response.close = True
            return None, response
        raw = self._body.read_all(MAX_JSON_BODY)
        if raw is None:
            response = _error(413, "Request body too large", code="payload_too_large")
            response.close = True
            return None, response
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None, _error(400, "Invalid JSON in request body", code="invalid_json")
        if not isinstance(data, dict):
            return None, _error(400, "The JSON body must be an object", code="invalid_json")
        return data, None

    # -- routes

    def _upload_stream(self) -> _Response:
        if (denied := self._check_auth()) is not None:
            return denied
        mime, params = parse_options_header(self.headers.get("Content-Type") or "")
        boundary = params.get(b"boundary")
        if mime != b"multipart/form-data" or not boundary:
            return _error(
                400,
                "Content-Type must be multipart/form-data with a boundary",
                code="invalid_content_type",
            )
        sim = self.sim
        sink = _MultipartSink(sim._partial_path(), sim.config.upload_accepts_video)
        try:
            parser = MultipartParser(boundary, callbacks=sink.callbacks())
            while not sink.refused and (chunk := self._body.read()):
                parser.write(chunk)
            if not sink.refused:
                parser.finalize()
        except FormParserError as exc:
            sink.discard()
            return _error(400, f"Malformed multipart body: {exc}", code="invalid_multipart")
        except BaseException:
            sink.discard()
            raise
        sink.close()
        if sink.refused:
            sink.discard()
            return self._refuse_video()
        if not sink.ended:
            sink.discard()
            return _error(400, "Incomplete multipart body", code="invalid_multipart")
        if not sink.has_file:
            return _error(400, "The 'file' field is required", code="missing_file", param="file")
        if sink.size == 0:
            sink.discard()
            return _error(400, "The uploaded file is empty", code="empty_file", param="file")
        name = sink.field_text("file_name") or sink.part_filename or "upload"
        upload = sim._store_upload(sink.partial, name, sink.size, sink.kind)
        return _json(200, sim._upload_json(upload))

    def _upload_base64(self) -> _Response:
        if (denied := self._check_auth()) is not None:
            return denied
        data, problem = self._read_json()
        if data is None:
            assert problem is not None
            return problem
        encoded = data.get("file_data")
        if not isinstance(encoded, str) or not encoded.strip():
            return _error(422, "file_data is required (base64 text)", param="file_data")
        if encoded.startswith("data:") and "," in encoded:
            encoded = encoded.split(",", 1)[1]
        try:
            raw = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            return _error(422, "file_data is not valid base64", param="file_data")
        if not raw:
            return _error(400, "The uploaded file is empty", code="empty_file", param="file")
        kind = sniff(raw[:SNIFF_BYTES])
        if kind in VIDEO_KINDS and not self.sim.config.upload_accepts_video:
            return self._refuse_video()
        file_name = data.get("file_name")
        name = file_name.strip() if isinstance(file_name, str) and file_name.strip() else "upload"
        partial = self.sim._partial_path()
        partial.write_bytes(raw)
        upload = self.sim._store_upload(partial, name, len(raw), kind)
        return _json(200, self.sim._upload_json(upload))

    def _refuse_video(self) -> _Response:
        return _error(
            415,
            "Unsupported file type: only images (JPEG, PNG, GIF, WEBP) are accepted",
            code="unsupported_file_type",
            param="file",
        )

    def _create(self) -> _Response:
        if (denied := self._check_auth()) is not None:
            return denied
        data, problem = self._read_json()
        if data is None:
            assert problem is not None
            return problem
        params, problem = _validate_generation(data)
        if params is None:
            assert problem is not None
            return problem
        task = self.sim._create_task(params)
        return _json(200, self.sim._created_json(task))

    def _get_task(self, task_id: str) -> _Response:
        if (denied := self._check_auth()) is not None:
            return denied
        body = self.sim._poll(task_id)
        if body is None:
            return _error(404, f"Task not found: {task_id}", "not_found", "task_not_found")
        return _json(200, body)

    def _get_file(self, file_id: str, name: str) -> _Response:
        upload = self.sim._upload(file_id)
        if upload is None or name != upload.stored_name or not upload.path.is_file():
            return _error(404, "File not found", "not_found", "file_not_found")
        ctype = _CONTENT_TYPES.get(upload.kind or "", "application/octet-stream")
        return self._file_response(upload.path, ctype)

    def _get_result(self, task_id: str) -> _Response:
        source = self.sim._result_source(task_id)
        if source is None:
            return _error(404, f"No result for task {task_id}", "not_found", "result_not_found")
        if not source.is_file():
            return _error(404, "The result file is missing", "not_found", "result_missing")
        return self._file_response(source, "video/mp4")

    def _file_response(self, path: Path, content_type: str) -> _Response:
        size = path.stat().st_size
        if not self.sim.config.serve_ranges:
            return _Response(200, content_type=content_type, file=path, length=size,
                             headers=[("Cache-Control", "no-store")])
        headers = [("Accept-Ranges", "bytes"), ("Cache-Control", "no-store")]
        match = _RANGE.fullmatch((self.headers.get("Range") or "").strip())
        if match is None or match.group(1) == match.group(2) == "":
            return _Response(200, content_type=content_type, headers=headers, file=path,
                             length=size)
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or end < start:
            response = _error(416, "Requested range not satisfiable", code="invalid_range")
            response.headers += [*headers, ("Content-Range", f"bytes */{size}")]
            return response
        headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        return _Response(206, content_type=content_type, headers=headers, file=path,
                         offset=start, length=end - start + 1)


def _validate_generation(data: dict[str, Any]) -> tuple[dict[str, str] | None, _Response | None]:
    def bad(param: str, message: str) -> tuple[None, _Response]:
        return None, _error(422, message, code="invalid_parameter", param=param)

    models = [m.value for m in Model]
    model = data.get("model")
    if model not in models:
        return bad("model", f"Invalid model {model!r}: must be one of {', '.join(models)}")
    for key in ("image_url", "video_url"):
        value = data.get(key)
        if value is None:
            return bad(key, f"{key} is required")
        if not _is_http_url(value):
            return bad(key, f"{key} must be an http(s) URL")
    params = {"model": str(model), "image_url": data["image_url"], "video_url": data["video_url"]}
    choices = {
        "mode": ([m.value for m in Mode], Mode.STD.value),
        "character_orientation": ([o.value for o in Orientation], Orientation.IMAGE.value),
        "keep_original_sound": (["yes", "no"], "yes"),
    }
    for key, (allowed, default) in choices.items():
        value = data.get(key)
        if value is None:
            params[key] = default
        elif not isinstance(value, str) or value not in allowed:
            quoted = " or ".join(f"'{a}'" for a in allowed)
            return bad(key, f"{key} must be the string {quoted}")
        else:
            params[key] = value
    prompt = data.get("prompt")
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        return bad("prompt", "prompt must be a string")
    if len(prompt) > MAX_PROMPT_CHARS:
        return bad("prompt", f"prompt must be at most {MAX_PROMPT_CHARS} characters")
    params["prompt"] = prompt
    return params, None


# --------------------------------------------------------------------------- simulator


class Simulator:
    """The provider on loopback. ``start()`` it, point a client at ``base_url``."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        storage_dir: Path | None = None,
    ) -> None:
        self.config = config if config is not None else SimulatorConfig()
        if self.config.result_shape not in RESULT_SHAPES:
            raise ValueError(f"result_shape must be one of {', '.join(RESULT_SHAPES)}")
        self._host = host
        self._requested_port = port
        self._storage_arg = storage_dir
        self._storage: Path | None = None
        self._owns_storage = False
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._fail_next: _Failure | None = None
        self._log: list[RequestRecord] = []
        self._uploads: dict[str, _Upload] = {}
        self._tasks: dict[str, _Task] = {}
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._port = 0

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._server is not None else "stopped"
        return f"Simulator({state})"

    # -- lifecycle

    def start(self) -> Simulator:
        if self._server is not None or self._stopping.is_set():
            raise RuntimeError("a Simulator can be started once")
        if self._storage_arg is None:
            self._storage = Path(tempfile.mkdtemp(prefix="kling-simulator-"))
            self._owns_storage = True
        else:
            self._storage = Path(self._storage_arg)
            self._owns_storage = not self._storage.exists()
            self._storage.mkdir(parents=True, exist_ok=True)
        (self._storage / "uploads").mkdir(exist_ok=True)
        try:
            self._server = _Server((self._host, self._requested_port), self)
        except OSError:
            self._remove_storage()
            raise
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kling-simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        log.info("simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5.0)
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5.0
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._server = None
        self._thread = None
        self._remove_storage()
        log.info("simulator on port %s stopped", self._port)

    def _remove_storage(self) -> None:
        if self._owns_storage and self._storage is not None:
            shutil.rmtree(self._storage, ignore_errors=True)

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def storage_dir(self) -> Path | None:
        return self._storage

    # -- test controls

    def inject(self, route: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``route`` with ``fault`` (FIFO per route)."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults[route].extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            for queue in self._faults.values():
                queue.clear()

    def fail_next_task(
        self,
        code: str = "generation_failed",
        message: str = "The video could not be generated, please try again",
        field: str = "error",
        error_type: str = "task_error",
    ) -> None:
        """The next created task ends ``failed``; ``field`` says where the reason goes.

        ``field="all"``: in ``error`` (code, message, ``error_type``), ``task_status_msg``
        and ``fail_reason`` at once.
        """
        if field not in FAIL_FIELDS:
            raise ValueError(f"field must be one of {', '.join(FAIL_FIELDS)}")
        with self._lock:
            self._fail_next = _Failure(code, message, field, error_type)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def count(self, route: str, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._log
                if (route == "any" or r.route == route) and (status is None or r.status == status)
            )

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def task_ids(self) -> list[str]:
        """Ids of every task created so far (also those answered with a fault)."""
        with self._lock:
            return list(self._tasks)

    # -- internals used by the handler

    def _track(self, thread: threading.Thread, *, add: bool) -> None:
        with self._lock:
            if add:
                self._threads.add(thread)
            else:
                self._threads.discard(thread)

    def _connection(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
        log.debug("%s %s -> %s (%s)", record.method, record.path, record.status, record.route)

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for queue in (self._faults[route], self._faults["any"]):
                if queue:
                    return queue.popleft()
        return None

    def _partial_path(self) -> Path:
        assert self._storage is not None
        return self._storage / "uploads" / f".partial-{secrets.token_hex(8)}"

    def _store_upload(self, partial: Path, name: str, size: int, kind: str | None) -> _Upload:
        assert self._storage is not None
        file_id = f"file-{secrets.token_hex(12)}"
        filename = name.replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        stored = _safe_name(filename)
        folder = self._storage / "uploads" / file_id
        folder.mkdir()
        final = folder / stored
        partial.replace(final)
        upload = _Upload(file_id, filename, stored, final, size, int(time.time()), kind)
        with self._lock:
            self._uploads[file_id] = upload
        return upload

    def _upload(self, file_id: str) -> _Upload | None:
        with self._lock:
            return self._uploads.get(file_id)

    def _upload_json(self, upload: _Upload) -> dict[str, Any]:
        return {
            "id": upload.id,
            "object": "file",
            "filename": upload.filename,
            "url": f"{self.base_url}/files/{upload.id}/{quote(upload.stored_name)}",
            "size": upload.size,
            "bytes": upload.size,
            "created": upload.created,
            "expires_at": upload.created + 72 * 3600,
            "purpose": "video_generation",
        }

    def _reference_clip(self, video_url: str) -> Path | None:
        match = _FILE_PATH.fullmatch(urlsplit(video_url).path)
        if match is None:
            return None
        upload = self._upload(match.group(1))
        if upload is None or upload.kind not in ("mp4", "mov"):
            return None
        return upload.path

    def _create_task(self, params: dict[str, str]) -> _Task:
        now = int(time.time())
        source = self._reference_clip(params["video_url"])
        facts = video_facts(source if source is not None else paths.sample_motion())
        with self._lock:
            failure, self._fail_next = self._fail_next, None
            task = _Task(
                id=f"task-unified-{now}-{secrets.token_hex(4)}",
                created=now,
                model=params["model"],
                mode=params["mode"],
                prompt=params["prompt"],
                orientation=params["character_orientation"],
                keep_original_sound=params["keep_original_sound"],
                image_url=params["image_url"],
                video_url=params["video_url"],
                source=source,
                facts=facts,
                failure=failure,
                request_id=f"req-{secrets.token_hex(8)}",
                updated=now,
            )
            self._tasks[task.id] = task
        log.info("task %s created (%s, %s)", task.id, task.model, task.mode)
        return task

    def _usage(self, task: _Task) -> dict[str, Any]:
        seconds = task.facts.duration
        return {
            "billing_rule": "per_second",
            "billable_seconds": seconds,
            "mode": task.mode,
            "total_tokens": 0,
        }

    def _created_json(self, task: _Task) -> dict[str, Any]:
        return {
            "created": task.created,
            "id": task.id,
            "model": task.model,
            "object": "video.generation.task",
            "progress": 0,
            "status": TaskStatus.PENDING.value,
            "task_info": {"can_cancel": True, "estimated_time": self.config.estimated_time},
            "type": "video",
            "usage": self._usage(task),
            "request_id": task.request_id,
            "metadata": {"simulator": True, "channel": "loopback"},
        }

    def _advance(self, task: _Task) -> None:
        task.polls += 1
        task.updated = int(time.time())
        if task.status.is_final:
            return
        needed = max(1, self.config.polls_until_done)
        if task.polls >= needed:
            if task.failure is not None:
                task.status = TaskStatus.FAILED
            else:
                task.status = TaskStatus.COMPLETED
                task.progress = 100
                task.completed_at = task.updated
        elif task.polls == 1:
            task.status = TaskStatus.PENDING
        else:
            task.status = TaskStatus.PROCESSING
            task.progress = min(99, max(1, round(100 * (task.polls - 1) / needed)))

    def _poll(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            self._advance(task)
            return self._task_json(task)

    def _task_json(self, task: _Task) -> dict[str, Any]:
        remaining = 0 if task.status.is_final else self.config.estimated_time
        remaining = round(remaining * (100 - task.progress) / 100)
        body: dict[str, Any] = {
            "id": task.id,
            "object": "video.generation.task",
            "model": task.model,
            "type": "video",
            "created": task.created,
            "updated_at": task.updated,
            "status": task.status.value,
            "progress": task.progress,
            "task_info": {
                "can_cancel": task.status is TaskStatus.PENDING,
                "estimated_time": remaining,
            },
            "usage": self._usage(task),
            "request_id": task.request_id,
            "metadata": {"simulator": True, "polls": task.polls},
        }
        if task.status is TaskStatus.COMPLETED:
            body["completed_at"] = task.completed_at
            body.update(self._result_fields(task))
        elif task.status is TaskStatus.FAILED and task.failure is not None:
            failure = task.failure
            if failure.field in ("error", "all"):
                body["error"] = {
                    "code": failure.code,
                    "message": failure.message,
                    "type": "task_error",
                }
            elif failure.field in ("task_status_msg", "fail_reason"):
                body[failure.field] = failure.message
            if failure.field == "all":
                body["task_status_msg"] = body["fail_reason"] = failure.message
            if failure.field in ("error", "all"):
                body["error"]["type"] = failure.error_type
        return body

    def _result_fields(self, task: _Task) -> dict[str, Any]:
        url = f"{self.base_url}/results/{task.id}.mp4"
        if self.config.fresh_result_links:
            url += f"?v={task.polls}"
        width = task.facts.width or (1920 if task.mode == Mode.PRO.value else 1280)
        height = task.facts.height or (1080 if task.mode == Mode.PRO.value else 720)
        shape = self.config.result_shape
        if shape == "results_objects":
            item = {"url": url, "width": width, "height": height, "content_type": "video/mp4"}
            return {"results": [item]}
        if shape == "output":
            return {
                "output": {
                    "url": url,
                    "urls": [url],
                    "duration": task.facts.duration,
                    "width": width,
                    "height": height,
                    "format": "mp4",
                }
            }
        return {"results": [url]}

    def _result_source(self, task_id: str) -> Path | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.status is not TaskStatus.COMPLETED:
                return None
            source = task.source
        if source is not None:
            return source
        return paths.sample_motion()


def serve(
    port: int,
    key: str | None,
    *,
    polls_until_done: int = 3,
    latency: float = 0.0,
    result_shape: str = "results_strings",
    estimated_time: int = 45,
    upload_accepts_video: bool = True,
    upload_bytes_per_second: float | None = None,
    download_bytes_per_second: float | None = None,
) -> int:
    """Run a simulator until SIGINT/SIGTERM; the CLI's ``kling-desktop simulator``.

    Prints ``Simulator listening on http://127.0.0.1:<port>`` once it accepts
    connections, and returns 0 after a clean stop (1 when the port cannot be bound).
    """
    config = SimulatorConfig(
        api_key=key or None,
        polls_until_done=polls_until_done,
        latency=latency,
        result_shape=result_shape,
        estimated_time=estimated_time,
        upload_accepts_video=upload_accepts_video,
        upload_bytes_per_second=upload_bytes_per_second,
        download_bytes_per_second=download_bytes_per_second,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        sim = Simulator(config, port=port)
        try:
            sim.start()
        except OSError as exc:
            print(f"Simulator cannot listen on port {port}: {exc.strerror or exc}",
                  file=sys.stderr, flush=True)
            return 1
        try:
            print(f"Simulator listening on {sim.base_url}", flush=True)
            while not stop.wait(0.25):
                pass
        finally:
            sim.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
