"""The window's language, chosen once at start-up (before any widget or text is built).

``--lang`` (this run), else Settings → Language, else the system's (``QLocale``'s UI
languages). The app's catalog is installed with :func:`kling_desktop.i18n.install`; the
default ``QLocale`` follows it (numbers, dates and money in the window), and Qt's own
catalogs (``qtbase_<lang>.qm``, ``qtmultimedia_<lang>.qm``) translate its standard
buttons and dialogs. A change in Settings applies at the next start.

On Linux a Chinese window needs a font with CJK glyphs; without one every word would be
a box, so the window speaks English for that run and says how to install one
(:func:`missing_font_text`).

Qt's font database, library paths and translators are imported where a Chinese window
needs them: an English window's first paint goes without their Python wrappers.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale

from kling_desktop import i18n

if TYPE_CHECKING:
    from PySide6.QtCore import QTranslator

log = logging.getLogger(__name__)

QT_CATALOGS = ("qtbase", "qtmultimedia")
# The QLocale of each language (the pseudo-language keeps English formats).
_LOCALES = {i18n.ENGLISH: "en_US", i18n.CHINESE: "zh_CN", i18n.PSEUDO: "en_US"}

_translators: list[QTranslator] = []


def system_languages() -> list[str]:
    """The desktop's languages, most preferred first ("zh-Hans-CN", "en-US"…)."""
    system = QLocale.system()
    return [*system.uiLanguages(), system.name()]


def choose_language(override: str | None, chosen: str, system: Sequence[str]) -> str:
    """The window's language code: ``override`` (``--lang``), else ``chosen`` (Settings;
    "" follows the system), else the first supported one of ``system``."""
    if override:
        return i18n.match_language([override])
    if chosen:
        return i18n.match_language([chosen])
    return i18n.match_language(system)


def has_chinese_font() -> bool:
    """Whether a font that draws Simplified Chinese is installed (Qt's font database)."""
    from PySide6.QtGui import QFontDatabase

    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def install_window_language(override: str | None, chosen: str) -> tuple[str, bool]:
    """Install the window's language for this run; ``(code, font_missing)``.

    ``font_missing``: Chinese was wanted on Linux but no font can draw it, so English is
    used instead (see :func:`missing_font_text`). Needs the QApplication.
    """
    code = choose_language(override, chosen, system_languages())
    font_missing = (code == i18n.CHINESE and sys.platform.startswith("linux")
                    and not has_chinese_font())
    if font_missing:
        log.warning("no font with Chinese glyphs is installed; the window uses English")
        code = i18n.ENGLISH
    code = i18n.install(code)
    QLocale.setDefault(QLocale(_LOCALES.get(code, "en_US")))
    _install_qt_catalogs(code)
    log.info("window language: %s", code)
    return code, font_missing


def _install_qt_catalogs(code: str) -> None:
    """Qt's own words (OK, Cancel, Yes, No, Apply… and its dialogs) in ``code``."""
    app = QCoreApplication.instance()
    for translator in _translators:
        QCoreApplication.removeTranslator(translator)
    _translators.clear()
    if app is None or code in (i18n.ENGLISH, i18n.PSEUDO):
        return
    from PySide6.QtCore import QLibraryInfo, QTranslator

    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for catalog in QT_CATALOGS:
        translator = QTranslator(app)
        if translator.load(f"{catalog}_{code}", folder):
            QCoreApplication.installTranslator(translator)
            _translators.append(translator)
        else:
            log.warning("Qt's %s catalog for %s was not found in %s", catalog, code, folder)


def missing_font_text() -> tuple[str, str]:
    """What to say when Chinese was chosen but cannot be drawn: (title, text).

    Deliberately English and not translated: without a Chinese font a translation would
    show as boxes.
    """
    return ("No Chinese font",
            "No Chinese font is installed, so the app uses English this time.\n\n"
            "Install one (for example: sudo apt install fonts-noto-cjk) and start the app "
            "again to read it in Chinese.")
