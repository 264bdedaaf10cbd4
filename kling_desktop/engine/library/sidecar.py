"""The sidecar format: one JSON file next to each result video, read, validated and written.

A sidecar holds everything needed to review and reproduce its video (never the
API key). Reading trusts nothing: only a regular file of at most
:data:`MAX_SIDECAR_BYTES` is read, every field is type- and range-checked, and
any problem becomes a :class:`SidecarError` (the video stays listed). Writing
is atomic and strips credentials from every link.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from kling_desktop import APP_NAME, __version__
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.store import MARKS
from kling_desktop.errors import KlingError
from kling_desktop.files import NotARegularFileError, TooLargeError, read_capped, write_atomic
from kling_desktop.i18n import N_, _
from kling_desktop.sources import strip_credentials, title_for

__all__ = [
    "MAX_SIDECAR_BYTES",
    "SIDECAR_SCHEMA",
    "USAGE_MAX_KEYS",
    "VIDEO_SUFFIXES",
    "InputRef",
    "LibraryEntry",
    "SidecarError",
    "UsageValue",
    "entry_from_json",
    "entry_from_text",
    "read_sidecar",
    "usage_from_json",
    "usage_from_text",
    "write_sidecar",
]

log = logging.getLogger(__name__)

SIDECAR_SCHEMA: Final = 1
VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov"})
MAX_SIDECAR_BYTES: Final = 1 << 20     # a sidecar is a few kB; anything above 1 MB is not one


class SidecarError(KlingError):
    """A sidecar file that cannot be used; its video is left alone."""

    default_message = N_("A library description file could not be read.")
    default_fix = N_(
        "The video itself is kept and still listed. Restore the .json file from a backup "
        "if you have one, or delete it to list the video without its details."
    )

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(_("{name}: {reason}").format(name=path.name, reason=reason))
        self.path = path
        self.reason = reason


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


class _Worded(ValueError):
    """An unusable sidecar, already said in the user's words (the rest are details)."""


_LAST_EPOCH: Final = 253402300799.0    # 9999-12-31 23:59:59 UTC


def _epoch(text: object) -> float | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("a time is not text")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = moment.timestamp()
    if not 0 <= epoch <= _LAST_EPOCH:
        raise ValueError("a time is before 1970 or after 9999")
    return epoch


_INT64: Final = (-(2**63), 2**63 - 1)   # what SQLite can hold


