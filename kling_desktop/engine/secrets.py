"""API keys, one per provider: ``KLING_API_KEY`` for one provider, else the OS keyring.

A key is a credential for ONE provider. The keyring keeps one entry per provider
*origin* (scheme + host + port, see :func:`provider_origin`), named
``api-key@<origin>`` under :func:`service_name`. A keyring cannot list its
entries, so the origins that have a key are listed, as plain non-secret JSON,
in one more entry of the same service (``providers``). Nothing here ever writes
a file.

``KLING_API_KEY`` applies to exactly one origin: ``KLING_BASE_URL``'s when that
is set, else the default provider's (``DEFAULT_BASE_URL``); never to another.
Calls without a ``base_url`` mean that same default provider: this module does
not read the settings file, so callers that know the address in use (the
engine, the window, ``keys_cli``) pass it. A key typed "for this session only"
is kept in this process's memory, for its provider's origin only.

Only keyring backends that really keep secrets safe are used (Secret Service /
KWallet on Linux, Keychain on macOS, Credential Manager on Windows). Backends
that do nothing or write plain files (``fail``, ``null``, ``keyrings.alt``)
are refused with :class:`KeyringUnavailableError`, whose fix says what to do.
The key never appears in a log line, an error message or a repr.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx
import keyring
import keyring.backend
import keyring.errors

from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.i18n import N_, _
from kling_desktop.keys import ENV_KEY as ENV_KEY
from kling_desktop.keys import InvalidKeyError as InvalidKeyError
from kling_desktop.keys import check_key as check_key
from kling_desktop.keys import key_from_environment

__all__ = [
    "DEFAULT_SERVICE",
    "ENV_BASE_URL",
    "ENV_KEY",
    "ENV_SERVICE",
    "LEGACY_USERNAME",
    "NO_STORE_MESSAGE",
    "PROVIDERS_USERNAME",
    "SAVED_MESSAGE",
    "USERNAME",
    "InvalidKeyError",
    "KeySource",
    "KeyringStatus",
    "KeyringUnavailableError",
    "check_key",
    "default_base_url",
    "delete_api_key",
    "environment_origin",
    "forget_session_keys",
    "get_api_key",
    "key_source",
    "keyring_status",
    "migrate_legacy_key",
    "provider_name",
    "provider_origin",
    "service_name",
    "store_api_key",
    "stored_providers",
    "use_key_for_session",
]

log = logging.getLogger(__name__)

ENV_BASE_URL: Final = "KLING_BASE_URL"
ENV_SERVICE: Final = "KLING_KEYRING_SERVICE"
DEFAULT_SERVICE: Final = "kling-desktop"
LEGACY_USERNAME: Final = "api-key"          # the one key of old versions, for no provider
USERNAME: Final = LEGACY_USERNAME            # kept for old imports
PROVIDERS_USERNAME: Final = "providers"      # JSON list of the origins that have a key
_KEY_USERNAME_PREFIX: Final = "api-key@"
KeySource = Literal["environment", "session", "keyring"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9_])?")
_HOST_IPV6 = re.compile(r"[0-9a-f:.]+")
_NOT_AN_ADDRESS: Final = ("not a provider address (it must look like "
                          "https://api.example.com)")

# Backends that keep nothing, or keep it in a plain/obfuscated file.
_REFUSED_MODULES: Final = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")

_lock = threading.Lock()                 # the providers entry is read, changed, written back
_session_lock = threading.Lock()         # never held during a keyring call
_session_keys: dict[str, str] = {}       # origin -> key, this process only, never written


# Words for people first; the technical detail (which keyring backend, the environment
# variable for scripts) goes in ``detail``, shown behind "Details…" or by the CLI.
# Marked here, translated when used (``_(SAVED_MESSAGE)``).
NO_STORE_MESSAGE: Final = N_("This computer has no password store we can use, so the key "
                             "can only be used until you close the app.")
STORE_FAILED_MESSAGE: Final = N_("The system's password store could not be opened: it may be "
                                 "locked or not set up.")
SAVED_MESSAGE: Final = N_("Your key is saved in the system's password store.")


def _platform_fix() -> str:
    if sys.platform == "darwin":
        return _("To keep the key for next time, open Keychain Access and unlock your login "
                 "keychain.")
    if sys.platform == "win32":
        return _("To keep the key for next time, sign in to Windows with your own account "
                 "(Credential Manager needs one).")
    return _("To keep the key for next time, unlock or install your desktop's password store "
             "(GNOME Keyring or KDE Wallet), then start the app again.")


def _detail(backend: str) -> str:
    return _("Keyring backend: {backend}. Only keyring backends that keep secrets safe are "
             "used: Secret Service or KWallet on Linux, the macOS Keychain, the Windows "
             "Credential Manager. For scripts and this session, the key can also come from "
             "the {variable} environment variable.").format(backend=backend, variable=ENV_KEY)


class KeyringUnavailableError(KlingError):
    """No safe place to keep the key on this computer right now.

    ``detail``: the technical side (backend, environment variable), for "Details…".
    """

    default_message = NO_STORE_MESSAGE

    def __init__(self, message: str | None = None, fix: str | None = None, *,
                 detail: str = "") -> None:
        super().__init__(message, fix=fix if fix is not None else _platform_fix())
        self.detail = detail or _detail(_("none usable"))


@dataclass(frozen=True)
class KeyringStatus:
    ok: bool
    backend: str
    message: str              # plain words
    fix: str
    detail: str = ""          # technical: the backend, the environment variable


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
        raise KeyringUnavailableError(
            detail=_detail(_("none (keyring failed to load)"))) from None
    candidates = [backend]
    chained = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" or isinstance(chained, list):
        candidates = list(chained or [])
    for candidate in candidates:
        if not _refused(candidate):
            return candidate
    log.info("keyring: no safe backend (found %s)", _backend_name(backend))
    raise KeyringUnavailableError(
        detail=_detail(_("{backend} (it keeps nothing, or writes a plain file: "
                         "refused)").format(backend=_backend_name(backend))))


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
    raise KeyringUnavailableError(failure, detail=_detail(
        _("{backend}; {method} failed ({error})").format(
            backend=_backend_name(backend), method=method, error=error_name)))



# -- addresses -----------------------------------------------------------------------------


def provider_origin(base_url: str) -> str:
    """``scheme://host[:port]`` of a provider address: lowercase, default ports dropped.

    Parsed the way the HTTP client parses it (so the origin is where a request
    really goes); credentials, path, query and fragment are ignored. Raises
    ValueError for anything that is not an http(s) address with a host; the
    message never quotes the text (it may be a key pasted in the wrong field).
    """
    text = base_url.strip() if isinstance(base_url, str) else ""
    try:
        url = httpx.URL(text)
        raw_host = url.raw_host.decode("ascii").lower()
        port = url.port
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        raise ValueError(_NOT_AN_ADDRESS) from None
    scheme = url.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not raw_host:
        raise ValueError(_NOT_AN_ADDRESS)
    if ":" in raw_host:
        if not _HOST_IPV6.fullmatch(raw_host):
            raise ValueError(_NOT_AN_ADDRESS)
        host = f"[{raw_host}]"
    elif _HOST_NAME.fullmatch(raw_host):
        host = raw_host
    else:
        raise ValueError(_NOT_AN_ADDRESS)
    if port is not None and not 0 < port < 65536:
        raise ValueError(_NOT_AN_ADDRESS)
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def provider_name(base_url: str) -> str:
    """How a provider is named to people: its origin's host (and port), e.g. ``api.foxapi.cc``.

    Raises ValueError like :func:`provider_origin`.
    """
    return provider_origin(base_url).split("://", 1)[1]


def default_base_url(environ: Mapping[str, str] | None = None) -> str:
    """The provider meant when no address is given: ``KLING_BASE_URL``, else ``DEFAULT_BASE_URL``.

    (The settings file is not read here; see ``keys_cli.default_provider``.)
    """
    env = os.environ if environ is None else environ
    return env.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL


def environment_origin(environ: Mapping[str, str] | None = None) -> str | None:
    """The one origin ``KLING_API_KEY`` applies to; None when ``KLING_BASE_URL`` is no address."""
    try:
        return provider_origin(default_base_url(environ))
    except ValueError:
        log.warning("%s is not a provider address: %s applies to no provider",
                    ENV_BASE_URL, ENV_KEY)
        return None


def _origin_for(base_url: str | None, environ: Mapping[str, str] | None) -> str:
    return provider_origin(default_base_url(environ) if base_url is None else base_url)


def _key_username(origin: str) -> str:
    return _KEY_USERNAME_PREFIX + origin


# -- keys ----------------------------------------------------------------------------------


def _read_entry(backend: Any, service: str, username: str) -> str | None:
    value = _call(backend, "get_password", service, username,
                  failure=_(STORE_FAILED_MESSAGE))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _lookup(origin: str, environ: Mapping[str, str] | None) -> tuple[KeySource, str] | None:
    """Where the key for ``origin`` is, and the key; None when there is none."""
    from_env = key_from_environment(environ)
    if from_env is not None and environment_origin(environ) == origin:
        return "environment", from_env
    with _session_lock:
        from_session = _session_keys.get(origin)
    if from_session is not None:
        return "session", from_session
    try:
        backend = _safe_backend()
    except KeyringUnavailableError:
        return None
    stored = _read_entry(backend, service_name(environ), _key_username(origin))
    return ("keyring", stored) if stored is not None else None


def get_api_key(base_url: str | None = None,
                environ: Mapping[str, str] | None = None) -> str | None:
    """The key for the provider at ``base_url`` (None: the default provider), or None.

    ``KLING_API_KEY`` when it applies to that origin (see the module docstring),
    else a key given for this session, else the keyring entry of that origin.
    Raises ValueError for an address that is not one. Returns None when no safe
    keyring exists; raises :class:`KeyringUnavailableError` when a real keyring
    exists but cannot be read (for example it stays locked).
    """
    found = _lookup(_origin_for(base_url, environ), environ)
    return found[1] if found is not None else None


def key_source(base_url: str | None = None,
               environ: Mapping[str, str] | None = None) -> KeySource | None:
    """Where :func:`get_api_key` finds the key for ``base_url``; None: nowhere (or unreadable)."""
    origin = _origin_for(base_url, environ)
    try:
        found = _lookup(origin, environ)
    except KeyringUnavailableError:
        return None
    return found[0] if found is not None else None


def use_key_for_session(key: str, base_url: str | None = None) -> None:
    """Keep ``key`` for the provider at ``base_url`` in this process's memory only."""
    key = check_key(key)
    origin = _origin_for(base_url, None)
    with _session_lock:
        _session_keys[origin] = key
    log.info("API key kept for this session only, for %s", origin)


