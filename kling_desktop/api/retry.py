"""When to try a failed call again, by what a repeat would cost.

:class:`RetryPolicy` says how long to wait (capped exponential backoff with
jitter, or the server's ``Retry-After``). :func:`error_class` turns an answer's
status and the provider's codes into a typed error, and :func:`final_error` /
:func:`is_retried` decide, per :class:`CallKind`, whether a failed try is final:
a create that may have arrived is never repeated.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from kling_desktop.api.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    InvalidRequestError,
    KlingError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    SubmissionUncertainError,
    UploadRefusedError,
)
from kling_desktop.i18n import _

if TYPE_CHECKING:
    import httpx

    NOT_SENT: tuple[type[httpx.TransportError], ...]
    """Transport errors raised before any byte of the request left this computer."""

__all__ = [
    "NOT_SENT",
    "AttemptFailed",
    "CallKind",
    "RetryPolicy",
    "compose",
    "error_class",
    "final_error",
    "is_retried",
    "may_have_created",
    "parse_retry_after",
    "transport_failure",
]

_MAX_EXPONENT = 62  # 2**62 * any sane base delay is far beyond max_delay
_NO_BALANCE_CODES = frozenset({"1101", "1102"})
_NO_PERMISSION_CODES = frozenset({"1103"})
_MAX_PROVIDER_TEXT = 300
_UPLOAD_REFUSAL_STATUSES = frozenset({400, 404, 405, 413, 415, 422})
_LINK_GONE_STATUSES = frozenset({401, 403, 404, 410})


def _not_sent() -> tuple[type[httpx.TransportError], ...]:
    """Transport errors raised before any byte of the request left this computer.

    Built on first use: httpx (~0.15 s of imports) is not needed to start the window."""
    import httpx

    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.PoolTimeout)


def __getattr__(name: str) -> object:
    # ``NOT_SENT`` stays importable by name without importing httpx with this module.
    if name == "NOT_SENT":
        return _not_sent()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a call is tried and how long to wait in between.

    ``max_attempts`` counts every try, the first included. The wait after the
    n-th failed try is ``base_delay * 2**(n-1)``, spread by ``±jitter`` (a
    fraction) and capped at ``max_delay``. A server's ``Retry-After`` replaces
    that computation, capped at ``max_retry_after``.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("delays must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_retry_after)
        exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
        backoff = min(self.max_delay, self.base_delay * 2.0**exponent)
        spread = random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return min(self.max_delay, backoff * spread)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if unusable.

    Fractional seconds are accepted (some servers send them); a date in the
    past means "now" (0.0).
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str, now: datetime | None) -> float | None:
    try:
        from email.utils import parsedate_to_datetime  # (rare: not at start-up)

        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())

# ------------------------------------------------------- what a failure means


class CallKind(Enum):
    """What repeating a call could cost; decides the retry rules."""

    READ = "read"
    DOWNLOAD = "download"  # a read of a result link, which may have expired
    CREATE = "create"
    UPLOAD = "upload"


class AttemptFailed(Exception):
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


def error_class(
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


def compose(cls: type[KlingError], status: int | None, provider_text: str | None) -> str:
    """The class's own words, the HTTP status and the provider's message (trimmed)."""
    text = _(cls.default_message)
    if status is not None:
        # TRANSLATORS: {message} is a whole sentence without its final full stop.
        text = _("{message} (HTTP {status}).").format(
            message=text.rstrip(".。"), status=status)
    if provider_text:
        if len(provider_text) > _MAX_PROVIDER_TEXT:
            provider_text = provider_text[: _MAX_PROVIDER_TEXT - 1] + "…"
        # TRANSLATORS: {provider_text} is the provider's own words, often in English.
        text = _("{message} The provider said: {provider_text}").format(
            message=text, provider_text=provider_text)
    return text


def transport_failure(exc: httpx.TransportError) -> AttemptFailed:
    import httpx  # loaded already: the caller caught one of its errors

    not_sent = _not_sent()
    if isinstance(exc, httpx.ProxyError):
        error = NetworkError(_("Could not connect through the proxy."))
    elif isinstance(exc, httpx.TimeoutException) and not isinstance(exc, not_sent):
        error = NetworkError(_("The video service did not answer in time."))
    else:
        error = NetworkError()
    return AttemptFailed(error, sent=not isinstance(exc, not_sent))


def final_error(kind: CallKind, failed: AttemptFailed) -> KlingError:
    """Translate a failure to what it means for this kind of call."""
    error = failed.error
    if kind is CallKind.CREATE and may_have_created(error, failed.sent):
        return SubmissionUncertainError(
            _("{message} Reason: {reason}").format(
                message=_(SubmissionUncertainError.default_message), reason=error.message),
            status=error.status, code=error.code, error_type=error.error_type,
        )
    if (
        kind is CallKind.UPLOAD
        and error.status in _UPLOAD_REFUSAL_STATUSES
        and not isinstance(error, ServiceUnavailableError)
    ):
        return UploadRefusedError(
            compose(UploadRefusedError, error.status, failed.provider_text),
            status=error.status, code=error.code, error_type=error.error_type,
        )
    if kind is CallKind.DOWNLOAD and error.status in _LINK_GONE_STATUSES:
        return NotFoundError(
            _("The video link no longer works (HTTP {status}); it may have expired.").format(
                status=error.status),
            fix=_("Result links expire 24 hours after the video is done: generate it again."),
            status=error.status, code=error.code, error_type=error.error_type,
        )
    return error


def may_have_created(error: KlingError, sent: bool) -> bool:
    return isinstance(error, ServerError) or (isinstance(error, NetworkError) and sent)


def is_retried(kind: CallKind, failed: AttemptFailed, error: KlingError) -> bool:
    if kind in (CallKind.READ, CallKind.DOWNLOAD):
        return error.retryable
    if isinstance(error, RateLimitedError | ServiceUnavailableError):
        return True
    return isinstance(error, NetworkError) and not failed.sent
