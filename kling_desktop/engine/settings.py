"""What the user chose in Settings, kept as a small JSON file (never the API key).

Reading is forgiving and loses nothing silently: a missing file gives the
defaults; unknown keys are ignored; a value of the wrong type falls back to that
field's default with a logged warning; a file that is not JSON at all is kept
aside as ``settings.json.bad-<timestamp>`` before the defaults are used.
Writing is atomic (temp file, fsync, rename) and private (0600 on POSIX).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from kling_desktop.api.links import validate_base_url
from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.errors import KlingError, error_text
from kling_desktop.files import aside_path, write_atomic
from kling_desktop.i18n import _
from kling_desktop.paths import PRIVATE_DIR_MODE, AppPaths

__all__ = [
    "CURRENCIES",
    "DEFAULT_ACCOUNT_PAGE_URL",
    "DEFAULT_CURRENCY",
    "DEFAULT_PRICING_PAGE_URL",
    "LANGUAGE_CHOICES",
    "MAX_CONCURRENT_JOBS",
    "Settings",
    "load_settings",
    "rate_key",
    "save_settings",
]

log = logging.getLogger(__name__)

MAX_CONCURRENT_JOBS: Final = 20
_PROXY_SCHEMES: Final = ("http", "https", "socks5", "socks5h")

# What the user's prices are in. "credits": a reseller's own unit, not money.
CURRENCIES: Final = ("USD", "CNY", "EUR", "credits")
DEFAULT_CURRENCY: Final = "USD"

# Where the default provider (DEFAULT_BASE_URL) hands out keys and lists its prices: its
# console (a key is a "token" there) and its price list, on the same site as its API.
DEFAULT_ACCOUNT_PAGE_URL: Final = "https://api.foxapi.cc/console/token"
DEFAULT_PRICING_PAGE_URL: Final = "https://api.foxapi.cc/pricing"

# The window's language: "" follows the system's; otherwise a code of i18n.LANGUAGES.
LANGUAGE_CHOICES: Final = ("", "en", "zh_CN")


def rate_key(model: str, mode: str) -> str:
    """The key of :attr:`Settings.rates`: ``"<model>/<mode>"`` (their API values)."""
    return f"{model}/{mode}"


@dataclass
class Settings:
    base_url: str = DEFAULT_BASE_URL
    library_dir: str | None = None          # None: the default library folder
    # tasks running at the provider at once (the smallest plan we know allows 5); the
    # rest wait in line locally. 1..MAX_CONCURRENT_JOBS
    max_concurrent_jobs: int = 5
    poll_min_interval: float = 5.0          # seconds
    poll_max_interval: float = 60.0
    proxy: str = ""                         # "": the system's proxy settings
    rates: dict[str, float] = field(default_factory=dict)  # price per output second
    currency: str = DEFAULT_CURRENCY        # one of CURRENCIES: what the rates are in
    # The provider's pages for people (https only): its console, where keys are made, and
    # its price list. "": the default provider's pages while its address is in use.
    account_page_url: str = ""
    pricing_page_url: str = ""
    confirm_before_generate: bool = True
    keep_inputs: bool = True
    notify_when_done: bool = True
    language: str = ""                      # one of LANGUAGE_CHOICES; applies at next start

    def library_path(self, paths: AppPaths) -> Path:
        if self.library_dir:
            return Path(self.library_dir).expanduser()
        return paths.default_library_dir

    def rate_for(self, model: str, mode: str) -> float | None:
        """The user's price per output second for ``model``/``mode``, if entered."""
        return self.rates.get(rate_key(str(model), str(mode)))

    def account_page(self) -> str | None:
        """The provider's web console where its keys are made, if known."""
        return self._page(self.account_page_url, DEFAULT_ACCOUNT_PAGE_URL)

    def pricing_page(self) -> str | None:
        """The web page where the provider in use lists its prices, if known."""
        return self._page(self.pricing_page_url, DEFAULT_PRICING_PAGE_URL)

    def _page(self, chosen: str, default: str) -> str | None:
        if chosen:
            return chosen if _is_web_page(chosen) else None
        return default if _same_origin(self.base_url, DEFAULT_BASE_URL) else None

    def validate(self) -> list[str]:
        """Problems in plain words (in the user's language); empty when everything is
        usable."""
        problems: list[str] = []
        try:
            validate_base_url(self.base_url)
        except KlingError as exc:
            problems.append(_("Provider address: {problem}").format(problem=error_text(exc)))
        if not 1 <= self.max_concurrent_jobs <= MAX_CONCURRENT_JOBS:
            problems.append(_("Tasks at the provider at once must be between 1 and "
                              "{most}.").format(most=MAX_CONCURRENT_JOBS))
        if not self.poll_min_interval > 0:
            problems.append(_("The shortest wait between status checks must be above "
                              "0 seconds."))
        if self.poll_max_interval < self.poll_min_interval:
            problems.append(_("The longest wait between status checks must not be shorter "
                              "than the shortest one."))
        if self.proxy:
            parts = urlsplit(self.proxy)
            if parts.scheme.lower() not in _PROXY_SCHEMES or not parts.hostname:
                problems.append(_("The proxy must be an address like "
                                  "http://proxy.example:8080 (or empty to use the system's "
                                  "proxy)."))
        if self.library_dir and not Path(self.library_dir).expanduser().is_absolute():
            problems.append(_("The library folder must be a full path, not a relative one."))
        if self.currency not in CURRENCIES:
            problems.append(_("The currency must be one of {choices}.").format(
                choices=", ".join(CURRENCIES)))
        if self.language not in LANGUAGE_CHOICES:
            problems.append(_("The language must be one of {choices}.").format(
                choices=", ".join(code or '""' for code in LANGUAGE_CHOICES)))
        if self.account_page_url and not _is_web_page(self.account_page_url):
            problems.append(_("The provider's account page must be a web address starting "
                              "with https:// (or empty)."))
        if self.pricing_page_url and not _is_web_page(self.pricing_page_url):
            problems.append(_("The provider's price page must be a web address starting "
                              "with https:// (or empty)."))
        for key, rate in sorted(self.rates.items()):
            if rate < 0:
                problems.append(_("The price for {model} cannot be negative.").format(
                    model=key))
        return problems

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_web_page(url: str) -> bool:
    """Only https pages are opened for people (never file:, javascript:, plain http)."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() == "https" and bool(parts.hostname)


def _same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first.strip()), urlsplit(second.strip())
    return (a.scheme.lower(), (a.hostname or ""), a.port) == (
        b.scheme.lower(), (b.hostname or ""), b.port)


# ------------------------------------------------------------------------ reading


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _read_field(name: str, value: object, default: object) -> object:
    """``value`` converted for field ``name``, or raise ValueError."""
    if name in ("base_url", "proxy", "account_page_url", "pricing_page_url"):
        if isinstance(value, str):
            return value.strip()
    elif name == "language":
        if isinstance(value, str) and value in LANGUAGE_CHOICES:
            return value
    elif name == "currency":
        if isinstance(value, str) and value in CURRENCIES:
            return value
    elif name == "library_dir":
        if value is None or isinstance(value, str):
            return value or None
    elif name == "max_concurrent_jobs":
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= MAX_CONCURRENT_JOBS:
                clamped = min(max(value, 1), MAX_CONCURRENT_JOBS)
                log.warning("settings: max_concurrent_jobs %d is out of range; using %d",
                            value, clamped)
                return clamped
            return value
    elif name in ("poll_min_interval", "poll_max_interval"):
        number = _number(value)
        if number is not None and number > 0:
            return number
    elif name == "rates":
        if isinstance(value, dict):
            rates: dict[str, float] = {}
            for key, rate in value.items():
                number = _number(rate)
                if isinstance(key, str) and number is not None and number >= 0:
                    rates[key] = number
                else:
                    log.warning("settings: ignoring the price entry %r (not a number)", key)
            return rates
    elif isinstance(default, bool) and isinstance(value, bool):
        return value
    raise ValueError(name)


def _keep_aside(path: Path) -> Path | None:
    target = aside_path(path, "bad")
    try:
        os.replace(path, target)
    except OSError as exc:
        log.warning("settings: could not keep the damaged file aside: %s", exc)
        return None
    return target


def load_settings(path: Path) -> Settings:
    """The settings in ``path``; never raises for a missing or damaged file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        log.warning("settings: %s could not be read (%s); using the defaults", path, exc)
        return Settings()
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (UnicodeDecodeError, ValueError) as exc:
        kept = _keep_aside(path)
        log.warning("settings: %s is damaged (%s); kept it as %s and using the defaults",
                    path.name, exc, kept.name if kept else "(could not move it)")
        return Settings()
    defaults = Settings()
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(Settings):
        if spec.name not in data:
            continue
        default = getattr(defaults, spec.name)
        try:
            values[spec.name] = _read_field(spec.name, data[spec.name], default)
        except ValueError:
            log.warning("settings: %s has a value of the wrong type (%s); using the default %r",
                        spec.name, type(data[spec.name]).__name__, default)
    return Settings(**values)


def save_settings(settings: Settings, path: Path) -> None:
    """Write ``settings`` to ``path`` atomically, readable by the user alone (POSIX 0600).

    A missing folder is created owner-only (0700), like the rest of the data folder.
    """
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    write_atomic(path, text.encode("utf-8"), private=True)