def forget_session_keys() -> None:
    """Drop every key given for this session."""
    with _session_lock:
        _session_keys.clear()


# -- the keyring entries -------------------------------------------------------------------


def _read_providers(backend: Any, service: str) -> set[str]:
    raw = _read_entry(backend, service, PROVIDERS_USERNAME)
    if raw is None:
        return set()
    try:
        listed = json.loads(raw)
    except ValueError:
        listed = None
    if not isinstance(listed, list):
        log.warning("keyring: the list of providers is damaged; starting a new one")
        return set()
    origins: set[str] = set()
    for item in listed:
        try:
            origins.add(provider_origin(item))
        except ValueError:
            continue
    return origins


def _write_providers(backend: Any, service: str, origins: set[str]) -> None:
    failure = _("The list of providers with a key could not be saved in the system's "
                "password store; it may be locked.")
    if origins:
        _call(backend, "set_password", service, PROVIDERS_USERNAME,
              json.dumps(sorted(origins)), failure=failure)
    else:
        _call(backend, "delete_password", service, PROVIDERS_USERNAME, failure=failure)


def _put(backend: Any, service: str, origin: str, key: str) -> None:
    """Write the entry of ``origin``, check it by reading it back, list the origin."""
    name = _backend_name(backend)
    failure = _("The key could not be saved in the system's password store; it may be "
                "locked.")
    username = _key_username(origin)
    _call(backend, "set_password", service, username, key, failure=failure)
    if _call(backend, "get_password", service, username, failure=failure) != key:
        raise KeyringUnavailableError(
            _("The system's password store did not keep the key."),
            detail=_detail(_("{backend}; the key read back differed").format(backend=name)))
    with _lock:
        listed = _read_providers(backend, service)
        if origin not in listed:
            _write_providers(backend, service, listed | {origin})


