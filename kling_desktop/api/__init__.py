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
    GenerationRequest,
    Mode,
    Model,
    Orientation,
    Task,
    TaskError,
    TaskStatus,
    UploadedFile,
)
from kling_desktop.api.parse import (
    parse_error_body,
    parse_error_object,
    parse_task,
    parse_uploaded_file,
    validate_id,
)
from kling_desktop.api.retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    from kling_desktop.api.client import (
        DEFAULT_TIMEOUT,
        KlingClient,
        ProgressCallback,
        make_http_client,
        validate_base_url,
    )

# The client pulls in httpx (~0.2 s of imports): loaded on first use, so the
# window and the gallery, which only need models and errors, start faster.
_LAZY_CLIENT = frozenset(
    {"DEFAULT_TIMEOUT", "KlingClient", "ProgressCallback", "make_http_client",
     "validate_base_url"})


def __getattr__(name: str) -> object:
    if name in _LAZY_CLIENT:
        from kling_desktop.api import client

        return getattr(client, name)
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
