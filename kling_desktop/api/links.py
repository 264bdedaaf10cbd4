"""Provider addresses and result links: https anywhere, plain http only on this computer."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from kling_desktop.api.errors import InsecureBaseURLError
from kling_desktop.i18n import _

if TYPE_CHECKING:
    import httpx

# httpx parses the addresses (the same parser the client sends with), imported on the
# first check: the window starts without it.

__all__ = ["is_secure", "join_url", "origin", "parse_url", "validate_base_url"]


def validate_base_url(url: str) -> str:
    """The provider address without a trailing slash; https, or http on loopback only.

    Raises :class:`InsecureBaseURLError` for anything else (including addresses
    with credentials, a query or a fragment), without echoing the address.
    """
    parsed = parse_url(url)
    if parsed is None or parsed.userinfo or parsed.query or parsed.fragment:
        raise InsecureBaseURLError(
            _("The provider address is not a plain web address like https://api.example.com.")
        )
    if not is_secure(parsed):
        raise InsecureBaseURLError()
    return str(parsed).rstrip("/")


def parse_url(url: str) -> httpx.URL | None:
    import httpx

    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return parsed if parsed.scheme in ("http", "https") and parsed.host else None


def is_secure(url: httpx.URL) -> bool:
    """https anywhere; plain http only to this computer (127.0.0.0/8, ::1, localhost)."""
    if url.scheme == "https":
        return True
    if url.scheme != "http":
        return False
    if url.host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(url.host).is_loopback
    except ValueError:
        return False


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default_port


def join_url(base: httpx.URL, location: str) -> httpx.URL | None:
    if not location.strip():
        return None
    import httpx

    try:
        joined = base.join(location.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return joined if joined.scheme in ("http", "https") and joined.host else None
