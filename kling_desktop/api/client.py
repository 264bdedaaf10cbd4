"""The provider's HTTP API (``../shared/API.md``) over httpx: typed calls, typed errors.

:class:`KlingClient` makes the calls (upload, create, poll, download, key check).
The provider is not trusted, and the rules live next to what they guard:

- :mod:`kling_desktop.api.connection`: one request sent and read under a total
  deadline (``api_deadline`` for polls and the key check, ``create_deadline``
  for a new task) and a decoded size cap (1 MiB of JSON, 64 KiB of error body);
- :mod:`kling_desktop.api.transfer`: streamed uploads, resumable downloads
  (``.<name>.part``, ``Range``), decoded size caps (``max_bytes``, 2 GiB: past it
  :class:`ResultTooLargeError`), redirects followed by hand and checked;
- :mod:`kling_desktop.api.retry`: what repeating a call could cost. Reads are
  retried on 429, 5xx and network trouble; ``create_task`` only when the answer
  proves no task was created (429, 503, 422 "no available channel", a
  connection refused before sending), anything else that may have created one
  is :class:`SubmissionUncertainError`; ``retry=False`` turns retries off;
- :mod:`kling_desktop.api.parse`: ids pass ``validate_id`` (also the id we are
  asked to poll), every provider text is cleaned and scrubbed of the key.

The API key lives in a masked wrapper, goes only into the ``Authorization``
header of requests to the base URL's origin, and is scrubbed from any provider
text; an unreadable create answer is logged once at WARNING, cleaned, scrubbed
and cut at 2 KB, so the user can compare with the provider's dashboard.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

from kling_desktop import __version__
from kling_desktop.api.connection import MAX_JSON_BYTES, ProviderConnection, Secret, loads
from kling_desktop.api.errors import (
    AuthenticationError,
    InsecureBaseURLError,
    LocalFileError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    ResultTooLargeError,
    SubmissionUncertainError,
)
from kling_desktop.api.exchange import GenerationRequest, Task, UploadedFile
from kling_desktop.api.links import parse_url, validate_base_url
from kling_desktop.api.parse import parse_task, parse_uploaded_file, validate_id
from kling_desktop.api.retry import AttemptFailed, CallKind, RetryPolicy
from kling_desktop.api.transfer import (
    Deadline,
    ProgressCallback,
    ProgressReader,
    download_once,
    partial_path,
    unlink_quietly,
)
from kling_desktop.i18n import N_, _
from kling_desktop.keys import InvalidKeyError, check_key

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

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=10.0)
DEFAULT_MAX_RESULT_BYTES = 2 * 1024**3
_KEY_CHECK_TASK_ID = "task-unified-0000000000-keycheck"


SOCKET_READ_BYTES = 1024 * 1024


def _read_in_large_pieces() -> None:
    """Let httpcore read up to 1 MiB per socket call instead of 64 KiB.

    Its HTTP/1.1 receive buffer copies every piece in and out again; with 64 KiB
    pieces that copying and the per-call work held a 1 GiB loopback download at about
    0.8x curl's throughput, with 1 MiB pieces it matches curl (benchmarks/
    bench_download.py). A read still returns whatever has arrived, so the stall and
    deadline checks are unchanged. The knob is a class attribute of httpcore (no
    public setting exists): left alone if a release renames it.
    """
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:  # pragma: no cover - another httpcore layout
        return
    if isinstance(getattr(HTTP11Connection, "READ_NUM_BYTES", None), int):
        HTTP11Connection.READ_NUM_BYTES = max(HTTP11Connection.READ_NUM_BYTES,
                                              SOCKET_READ_BYTES)


def make_http_client(
    *, proxy: str | None = None, timeout: httpx.Timeout | None = None
) -> httpx.Client:
    """An httpx client for the provider: TLS verified, explicit timeouts, no redirects.

    Downloads opt into redirects per request. ``proxy`` is an ``http://``,
    ``https://`` or ``socks5://`` URL; without it the environment's proxy
    settings apply. Raises :class:`NetworkError` for an unusable proxy address.
    """
    _read_in_large_pieces()
    try:
        return httpx.Client(
            proxy=proxy or None,
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": f"kling-motion-studio/{__version__}"},
        )
    except (ValueError, ImportError, httpx.InvalidURL):
        raise NetworkError(
            _("The proxy address cannot be used."),
            fix=_("Open Settings and correct the proxy (e.g. http://host:8080)."),
        ) from None


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
        self._key = Secret(_usable_key(api_key))
        self._http = http if http is not None else make_http_client()
        self._owns_http = http is None
        self._api_deadline = api_deadline
        self._create_deadline = create_deadline
        self._conn = ProviderConnection(
            self._base_url, self._key, self._http, retry=retry or RetryPolicy(), sleep=sleep,
            stall_timeout=stall_timeout,
        )

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
            reader = ProgressReader(path, progress, cancel)
        except OSError as exc:
            raise LocalFileError(
                # TRANSLATORS: {reason} is the system's own words, e.g. "Permission denied".
                _("The file '{name}' could not be read ({reason}).").format(
                    name=path.name, reason=exc.strerror or exc),
                fix=_("Check that the file still exists and can be opened."),
            ) from exc
        with reader:

            def attempt() -> UploadedFile:
                request = self._http.build_request(
                    "POST",
                    self._conn.api_url("/v1/files/upload/stream"),
                    data={"file_name": path.name},
                    files={"file": (path.name, reader)},
                    headers=self._conn.auth_header(),
                    timeout=self._conn.stall_timeouts(),
                )
                response = self._conn.send(request)
                data = self._conn.read_json(response, Deadline(self._api_deadline))
                self._conn.raise_if_error_body(data)
                return parse_uploaded_file(data, redact=self._key.scrub)

            return self._conn.retrying(CallKind.UPLOAD, attempt, cancel)

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
            deadline = Deadline(self._create_deadline)
            http_request = self._http.build_request(
                "POST", self._conn.api_url("/v1/videos/generations"), json=body,
                headers=self._conn.api_headers(), timeout=deadline.timeout(self._http.timeout),
            )
            response = self._conn.send(http_request, deadline=deadline)
            status = response.status_code
            try:
                raw = self._conn.read_body(response, MAX_JSON_BYTES, deadline)
            except MalformedResponseError as exc:
                log.warning("The provider's answer to a new task could not be read "
                            "(HTTP %s): %s", status, exc.message)
                raise _uncertain_unreadable() from None
            try:
                return parse_task(loads(raw), redact=self._key.scrub)
            except MalformedResponseError:
                log.warning("The provider's answer to a new task could not be read "
                            "(HTTP %s): %s", status, self._conn.loggable(raw))
                raise _uncertain_unreadable() from None

        return self._conn.retrying(CallKind.CREATE, attempt, cancel, retry=retry)

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
        checked = validate_id(task_id, what=N_("task id"), redact=self._key.scrub)
        return self._conn.retrying(
            CallKind.READ, lambda: self._fetch_task(checked, sync_upstream), cancel, retry=retry
        )

    def check_key(self) -> None:
        """One cheap authenticated call: asks for a task that does not exist.

        The API's JSON 404 proves the key was accepted. A 404 page from some other
        web server means a wrong address: :class:`MalformedResponseError`. Raises
        :class:`AuthenticationError`, :class:`NetworkError` or another
        :class:`KlingError`. Not retried: the answer is wanted now.
        """
        deadline = Deadline(self._api_deadline)
        request = self._http.build_request(
            "GET", self._conn.api_url(f"/v1/tasks/{_KEY_CHECK_TASK_ID}"),
            headers=self._conn.api_headers(), timeout=deadline.timeout(self._http.timeout),
        )
        try:
            self._conn.read_json(self._conn.send(request, deadline=deadline), deadline)
        except AttemptFailed as failed:
            if isinstance(failed.error, NotFoundError):
                if failed.json_answer:
                    return
                raise MalformedResponseError(
                    _("The provider address did not answer like the video service (HTTP 404).")
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
        partial = partial_path(dest)
        target = parse_url(url)
        try:
            if target is None or not self._conn.link_allowed(target):
                unlink_quietly(partial)
                raise InsecureBaseURLError(
                    _("The video link from the provider is not a secure (https://) address."),
                    fix=_("Contact the provider; the app only downloads over https."),
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not resume:
                partial.unlink(missing_ok=True)
            return self._conn.retrying(
                CallKind.DOWNLOAD,
                lambda: download_once(
                    self._conn, target, dest, partial, max_bytes, progress, cancel
                ),
                cancel,
            )
        except (ResultTooLargeError, InsecureBaseURLError, MalformedResponseError):
            unlink_quietly(partial)
            raise
        except OSError as exc:  # httpx wraps socket errors: these are the file system's
            raise LocalFileError(
                # TRANSLATORS: {reason} is the system's own words, e.g. "No space left on device".
                _("The video could not be saved ({reason}).").format(
                    reason=exc.strerror or exc),
                fix=_("Check the free disk space and that the library folder is writable."),
            ) from exc

    def _fetch_task(self, task_id: str, sync_upstream: bool) -> Task:
        deadline = Deadline(self._api_deadline)
        request = self._http.build_request(
            "GET", self._conn.api_url(f"/v1/tasks/{task_id}"),
            params={"sync_upstream": "true"} if sync_upstream else None,
            headers=self._conn.api_headers(), timeout=deadline.timeout(self._http.timeout),
        )
        data = self._conn.read_json(self._conn.send(request, deadline=deadline), deadline)
        return parse_task(data, redact=self._key.scrub)


def _usable_key(api_key: str) -> str:
    """The key stripped (:func:`kling_desktop.keys.check_key`); a refusal is an auth error."""
    try:
        return check_key(api_key)
    except InvalidKeyError as exc:
        raise AuthenticationError(exc.message, fix=exc.fix) from None


def _uncertain_unreadable() -> SubmissionUncertainError:
    return SubmissionUncertainError(
        _("The provider accepted the new video task but its answer could not be "
          "read; the task may be running (and billed).")
    )
