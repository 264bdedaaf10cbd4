"""When to try a failed call again: capped exponential backoff with jitter."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]

_MAX_EXPONENT = 62  # 2**62 * any sane base delay is far beyond max_delay


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
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())
