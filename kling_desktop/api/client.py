"""The provider's HTTP API (``../shared/API.md``) over httpx: typed calls, typed errors.

Retry rules, by what a repeated call could cost:

- reads (``get_task``, ``download``): 429, 5xx, connection errors and read
  timeouts are tried again with :class:`RetryPolicy` backoff. A result link
  answering 401/403/404/410 has expired: :class:`NotFoundError`;
- ``create_task``: only answers that prove the task was not created (429, 503,
  422 "no available channel") and connection errors before anything was sent.
  A 500, a timeout or a broken connection after sending may mean a task that is
  running and billed: :class:`SubmissionUncertainError`, never retried;
- ``upload_file``: 429, 503 and connection errors before sending. A refusal is
  :class:`UploadRefusedError` and is never retried.

The API key lives in a masked wrapper, goes only into the ``Authorization``
header of requests to the base URL's origin, and is scrubbed from any provider
text copied into an error. Log lines carry method, path, status and time only.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote

import httpx

from kling_desktop import __version__
from kling_desktop.api.errors import (
    AuthenticationError,
    CancelledError,
    IncompleteDownloadError,
    InsecureBaseURLError,
    InsufficientBalanceError,
    InvalidRequestError,
    KlingError,
    LocalFileError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    SubmissionUncertainError,
    UploadRefusedError,
)
from kling_desktop.api.models import GenerationRequest, Task, UploadedFile
from kling_desktop.api.parse import (
    parse_error_body,
    parse_error_object,
    parse_task,
    parse_uploaded_file,
)
from kling_desktop.api.retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_TIMEOUT",
    "KlingClient",
    "ProgressCallback",
    "RetryPolicy",
    "make_http_client",
    "validate_base_url",
]

log = logging.getLogger("kling_desktop.api")

ProgressCallback = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``; ``total_bytes`` is 0 when unknown."""

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=10.0)
_KEY_CHECK_TASK_ID = "task-unified-0000000000-keycheck"
_MAX_JSON_BYTES = 4 * 1024 * 1024
_MAX_ERROR_BYTES = 64 * 1024
_DOWNLOAD_CHUNK = 256 * 1024
_CANCEL_CHECK_SECONDS = 0.2
_MAX_PROVIDER_TEXT = 300
_UPLOAD_REFUSAL_STATUSES = frozenset({400, 404, 405, 413, 415, 422})
_LINK_GONE_STATUSES = frozenset({401, 403, 404, 410})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.PoolTimeout)

_T = TypeVar("_T")


# ---------------------------------------------------------------- addresses


def validate_base_url(url: str) -> str:
    """The provider address without a trailing slash; https, or http on loopback only.

    Raises :class:`InsecureBaseURLError` for anything else (including addresses
    with credentials, a query or a fragment), without echoing the address.
    """
    parsed = _parse_url(url)
    if parsed is None or parsed.userinfo or parsed.query or parsed.fragment:
        raise InsecureBaseURLError(
            "The provider address is not a plain web address like https://api.example.com."
        )
    if not _is_secure(parsed):
        raise InsecureBaseURLError()
    return str(parsed).rstrip("/")


def _parse_url(url: str) -> httpx.URL | None:
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return parsed if parsed.scheme in ("http", "https") and parsed.host else None


def _is_secure(url: httpx.URL) -> bool:
    """https anywhere; plain http only to this computer (127.0.0.0/8, ::1, localhost)."""
    if url.scheme == "https":
        return True
    if url.scheme != "http":
        return False
    if url.host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(url.host).is_loopback
    except ValueError:
        return False


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default_port


# ---------------------------------------------------------------- transport


def make_http_client(
    *, proxy: str | None = None, timeout: httpx.Timeout | None = None
) -> httpx.Client:
    """An httpx client for the provider: TLS verified, explicit timeouts, no redirects.

    Downloads opt into redirects per request. ``proxy`` is an ``http://``,
    ``https://`` or ``socks5://`` URL; without it the environment's proxy
    settings apply. Raises :class:`NetworkError` for an unusable proxy address.
    """
    try:
        return httpx.Client(
            proxy=proxy or None,
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": f"kling-motion-studio/{__version__}"},
        )
    except (ValueError, ImportError, httpx.InvalidURL):
        raise NetworkError(
            "The proxy address cannot be used.",
            fix="Open Settings and correct the proxy (e.g. http://host:8080).",
        ) from None


