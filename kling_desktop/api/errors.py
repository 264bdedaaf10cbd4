"""The provider's errors, typed, each with words a non-technical user can act on.

No message, repr or attribute of these errors ever holds the API key: the client
builds them from the provider's answer only, and scrubs the key from any text it
copies (see ``client._scrub``).
"""

from __future__ import annotations

# The ground floor's user-error base; the provider's errors below build on it.
from kling_desktop.errors import KlingError as KlingError
from kling_desktop.i18n import N_


class AuthenticationError(KlingError):
    default_message = N_("The API key was refused (invalid, expired or missing).")
    default_fix = N_("Open Settings and paste a valid API key from your provider's dashboard.")


class PermissionDeniedError(AuthenticationError):
    """403 with Kling's code 1103: the key works but may not use this model."""

    default_message = N_("The provider says this key may not use the chosen model.")
    default_fix = N_("Choose the other model, or check your plan at the provider.")


class InsufficientBalanceError(KlingError):
    default_message = N_("Your balance at the provider is too low for this video.")
    default_fix = N_("Top up your account at the provider, then try again.")


class InvalidRequestError(KlingError):
    default_message = N_("The provider refused the request as invalid.")
    default_fix = N_("Check the inputs and options; the provider's message says which one.")


class UploadRefusedError(InvalidRequestError):
    """The provider would not take this file (some resellers accept images only)."""

    default_message = N_("The provider refused to store this file.")
    default_fix = N_(
        "Put the file somewhere public (a link starting with https://) and paste "
        "that link instead of the local file."
    )


class NotFoundError(KlingError):
    default_message = N_("The provider does not know this task.")
    default_fix = N_(
        "Check the task id; tasks created with another key or provider are not visible.")


class RateLimitedError(KlingError):
    retryable = True
    default_message = N_("The provider is receiving too many requests right now.")
    default_fix = N_("Wait a minute and try again.")

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **kwargs: str | int | None) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(KlingError):
    """A 5xx other than 503. GETs may be retried; a create call must not be."""

    retryable = True
    default_message = N_("The provider had an internal error.")
    default_fix = N_("Try again in a few minutes.")


class ServiceUnavailableError(KlingError):
    """503, or 422 "no available channel": the task was not created."""

    retryable = True
    default_message = N_("The provider cannot serve this model right now.")
    default_fix = N_("Try again in a few minutes, or choose the other model.")

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **kwargs: str | int | None) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NetworkError(KlingError):
    """The provider could not be reached, or the connection broke."""

    retryable = True
    default_message = N_("Could not reach the video service.")
    default_fix = N_("Check your internet connection (and proxy settings), then try again.")


class IncompleteDownloadError(NetworkError):
    default_message = N_("The video download stopped before the whole file arrived.")
    default_fix = N_(
        "Try the download again; the link stays valid for 24 hours after the video is done."
    )


class MalformedResponseError(KlingError):
    default_message = N_("The provider sent an answer this app cannot read.")
    default_fix = N_(
        "Check the provider address in Settings. If it is right, the provider may be "
        "having trouble: try again later."
    )


class ResultTooLargeError(KlingError):
    """A result download went past its cap: whatever it is, it is not a video result.

    Never retried: the same link would send the same endless answer.
    """

    default_message = N_(
        "The provider sent more than 2 GiB for one video: this is not a video result."
    )
    default_fix = N_("Contact the provider; nothing was kept.")


class SubmissionUncertainError(KlingError):
    """A create call that may have reached the provider (500 or a timeout after sending).

    Never retried automatically: the provider may have accepted it and may bill it.
    """

    default_message = N_(
        "The provider did not confirm the new video task; it may or may not have been "
        "accepted (and billed)."
    )
    default_fix = N_(
        "Check the task list in your provider's dashboard before trying again, so the "
        "same video is not paid for twice."
    )


class LocalFileError(KlingError):
    """A file on this computer could not be read (upload) or written (download)."""

    default_message = N_("A file on this computer could not be read or written.")
    default_fix = N_(
        "Check that the file exists, the folder is writable and the disk has free space.")


class CancelledError(KlingError):
    default_message = N_("Cancelled.")
    default_fix = ""


class InsecureBaseURLError(KlingError):
    default_message = N_("The provider address must start with https://.")
    default_fix = N_(
        "Use the https:// address from your provider "
        "(plain http is allowed only on this computer)."
    )
