"""What an API key can look like: the one rule for the key field, the keyring and the client.

Ground floor: the secrets store (engine) and the API client both check a key
here before they keep or send it. The key itself is never quoted in an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from kling_desktop.errors import KlingError

__all__ = ["ENV_KEY", "MAX_KEY_LENGTH", "InvalidKeyError", "check_key", "key_from_environment"]

MAX_KEY_LENGTH: Final = 1024
#: A key given in the environment; it overrides the keyring for its provider (see
#: ``engine.secrets``).
ENV_KEY: Final = "KLING_API_KEY"


class InvalidKeyError(KlingError, ValueError):
    """What was given cannot be an API key (empty, spaces, non-ASCII...). Never quotes it."""

    default_message = "The API key contains characters an API key cannot have."
    default_fix = ("Copy the key again from your provider's dashboard (only the key, "
                   "without spaces or quotes) and paste it again.")


def check_key(key: str) -> str:
    """``key`` stripped, or :class:`InvalidKeyError` saying why it cannot be a key."""
    key = key.strip()
    if not key:
        raise InvalidKeyError("The API key is empty.",
                              fix="Paste the key from your provider's dashboard.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError("This text is far too long to be an API key.")
    if not key.isascii() or not key.isprintable() or " " in key:
        raise InvalidKeyError()
    return key


def key_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The key given in :data:`ENV_KEY` (``os.environ`` unless ``environ``); blank is none.

    Only its presence decides anything outside ``engine.secrets`` (which provider it
    applies to is the secrets store's rule)."""
    value = (os.environ if environ is None else environ).get(ENV_KEY, "").strip()
    return value or None
