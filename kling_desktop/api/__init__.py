"""Typed HTTP client for the provider's unified-task video API (pure Python, no Qt).

See ``../shared/API.md`` for the contract and :mod:`kling_desktop.api.client`
for the retry rules.
"""

from typing import TYPE_CHECKING

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
from kling_desktop.api.models import (
    DEFAULT_BASE_URL,
    MAX_PROMPT_CHARS,
    GenerationOptions,
    Mode,
    Model,
    Orientation,
    TaskStatus,
)

if TYPE_CHECKING:
    from kling_desktop.api.client import (
        DEFAULT_TIMEOUT,
        KlingClient,
        ProgressCallback,
        make_http_client,
        validate_base_url,
    )
    from kling_desktop.api.exchange import GenerationRequest, Task, TaskError, UploadedFile
    from kling_desktop.api.parse import (
        parse_error_body,
        parse_error_object,
        parse_task,
        parse_uploaded_file,
        validate_id,
    )
    from kling_desktop.api.retry import RetryPolicy, parse_retry_after

# The client pulls in httpx (~0.2 s of imports), the parsers and the retry rules
# another ~40 ms, what is sent and answered ~4 ms: loaded on first use, so the window
# and the gallery, which only need models and errors, start faster.
_LAZY = {
    "GenerationRequest": "exchange", "Task": "exchange", "TaskError": "exchange",
    "UploadedFile": "exchange",
    "DEFAULT_TIMEOUT": "client", "KlingClient": "client", "ProgressCallback": "client",
    "make_http_client": "client", "validate_base_url": "client",
    "parse_error_body": "parse", "parse_error_object": "parse", "parse_task": "parse",
    "parse_uploaded_file": "parse", "validate_id": "parse",
    "RetryPolicy": "retry", "parse_retry_after": "retry",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is not None:
        from importlib import import_module

        return getattr(import_module(f"kling_desktop.api.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "MAX_PROMPT_CHARS",
    "AuthenticationError",
    "CancelledError",
    "GenerationOptions",
    "GenerationRequest",
    "IncompleteDownloadError",
    "InsecureBaseURLError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "KlingClient",
    "KlingError",
    "LocalFileError",
    "MalformedResponseError",
    "Mode",
    "Model",
    "NetworkError",
    "NotFoundError",
    "Orientation",
    "PermissionDeniedError",
    "ProgressCallback",
    "RateLimitedError",
    "ResultTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SubmissionUncertainError",
    "Task",
    "TaskError",
    "TaskStatus",
    "UploadRefusedError",
    "UploadedFile",
    "make_http_client",
    "parse_error_body",
    "parse_error_object",
    "parse_retry_after",
    "parse_task",
    "parse_uploaded_file",
    "validate_base_url",
    "validate_id",
]
