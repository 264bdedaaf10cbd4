"""The one parser of inputs: is this text a web link or a local file, and how is it named?

The checks, the job service, the library, the jobs list and the notifications
all ask here, so a pasted ``file://`` link, a Windows "Copy as path" with its
quotes, surrounding spaces or a ``~`` mean the same thing everywhere.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path, PurePath

from kling_desktop.i18n import _

__all__ = ["canonical", "display_name", "has_scheme", "is_link",
           "local_path", "short_name", "strip_credentials", "title_for"]

TITLE_PROMPT_WORDS = 8     # a title shows at most this many words of the prompt ...
TITLE_PROMPT_CHARS = 56    # ... and at most this many characters of them


def has_scheme(source: str) -> bool:
    """Whether ``source`` is written as an address with a scheme (``xyz://``)."""
    scheme, sep, _ = source.strip().lower().partition("://")
    return bool(sep) and scheme.isascii() and scheme.isalpha() and len(scheme) > 1


def is_link(source: str) -> bool:
    """A web address (any scheme but ``file://``): the checks decide which ones work."""
    return has_scheme(source) and not source.strip().lower().startswith("file://")


def local_path(source: str) -> Path:
    """The file a local ``source`` means: ``file://`` links, surrounding quotes (Windows
    "Copy as path"), surrounding spaces and ``~`` are understood."""
    text = source
    if text.strip().lower().startswith("file://"):
        from urllib.request import url2pathname  # (http.client, ssl: not at start-up)

        parsed = urllib.parse.urlsplit(text.strip())
        return Path(url2pathname(parsed.path))
    path = Path(text).expanduser()
    try:
        found = path.exists() or path.is_symlink()
    except (OSError, ValueError):
        found = False
    if not found:
        cleaned = text.strip().strip('"').strip("'").strip()
        if cleaned and cleaned != text:
            path = Path(cleaned).expanduser()
    return path


def canonical(source: str) -> str:
    """What an input means, once, for every later step: a link's text without
    surrounding spaces, or a file's absolute path."""
    text = source.strip()
    if not text:
        return text
    if is_link(text):
        return text
    path = local_path(source)
    try:
        return str(path.absolute())
    except (OSError, ValueError):
        return str(path)


def strip_credentials(source: str) -> str:
    """A link as it may be stored or shown: without ``user:password@``."""
    if not is_link(source) or "@" not in source:
        return source
    try:
        parts = urllib.parse.urlsplit(source.strip())
        port = parts.port
    except ValueError:
        return source
    if parts.username is None and parts.password is None:
        return source
    netloc = (parts.hostname or "") + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query,
                                    parts.fragment))


def display_name(source: str) -> str:
    """A short name for lists and captions: ``dance.mp4`` or ``dance.mp4 (cdn.example)``."""
    if is_link(source):
        try:
            parts = urllib.parse.urlsplit(source.strip())
        except ValueError:
            return source.strip()
        name = urllib.parse.unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        host = parts.hostname or ""
        return f"{name} ({host})" if name and host else (name or host or source.strip())
    return PurePath(local_path(source)).name or source.strip()


def short_name(name: str) -> str:
    """A file name as a title shows it: without its extension (``hero.final.png`` ->
    ``hero.final``), a link's host note dropped (``dance.mp4 (cdn.example)`` -> ``dance``)."""
    text = " ".join(name.split())
    if text.endswith(")") and " (" in text:
        text = text[:text.rindex(" (")]
    stem, dot, suffix = text.rpartition(".")
    if dot and stem and 0 < len(suffix) <= 5 and suffix.isalnum():
        text = stem
    return text


def title_for(image_name: str, video_name: str, prompt: str = "", *,
              untitled: str | None = None) -> str:
    """The one human title of a job or a result, from what the user chose.

    With a prompt: the picture's name and the prompt's first words
    (``hero — waves both arms, then spins…``), so ten tries of one character read
    apart; without one: ``hero + dance``. Names are shown without their
    extension; nothing made up by the app (task ids, content hashes) ever appears.
    A title is the user's own words: only ``untitled`` (when nothing is named; "Untitled"
    in the user's language unless given, e.g. a fixed English word for a file name) is
    the app's.
    """
    image, video = short_name(image_name), short_name(video_name)
    words = " ".join(prompt.split())
    if words:
        cut = " ".join(words.split(" ")[:TITLE_PROMPT_WORDS])
        if len(cut) > TITLE_PROMPT_CHARS:
            head = cut[:TITLE_PROMPT_CHARS]
            cut = head.rsplit(" ", 1)[0] if " " in head else head
        if cut != words:
            cut = cut.rstrip(" ,.;:-") + "…"
        return f"{image} — {cut}" if image else cut
    if image and video:
        return f"{image} + {video}"
    if image or video:
        return image or video
    return _("Untitled") if untitled is None else untitled
