"""The settings dialog's background work: keyring look-ups and saving.

No widgets here: each function runs on the TaskRunner (keyring calls go over D-Bus,
tests over the network) and the dialog shows what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kling_desktop.engine.secrets import (
    KeyringStatus,
    KeyringUnavailableError,
    environment_origin,
    key_source,
    keyring_status,
    provider_origin,
    store_api_key,
    stored_providers,
)
from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.keys import key_from_environment


def origin_or_none(base_url: str) -> str | None:
    """The provider origin of ``base_url`` (no I/O), or None when it is no address."""
    try:
        return provider_origin(base_url)
    except ValueError:
        return None


@dataclass(frozen=True)
class KeyState:
    """What the keyring says about the key of one provider address."""

    origin: str | None                  # None: the address is not one
    source: str | None                  # "environment" | "session" | "keyring" | None
    keyring: KeyringStatus
    stored: tuple[str, ...]             # every origin with a key in the keyring
    env_origin: str | None              # where KLING_API_KEY applies, when it is set
    env_set: bool


def read_key_state(base_url: str) -> KeyState:
    """Where the key of ``base_url``'s provider comes from, and every provider with a key.

    Talks to the keyring (D-Bus): run it on the TaskRunner.
    """
    origin = origin_or_none(base_url)
    source = key_source(origin) if origin is not None else None
    status = keyring_status()
    try:
        stored = tuple(stored_providers()) if status.ok else ()
    except KeyringUnavailableError:
        stored = ()
    env_set = key_from_environment() is not None
    return KeyState(origin, source, status, stored,
                    environment_origin() if env_set else None, env_set)


def save_all(settings: Settings, path: Path, key: str | None) -> Settings:
    """The key into the keyring first, for the address saved with it (a failure there
    saves nothing), then the file."""
    if key:
        store_api_key(key, settings.base_url)
    save_settings(settings, path)
    return settings

