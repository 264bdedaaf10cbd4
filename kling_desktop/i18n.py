"""The user's language, for every layer: one gettext catalog per language.

Every text a person reads goes through :func:`_` (or :func:`ngettext` for a
count) at the moment it is shown, never at import time: module-level texts are
marked with :func:`N_` and translated where they are used. Placeholders are named
(``_("The clip is {seconds} s long.").format(seconds=...)``) so a translation may
put them in another order.

Why gettext and not Qt's ``tr()``: the core (checks, job service, errors with
their fixes) and the command line never import Qt, and must speak the user's
language too. One mechanism serves the core, the CLI and the window; Qt's own
catalogs (``qtbase_zh_CN.qm``) are loaded with ``QTranslator`` by the window only,
for Qt's standard buttons and dialogs.

Catalogs: ``kling_desktop/locale/<lang>/LC_MESSAGES/kling_desktop.po`` (the source,
edited by translators, with ``GLOSSARY.md`` beside them) and the compiled ``.mo``
next to it. ``python packaging/translations.py extract|compile|check`` keeps
them; the test command runs ``check``.

Choosing: the window follows Settings → Language, else the system's language
(``QLocale``); the command line follows ``--lang``, else ``LC_ALL`` /
``LC_MESSAGES`` / ``LANG`` / ``LANGUAGE``. The pseudo-language ``pseudo`` wraps
every translated text in ``⟦…⟧`` and lengthens it by 40 %, so a test can find any
visible text that did not pass through translation.
"""

from __future__ import annotations

import gettext
import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "PSEUDO",
    "_",
    "current_language",
    "format_datetime",
    "format_number",
    "install",
    "language_from_environment",
    "match_language",
    "ngettext",
]

DOMAIN = "kling_desktop"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENGLISH = "en"
CHINESE = "zh_CN"
PSEUDO = "pseudo"
# The languages a user can choose, in their own words.
LANGUAGES: Mapping[str, str] = {ENGLISH: "English", CHINESE: "简体中文"}
_ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = ENGLISH


class _Pseudo(gettext.NullTranslations):
    """Every text wrapped in ⟦…⟧ and 40 % longer: untranslated text stands out."""

    @staticmethod
    def _wrap(text: str) -> str:
        return "⟦" + text + "·" * math.ceil(len(text) * 0.4) + "⟧"

    def gettext(self, message: str) -> str:
        return self._wrap(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self._wrap(msgid1 if n == 1 else msgid2)


def match_language(candidates: Iterable[str | None]) -> str:
    """The first supported language among ``candidates`` ("zh_CN.UTF-8", "zh-Hans-CN",
    "zh", "en_GB", "pseudo"…), English when none is."""
    for raw in candidates:
        if not raw:
            continue
        for part in raw.split(":"):
            code = part.split(".")[0].split("@")[0].replace("-", "_").strip()
            lowered = code.lower()
            if lowered == PSEUDO:
                return PSEUDO
            if lowered in ("c", "posix", ""):
                continue
            if lowered.startswith("zh"):
                # Simplified Chinese for zh, zh_CN, zh_SG, zh_Hans*; Traditional
                # (zh_TW, zh_HK, zh_Hant*) readers get Simplified rather than English.
                return CHINESE
            if lowered.split("_")[0] == "en":
                return ENGLISH
            # A language we do not have: look at the next candidate (as gettext does).
    return ENGLISH


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    (the first one set wins, as gettext does)."""
    env = os.environ if environ is None else environ
    for name in _ENV_VARS:
        value = env.get(name)
        if value:
            return match_language([value])
    return ENGLISH


def install(language: str | None) -> str:
    """Use ``language`` (a code from :data:`LANGUAGES`, ``pseudo``, or anything
    :func:`match_language` understands) from now on; returns the code used."""
    global _translations, _language
    code = match_language([language]) if language else ENGLISH
    if code == PSEUDO:
        _translations = _Pseudo()
    elif code == ENGLISH:
        _translations = gettext.NullTranslations()
    else:
        _translations = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code],
                                            fallback=True)
    _language = code
    return code


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """``message`` in the user's language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a text for a count ``n``, in the user's language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a text for translation without translating it (module-level constants)."""
    return message


def format_number(value: float, decimals: int = 0) -> str:
    """A number the way the user's language writes it (both languages group by
    thousands with "," and use "." for decimals)."""
    return f"{value:,.{decimals}f}"


def format_datetime(epoch: float) -> str:
    """A local date and time, full, in the user's language (the CLI's; the window
    uses QLocale)."""
    moment = time.localtime(epoch)
    if _language == CHINESE:
        return (f"{moment.tm_year}年{moment.tm_mon}月{moment.tm_mday}日 "
                f"{moment.tm_hour:02d}:{moment.tm_min:02d}")
    return time.strftime("%Y-%m-%d %H:%M", moment)
