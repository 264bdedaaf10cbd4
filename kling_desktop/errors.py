"""The one user-error base: what happened (``message``) and what to do (``fix``).

Every layer raises it for what a person can act on (bad input, a refused key, a
full disk, a provider that said no); anything else is a bug. It lives on the
ground floor so that the store, the library, the media probe, the secrets and
the API client all share it without importing each other.
"""

from __future__ import annotations

from kling_desktop.i18n import N_, _

__all__ = ["KlingError", "error_text"]


class KlingError(Exception):
    """An error the user can act on.

    ``message`` says what happened, ``fix`` what the user can do about it.
    ``retryable`` says whether trying the same call again later may succeed
    without the user changing anything. ``status`` / ``code`` / ``error_type``
    are the provider's, when it said something.
    """

    retryable = False
    # Marked here, translated when the error is made (a subclass overrides them with N_()).
    default_message = N_("The video service returned an error.")
    default_fix = N_("Try again later. If it keeps happening, contact the provider.")

    def __init__(
        self,
        message: str | None = None,
        *,
        fix: str | None = None,
        status: int | None = None,
        code: str | None = None,
        error_type: str | None = None,
    ) -> None:
        self.message = message or _(self.default_message)
        self.fix = fix if fix is not None else (_(self.default_fix) if self.default_fix else "")
        self.status = status
        self.code = code
        self.error_type = error_type
        super().__init__(self.message)

    def __str__(self) -> str:
        return error_text(self)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


def error_text(error: BaseException, *, separator: str = " ") -> str:
    """An error in words for a person: the message, then the fix (if any)."""
    if isinstance(error, KlingError):
        return separator.join(part for part in (error.message, error.fix) if part).strip()
    return str(error) or type(error).__name__
