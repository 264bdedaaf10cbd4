"""Checks of a provider the user asks for in Settings: is this key accepted, is it reachable?

The window never talks to the provider itself (an import contract says so); it
asks here, on a worker thread.
"""

from __future__ import annotations

from kling_desktop.api.client import KlingClient, make_http_client
from kling_desktop.api.errors import AuthenticationError
from kling_desktop.engine.secrets import get_api_key
from kling_desktop.i18n import _

__all__ = ["PROBE_KEY", "test_connection", "test_key"]

#: A stand-in key for "can the provider be reached at all?": a refusal of it proves it.
PROBE_KEY = "connection-test"


def test_key(base_url: str, key: str | None, proxy: str) -> None:
    """One cheap authenticated call with ``key``, else the key of ``base_url``'s provider.

    Raises AuthenticationError / NetworkError / KlingError. Never uses another
    provider's key.
    """
    key = key or get_api_key(base_url)
    if not key:
        raise AuthenticationError(_("There is no API key to test yet."),
                                  fix=_("Paste the key from your provider's dashboard above."))
    http = make_http_client(proxy=proxy or None)
    try:
        with KlingClient(base_url, key, http=http) as client:
            client.check_key()
    finally:
        http.close()


def test_connection(base_url: str, proxy: str) -> None:
    """Reach the provider (through the proxy, if any); a refused stand-in key still proves it."""
    http = make_http_client(proxy=proxy or None)
    try:
        with KlingClient(base_url, PROBE_KEY, http=http) as client:
            client.check_key()
    except AuthenticationError:
        return
    finally:
        http.close()