def _text(value: str, what: str) -> str:
    """``value`` if it can be stored and shown (UTF-8: no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid text") from None
    return value


@dataclass(frozen=True)
class InputRef:
    """One input of a result as recorded in its sidecar.

    ``origin``: where an input that was trimmed or converted came from (the original's
    name and local path, the span kept, what was done); written only when there is one,
    so older versions of the app, which read the keys they know, read the file as before.
    """

    name: str                  # file base name, or the URL's last path part
    url: str | None = None     # when the input was given as a link
    copy: str | None = None    # copy inside the library, relative to its root
    sha256: str | None = None
    origin: Origin | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "url": self.url, "copy": self.copy,
                                "sha256": self.sha256}
        if self.origin is not None:
            data["origin"] = self.origin.to_json()
        return data

    @staticmethod
    def from_json(data: object) -> InputRef:
        if not isinstance(data, dict):
            raise ValueError("an input is not an object")
        name = data.get("name")
        if not isinstance(name, str):
            raise ValueError("an input has no name")
        values = {key: data.get(key) for key in ("url", "copy", "sha256")}
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"an input's {key} is not text")
            if value is not None:
                _text(value, f"an input's {key}")
        # An origin that is not an object is refused like any field of the wrong type;
        # inside it, an unusable value is left out (Origin.from_json).
        return InputRef(name=_text(name, "an input's name"), url=values["url"],
                        copy=values["copy"], sha256=values["sha256"],
                        origin=Origin.from_json(data.get("origin")))


UsageValue = str | int | float | bool | None

USAGE_MAX_KEYS: Final = 32       # what a provider reports it reserved / charged: a few numbers
USAGE_MAX_KEY: Final = 64
USAGE_MAX_TEXT: Final = 200


@dataclass(frozen=True)
class LibraryEntry:
    """One result video and what its sidecar says about it. Times are UNIX epoch seconds.

    ``model`` is the model asked for, ``model_used`` the one the provider says it
    used (None when it did not say): both are in the sidecar, side by side, so a
    swap is visible. ``duration`` is the saved video's real length when it was
    measured (it may be shorter than ``billable_seconds``, the clip's length).
    ``provider_usage`` is what the provider reported it reserved or charged:
    scalar values only, at most :data:`USAGE_MAX_KEYS` of them.
    """

    video_path: Path
    sidecar_path: Path
    task_id: str | None
    job_id: int | None
    model: str
    mode: str
    prompt: str
    orientation: str
    keep_original_sound: bool
    image: InputRef
    video: InputRef
    created_at: float | None
    submitted_at: float | None
    completed_at: float | None
    saved_at: float | None
    base_url: str
    demo: bool
    billable_seconds: float | None
    file_size: int
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    batch_id: str | None = None
    mark: str | None = None
    schema: int = SIDECAR_SCHEMA
    app_version: str = ""
    model_used: str | None = None
    provider_usage: dict[str, UsageValue] | None = field(default=None, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "app": APP_NAME,
            "app_version": self.app_version or __version__,
            "video_file": self.video_path.name,
            "task_id": self.task_id,
            "job_id": self.job_id,
            "model": self.model,
            "model_used": self.model_used,
            "mode": self.mode,
            "prompt": self.prompt,
            "orientation": self.orientation,
            "keep_original_sound": self.keep_original_sound,
            "inputs": {"image": self.image.to_json(), "video": self.video.to_json()},
            "created_at": _iso(self.created_at),
            "submitted_at": _iso(self.submitted_at),
            "completed_at": _iso(self.completed_at),
            "saved_at": _iso(self.saved_at),
            "base_url": self.base_url,
            "demo": self.demo,
            "billable_seconds": self.billable_seconds,
            "file_size": self.file_size,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "batch_id": self.batch_id,
            "mark": self.mark,
            "provider_usage": (dict(self.provider_usage)
                               if self.provider_usage is not None else None),
        }

    @property
    def title(self) -> str:
        """The result's human title, the same as its job's (see ``sources.title_for``)."""
        return title_for(self.image.name, self.video.name, self.prompt)

    @property
    def model_mismatch(self) -> bool:
        """The provider says it used another model than the one asked for."""
        return self.model_used is not None and self.model_used != self.model


def _get(data: dict[str, Any], key: str, kinds: type | tuple[type, ...], *,
         optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ValueError(f"{key} has the wrong type")
    if not isinstance(value, kinds):
        raise ValueError(f"{key} is missing or has the wrong type")
    if isinstance(value, str):
        _text(value, key)
    return value


def _int(data: dict[str, Any], key: str, *, optional: bool = False,
         minimum: int = _INT64[0]) -> Any:
    """An integer SQLite can hold (64 bits), at least ``minimum``."""
    value = _get(data, key, int, optional=optional)
    if value is not None and not minimum <= value <= _INT64[1]:
        raise ValueError(f"{key} is out of range")
    return value


def _seconds(data: dict[str, Any], key: str) -> float | None:
    """An optional finite, non-negative number of seconds."""
    value = _get(data, key, (int, float), optional=True)
    if value is None:
        return None
    seconds = float(value)   # OverflowError for absurd integers: caught by the reader
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{key} is not a usable number of seconds")
    return seconds


def _usage_value(value: object) -> tuple[bool, UsageValue]:
    """``(usable, value)`` for one reported figure: scalars only, bounded, storable."""
    if value is None or isinstance(value, bool):
        return True, value
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1], value
    if isinstance(value, float):
        return math.isfinite(value), value
    if isinstance(value, str):
        try:
            return True, _text(value[:USAGE_MAX_TEXT], "usage")
        except ValueError:
            return False, None
    return False, None


def usage_from_json(value: object) -> dict[str, UsageValue] | None:
    """What a provider reported it reserved/charged, as kept in a sidecar.

    None stays None; anything but an object raises ``ValueError``; inside the
    object only scalar values are kept (nested values, non-finite numbers and
    integers beyond 64 bits are dropped), texts are cut to
    :data:`USAGE_MAX_TEXT` characters and at most :data:`USAGE_MAX_KEYS`
    entries are kept.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("provider_usage is not an object")
    kept: dict[str, UsageValue] = {}
    for key, item in value.items():
        if len(kept) >= USAGE_MAX_KEYS:
            break
        if not isinstance(key, str) or not key or len(key) > USAGE_MAX_KEY:
            continue
        usable, clean = _usage_value(item)
        try:
            _text(key, "usage")
        except ValueError:
            usable = False
        if usable:
            kept[key] = clean
    return kept


def usage_from_text(text: str | None) -> dict[str, UsageValue] | None:
    """:func:`usage_from_json` of the JSON text a job holds; None when it is not usable."""
    if not text:
        return None
    if len(text) > 64 * 1024:
        log.warning("library: the provider's usage report is too long; not kept")
        return None
    try:
        return usage_from_json(_load_json(text.encode("utf-8", "surrogatepass")))
    except (ValueError, RecursionError) as exc:
        log.warning("library: the provider's usage report is not usable (%s); not kept", exc)
        return None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is too large")
    return number


def _load_json(raw: bytes) -> object:
    """JSON from ``raw`` (UTF-8); NaN, Infinity and numbers beyond a float are refused.

    Raises ``ValueError`` (``UnicodeDecodeError``, ``JSONDecodeError``, an
    integer of more than 4300 digits) or ``RecursionError`` (deep nesting).
    """
    return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant,
                      parse_float=_finite_float)


