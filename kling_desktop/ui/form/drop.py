"""What a drop, the clipboard or the link field hands the form, as input sources.

The rules for links and file names are :mod:`kling_desktop.sources`'; this module
only unpacks Qt's carriers (``QMimeData``, typed text) into source strings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from kling_desktop.sources import display_name, is_link


def source_name(source: str) -> str:
    """A short name for a path or a link, for lists and captions."""
    return display_name(source)


def _is_file_url(text: str) -> bool:
    return text.lower().startswith("file://")


def sources_from_mime(mime: QMimeData) -> list[str]:
    """Local files and web links carried by a drop or the clipboard."""
    found: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                found.append(url.toLocalFile())
            elif is_link(url.toString()):
                found.append(url.toString())
    elif mime.hasText():
        for line in mime.text().splitlines():
            text = line.strip()
            if _is_file_url(text):
                found.append(QUrl(text).toLocalFile())
            elif is_link(text):
                found.append(text)
    return found


def source_from_typed_text(text: str) -> str:
    """What was typed in a slot's link field, as a source: a ``file://`` link becomes its
    path, a link stays, anything else is taken as a path (the engine's checks judge it)."""
    text = text.strip()
    if _is_file_url(text):
        return QUrl(text).toLocalFile()
    if not is_link(text):
        return str(Path(text).expanduser())
    return text
