"""The provider's HTTP API (``../shared/API.md``) over httpx: typed calls, typed errors.

The provider is not trusted. Every answer is bounded and cleaned before it leaves
this module:

- time: each API request has a total deadline, not only per-read timeouts
  (``api_deadline`` for polls and the key check, ``create_deadline`` for a new
  task). Uploads and result downloads are bounded by progress instead: they fail
  when no byte could be sent or received for ``stall_timeout``;
- size: API JSON answers stop at 1 MiB and error bodies at 64 KiB, counted in
  DECODED bytes (a gzip bomb stops at the cap, decoded step by step). Results are
  asked for with ``Accept-Encoding: identity``; an encoded one is decoded under the
  same cap, ``max_bytes`` (2 GiB): past it, :class:`ResultTooLargeError`;
- text: ids pass :func:`~kling_desktop.api.parse.validate_id` (also the id we
  are asked to poll: a ``..`` id is never sent); every text copied from an answer
  is cleaned and scrubbed of the key by ``parse`` (the client hands it its
  scrubber); an unreadable create answer is logged at WARNING, cleaned, scrubbed
  and cut at 2 KB, so the user can compare with the provider's dashboard;
- links: result links must be ``https://``; plain ``http://`` only when the
  provider itself is on this computer (the simulator). Redirects are followed by
  hand (at most 5 hops), each hop checked against that rule, and the
  ``Authorization`` header goes only to the provider's own origin, never to a hop
  on another origin nor to any hop after one.

Retry rules, by what a repeated call could cost (``retry=False`` on
``create_task`` / ``get_task`` turns every retry off: the caller schedules):

- reads (``get_task``, ``download``): 429, 5xx, connection errors, read timeouts
  and missed deadlines are tried again with :class:`RetryPolicy` backoff. A result
  link answering 401/403/404/410 has expired: :class:`NotFoundError`;
- ``create_task``: only answers that prove the task was not created (429, 503,
  422 "no available channel") and connection errors before anything was sent.
  A 500, a timeout or a broken connection after sending, an unreadable 2xx answer
  or one whose task id is unusable may mean a task that is running and billed:
  :class:`SubmissionUncertainError`, never retried;
- ``upload_file``: 429, 503 and connection errors before sending. A refusal is
  :class:`UploadRefusedError` and is never retried;
- Kling's own codes forwarded by resellers: 429 with 1101/1102 (no balance,
  expired package) is :class:`InsufficientBalanceError`, never retried by any
  call; 429 1302/1303 is a rate limit; 403 1103 is :class:`PermissionDeniedError`.

Downloads resume: the partial file lives at ``.<name>.part`` next to ``dest`` (a
stable name, so a later call, even from another process, continues it with
``Range: bytes=N-``). Only a 206 whose ``Content-Range`` starts at N and runs to
the end is appended; anything else restarts from byte 0. A cut connection or a
cancel keeps the partial; a result that is too large, an insecure link or an
answer that is not a video (HTML, empty) removes it. A complete file is flushed,
fsynced and renamed to ``dest``, then the folder is fsynced. ``dest`` must be
unique to its task: the partial is trusted to be the start of the same video.

The API key lives in a masked wrapper, goes only into the ``Authorization``
header of requests to the base URL's origin, and is scrubbed from any provider
text. Log lines carry method, path, status and time only (and the one cleaned,
scrubbed warning above).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

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
    PermissionDeniedError,
    RateLimitedError,
    ResultTooLargeError,
    ServerError,
    ServiceUnavailableError,
    SubmissionUncertainError,
    UploadRefusedError,
)
from kling_desktop.api.models import GenerationRequest, Task, UploadedFile
from kling_desktop.api.parse import (
    clean_text,
    parse_error_body,
    parse_error_object,
    parse_task,
    parse_uploaded_file,
    validate_id,
)
from kling_desktop.api.retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
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
DEFAULT_MAX_RESULT_BYTES = 2 * 1024**3
_KEY_CHECK_TASK_ID = "task-unified-0000000000-keycheck"
_MAX_JSON_BYTES = 1024 * 1024
_MAX_ERROR_BYTES = 64 * 1024
_ERROR_BODY_SECONDS = 10.0
_MAX_LOGGED_CHARS = 2000
_DECODE_STEP = 256 * 1024
_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NO_BALANCE_CODES = frozenset({"1101", "1102"})
_NO_PERMISSION_CODES = frozenset({"1103"})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
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


class _Deadline:
    """The end of one request's time, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def check(self) -> None:
        """Raise a retryable, "sent" failure once the time is up."""
        if time.monotonic() >= self.end:
            raise _AttemptFailed(
                NetworkError("The video service did not answer in time."), sent=True
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


class _Decoder:
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
                "The provider's answer uses an encoding this app does not read."
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
                    "The provider's answer could not be decoded."
                ) from None
            self._started = True
            pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                pending = b""  # anything after the end of the stream is ignored
            if piece:
                yield piece


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
        api_deadline: float = 30.0,
        create_deadline: float = 60.0,
        stall_timeout: float = 60.0,
    ) -> None:
        """``http``, when given, is used as is and left open by :meth:`close`.

        ``api_deadline``: total seconds for one poll or key check request;
        ``create_deadline``: the same for one create request; ``stall_timeout``:
        an upload or download fails when no byte moved for that long.
        """
        if min(api_deadline, create_deadline, stall_timeout) <= 0:
            raise ValueError("deadlines and the stall timeout must be positive")
        self._base_url = validate_base_url(base_url)
        base = httpx.URL(self._base_url)
        self._origin = _origin(base)
        self._local_provider = base.scheme == "http" and _is_secure(base)
        self._key = _Secret(_checked_key(api_key))
        self._http = http if http is not None else make_http_client()
        self._owns_http = http is None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._api_deadline = api_deadline
        self._create_deadline = create_deadline
        self._stall_timeout = stall_timeout

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
        file is :class:`LocalFileError`. Fails when no byte could be sent (or no
        answer came) for ``stall_timeout`` seconds.
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
                    timeout=self._stall_timeouts(),
                )
                response = self._send(request)
                data = self._read_json(response, _Deadline(self._api_deadline))
                self._raise_if_error_body(data)
                return parse_uploaded_file(data, redact=self._key.scrub)

            return self._retrying(_Kind.UPLOAD, attempt, cancel)

    def create_task(
        self,
        request: GenerationRequest,
        *,
        cancel: threading.Event | None = None,
        retry: bool = True,
    ) -> Task:
        """Start a generation. Never retried once the provider may have received it.

        ``retry=False``: a definite refusal (429, 503, 422 "no available channel")
        is raised at once as :class:`RateLimitedError` / :class:`ServiceUnavailableError`
        with its ``retry_after`` (seconds or None), for the caller to schedule.
        ``cancel`` only interrupts the waits between tries (when the task was
        certainly not created), never a request in flight.
        """
        body = request.to_json()

        def attempt() -> Task:
            deadline = _Deadline(self._create_deadline)
            http_request = self._http.build_request(
                "POST", self._api_url("/v1/videos/generations"), json=body,
                headers=self._api_headers(), timeout=deadline.timeout(self._http.timeout),
            )
            response = self._send(http_request, deadline=deadline)
            status = response.status_code
            try:
                raw = self._read_body(response, _MAX_JSON_BYTES, deadline)
            except MalformedResponseError as exc:
                log.warning("The provider's answer to a new task could not be read "
                            "(HTTP %s): %s", status, exc.message)
                raise _uncertain_unreadable() from None
            try:
                return parse_task(_loads(raw), redact=self._key.scrub)
            except MalformedResponseError:
                log.warning("The provider's answer to a new task could not be read "
                            "(HTTP %s): %s", status, self._loggable(raw))
                raise _uncertain_unreadable() from None

        return self._retrying(_Kind.CREATE, attempt, cancel, retry=retry)

    def get_task(
        self,
        task_id: str,
        *,
        cancel: threading.Event | None = None,
        retry: bool = True,
        sync_upstream: bool = False,
    ) -> Task:
        """The task as the provider sees it now.

        ``task_id`` must pass :func:`validate_id` (else :class:`MalformedResponseError`,
        and nothing is sent). ``sync_upstream`` asks the provider to refresh the
        task from upstream (``?sync_upstream=true``); ``retry=False``: one try.
        """
        checked = validate_id(task_id, what="task id", redact=self._key.scrub)
        return self._retrying(
            _Kind.READ, lambda: self._fetch_task(checked, sync_upstream), cancel, retry=retry
        )

    def check_key(self) -> None:
        """One cheap authenticated call: asks for a task that does not exist.

        The API's JSON 404 proves the key was accepted. A 404 page from some other
        web server means a wrong address: :class:`MalformedResponseError`. Raises
        :class:`AuthenticationError`, :class:`NetworkError` or another
        :class:`KlingError`. Not retried: the answer is wanted now.
        """
        deadline = _Deadline(self._api_deadline)
        request = self._http.build_request(
            "GET", self._api_url(f"/v1/tasks/{_KEY_CHECK_TASK_ID}"), headers=self._api_headers(),
            timeout=deadline.timeout(self._http.timeout),
        )
        try:
            self._read_json(self._send(request, deadline=deadline), deadline)
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
        max_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        resume: bool = True,
    ) -> Path:
        """Stream ``url`` into ``dest`` (resumable, atomic); returns ``dest``.

        See the module docstring for the partial file, resume and link rules.
        ``progress(done, total)`` counts from byte 0 of the video, also when
        resuming. ``resume=False`` drops an existing partial first. Nothing but a
        complete download ever appears at ``dest``; an existing ``dest`` is
        replaced only by one. More than ``max_bytes`` (decoded) is
        :class:`ResultTooLargeError`; an HTML page or an empty answer is
        :class:`MalformedResponseError`; a full disk or an unwritable folder is
        :class:`LocalFileError`.
        """
        partial = _partial_path(dest)
        target = _parse_url(url)
        try:
            if target is None or not self._link_allowed(target):
                _unlink_quietly(partial)
                raise InsecureBaseURLError(
                    "The video link from the provider is not a secure (https://) address.",
                    fix="Contact the provider; the app only downloads over https.",
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not resume:
                partial.unlink(missing_ok=True)
            return self._retrying(
                _Kind.DOWNLOAD,
                lambda: self._download_once(target, dest, partial, max_bytes, progress, cancel),
                cancel,
            )
        except (ResultTooLargeError, InsecureBaseURLError, MalformedResponseError):
            _unlink_quietly(partial)
            raise
        except OSError as exc:  # httpx wraps socket errors: these are the file system's
            raise LocalFileError(
                f"The video could not be saved ({exc.strerror or exc}).",
                fix="Check the free disk space and that the library folder is writable.",
            ) from exc

    # ------------------------------------------------------------ steps

    def _fetch_task(self, task_id: str, sync_upstream: bool) -> Task:
        deadline = _Deadline(self._api_deadline)
        request = self._http.build_request(
            "GET", self._api_url(f"/v1/tasks/{task_id}"),
            params={"sync_upstream": "true"} if sync_upstream else None,
            headers=self._api_headers(), timeout=deadline.timeout(self._http.timeout),
        )
        data = self._read_json(self._send(request, deadline=deadline), deadline)
        return parse_task(data, redact=self._key.scrub)

    def _download_once(
        self,
        url: httpx.URL,
        dest: Path,
        partial: Path,
        max_bytes: int,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> Path:
        offset = _file_size(partial)
        if offset > max_bytes:
            partial.unlink()
            offset = 0
        opened = self._open_result(url, offset)
        if opened is None:  # the partial cannot be continued: start again from byte 0
            partial.unlink(missing_ok=True)
            offset = 0
            opened = self._open_result(url, 0)
            if opened is None:
                raise MalformedResponseError(
                    "The provider answered with a piece of the video instead of all of it."
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
                "The provider sent an empty answer instead of the video.",
                fix="Try again later; if it keeps happening, contact the provider.",
            )
        if total is not None and done != total:
            raise _AttemptFailed(IncompleteDownloadError(), sent=True)
        os.replace(partial, dest)
        _fsync_folder(dest.parent)
        return dest

    def _open_result(
        self, url: httpx.URL, offset: int
    ) -> tuple[httpx.Response, int | None] | None:
        """The open 2xx answer for a result and the video's full size when known.

        Follows redirects by hand (every hop checked, the key only on the provider's
        origin). None: the server will not continue at ``offset`` (416, or a 206 that
        does not start there).
        """
        on_origin = _origin(url) == self._origin
        for hop in range(_MAX_REDIRECTS + 1):
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            if on_origin:
                headers.update(self._auth_header())
            request = self._http.build_request(
                "GET", url, headers=headers, timeout=self._stall_timeouts()
            )
            try:
                response = self._send(request, redirects=True)
            except _AttemptFailed as failed:
                if offset and failed.error.status == 416:
                    return None
                raise
            if response.status_code not in _REDIRECT_STATUSES:
                return _accept_result(response, offset)
            location = response.headers.get("Location", "")
            response.close()
            if hop == _MAX_REDIRECTS:
                break
            following = _join_url(url, location)
            if following is None or not self._link_allowed(following):
                raise InsecureBaseURLError(
                    "The video link redirected to an insecure (http://) address.",
                    fix="Contact the provider; the app only downloads over https.",
                )
            on_origin = on_origin and _origin(following) == self._origin
            url = following
        raise MalformedResponseError("The provider's link redirected too many times.")

    def _link_allowed(self, url: httpx.URL) -> bool:
        """https anywhere; plain http only to this computer, from a provider on it."""
        if url.scheme == "https":
            return True
        return self._local_provider and _is_secure(url)

    def _retrying(
        self,
        kind: _Kind,
        attempt: Callable[[], _T],
        cancel: threading.Event | None,
        *,
        retry: bool = True,
    ) -> _T:
        """Run ``attempt`` under ``kind``'s retry rules; raise the final KlingError."""
        limit = self._retry.max_attempts if retry else 1
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

    def _send(
        self,
        request: httpx.Request,
        *,
        deadline: _Deadline | None = None,
        redirects: bool = False,
    ) -> httpx.Response:
        """Send once; return the open 2xx (or, with ``redirects``, 3xx) response.

        Anything else raises :class:`_AttemptFailed`.
        """
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True, follow_redirects=False)
        except httpx.TransportError as exc:
            _log_request(request, type(exc).__name__, started)
            raise _transport_failure(exc) from exc
        _log_request(request, str(response.status_code), started)
        if response.is_success or (redirects and response.status_code in _REDIRECT_STATUSES):
            return response
        with contextlib.closing(response):
            body = _read_limited(
                response, _MAX_ERROR_BYTES, deadline or _Deadline(_ERROR_BODY_SECONDS)
            )
            raise self._status_failure(response, body)

    def _read_body(self, response: httpx.Response, limit: int, deadline: _Deadline) -> bytes:
        """The decoded body of a 2xx answer (closes it); more than ``limit`` is malformed."""
        with contextlib.closing(response):
            body = _read_limited(response, limit + 1, deadline, strict=True)
        if len(body) > limit:
            raise MalformedResponseError("The provider's answer is unexpectedly large.")
        return body

    def _read_json(self, response: httpx.Response, deadline: _Deadline) -> object:
        """The decoded JSON body of a 2xx answer (closes it); garbage is malformed."""
        return _loads(self._read_body(response, _MAX_JSON_BYTES, deadline))

    def _status_failure(self, response: httpx.Response, body: bytes) -> _AttemptFailed:
        """The typed error for a non-2xx answer (API.md status table, Kling's codes)."""
        status = response.status_code
        content_type = response.headers.get("Content-Type")
        message, error_type, code = parse_error_body(body, content_type, redact=self._key.scrub)
        cls = _error_class(status, message, error_type, code)
        text = _compose(cls, status, message)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error: KlingError
        if cls is RateLimitedError or cls is ServiceUnavailableError:
            error = cls(
                text, retry_after=retry_after, status=status, code=code, error_type=error_type
            )
        else:
            error = cls(text, status=status, code=code, error_type=error_type)
        return _AttemptFailed(
            error,
            sent=True,
            retry_after=retry_after,
            provider_text=message,
            json_answer="json" in (content_type or "").lower(),
        )

    def _raise_if_error_body(self, data: object) -> None:
        """Some providers refuse an upload with a 2xx answer holding only an error."""
        if isinstance(data, dict) and "error" in data and "url" not in data:
            message, error_type, code = parse_error_object(data, redact=self._key.scrub)
            raise UploadRefusedError(
                _compose(UploadRefusedError, None, message), code=code, error_type=error_type
            )

    def _loggable(self, raw: bytes) -> str:
        """A provider answer fit for a log line: cleaned, without the key, about 2 KB."""
        text = raw[: 4 * _MAX_LOGGED_CHARS].decode("utf-8", errors="replace")
        return clean_text(text, limit=_MAX_LOGGED_CHARS, redact=self._key.scrub) or "(empty)"

    def _pause(self, seconds: float, cancel: threading.Event | None) -> None:
        """Sleep through ``self._sleep``, in short steps when it may be cancelled."""
        remaining = seconds
        while remaining > 0:
            _raise_if_cancelled(cancel)
            step = remaining if cancel is None else min(remaining, _CANCEL_CHECK_SECONDS)
            self._sleep(step)
            remaining -= step
        _raise_if_cancelled(cancel)

    def _stall_timeouts(self) -> httpx.Timeout:
        """Progress-based: each read or write may wait at most ``stall_timeout``."""
        base = self._http.timeout
        return httpx.Timeout(
            connect=base.connect, read=self._stall_timeout, write=self._stall_timeout,
            pool=base.pool,
        )

    def _api_url(self, path: str) -> str:
        return self._base_url + path

    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    def _api_headers(self) -> dict[str, str]:
        return {**self._auth_header(), "Accept-Encoding": "gzip, deflate"}


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


def _error_class(
    status: int, message: str | None, error_type: str | None, code: str | None
) -> type[KlingError]:
    """The API.md status table, with Kling's own codes that resellers forward."""
    if code in _NO_BALANCE_CODES and status in (402, 429):
        return InsufficientBalanceError
    if status == 403 and code in _NO_PERMISSION_CODES:
        return PermissionDeniedError
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


def _uncertain_unreadable() -> SubmissionUncertainError:
    return SubmissionUncertainError(
        "The provider accepted the new video task but its answer could not be "
        "read; the task may be running (and billed)."
    )


def _not_a_video() -> MalformedResponseError:
    return MalformedResponseError(
        "The provider sent a web page instead of the video.",
        fix="Try again later; if it keeps happening, contact the provider.",
    )


def _too_large(max_bytes: int) -> ResultTooLargeError:
    return ResultTooLargeError(
        f"The provider sent more than {_format_size(max_bytes)} for one video: "
        "this is not a video result."
    )


def _format_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _loads(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedResponseError() from None


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


def _read_limited(
    response: httpx.Response, limit: int, deadline: _Deadline, *, strict: bool = False
) -> bytes:
    """Up to ``limit`` decoded bytes of a body, read before ``deadline``.

    ``strict`` (a 2xx answer we need whole): a broken connection or a missed
    deadline is an :class:`_AttemptFailed` (sent), an unreadable encoding a
    :class:`MalformedResponseError`. Otherwise (an error body): whatever arrived.
    """
    body = bytearray()
    try:
        decoder = _Decoder(response.headers.get("Content-Encoding"))
        for raw in response.iter_raw():
            deadline.check()
            for piece in decoder.feed(raw):
                body += piece
                if len(body) >= limit:
                    return bytes(body[:limit])
    except httpx.TransportError as exc:
        if strict:
            raise _transport_failure(exc) from exc
    except (_AttemptFailed, MalformedResponseError):
        if strict:
            raise
    return bytes(body)


def _accept_result(
    response: httpx.Response, offset: int
) -> tuple[httpx.Response, int | None] | None:
    """``(response, full size or None)`` when its body continues the partial at ``offset``.

    A 200 is the whole video (the partial is overwritten), unless it is encoded
    while we hold a partial. A 206 must be unencoded, start at ``offset`` and run
    to the end. None (response closed): start again from byte 0.
    """
    length = _content_length(response)
    encoded = _Decoder(response.headers.get("Content-Encoding")).encoded
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
    decoder = _Decoder(response.headers.get("Content-Encoding"))
    sniff = done == 0
    try:
        for raw in response.iter_raw():
            _raise_if_cancelled(cancel)
            for piece in decoder.feed(raw):
                if sniff:
                    if _looks_like_html(piece):
                        raise _not_a_video()
                    sniff = False
                done += len(piece)
                if done > max_bytes:
                    raise _too_large(max_bytes)
                handle.write(piece)
            if progress is not None:
                progress(done, total or 0)
    except httpx.TransportError as exc:
        raise _AttemptFailed(IncompleteDownloadError(), sent=True) from exc
    return done


def _looks_like_html(head: bytes) -> bool:
    start = head[:64].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _join_url(base: httpx.URL, location: str) -> httpx.URL | None:
    if not location.strip():
        return None
    try:
        joined = base.join(location.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return joined if joined.scheme in ("http", "https") and joined.host else None


def _content_length(response: httpx.Response) -> int | None:
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


def _partial_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` lives, across calls and processes."""
    return dest.parent / f".{dest.name}.part"


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _unlink_quietly(path: Path) -> None:
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
