"""What the job service's scheduler and its steps share about a followed job.

A :class:`Followed` job (its place in time, its hold, its cancel), the :class:`Step`
it takes next, the :class:`Note` the service says about it, how long to wait after
a refusal (:func:`backoff`), which errors mean what (:func:`classify`), and the
fields a step clears. Plain data and pure rules: no store, no network.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from kling_desktop.api import errors as api_errors
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job
from kling_desktop.sources import is_link

UPLOAD_REUSE_SECONDS = 3600.0     # an upload URL is reused by a later send try this long
BLOCKED_RECHECK = 300.0           # a job blocked on a key/balance/permission is looked at again
SEND_BACKOFF = (2.0, 300.0)       # after a definite "not now" to a create call


JobCallback = Callable[[Job], None]


@dataclass(frozen=True)
class Note:
    """What the service knows about a job that is not stored: its place in line, its holder."""

    job_id: int
    kind: str           # "in_line" | "held" | "" (nothing to say any more)
    text: str
    position: int = 0


class Step(Enum):
    SEND = "send"
    POLL = "poll"
    DOWNLOAD = "download"


@dataclass(eq=False)
class Followed:
    """A job the service follows, as its steps and its scheduler see it."""

    job: Job
    until_submitted: bool = False
    due: float = 0.0                  # time.monotonic() of its next step
    busy: bool = False
    held: bool = False                # this process holds its lock
    cancel: threading.Event = field(default_factory=threading.Event)
    user_cancelled: bool = False
    odd_polls: int = 0
    note: Note | None = None
    transfer: bool = False            # the running step holds a transfer place


def backoff(attempt: int, bounds: tuple[float, float], retry_after: float | None = None) -> float:
    first, longest = bounds
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        return min(retry_after, longest)
    delay = first * 2.0 ** max(0, min(attempt - 1, 16))
    return min(longest, delay * random.uniform(0.85, 1.0))


CLEARED_ERROR: dict[str, object] = dict(
    error_kind=None, error_code=None, error_message=None, error_fix=None, blocked_on=None)
CLEARED_TASK: dict[str, object] = dict(
    task_id=None, provider_status=None, progress=0, transfer_done=0, transfer_total=0,
    submitted_at=None, completed_at=None, result_url=None, result_expires_at=None,
    next_poll_at=None, download_attempts=0, image_url=None, video_url=None, uploaded_at=None)

BLOCKED_KINDS: dict[BlockedOn, FailureKind] = {
    BlockedOn.KEY: FailureKind.AUTH,
    BlockedOn.BALANCE: FailureKind.BALANCE,
    BlockedOn.PERMISSION: FailureKind.AUTH,
    BlockedOn.NETWORK: FailureKind.RETRYABLE,
    BlockedOn.LINK: FailureKind.RETRYABLE,
    BlockedOn.PROVIDER: FailureKind.PROVIDER,
    BlockedOn.DISK: FailureKind.UNKNOWN,
}


def needs_upload(job: Job) -> bool:
    fresh = job.uploaded_at is not None and time.time() - job.uploaded_at < UPLOAD_REUSE_SECONDS
    return any(not is_link(source) and not (fresh and known)
               for source, known in ((job.spec.image, job.image_url),
                                     (job.spec.video, job.video_url)))


def classify(exc: api_errors.KlingError) -> FailureKind:
    """What the user can do about an error, in one word."""
    if isinstance(exc, api_errors.AuthenticationError):
        return FailureKind.AUTH
    if isinstance(exc, api_errors.InsufficientBalanceError):
        return FailureKind.BALANCE
    if isinstance(exc, api_errors.UploadRefusedError):
        return FailureKind.UPLOAD_REFUSED
    if isinstance(exc, api_errors.InvalidRequestError):
        return FailureKind.INVALID
    if exc.retryable:
        return FailureKind.RETRYABLE
    if isinstance(exc, api_errors.NotFoundError):
        return FailureKind.PROVIDER
    return FailureKind.UNKNOWN
