"""The simulator's knobs, injectable faults and request log records. Pure data.

Hostile faults (for the client's distrust tests), all injected with
``sim.inject(route, fault, times=n)``:

- ``Fault.garbage()`` an HTML page with status 200; ``Fault.empty()`` an empty 200;
- ``Fault.endless()`` (results) a body without length that streams until the
  client hangs up (or the simulator's hard limit, ``HOSTILE_LIMIT_SECONDS``);
- ``Fault.gzip_bomb(inflated_bytes)`` a small gzip body (``Content-Encoding:
  gzip``) that inflates to ``inflated_bytes`` zero bytes;
- ``Fault.dribble(seconds)`` the real answer, one byte every ``seconds`` (stops
  when the client hangs up, and after the hard limit);
- ``Fault.redirect(location, status=302)`` a redirect to any address (chain them
  by injecting several: each request takes the next one);
- ``Fault.patched(drop=(...), **fields)`` the real JSON answer with top-level
  fields replaced or removed: a bad task id (``id=".."``), an unknown status,
  ``completed`` without links (``status="completed", drop=("results", "output")``),
  ``usage`` / ``final_unit_deduction`` / ``cost``, another ``model``...

Also: ``Simulator.fail_next_task(..., field="all")`` puts the reason in every
error field (``error.code/message/type``, ``task_status_msg``, ``fail_reason``);
``SimulatorConfig.fresh_result_links`` gives each poll its own result link
(``?v=<poll count>``); ``SimulatorConfig.serve_ranges=False`` ignores ``Range``.

The result of a task is the uploaded reference clip (or ``paths.sample_motion()``
for a clip that is not an upload); when both inputs are uploads of the bundled
samples (same bytes, any name), or always with ``SimulatorConfig.demo_result``, it
is ``paths.sample_result()``: the sample character dancing the sample motion.
The request log records each request's query and whether it carried an
``Authorization`` header.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from kling_desktop.api.models import Model

#: Route names used by ``Simulator.inject`` and the request log.
#: ``file`` is ``GET /files/...`` (uploaded inputs), ``download`` is ``GET /results/...``.
ROUTES = ("upload", "create", "task", "download", "file", "any")

RESULT_SHAPES = ("results_strings", "results_objects", "output")
FAIL_FIELDS = ("error", "task_status_msg", "fail_reason", "all", "none")

_DEFAULT_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
}


def default_error_type(status: int) -> str:
    """The provider's ``error.type`` for a status (see API.md's table)."""
    if status in _DEFAULT_TYPES:
        return _DEFAULT_TYPES[status]
    if status >= 500:
        return "service_unavailable_error"
    return "invalid_request_error"


@dataclass
class SimulatorConfig:
    """Behaviour of a running simulator. Mutable: changes apply to the next request."""

    api_key: str | None = field(default=None, repr=False)  # None: any non-empty bearer
    polls_until_done: int = 3           # GETs of a task before it is completed
    estimated_time: int = 45            # task_info.estimated_time reported
    latency: float = 0.0                # seconds added before answering each /v1 call
    result_shape: str = "results_strings"   # one of RESULT_SHAPES
    upload_accepts_video: bool = True   # False: video uploads refused (415 + error body)
    upload_bytes_per_second: float | None = None    # throttle reading upload bodies
    download_bytes_per_second: float | None = None  # throttle serving files/results
    fresh_result_links: bool = False    # each poll gives a new result link (?v=<polls>)
    serve_ranges: bool = True           # False: "Range" ignored, results always 200
    demo_result: bool = False           # True: every result is paths.sample_result() (demo)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, answered instead of (or on top of) the real answer.

    - ``status`` >= 400 without ``body``: a JSON error body
      ``{"error": {"message", "type", "code"?}}``.
    - ``body``: raw bytes replacing the answer (``content_type`` defaults to JSON).
    - ``cut_after``: the full ``Content-Length`` is advertised, ``cut_after`` bytes of
      the body are sent, then the connection is closed. With a 2xx ``status`` and no
      ``body`` the real answer (e.g. the result video) is the one cut.
    - ``accept_anyway``: the request is really processed (e.g. the task is created)
      and then the fault is answered ("500 but accepted").
    - ``retry_after``: sent as the ``Retry-After`` header (seconds).
    - ``headers``: extra response headers (e.g. ``Location``, ``Content-Encoding``).
    - ``dribble_seconds``: the body goes out one byte every ``dribble_seconds``.
    - ``never_ends``: a body without length that never ends (until the client hangs up).
    - ``patch`` / ``drop``: top-level fields of the real JSON answer replaced / removed
      (2xx without ``body`` only).
    """

    status: int
    error_type: str | None = None
    message: str = ""
    code: str | None = None
    retry_after: float | None = None
    body: bytes | None = None
    content_type: str | None = None
    cut_after: int | None = None
    accept_anyway: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    dribble_seconds: float | None = None
    never_ends: bool = False
    patch: tuple[tuple[str, Any], ...] = ()
    drop: tuple[str, ...] = ()

    @property
    def passes_through(self) -> bool:
        """True when the real answer is sent (possibly cut) rather than a replacement."""
        return 200 <= self.status < 300 and self.body is None and not self.never_ends

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0) -> Fault:
        return cls(
            429,
            "rate_limit_error",
            "Rate limit reached for requests, please try again later",
            code="rate_limit_exceeded",
            retry_after=retry_after,
        )

    @classmethod
    def unavailable(cls) -> Fault:
        return cls(
            503,
            "service_unavailable_error",
            "The upstream service is temporarily unavailable, please try again later",
            code="service_unavailable",
        )

    @classmethod
    def server_error(cls) -> Fault:
        return cls(500, "server_error", "Internal server error", code="internal_error")

    @classmethod
    def unauthorized(cls) -> Fault:
        return cls(
            401, "authentication_error", "Invalid API key provided", code="invalid_api_key"
        )

    @classmethod
    def no_balance(cls) -> Fault:
        return cls(
            402,
            "insufficient_quota",
            "Insufficient account balance, please top up to continue",
            code="insufficient_quota",
        )

    @classmethod
    def no_channel(cls, model: str = Model.V3.value) -> Fault:
        return cls(
            422,
            "service_unavailable_error",
            f"no available channel for model {model}",
            code="model_not_available",
        )

    @classmethod
    def garbage(cls) -> Fault:
        body = (
            b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
            b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"
            b"</body></html>\n"
        )
        return cls(200, body=body, content_type="text/html; charset=utf-8")

    @classmethod
    def empty(cls) -> Fault:
        """A 200 with an empty body (typed as a video)."""
        return cls(200, body=b"", content_type="video/mp4")

    @classmethod
    def endless(cls) -> Fault:
        """A 200 video body without a length that streams until the client hangs up."""
        return cls(200, content_type="video/mp4", never_ends=True)

    @classmethod
    def gzip_bomb(cls, inflated_bytes: int) -> Fault:
        """A small gzip body (``Content-Encoding: gzip``) inflating to ``inflated_bytes``."""
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = bytes(1024 * 1024)
        parts: list[bytes] = []
        left = inflated_bytes
        while left > 0:
            parts.append(packer.compress(block[: min(left, len(block))]))
            left -= len(block)
        parts.append(packer.flush())
        return cls(200, body=b"".join(parts), content_type="application/json",
                   headers=(("Content-Encoding", "gzip"),))

    @classmethod
    def dribble(cls, seconds_per_byte: float) -> Fault:
        """The real answer, one byte every ``seconds_per_byte``."""
        if seconds_per_byte <= 0:
            raise ValueError("seconds_per_byte must be > 0")
        return cls(200, dribble_seconds=seconds_per_byte)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Fault:
        return cls(status, body=b"", content_type="text/plain",
                   headers=(("Location", location),))

    @classmethod
    def patched(cls, drop: tuple[str, ...] = (), **fields: Any) -> Fault:
        """The real JSON answer with ``fields`` replaced (or added) and ``drop`` removed."""
        return cls(200, patch=tuple(fields.items()), drop=tuple(drop))

    @classmethod
    def cut_download(cls, at_bytes: int) -> Fault:
        if at_bytes < 0:
            raise ValueError("at_bytes must be >= 0")
        return cls(200, cut_after=at_bytes)


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered. ``time`` is ``time.monotonic()`` at arrival."""

    method: str
    path: str
    route: str
    status: int
    time: float
    query: str = field(default="", compare=False)
    authorized: bool = field(default=False, compare=False)  # an Authorization header came
