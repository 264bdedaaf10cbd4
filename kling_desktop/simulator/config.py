"""The simulator's knobs, injectable faults and request log records. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field

from kling_desktop.api.models import Model

#: Route names used by ``Simulator.inject`` and the request log.
#: ``file`` is ``GET /files/...`` (uploaded inputs), ``download`` is ``GET /results/...``.
ROUTES = ("upload", "create", "task", "download", "file", "any")

RESULT_SHAPES = ("results_strings", "results_objects", "output")
FAIL_FIELDS = ("error", "task_status_msg", "fail_reason", "none")

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

    @property
    def passes_through(self) -> bool:
        """True when the real answer is sent (possibly cut) rather than a replacement."""
        return 200 <= self.status < 300 and self.body is None

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
