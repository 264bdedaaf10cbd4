"""Helpers for the window's language tests: switch the language for a test, and walk
visible widgets for text that did not pass through translation (pseudo-language).

    with language("pseudo"):
        form = GenerateForm(...)
        assert untranslated(form) == []

A text passed through translation carries ``⟦`` in the pseudo-language; what is left
(user data: file names, typed prompts, bare numbers and symbols) is given as ``allowed``
or has no letters at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from kling_desktop import i18n

MARK = "⟦"
# Qt's own words: its standard buttons come from its catalog (qtbase_zh_CN.qm), which has
# no pseudo-language; they are allowed in a pseudo walk.
QT_OWN = frozenset({"OK", "&OK", "Cancel", "&Cancel", "Save", "&Save", "Close", "&Close",
                    "Apply", "&Apply", "Yes", "&Yes", "No", "&No"})


@contextlib.contextmanager
def language(code: str) -> Iterator[None]:
    """Use ``code`` ("zh_CN", "pseudo"…) inside the block; English again after it."""
    i18n.install(code)
    try:
        yield
    finally:
        i18n.install("en")


def _texts(widget: QWidget) -> Iterator[tuple[str, str]]:
    """(what, text) pairs a person can read on ``widget``."""
    if isinstance(widget, QLabel | QAbstractButton):
        yield "text", widget.text()
    elif isinstance(widget, QGroupBox):
        yield "title", widget.title()
    elif isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        yield "placeholder", widget.placeholderText()
    elif isinstance(widget, QComboBox):
        for index in range(widget.count()):
            yield f"item {index}", widget.itemText(index)
    yield "tooltip", widget.toolTip()
    yield "accessible name", widget.accessibleName()
    if widget.isWindow():
        yield "window title", widget.windowTitle()


def _has_words(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def untranslated(root: QWidget, *, allowed: Iterable[str] = (),
                 visible: Callable[[QWidget], bool] | None = None) -> list[str]:
    """Every visible text under ``root`` (itself included) without the pseudo-language's
    mark, as "Class 'objectName' what: 'text'"; ``allowed``: user data shown as is."""
    allowed_texts = set(allowed)
    shown = visible or (lambda w: w.isVisibleTo(root) or w is root)
    found: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not shown(widget):
            continue
        for what, text in _texts(widget):
            if not text or MARK in text or text in allowed_texts or not _has_words(text):
                continue
            found.append(f"{type(widget).__name__} '{widget.objectName()}' {what}: {text!r}")
    return found
