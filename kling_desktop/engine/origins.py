"""Where a converted input came from: the original file, the span of it kept, what was done.

A picture or clip that was trimmed or converted (in the window, or by ``generate --trim``
/ ``--fix``) is sent as the converted copy; the job (:class:`~.jobs.JobSpec`) and the
result's sidecar remember the original it came from, so "Use these settings again" lists
the copy under the original's name with its note and reopens the trim editor on the
original at the recorded in and out points.

What is kept are facts in no language: the original's name and local path, the span in
seconds, the kinds of change in fixed words. The note ("trimmed 2.0–9.5 s, converted
from WebM") is said when it is shown, in the user's language (:attr:`Origin.note`).
Read back from a sidecar (a folder that may be hostile), every value is checked and
bounded (:meth:`Origin.from_json`): an unusable value is left out, never trusted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Final

from kling_desktop.i18n import N_, _, format_number
from kling_desktop.sources import is_link

__all__ = [
    "FORMAT_NAMES",
    "MAX_NAME",
    "MAX_PATH",
    "MAX_SECONDS",
    "STEPS",
    "Origin",
    "origin_from_text",
    "origin_text",
]

#: The kinds of file a conversion starts from, as the note names them ("from WebM").
FORMAT_NAMES: Final = {"webm": "WebM", "mkv": "MKV", "avi": "AVI", "gif": "GIF",
                       "3gp": "3GP", "mov": "MOV", "mp4": "MP4", "webp": "WebP",
                       "bmp": "BMP", "tiff": "TIFF", "heic": "HEIC", "png": "PNG",
                       "jpeg": "JPEG"}
#: The other changes a note tells of, in its order (marked here, said when shown).
STEPS: Final = {"scaled_down": N_("scaled down"), "made_smaller": N_("made smaller"),
                "cropped": N_("cropped"), "padded": N_("padded")}
MAX_NAME: Final = 255           # a file name (bytes on most file systems; characters here)
MAX_PATH: Final = 4096          # PATH_MAX
MAX_SECONDS: Final = 24 * 3600.0   # no clip the provider takes is a day long


@dataclass(frozen=True)
class Origin:
    """Where one converted input came from.

    ``name`` is the original's file name (what the form lists), ``path`` its absolute
    local path when known (a sidecar read on another computer may name a file that is
    not here: check before opening). ``trim`` is the span of the original that was kept,
    ``(in, out)`` seconds, when it was cut; ``from_format`` the kind it was converted
    from (``"webm"``) when that changed; ``steps`` the other changes (:data:`STEPS`).
    """

    name: str
    path: str | None = None
    trim: tuple[float, float] | None = None
    from_format: str | None = None
    steps: tuple[str, ...] = ()

    @classmethod
    def of_file(cls, path: str, *, trim: tuple[float, float] | None = None,
                from_format: str | None = None, steps: Iterable[str] = ()) -> Origin:
        """The origin of a copy made from the local file ``path`` (values checked; a name
        that cannot be stored as it is, with a control character or undecodable bytes, is
        kept with those shown as "?", and then without its path)."""
        name = "".join("?" if ord(char) < 32 or ord(char) == 127 else char
                       for char in PurePath(path).name)
        name = name.encode("utf-8", "replace").decode("utf-8")[:MAX_NAME] or "?"
        found = cls.from_json({"name": name, "path": path,
                               "trim": list(trim) if trim is not None else None,
                               "from_format": from_format, "steps": list(steps)})
        if found is None:
            raise ValueError(f"not a usable origin: {path!r}")
        return found

    @property
    def source(self) -> str:
        """The original as a form names an input: its path when known, else its name."""
        return self.path or self.name

    @property
    def note(self) -> str:
        """"trimmed 2.0–9.5 s, converted from WebM", in the user's language."""
        notes: list[str] = []
        if self.trim is not None:
            start, end = self.trim
            notes.append(_("trimmed {start}–{end} s").format(
                start=format_number(start, 1), end=format_number(end, 1)))
        if self.from_format is not None:
            notes.append(_("converted from {format}").format(
                format=FORMAT_NAMES.get(self.from_format, self.from_format.upper())))
        notes.extend(_(STEPS[step]) for step in STEPS if step in self.steps)
        # TRANSLATORS: joins the notes of one conversion ("trimmed 2.0–9.5 s, scaled down").
        return _(", ").join(notes) or _("converted")

    def then(self, later: Origin) -> Origin:
        """What a copy is when ``later`` describes a conversion of the copy this origin
        describes: it still comes from this one's original. (``later`` made from that
        original itself, as the trim editor does, replaces it.)"""
        if later.path is not None and later.path == self.path:
            return later
        trim = self.trim
        if later.trim is not None:
            offset = self.trim[0] if self.trim is not None else 0.0
            trim = (offset + later.trim[0], offset + later.trim[1])
        steps = tuple(step for step in STEPS if step in self.steps or step in later.steps)
        return Origin(self.name, self.path, trim, self.from_format or later.from_format, steps)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path,
                "trim": list(self.trim) if self.trim is not None else None,
                "from_format": self.from_format, "steps": list(self.steps)}

    @staticmethod
    def from_json(data: object) -> Origin | None:
        """The origin ``data`` describes, with every unusable value left out; None when it
        names no usable file. Raises ``ValueError`` when ``data`` is not an object (or
        null: no origin)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ValueError("an input's origin is not an object")
        path = _path(data.get("path"))
        name = _name(data.get("name"))
        if path is not None and PurePath(path).name != name:
            path = None            # a path that is not the named file: not trusted
        if name is None:
            return None
        steps = data.get("steps")
        kept = () if not isinstance(steps, list) else tuple(
            step for step in STEPS if any(item == step for item in steps[:len(STEPS) * 4]))
        fmt = data.get("from_format")
        return Origin(name=name, path=path, trim=_span(data.get("trim")),
                      from_format=fmt if isinstance(fmt, str) and fmt in FORMAT_NAMES else None,
                      steps=kept)


def origin_text(origin: Origin | None) -> str | None:
    """The JSON text a job row keeps (None: the user's own file)."""
    if origin is None:
        return None
    return json.dumps(origin.to_json(), ensure_ascii=False, allow_nan=False)


def origin_from_text(text: object) -> Origin | None:
    """The origin a job row keeps; None when there is none or it is not usable."""
    if not isinstance(text, str) or not text or len(text) > 4 * MAX_PATH:
        return None
    try:
        return Origin.from_json(json.loads(text))
    except (ValueError, RecursionError):
        return None


def _usable_text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:        # a lone surrogate: cannot be stored or shown
        return None
    return value


def _name(value: object) -> str | None:
    """A plain file name: no folder part, not ``.``/``..``, no control characters."""
    name = _usable_text(value, MAX_NAME)
    if name is None or name in (".", "..") or "/" in name or "\\" in name or any(
            ord(char) < 32 or ord(char) == 127 for char in name):
        return None
    return name


def _path(value: object) -> str | None:
    """An absolute local path (never a link); None otherwise."""
    path = _usable_text(value, MAX_PATH)
    if path is None or is_link(path) or not PurePath(path).is_absolute() or any(
            ord(char) < 32 for char in path):
        return None
    return path


def _span(value: object) -> tuple[float, float] | None:
    """``[in, out]``: two finite numbers of seconds, 0 ≤ in < out ≤ :data:`MAX_SECONDS`."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    numbers: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            return None
        try:
            number = float(item)
        except OverflowError:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    start, end = numbers
    if not 0 <= start < end <= MAX_SECONDS:
        return None
    return start, end
