#!/usr/bin/env python3
"""Keep the translation catalogs in step with the code (developer tool; needs Babel).

    python packaging/translations.py extract   # every message of kling_desktop/ into each
                                                # language's .po (new ones empty, gone ones dropped;
                                                # empty ones filled from <lang>/drafts/*.po)
    python packaging/translations.py compile   # .po -> .mo for every language
    python packaging/translations.py check     # fails (exit 1) when a catalog is missing a
                                                # message, keeps a stale one, has an empty or
                                                # fuzzy translation, a placeholder that differs,
                                                # or a .mo that is out of date

The test command runs ``check``. Messages are what the code passes to ``_()``,
``ngettext()`` and ``N_()`` (see ``kling_desktop/i18n.py``). The catalogs live in
``kling_desktop/locale/<lang>/LC_MESSAGES/kling_desktop.po`` with the compiled
``.mo`` beside them (committed, so a source checkout and every installer carry them).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kling_desktop"
LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "kling_desktop"
LANGUAGES = ("zh_CN",)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
_PLACEHOLDER = re.compile(r"\{[a-zA-Z_][a-zA-Z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def extracted() -> Catalog:
    """Every message of the package, with the files that use it."""
    catalog = Catalog(project="Kling Motion Studio", charset="utf-8")
    found: Iterator[tuple[str, int, str | tuple[str, ...], list[str], str | None]]
    found = extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",), strip_comment_tags=True)
    for filename, _lineno, message, comments, context in found:
        catalog.add(message, None, [(f"kling_desktop/{filename}", None)],
                    auto_comments=comments, context=context)
    return catalog


def _key(message: Message) -> object:
    return (message.id, message.context)


def extract() -> None:
    template = extracted()
    for language in LANGUAGES:
        path = po_path(language)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language)
            created = catalog.creation_date      # no churn in the file's header
            catalog.update(template, no_fuzzy_matching=True)
            catalog.creation_date = created
            catalog.obsolete.clear()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="Kling Motion Studio", charset="utf-8")
            catalog.update(template, no_fuzzy_matching=True)
        filled = _fill_from_drafts(catalog, language)
        # The header carries Plural-Forms, which gettext needs: never fuzzy.
        catalog.fuzzy = False
        catalog.header_comment = (f"# {language} catalog of Kling Motion Studio. Terms: see "
                                  "GLOSSARY.md beside this file.")
        catalog.last_translator = "Kling Motion Studio"
        catalog.language_team = f"{language} <https://github.com/kling-desktop>"
        with path.open("wb") as f:
            write_po(f, catalog, width=100, include_lineno=False, sort_output=False)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages"
              + (f", {filled} filled from drafts" if filled else ""))


def _fill_from_drafts(catalog: Catalog, language: str) -> int:
    """Fill empty translations from ``<lang>/drafts/*.po`` (work in progress of several
    translators at once, merged here); returns how many were filled."""
    drafts: dict[object, Message] = {}
    for draft in sorted((LOCALE_DIR / language / "drafts").glob("*.po")):
        with draft.open("rb") as f:
            for message in read_po(f, locale=language):
                if message.id and message.string and not message.fuzzy:
                    drafts[_key(message)] = message
    filled = 0
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found = drafts.get(_key(message))
        if message.id and not all(strings) and found is not None:
            message.string = found.string
            filled += 1
    return filled


def _compiled(language: str) -> bytes:
    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for language in LANGUAGES:
        mo_path(language).write_bytes(_compiled(language))
        print(f"{mo_path(language).relative_to(ROOT)} written")


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0).split(":")[0].split("!")[0] for m in _PLACEHOLDER.finditer(text))


def problems() -> list[str]:
    """Everything that is wrong with the catalogs, in words (empty: all is well)."""
    found: list[str] = []
    template = extracted()
    wanted = {_key(m): m for m in template if m.id}
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            found.append(f"{language}: no catalog at {path.relative_to(ROOT)}")
            continue
        with path.open("rb") as f:
            catalog = read_po(f, locale=language)
        have = {_key(m): m for m in catalog if m.id}
        for key in wanted.keys() - have.keys():
            found.append(f"{language}: missing {_show(wanted[key].id)} "
                         f"(run: python packaging/translations.py extract)")
        for key in have.keys() - wanted.keys():
            found.append(f"{language}: stale {_show(have[key].id)} (no longer in the code)")
        for key in wanted.keys() & have.keys():
            message = have[key]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            if message.fuzzy:
                found.append(f"{language}: fuzzy {_show(message.id)}")
            if not all(strings):
                found.append(f"{language}: not translated {_show(message.id)}")
                continue
            expected = _placeholders(ids[0])
            for text in strings:
                if _placeholders(text) != expected:
                    found.append(f"{language}: placeholders differ in {_show(message.id)}: "
                                 f"{_placeholders(text)} != {expected}")
        mo = mo_path(language)
        if not mo.exists() or mo.read_bytes() != _compiled(language):
            found.append(f"{language}: {mo.relative_to(ROOT)} is out of date "
                         f"(run: python packaging/translations.py compile)")
    return found


def _show(message_id: object) -> str:
    text = message_id[0] if isinstance(message_id, tuple) else str(message_id)
    return repr(text if len(text) < 70 else text[:67] + "...")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["extract", "compile", "check"])
    args = parser.parse_args(argv)
    if args.action == "extract":
        extract()
    elif args.action == "compile":
        compile_all()
    else:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"{len(found)} problem(s) in the translation catalogs", file=sys.stderr)
            return 1
        print("translation catalogs: complete and compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
