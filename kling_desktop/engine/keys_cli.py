"""``kling-desktop key set|status|delete [--provider URL]``: the API key of each provider.

A key belongs to one provider (see ``engine.secrets``). Without ``--provider``
the command means the provider the app uses now: ``KLING_BASE_URL``, else the
address in the settings. Nothing here prints, logs or raises the key.
Exit codes: 0 done, 2 refused locally (no key given, not a key, not an
address, no usable keyring).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from typing import TextIO

from kling_desktop.engine.secrets import (
    ENV_BASE_URL,
    ENV_KEY,
    InvalidKeyError,
    KeyringUnavailableError,
    delete_api_key,
    environment_origin,
    key_source,
    keyring_status,
    provider_origin,
    store_api_key,
    stored_providers,
)
from kling_desktop.engine.settings import load_settings
from kling_desktop.paths import app_paths

__all__ = ["ACTIONS", "default_provider", "run_key_command"]

ACTIONS = ("set", "status", "delete")
EXIT_OK = 0
EXIT_REFUSED_LOCALLY = 2

_SOURCE_WORDS = {
    "environment": f"key from {ENV_KEY} (environment)",
    "session": "key given for this session only",
    "keyring": "key saved in the system's password store",
}


def default_provider(environ: Mapping[str, str] | None = None) -> str:
    """The provider address the app uses now: ``KLING_BASE_URL``, else the settings' one."""
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_BASE_URL, "").strip()
    if from_env:
        return from_env
    paths = app_paths() if environ is None else app_paths(dict(environ))
    return load_settings(paths.settings_file).base_url


def run_key_command(action: str, provider: str | None, *,
                    stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Run one ``key`` action for ``provider`` (None: the provider in use); the exit code."""
    if action not in ACTIONS:
        print("Unknown action: use set, status or delete.", file=stderr)
        return EXIT_REFUSED_LOCALLY
    try:
        origin = provider_origin(provider if provider is not None else default_provider())
    except ValueError:
        where = "--provider" if provider is not None else "the provider address in Settings"
        print(f"Nothing was changed: {where} is not a provider address.", file=stderr)
        print("  Fix: give one like https://api.example.com", file=stderr)
        return EXIT_REFUSED_LOCALLY
    try:
        if action == "status":
            return _status(origin, stdout, in_use=provider is None)
        if action == "delete":
            return _delete(origin, stdout)
        return _set(origin, stdin, stdout, stderr)
    except (InvalidKeyError, KeyringUnavailableError) as exc:
        print(f"Nothing was changed: {exc.message}", file=stderr)
        if exc.fix:
            print(f"  Fix: {exc.fix}", file=stderr)
        detail = getattr(exc, "detail", "")
        if detail:
            print(f"  Details: {detail}", file=stderr)
        return EXIT_REFUSED_LOCALLY


def _set(origin: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if stdin.isatty():
        key = getpass.getpass(f"Paste the API key for {origin} (input hidden): ", stream=stderr)
    else:
        key = stdin.readline()
    if not key.strip():
        print("No key given; nothing was changed.", file=stderr)
        return EXIT_REFUSED_LOCALLY
    store_api_key(key, origin)
    del key
    print(f"The API key for {origin} is saved in the system's password store.", file=stdout)
    if key_source(origin) == "environment":
        print(f"While {ENV_KEY} is set, that key is used for {origin} instead.", file=stdout)
    return EXIT_OK


def _delete(origin: str, stdout: TextIO) -> int:
    had_key = origin in stored_providers()
    delete_api_key(origin)
    if had_key:
        print(f"The API key for {origin} was removed from the system's password store.",
              file=stdout)
    else:
        print(f"No API key was stored for {origin}; nothing changed.", file=stdout)
    return EXIT_OK


def _status(origin: str, stdout: TextIO, *, in_use: bool) -> int:
    def say(text: str) -> None:
        print(text, file=stdout)

    source = key_source(origin)
    label = "Provider in use" if in_use else "Provider"
    say(f"{label}: {origin} — {_SOURCE_WORDS[source] if source else 'no key'}")

    status = keyring_status()
    try:
        providers = stored_providers() if status.ok else []
    except KeyringUnavailableError:
        providers = []
    if status.ok:
        say("Keys in the system's password store:")
        for stored in providers:
            say(f"  {stored}")
        if not providers:
            say("  (none)")

    if os.environ.get(ENV_KEY, "").strip():
        applies_to = environment_origin()
        if applies_to is None:
            say(f"{ENV_KEY} is set, but {ENV_BASE_URL} is not a provider address: "
                "it applies to no provider.")
        else:
            say(f"{ENV_KEY} is set: it applies to {applies_to} only.")
    else:
        say(f"{ENV_KEY} is not set.")

    say(f"Password store: {status.message}")
    if not status.ok and status.fix:
        say(f"  Fix: {status.fix}")
    if status.detail:
        say(f"  Details: {status.detail}")
    return EXIT_OK