def store_api_key(key: str, base_url: str | None = None) -> None:
    """Keep ``key`` in the OS keyring (and nowhere else) for the provider at ``base_url``.

    None means the default provider. Raises :class:`InvalidKeyError` (a ValueError)
    for text that cannot be a key, ValueError for an address that is not one.
    """
    key = check_key(key)
    origin = _origin_for(base_url, None)
    backend = _safe_backend()
    _put(backend, service_name(), origin, key)
    log.info("keyring: API key saved for %s (%s)", origin, _backend_name(backend))


def delete_api_key(base_url: str | None = None) -> None:
    """Forget the key of the provider at ``base_url``; nothing happens when none is stored."""
    origin = _origin_for(base_url, None)
    with _session_lock:
        _session_keys.pop(origin, None)
    backend = _safe_backend()
    service = service_name()
    _call(backend, "delete_password", service, _key_username(origin),
          failure=_("The key could not be removed from the system's password store; it "
                    "may be locked."))
    with _lock:
        listed = _read_providers(backend, service)
        if origin in listed:
            _write_providers(backend, service, listed - {origin})
    log.info("keyring: no API key stored for %s any more", origin)


def stored_providers() -> list[str]:
    """The origins that have a key in the keyring, sorted; [] when there is no safe keyring.

    Entries removed behind the app's back (a keyring manager) are not listed.
    Raises :class:`KeyringUnavailableError` when a real keyring cannot be read.
    """
    try:
        backend = _safe_backend()
    except KeyringUnavailableError:
        return []
    service = service_name()
    with _lock:
        listed = _read_providers(backend, service)
    return sorted(origin for origin in listed
                  if _read_entry(backend, service, _key_username(origin)) is not None)