class _Secret:
    """The API key; its repr and str are masked so it cannot leak by accident."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        return text.replace(self._value, "[redacted]") if self._value else text

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


def _scrub(text: str, key: _Secret) -> str:
    """``text`` copied from a provider answer, without the API key in it."""
    return key.scrub(text)


class _Kind(Enum):
    """What repeating a call could cost; decides the retry rules."""

    READ = "read"
    DOWNLOAD = "download"  # a read of a result link, which may have expired
    CREATE = "create"
    UPLOAD = "upload"


class _AttemptFailed(Exception):
    """One try failed; the retry loop decides whether that is final.

    ``sent``: the request may have reached the provider. ``provider_text``: the
    provider's own (scrubbed) message. ``json_answer``: the error body was JSON,
    i.e. it came from the API rather than from some web server.
    """

    def __init__(
        self,
        error: KlingError,
        *,
        sent: bool,
        retry_after: float | None = None,
        provider_text: str | None = None,
        json_answer: bool = False,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.sent = sent
        self.retry_after = retry_after
        self.provider_text = provider_text
        self.json_answer = json_answer


# ---------------------------------------------------------------- client


class KlingClient:
    """Typed calls to one provider. Holds no mutable state: safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``http``, when given, is used as is and left open by :meth:`close`."""
        self._base_url = validate_base_url(base_url)
        self._origin = _origin(httpx.URL(self._base_url))
        self._key = _Secret(_checked_key(api_key))
        self._http = http if http is not None else make_http_client()
        self._owns_http = http is None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return f"KlingClient(base_url={self._base_url!r})"

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool, unless it was passed in."""
        if self._owns_http:
            self._http.close()

    # ------------------------------------------------------------ API calls

    def upload_file(
        self,
        path: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> UploadedFile:
        """Upload a local file (streamed from disk); its temporary URL is in the answer.

        A refusal is :class:`UploadRefusedError` (never retried); an unreadable
        file is :class:`LocalFileError`.
        """
        try:
            reader = _ProgressReader(path, progress, cancel)
        except OSError as exc:
            raise LocalFileError(
                f"The file {path.name!r} could not be read ({exc.strerror or exc}).",
                fix="Check that the file still exists and can be opened.",
            ) from exc
        with reader:

            def attempt() -> UploadedFile:
                request = self._http.build_request(
                    "POST",
                    self._api_url("/v1/files/upload/stream"),
                    data={"file_name": path.name},
                    files={"file": (path.name, reader)},
                    headers=self._auth_header(),
                )
                data = self._read_json(self._send(request))
                self._raise_if_error_body(data)
                return parse_uploaded_file(data)

            return self._retrying(_Kind.UPLOAD, attempt, cancel)

    def create_task(
        self, request: GenerationRequest, *, cancel: threading.Event | None = None
    ) -> Task:
        """Start a generation. Never retried once the provider may have received it.

        ``cancel`` only interrupts the waits between tries (when the task was
        certainly not created), never a request in flight.
        """
        body = request.to_json()

        def attempt() -> Task:
            http_request = self._http.build_request(
                "POST", self._api_url("/v1/videos/generations"), json=body,
                headers=self._auth_header(),
            )
            response = self._send(http_request)
            try:
                return self._scrubbed(parse_task(self._read_json(response)))
            except MalformedResponseError:
                raise SubmissionUncertainError(
                    "The provider accepted the new video task but its answer could not be "
                    "read; the task may be running (and billed)."
                ) from None

        return self._retrying(_Kind.CREATE, attempt, cancel)

    def get_task(self, task_id: str, *, cancel: threading.Event | None = None) -> Task:
        """The task as the provider sees it now."""
        return self._retrying(_Kind.READ, lambda: self._fetch_task(task_id), cancel)

    def check_key(self) -> None:
        """One cheap authenticated call: asks for a task that does not exist.

        The API's JSON 404 proves the key was accepted. A 404 page from some other
        web server means a wrong address: :class:`MalformedResponseError`. Raises
        :class:`AuthenticationError`, :class:`NetworkError` or another
        :class:`KlingError`. Not retried: the answer is wanted now.
        """
        request = self._http.build_request(
            "GET", self._api_url(f"/v1/tasks/{_KEY_CHECK_TASK_ID}"), headers=self._auth_header()
        )
        try:
            self._read_json(self._send(request))
        except _AttemptFailed as failed:
            if isinstance(failed.error, NotFoundError):
                if failed.json_answer:
                    return
                raise MalformedResponseError(
                    "The provider address did not answer like the video service (HTTP 404)."
                ) from None
            raise failed.error from failed.__cause__

    def download(
        self,
        url: str,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """Stream ``url`` into ``dest`` atomically (temp file, fsync, rename); returns ``dest``.

        Nothing is left at ``dest`` (nor a temp file) when it fails; an existing
        ``dest`` is replaced only by a complete download. The API key is sent only
        when ``url`` is on the provider's own origin. A full disk or an unwritable
        folder is :class:`LocalFileError`.
        """
        target = _parse_url(url)
        if target is None or not _is_secure(target):
            raise InsecureBaseURLError(
                "The video link from the provider is not a secure (https://) address.",
                fix="Contact the provider; the app only downloads over https.",
            )
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            return self._retrying(
                _Kind.DOWNLOAD, lambda: self._download_once(target, dest, progress, cancel), cancel
            )
        except OSError as exc:  # httpx wraps socket errors: these are the file system's
            raise LocalFileError(
                f"The video could not be saved ({exc.strerror or exc}).",
                fix="Check the free disk space and that the library folder is writable.",
            ) from exc

    # ------------------------------------------------------------ steps

    def _fetch_task(self, task_id: str) -> Task:
        if not task_id.strip():
            raise ValueError("task_id must not be empty")
        request = self._http.build_request(
            "GET", self._api_url(f"/v1/tasks/{quote(task_id.strip(), safe='')}"),
            headers=self._auth_header(),
        )
        return self._scrubbed(parse_task(self._read_json(self._send(request))))

    def _download_once(
        self,
        url: httpx.URL,
        dest: Path,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> Path:
        headers = self._auth_header() if _origin(url) == self._origin else {}
        request = self._http.build_request("GET", url, headers=headers)
        response = self._send(request, follow_redirects=True)
        with contextlib.closing(response), _temporary_file(dest) as (handle, temp_path):
            if not _is_secure(response.url):
                raise InsecureBaseURLError(
                    "The video link redirected to an insecure (http://) address.",
                    fix="Contact the provider; the app only downloads over https.",
                )
            _stream_body(response, handle, progress, cancel)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(temp_path, dest)
        _fsync_folder(dest.parent)
        return dest

    def _retrying(
        self,
        kind: _Kind,
        attempt: Callable[[], _T],
        cancel: threading.Event | None,
    ) -> _T:
        """Run ``attempt`` under ``kind``'s retry rules; raise the final KlingError."""
        limit = self._retry.max_attempts
        number = 1
        while True:
            _raise_if_cancelled(cancel)
            try:
                return attempt()
            except _AttemptFailed as failed:
                error = _final_error(kind, failed)
                if number >= limit or not _is_retried(kind, failed, error):
                    raise error from failed.__cause__
                self._pause(self._retry.delay(number, failed.retry_after), cancel)
                number += 1

    def _send(self, request: httpx.Request, *, follow_redirects: bool = False) -> httpx.Response:
        """Send once; return the open 2xx response or raise :class:`_AttemptFailed`."""
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True, follow_redirects=follow_redirects)
        except httpx.TransportError as exc:
            _log_request(request, type(exc).__name__, started)
            raise _transport_failure(exc) from exc
        except httpx.TooManyRedirects as exc:
            _log_request(request, "TooManyRedirects", started)
            raise _AttemptFailed(
                MalformedResponseError("The provider's link redirected too many times."),
                sent=True,
            ) from exc
        _log_request(request, str(response.status_code), started)
        if response.is_success:
            return response
        with contextlib.closing(response):
            raise self._status_failure(response, _read_error_body(response))

    def _read_json(self, response: httpx.Response) -> object:
        """The decoded JSON body of a 2xx answer (closes it); garbage is malformed."""
        with contextlib.closing(response):
            body = _read_capped(response, _MAX_JSON_BYTES)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedResponseError() from None

    def _status_failure(self, response: httpx.Response, body: bytes) -> _AttemptFailed:
        """The typed error for a non-2xx answer (API.md status table)."""
        status = response.status_code
        content_type = response.headers.get("Content-Type")
        message, error_type, code = self._scrub_all(parse_error_body(body, content_type))
        provider_text = message
        cls = _error_class(status, message, error_type)
        text = _compose(cls, status, provider_text)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error: KlingError
        if cls is RateLimitedError:
            error = RateLimitedError(
                text, retry_after=retry_after, status=status, code=code, error_type=error_type
            )
        else:
            error = cls(text, status=status, code=code, error_type=error_type)
        return _AttemptFailed(
            error,
            sent=True,
            retry_after=retry_after,
            provider_text=provider_text,
            json_answer="json" in (content_type or "").lower(),
        )

    def _raise_if_error_body(self, data: object) -> None:
        """Some providers refuse an upload with a 2xx answer holding only an error."""
        if isinstance(data, dict) and "error" in data and "url" not in data:
            message, error_type, code = self._scrub_all(parse_error_object(data))
            raise UploadRefusedError(
                _compose(UploadRefusedError, None, message), code=code, error_type=error_type
            )

    def _scrub_all(
        self, fields: tuple[str | None, str | None, str | None]
    ) -> tuple[str | None, str | None, str | None]:
        message, error_type, code = (self._key.scrub(f) if f else None for f in fields)
        return message, error_type, code

    def _scrubbed(self, task: Task) -> Task:
        if task.error is None:
            return task
        return replace(task, error=replace(task.error, message=self._key.scrub(task.error.message)))

    def _pause(self, seconds: float, cancel: threading.Event | None) -> None:
        """Sleep through ``self._sleep``, in short steps when it may be cancelled."""
        remaining = seconds
        while remaining > 0:
            _raise_if_cancelled(cancel)
            step = remaining if cancel is None else min(remaining, _CANCEL_CHECK_SECONDS)
            self._sleep(step)
            remaining -= step
        _raise_if_cancelled(cancel)

    def _api_url(self, path: str) -> str:
        return self._base_url + path

    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}


# ---------------------------------------------------------------- helpers


def _checked_key(api_key: str) -> str:
    key = api_key.strip()
    if not key:
        raise AuthenticationError("No API key is set.")
    if not key.isascii() or not key.isprintable() or " " in key:
        raise AuthenticationError(
            "The API key contains characters an API key cannot have.",
            fix="Copy the key again from your provider's dashboard and paste it in Settings.",
        )
    return key


def _error_class(status: int, message: str | None, error_type: str | None) -> type[KlingError]:
    """The API.md status table."""
    if status == 422 and _is_no_channel(message, error_type):
        return ServiceUnavailableError
    if status == 503:
        return ServiceUnavailableError
    if status >= 500:
        return ServerError
    if 300 <= status < 400:
        return MalformedResponseError
    return {
        401: AuthenticationError,
        403: AuthenticationError,
        402: InsufficientBalanceError,
        404: NotFoundError,
        429: RateLimitedError,
    }.get(status, InvalidRequestError)


def _is_no_channel(message: str | None, error_type: str | None) -> bool:
    return error_type == "service_unavailable_error" or "channel" in (message or "").lower()


def _compose(cls: type[KlingError], status: int | None, provider_text: str | None) -> str:
    """The class's own words, the HTTP status and the provider's message (trimmed)."""
    text = cls.default_message
    if status is not None:
        text = f"{text.rstrip('.')} (HTTP {status})."
    if provider_text:
        if len(provider_text) > _MAX_PROVIDER_TEXT:
            provider_text = provider_text[: _MAX_PROVIDER_TEXT - 1] + "…"
        text = f"{text} The provider said: {provider_text}"
    return text


def _transport_failure(exc: httpx.TransportError) -> _AttemptFailed:
    if isinstance(exc, httpx.ProxyError):
        error = NetworkError("Could not connect through the proxy.")
    elif isinstance(exc, httpx.TimeoutException) and not isinstance(exc, _NOT_SENT):
        error = NetworkError("The video service did not answer in time.")
    else:
        error = NetworkError()
    return _AttemptFailed(error, sent=not isinstance(exc, _NOT_SENT))


def _final_error(kind: _Kind, failed: _AttemptFailed) -> KlingError:
    """Translate a failure to what it means for this kind of call."""
    error = failed.error
    if kind is _Kind.CREATE and _may_have_created(error, failed.sent):
        return SubmissionUncertainError(
            f"{SubmissionUncertainError.default_message} Reason: {error.message}",
            status=error.status, code=error.code, error_type=error.error_type,
        )
    if (
        kind is _Kind.UPLOAD
        and error.status in _UPLOAD_REFUSAL_STATUSES
        and not isinstance(error, ServiceUnavailableError)
    ):
        return UploadRefusedError(
            _compose(UploadRefusedError, error.status, failed.provider_text),
            status=error.status, code=error.code, error_type=error.error_type,
        )
    if kind is _Kind.DOWNLOAD and error.status in _LINK_GONE_STATUSES:
        return NotFoundError(
            f"The video link no longer works (HTTP {error.status}); it may have expired.",
            fix="Result links expire 24 hours after the video is done: generate it again.",
            status=error.status, code=error.code, error_type=error.error_type,
        )
    return error


def _may_have_created(error: KlingError, sent: bool) -> bool:
    return isinstance(error, ServerError) or (isinstance(error, NetworkError) and sent)


def _is_retried(kind: _Kind, failed: _AttemptFailed, error: KlingError) -> bool:
    if kind in (_Kind.READ, _Kind.DOWNLOAD):
        return error.retryable
    if isinstance(error, RateLimitedError | ServiceUnavailableError):
        return True
    return isinstance(error, NetworkError) and not failed.sent


def _raise_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledError()


def _log_request(request: httpx.Request, outcome: str, started: float) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    log.debug("%s %s -> %s in %.0f ms", request.method, request.url.path, outcome, elapsed_ms)


def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The whole body of a 2xx answer; more than ``limit`` bytes is malformed.

    A connection that breaks while reading is an :class:`_AttemptFailed` (sent).
    """
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise MalformedResponseError("The provider's answer is unexpectedly large.")
    except httpx.TransportError as exc:
        raise _transport_failure(exc) from exc
    except httpx.DecodingError:
        raise MalformedResponseError() from None
    return bytes(body)


def _read_error_body(response: httpx.Response) -> bytes:
    """Up to ``_MAX_ERROR_BYTES`` of an error body; whatever arrived if it breaks off."""
    body = bytearray()
    with contextlib.suppress(httpx.TransportError, httpx.DecodingError):
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= _MAX_ERROR_BYTES:
                break
    return bytes(body[:_MAX_ERROR_BYTES])


def _stream_body(
    response: httpx.Response,
    handle: io.BufferedWriter,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    """Copy the body to ``handle``; a short body is :class:`IncompleteDownloadError`."""
    total = _content_length(response)
    try:
        for chunk in response.iter_bytes(_DOWNLOAD_CHUNK):
            _raise_if_cancelled(cancel)
            handle.write(chunk)
            if progress is not None:
                progress(response.num_bytes_downloaded, total or 0)
    except httpx.TransportError as exc:
        raise _AttemptFailed(IncompleteDownloadError(), sent=True) from exc
    except httpx.DecodingError:
        raise MalformedResponseError("The downloaded video could not be decoded.") from None
    if total is not None and response.num_bytes_downloaded != total:
        raise _AttemptFailed(IncompleteDownloadError(), sent=True)


def _content_length(response: httpx.Response) -> int | None:
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


@contextlib.contextmanager
def _temporary_file(dest: Path) -> Iterator[tuple[io.BufferedWriter, Path]]:
    """A hidden ``.<name>.*.part`` file next to ``dest``, removed unless renamed."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    temp_path = Path(name)
    try:
        with open(fd, "wb") as handle:
            yield handle, temp_path
    finally:
        temp_path.unlink(missing_ok=True)


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


class _ProgressReader(io.BufferedReader):
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
        _raise_if_cancelled(self._cancel)
        chunk = super().read(size)
        if self._progress is not None and chunk:
            self._progress(self.tell(), self._total)
        return chunk
