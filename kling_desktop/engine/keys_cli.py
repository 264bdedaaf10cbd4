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
from kling_desktop.i18n import _
from kling_desktop.keys import key_from_environment
from kling_desktop.paths import app_paths

__all__ = ["ACTIONS", "default_provider", "run_key_command"]

ACTIONS = ("set", "status", "delete")
EXIT_OK = 0
EXIT_REFUSED_LOCALLY = 2

def _source_words(source: str) -> str:
    """Where a key comes from, in a few words (in the user's language)."""
    return {
        "environment": _("key from {variable} (environment)").format(variable=ENV_KEY),
        "session": _("key given for this session only"),
        "keyring": _("key saved in the system's password store"),
    }[source]


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
        print(_("Unknown action: use set, status or delete."), file=stderr)
        return EXIT_REFUSED_LOCALLY
    try:
        origin = provider_origin(provider if provider is not None else default_provider())
    except ValueError:
        if provider is not None:
            print(_("Nothing was changed: --provider is not a provider address."), file=stderr)
        else:
            print(_("Nothing was changed: the provider address in Settings is not a provider "
                    "address."), file=stderr)
        print("  " + _("Fix: {fix}").format(fix=_("give one like https://api.example.com")),
              file=stderr)
        return EXIT_REFUSED_LOCALLY
    try:
        if action == "status":
            return _status(origin, stdout, in_use=provider is None)
        if action == "delete":
            return _delete(origin, stdout)
        return _set(origin, stdin, stdout, stderr)
    except (InvalidKeyError, KeyringUnavailableError) as exc:
        print(_("Nothing was changed: {problem}").format(problem=exc.message), file=stderr)
        if exc.fix:
            print("  " + _("Fix: {fix}").format(fix=exc.fix), file=stderr)
        detail = getattr(exc, "detail", "")
        if detail:
            print("  " + _("Details: {details}").format(details=detail), file=stderr)
        return EXIT_REFUSED_LOCALLY


def _set(origin: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if stdin.isatty():
        key = getpass.getpass(_("Paste the API key for {provider} (input hidden): ").format(
            provider=origin), stream=stderr)
    else:
        key = stdin.readline()
    if not key.strip():
        print(_("No key given; nothing was changed."), file=stderr)
        return EXIT_REFUSED_LOCALLY
    store_api_key(key, origin)
    del key
    print(_("The API key for {provider} is saved in the system's password store.").format(
        provider=origin), file=stdout)
    if key_source(origin) == "environment":
        print(_("While {variable} is set, that key is used for {provider} instead.").format(
            variable=ENV_KEY, provider=origin), file=stdout)
    return EXIT_OK


def _delete(origin: str, stdout: TextIO) -> int:
    had_key = origin in stored_providers()
    delete_api_key(origin)
    if had_key:
        print(_("The API key for {provider} was removed from the system's password "
                "store.").format(provider=origin), file=stdout)
    else:
        print(_("No API key was stored for {provider}; nothing changed.").format(
            provider=origin), file=stdout)
    return EXIT_OK


def _status(origin: str, stdout: TextIO, *, in_use: bool) -> int:
    def say(text: str) -> None:
        print(text, file=stdout)

    source = key_source(origin)
    where = _source_words(source) if source else _("no key")
    if in_use:
        say(_("Provider in use: {provider} — {source}").format(provider=origin, source=where))
    else:
        say(_("Provider: {provider} — {source}").format(provider=origin, source=where))

    status = keyring_status()
    try:
        providers = stored_providers() if status.ok else []
    except KeyringUnavailableError:
        providers = []
    if status.ok:
        say(_("Keys in the system's password store:"))
        for stored in providers:
            say(f"  {stored}")
        if not providers:
            say("  " + _("(none)"))

    if key_from_environment() is not None:
        applies_to = environment_origin()
        if applies_to is None:
            say(_("{variable} is set, but {address_variable} is not a provider address: "
                  "it applies to no provider.").format(variable=ENV_KEY,
                                                       address_variable=ENV_BASE_URL))
        else:
            say(_("{variable} is set: it applies to {provider} only.").format(
                variable=ENV_KEY, provider=applies_to))
    else:
        say(_("{variable} is not set.").format(variable=ENV_KEY))

    say(_("Password store: {status}").format(status=status.message))
    if not status.ok and status.fix:
        say("  " + _("Fix: {fix}").format(fix=status.fix))
    if status.detail:
        say("  " + _("Details: {details}").format(details=status.detail))
    return EXIT_OK
