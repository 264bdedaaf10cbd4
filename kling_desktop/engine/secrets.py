"""The API key: ``KLING_API_KEY`` from the environment, else the OS keyring. Never a file.

Only keyring backends that really keep secrets safe are used (Secret Service /
KWallet on Linux, Keychain on macOS, Credential Manager on Windows). Backends
that do nothing or write plain files (``fail``, ``null``, ``keyrings.alt``)
are refused with :class:`KeyringUnavailableError`, whose fix says what to do.
The key never appears in a log line, an error message or a repr.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import keyring
import keyring.backend
import keyring.errors

from kling_desktop.api.errors import KlingError

__all__ = [
    "DEFAULT_SERVICE",
    "ENV_KEY",
    "ENV_SERVICE",
    "USERNAME",
    "KeyringStatus",
    "KeyringUnavailableError",
    "delete_api_key",
    "get_api_key",
    "key_source",
    "keyring_status",
    "service_name",
    "store_api_key",
]

log = logging.getLogger(__name__)

ENV_KEY: Final = "KLING_API_KEY"
ENV_SERVICE: Final = "KLING_KEYRING_SERVICE"
DEFAULT_SERVICE: Final = "kling-desktop"
USERNAME: Final = "api-key"

KeySource = Literal["environment", "keyring"]

# Backends that keep nothing, or keep it in a plain/obfuscated file.
_REFUSED_MODULES: Final = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _platform_fix() -> str:
    if sys.platform == "darwin":
        return ("Open Keychain Access and make sure your login keychain is unlocked, "
                "or set KLING_API_KEY for this session.")
    if sys.platform == "win32":
        return ("Sign in to Windows with your own account so Credential Manager is available, "
                "or set KLING_API_KEY for this session.")
    return ("Install and unlock a Secret Service such as GNOME Keyring or KWallet, "
            "or set KLING_API_KEY for this session.")


class KeyringUnavailableError(KlingError):
    """No safe place to keep the key on this computer right now."""

    default_message = "This computer has no usable safe place (keyring) for the API key."

    def __init__(self, message: str | None = None, fix: str | None = None) -> None:
        super().__init__(message, fix=fix if fix is not None else _platform_fix())


@dataclass(frozen=True)
class KeyringStatus:
    ok: bool
    backend: str
    message: str
    fix: str


def service_name(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(ENV_SERVICE, "").strip() or DEFAULT_SERVICE


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    name = getattr(backend, "name", None)
    return name if isinstance(name, str) and name else f"{cls.__module__}.{cls.__qualname__}"


def _refused(backend: Any) -> bool:
    module = type(backend).__module__
    return any(module == bad or module.startswith(bad + ".") for bad in _REFUSED_MODULES)


def _safe_backend() -> Any:
    """The keyring backend to use, or raise :class:`KeyringUnavailableError`.

    A chainer is unwrapped to its first safe member, so a key is never written
    to a file backend that happens to be chained after a real one.
    """
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring installation
        log.warning("keyring: could not load a backend: %s", type(exc).__name__)
        raise KeyringUnavailableError() from None
    candidates = [backend]
    chained = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" or isinstance(chained, list):
        candidates = list(chained or [])
    for candidate in candidates:
        if not _refused(candidate):
            return candidate
    log.info("keyring: no safe backend (found %s)", _backend_name(backend))
    raise KeyringUnavailableError(
        f"This computer has no usable safe place (keyring) for the API key "
        f"(only {_backend_name(backend)} is available)."
    )


def _env_key(environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(ENV_KEY, "").strip()
    return value or None


def _call(backend: Any, method: str, *args: str, failure: str) -> Any:
    """``backend.<method>(*args)``; any failure becomes :class:`KeyringUnavailableError`.

    The backend's own exception is dropped (only its type is logged): its text
    could quote what was being stored. ``delete_password`` of a missing entry
    returns None.
    """
    error_name: str | None = None
    with warnings.catch_warnings():
        # keyring's Secret Service backend leaves its D-Bus connection open when it
        # fails (no default collection, locked, prompt dismissed). Finalise that
        # connection here, quietly, instead of at some random later moment.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return getattr(backend, method)(*args)
        except keyring.errors.PasswordDeleteError:
            if method == "delete_password":
                return None
            error_name = "PasswordDeleteError"
        except Exception as exc:  # locked, dismissed unlock prompt, D-Bus trouble...
            error_name = type(exc).__name__
        if type(backend).__module__.startswith("keyring.backends.SecretService"):
            gc.collect()
    log.warning("keyring: %s failed (%s): %s", method, _backend_name(backend), error_name)
    raise KeyringUnavailableError(failure)


def _read_keyring(environ: Mapping[str, str] | None = None) -> str | None:
    backend = _safe_backend()
    value = _call(backend, "get_password", service_name(environ), USERNAME,
                  failure=f"The keyring ({_backend_name(backend)}) could not be opened: "
                          "it may be locked or not set up.")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def get_api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """``KLING_API_KEY`` (stripped) if set, else the key in the keyring, else None.

    Returns None when no safe keyring exists; raises :class:`KeyringUnavailableError`
    when a real keyring exists but cannot be read (for example it stays locked).
    """
    from_env = _env_key(environ)
    if from_env is not None:
        return from_env
    try:
        _safe_backend()
    except KeyringUnavailableError:
        return None
    return _read_keyring(environ)


def key_source(environ: Mapping[str, str] | None = None) -> KeySource | None:
    """Where :func:`get_api_key` finds the key; None when there is none (or no readable keyring)."""
    if _env_key(environ) is not None:
        return "environment"
    try:
        return "keyring" if _read_keyring(environ) is not None else None
    except KeyringUnavailableError:
        return None


def store_api_key(key: str) -> None:
    """Keep ``key`` in the OS keyring (and nowhere else); checked by reading it back."""
    key = key.strip()
    if not key:
        raise ValueError("the API key is empty")
    backend = _safe_backend()
    name = _backend_name(backend)
    service = service_name()
    failure = f"The API key could not be saved in the keyring ({name}); it may be locked."
    _call(backend, "set_password", service, USERNAME, key, failure=failure)
    if _call(backend, "get_password", service, USERNAME, failure=failure) != key:
        raise KeyringUnavailableError(f"The keyring ({name}) did not keep the API key.")
    log.info("keyring: API key saved (%s)", name)


def delete_api_key() -> None:
    """Remove the key from the keyring; nothing happens when none is stored."""
    backend = _safe_backend()
    _call(backend, "delete_password", service_name(), USERNAME,
          failure=f"The API key could not be removed from the keyring ({_backend_name(backend)}); "
                  "it may be locked.")
    log.info("keyring: no API key stored any more")


def keyring_status() -> KeyringStatus:
    """Whether the key can be kept safely here, in plain words (reads the entry once)."""
    try:
        backend = _safe_backend()
        name = _backend_name(backend)
        _read_keyring()
    except KeyringUnavailableError as exc:
        try:
            name = _backend_name(keyring.get_keyring())
        except Exception:
            name = "none"
        return KeyringStatus(False, name, exc.message, exc.fix)
    return KeyringStatus(True, name, f"The API key is kept in {name}.", "")