def entry_from_json(data: object, sidecar: Path) -> LibraryEntry:
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ValueError("it has no format version")
    if schema > SIDECAR_SCHEMA:
        raise _Worded(_("it was written by a newer version of the app (format {schema})")
                      .format(schema=schema))
    if schema != SIDECAR_SCHEMA:
        raise _Worded(_("its format {schema} is unknown").format(schema=schema))
    video_file = _get(data, "video_file", str)
    if Path(video_file).name != video_file or video_file in ("", ".", "..") or (
            "/" in video_file or "\\" in video_file or "\x00" in video_file):
        raise ValueError("video_file is not a plain file name")
    if Path(video_file).suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError("video_file does not name a video")
    inputs = _get(data, "inputs", dict)
    mark = _get(data, "mark", str, optional=True)
    if mark is not None and mark not in MARKS:
        raise ValueError("mark is not keeper or reject")
    return LibraryEntry(
        video_path=sidecar.with_name(video_file),
        sidecar_path=sidecar,
        task_id=_get(data, "task_id", str, optional=True),
        job_id=_int(data, "job_id", optional=True),
        model=_get(data, "model", str),
        mode=_get(data, "mode", str),
        prompt=_get(data, "prompt", str, optional=True) or "",
        orientation=_get(data, "orientation", str),
        keep_original_sound=_get(data, "keep_original_sound", bool),
        image=InputRef.from_json(inputs.get("image")),
        video=InputRef.from_json(inputs.get("video")),
        created_at=_epoch(data.get("created_at")),
        submitted_at=_epoch(data.get("submitted_at")),
        completed_at=_epoch(data.get("completed_at")),
        saved_at=_epoch(data.get("saved_at")),
        base_url=_get(data, "base_url", str, optional=True) or "",
        demo=_get(data, "demo", bool),
        billable_seconds=_seconds(data, "billable_seconds"),
        file_size=_int(data, "file_size", minimum=0),
        duration=_seconds(data, "duration"),
        width=_int(data, "width", optional=True, minimum=0),
        height=_int(data, "height", optional=True, minimum=0),
        batch_id=_get(data, "batch_id", str, optional=True),
        mark=mark,
        schema=schema,
        app_version=_get(data, "app_version", str, optional=True) or "",
        model_used=_get(data, "model_used", str, optional=True),
        provider_usage=usage_from_json(data.get("provider_usage")),
    )


_UNUSABLE: Final = (ValueError, TypeError, OverflowError, RecursionError)


def read_sidecar(path: Path) -> LibraryEntry:
    """Read one sidecar. Raises :class:`SidecarError` for any unusable file, and nothing else.

    Only a regular file is read (a link, pipe, socket or device is refused
    without opening or reading it), and at most :data:`MAX_SIDECAR_BYTES`.
    """
    try:
        raw = read_capped(path, MAX_SIDECAR_BYTES)
    except TooLargeError as exc:
        raise SidecarError(path, _("it is too large for a description ({size} bytes)").format(
            size=exc.size)) from exc
    except NotARegularFileError as exc:
        raise SidecarError(path, _("it is {what}").format(what=exc.strerror)) from exc
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SidecarError(path, _("it could not be read ({reason})").format(
            reason=reason)) from exc
    try:
        data = _load_json(raw)
    except (ValueError, RecursionError) as exc:
        raise SidecarError(path, _("it is damaged (not valid JSON)")) from exc
    try:
        return entry_from_json(data, path)
    except _Worded as exc:
        raise SidecarError(path, str(exc)) from exc
    except _UNUSABLE as exc:
        # The detail names a JSON field: kept as is, inside the user's words.
        raise SidecarError(path, _("its contents are not usable ({detail})").format(
            detail=exc)) from exc


def entry_from_text(text: str, sidecar: Path) -> LibraryEntry | None:
    """The entry a sidecar's JSON text (as kept in the index) describes; None when unusable."""
    try:
        return entry_from_json(_load_json(text.encode("utf-8", "surrogatepass")), sidecar)
    except _UNUSABLE:
        return None


def _scrub(ref: InputRef) -> InputRef:
    return replace(ref, url=strip_credentials(ref.url)) if ref.url else ref


def write_sidecar(entry: LibraryEntry) -> None:
    """Write ``entry``'s sidecar; the one place sidecars are written (links lose credentials)."""
    entry = replace(entry, base_url=strip_credentials(entry.base_url),
                    image=_scrub(entry.image), video=_scrub(entry.video))
    text = json.dumps(entry.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomic(entry.sidecar_path, text.encode("utf-8"))