def migrate_legacy_key(default_base_url: str) -> bool:
    """Move the single key of old versions to the provider at ``default_base_url``.

    The old entry is removed afterwards; a key already kept for that provider is
    never overwritten. Idempotent; True when a key was moved. A keyring that
    cannot be used right now moves nothing (False, logged): the next start tries
    again. Raises ValueError for an address that is not one.
    """
    origin = provider_origin(default_base_url)
    try:
        backend = _safe_backend()
        service = service_name()
        legacy = _read_entry(backend, service, LEGACY_USERNAME)
        if legacy is None:
            return False
        moved = False
        if _read_entry(backend, service, _key_username(origin)) is None:
            _put(backend, service, origin, legacy)
            moved = True
        _call(backend, "delete_password", service, LEGACY_USERNAME,
              failure=_("The old key could not be removed from the system's password "
                        "store."))
    except KeyringUnavailableError as exc:
        log.info("keyring: the old API key was not moved now (%s)", exc.message)
        return False
    if moved:
        log.info("keyring: the API key of the previous version now belongs to %s", origin)
    else:
        log.info("keyring: dropped the old API key entry (%s already has its own key)", origin)
    return moved


def keyring_status() -> KeyringStatus:
    """Whether the key can be kept safely here, in plain words (reads the entry once)."""
    try:
        backend = _safe_backend()
        name = _backend_name(backend)
        with _lock:
            _read_providers(backend, service_name())
    except KeyringUnavailableError as exc:
        try:
            name = _backend_name(keyring.get_keyring())
        except Exception:
            name = _("none")
        return KeyringStatus(False, name, exc.message, exc.fix, exc.detail)
    return KeyringStatus(True, name, _(SAVED_MESSAGE), "", _detail(name))
