"""One provider's connection: the key in its wrapper, one request sent and read under caps.

Every request goes through :meth:`ProviderConnection.send`: one try, an open 2xx
answer back or an :class:`~kling_desktop.api.retry.AttemptFailed`; a non-2xx
answer's body is read (64 KiB, decoded) into the typed error. Answers are read
whole under a decoded cap (1 MiB of JSON) before a deadline.
:meth:`ProviderConnection.retrying` repeats a call by the rules of
:mod:`kling_desktop.api.retry`. Log lines carry method, path, status and time only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from kling_desktop.api.errors import (
    KlingError,
    MalformedResponseError,
    RateLimitedError,
    ServiceUnavailableError,
    UploadRefusedError,
)
from kling_desktop.api.links import is_secure, origin
from kling_desktop.api.parse import clean_text, parse_error_body, parse_error_object
from kling_desktop.api.retry import (
    AttemptFailed,
    CallKind,
    RetryPolicy,
    compose,
    error_class,
    final_error,
    is_retried,
    parse_retry_after,
    transport_failure,
)
from kling_desktop.api.transfer import REDIRECT_STATUSES, Deadline, raise_if_cancelled, read_limited
from kling_desktop.i18n import _

__all__ = ["MAX_JSON_BYTES", "ProviderConnection", "Secret", "loads"]

log = logging.getLogger("kling_desktop.api")

MAX_JSON_BYTES = 1024 * 1024
_MAX_ERROR_BYTES = 64 * 1024
_ERROR_BODY_SECONDS = 10.0
_MAX_LOGGED_CHARS = 2000
_CANCEL_CHECK_SECONDS = 0.2

_T = TypeVar("_T")


class Secret:
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


class ProviderConnection:
    """The plumbing of calls to one provider; holds no mutable state (thread-safe)."""

    def __init__(
        self,
        base_url: str,
        key: Secret,
        http: httpx.Client,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        stall_timeout: float,
    ) -> None:
        """``base_url`` has passed :func:`~kling_desktop.api.links.validate_base_url`."""
        base = httpx.URL(base_url)
        self.base_url = base_url
        self.origin = origin(base)
        self.local_provider = base.scheme == "http" and is_secure(base)
        self.key = key
        self.http = http
        self.retry = retry
        self.sleep = sleep
        self.stall_timeout = stall_timeout

    def link_allowed(self, url: httpx.URL) -> bool:
        """https anywhere; plain http only to this computer, from a provider on it."""
        if url.scheme == "https":
            return True
        return self.local_provider and is_secure(url)

    def retrying(
        self,
        kind: CallKind,
        attempt: Callable[[], _T],
        cancel: threading.Event | None,
        *,
        retry: bool = True,
    ) -> _T:
        """Run ``attempt`` under ``kind``'s retry rules; raise the final KlingError."""
        limit = self.retry.max_attempts if retry else 1
        number = 1
        while True:
            raise_if_cancelled(cancel)
            try:
                return attempt()
            except AttemptFailed as failed:
                error = final_error(kind, failed)
                if number >= limit or not is_retried(kind, failed, error):
                    raise error from failed.__cause__
                self.pause(self.retry.delay(number, failed.retry_after), cancel)
                number += 1

    def send(
        self,
        request: httpx.Request,
        *,
        deadline: Deadline | None = None,
        redirects: bool = False,
    ) -> httpx.Response:
        """Send once; return the open 2xx (or, with ``redirects``, 3xx) response.

        Anything else raises :class:`AttemptFailed`.
        """
        started = time.monotonic()
        try:
            response = self.http.send(request, stream=True, follow_redirects=False)
        except httpx.TransportError as exc:
            _log_request(request, type(exc).__name__, started)
            raise transport_failure(exc) from exc
        _log_request(request, str(response.status_code), started)
        if response.is_success or (redirects and response.status_code in REDIRECT_STATUSES):
            return response
        with contextlib.closing(response):
            body = read_limited(
                response, _MAX_ERROR_BYTES, deadline or Deadline(_ERROR_BODY_SECONDS)
            )
            raise self.status_failure(response, body)

    def read_body(self, response: httpx.Response, limit: int, deadline: Deadline) -> bytes:
        """The decoded body of a 2xx answer (closes it); more than ``limit`` is malformed."""
        with contextlib.closing(response):
            body = read_limited(response, limit + 1, deadline, strict=True)
        if len(body) > limit:
            raise MalformedResponseError(_("The provider's answer is unexpectedly large."))
        return body

    def read_json(self, response: httpx.Response, deadline: Deadline) -> object:
        """The decoded JSON body of a 2xx answer (closes it); garbage is malformed."""
        return loads(self.read_body(response, MAX_JSON_BYTES, deadline))

    def status_failure(self, response: httpx.Response, body: bytes) -> AttemptFailed:
        """The typed error for a non-2xx answer (API.md status table, Kling's codes)."""
        status = response.status_code
        content_type = response.headers.get("Content-Type")
        message, error_type, code = parse_error_body(body, content_type, redact=self.key.scrub)
        cls = error_class(status, message, error_type, code)
        text = compose(cls, status, message)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error: KlingError
        if cls is RateLimitedError or cls is ServiceUnavailableError:
            error = cls(
                text, retry_after=retry_after, status=status, code=code, error_type=error_type
            )
        else:
            error = cls(text, status=status, code=code, error_type=error_type)
        return AttemptFailed(
            error,
            sent=True,
            retry_after=retry_after,
            provider_text=message,
            json_answer="json" in (content_type or "").lower(),
        )

    def raise_if_error_body(self, data: object) -> None:
        """Some providers refuse an upload with a 2xx answer holding only an error."""
        if isinstance(data, dict) and "error" in data and "url" not in data:
            message, error_type, code = parse_error_object(data, redact=self.key.scrub)
            raise UploadRefusedError(
                compose(UploadRefusedError, None, message), code=code, error_type=error_type
            )

    def loggable(self, raw: bytes) -> str:
        """A provider answer fit for a log line: cleaned, without the key, about 2 KB."""
        text = raw[: 4 * _MAX_LOGGED_CHARS].decode("utf-8", errors="replace")
        return clean_text(text, limit=_MAX_LOGGED_CHARS, redact=self.key.scrub) or "(empty)"

    def pause(self, seconds: float, cancel: threading.Event | None) -> None:
        """Sleep through ``self.sleep``, in short steps when it may be cancelled."""
        remaining = seconds
        while remaining > 0:
            raise_if_cancelled(cancel)
            step = remaining if cancel is None else min(remaining, _CANCEL_CHECK_SECONDS)
            self.sleep(step)
            remaining -= step
        raise_if_cancelled(cancel)

    def stall_timeouts(self) -> httpx.Timeout:
        """Progress-based: each read or write may wait at most ``stall_timeout``."""
        base = self.http.timeout
        return httpx.Timeout(
            connect=base.connect, read=self.stall_timeout, write=self.stall_timeout,
            pool=base.pool,
        )

    def api_url(self, path: str) -> str:
        return self.base_url + path

    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key.reveal()}"}

    def api_headers(self) -> dict[str, str]:
        return {**self.auth_header(), "Accept-Encoding": "gzip, deflate"}


def loads(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedResponseError() from None


def _log_request(request: httpx.Request, outcome: str, started: float) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    log.debug("%s %s -> %s in %.0f ms", request.method, request.url.path, outcome, elapsed_ms)
