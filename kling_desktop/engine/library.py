"""The library folder: one video plus one sidecar JSON per result.

The folder is the truth. Each ``<name>.mp4`` has a ``<name>.json`` next to it
holding everything needed to review and reproduce the video (never the API
key); local inputs are copied once into ``.inputs/`` (named by content hash,
so one clip used with many characters is stored once). The store's
``results`` table is only an index: :meth:`Library.rebuild_index` recreates it
from the folder at any time.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

from kling_desktop import APP_NAME, __version__
from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.jobs import Job
from kling_desktop.engine.safe_files import (
    FoundFile,
    NotARegularFileError,
    TooLargeError,
    create_temp,
    is_inside,
    open_regular,
    read_capped,
    regular_file,
    walk_files,
)
from kling_desktop.engine.store import MARKS, JobStore, ResultRecord

__all__ = [
    "INPUTS_DIR",
    "MAX_SIDECAR_BYTES",
    "SIDECAR_SCHEMA",
    "VIDEO_SUFFIXES",
    "ExportCancelled",
    "ExportReport",
    "InputRef",
    "Library",
    "LibraryEntry",
    "LibraryWriteError",
    "RebuildReport",
    "SidecarError",
    "SyncReport",
    "copy_file",
    "read_sidecar",
    "safe_filename",
    "unique_path",
    "usage_from_json",
    "usage_from_text",
    "write_atomic",
]

log = logging.getLogger(__name__)

SIDECAR_SCHEMA: Final = 1
INPUTS_DIR: Final = ".inputs"
VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov"})
MAX_SIDECAR_BYTES: Final = 1 << 20     # a sidecar is a few kB; anything above 1 MB is not one
_CHUNK = 1 << 20


class SidecarError(KlingError):
    """A sidecar file that cannot be used; its video is left alone."""

    default_message = "A library description file could not be read."
    default_fix = (
        "The video itself is kept and still listed. Restore the .json file from a backup "
        "if you have one, or delete it to list the video without its details."
    )

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


class LibraryWriteError(KlingError):
    """The library folder could not be written (disk full, read-only, no permission)."""

    default_message = "The video's description could not be saved in the library folder."
    default_fix = "Check that the library folder exists and that your account may write to it."

    @classmethod
    def from_os_error(cls, exc: OSError, path: Path) -> LibraryWriteError:
        if exc.errno == errno.ENOSPC:
            return cls(f"The disk holding the library is full ({path.parent}).",
                       fix="Free some disk space, then retry the download.")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return cls(f"The library folder cannot be written to ({path.parent}).",
                       fix="Choose another library folder in Settings, or fix its permissions.")
        return cls(f"The library folder could not be written ({exc.strerror or exc}).")


# --------------------------------------------------------------------- file helpers


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    Temp file in the same folder, flushed and fsynced, then ``os.replace``; the
    folder is fsynced too where the OS allows it. The file gets the user's
    normal permissions (library files are theirs to share), or 0600 with
    ``private`` (settings).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp(path.parent, f".{path.name}.", ".tmp", private=private)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def safe_filename(text: str, *, max_bytes: int = 150) -> str:
    """``text`` as a file name stem valid on Windows, macOS and Linux.

    Reserved characters become spaces, whitespace is collapsed, trailing dots and
    spaces are dropped, Windows device names are avoided, and the UTF-8 length
    is capped at ``max_bytes`` (whole characters only).
    """
    text = unicodedata.normalize("NFC", text)
    text = _RESERVED_CHARS.sub(" ", text)
    text = " ".join(text.split())
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", errors="ignore")
    text = text.rstrip(" .").lstrip(" ")
    if not text:
        text = "video"
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text


class ExportCancelled(KlingError):
    default_message = "The export was stopped."
    default_fix = "The files copied so far are complete; start the export again to copy the rest."


def copy_file(source: Path, dest: Path, *, cancel: threading.Event | None = None,
              progress: Callable[[int], None] | None = None) -> Path:
    """Copy ``source`` to ``dest`` whole or not at all (temp file + rename), never overwriting.

    Only a regular file is copied: a link, pipe or device as ``source`` raises
    :class:`~kling_desktop.engine.safe_files.NotARegularFileError` (an
    ``OSError``) without reading anything. ``progress(bytes)`` is called after
    each chunk; a set ``cancel`` stops the copy (raising
    :class:`ExportCancelled`) and leaves nothing behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = open_regular(source)
    try:
        fd, tmp_name = create_temp(dest.parent, f".{dest.name}.", ".part")
    except BaseException:
        src.close()
        raise
    try:
        with src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(_CHUNK):
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled()
                out.write(chunk)
                if progress is not None:
                    progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):
            shutil.copystat(source, tmp_name)
        if dest.exists():
            raise FileExistsError(errno.EEXIST, "already exists", str(dest))
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return dest


def unique_path(path: Path) -> Path:
    """``path``, or ``name (2).ext``, ``name (3).ext`` ... when it (or its sidecar) exists."""
    candidate = path
    counter = 2
    while candidate.exists() or (candidate.suffix.lower() in VIDEO_SUFFIXES
                                 and candidate.with_suffix(".json").exists()):
        candidate = path.with_name(f"{path.stem} ({counter}){path.suffix}")
        counter += 1
    return candidate


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, follow_links=True) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_url(source: str) -> bool:
    return source.lower().startswith(("https://", "http://"))


def _strip_credentials(url: str) -> str:
    """A URL without any ``user:password@`` part."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


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


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class InputRef:
    """One input of a result as recorded in its sidecar."""

    name: str                  # file base name, or the URL's last path part
    url: str | None = None     # when the input was given as a link
    copy: str | None = None    # copy inside the library, relative to its root
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "copy": self.copy, "sha256": self.sha256}

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
        return InputRef(name=_text(name, "an input's name"), url=values["url"],
                        copy=values["copy"], sha256=values["sha256"])


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
    def model_mismatch(self) -> bool:
        """The provider says it used another model than the one asked for."""
        return self.model_used is not None and self.model_used != self.model


@dataclass
class RebuildReport:
    indexed: int = 0
    unreadable: list[Path] = field(default_factory=list)   # sidecars that could not be read
    orphans: list[Path] = field(default_factory=list)      # videos without a sidecar
    missing_videos: list[Path] = field(default_factory=list)  # sidecars whose video is gone
    skipped: list[Path] = field(default_factory=list)   # video names that are not plain files


@dataclass
class ExportReport:
    videos: list[Path] = field(default_factory=list)      # the copies made in the folder
    sidecars: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)      # kept inputs copied (once each)
    without_description: list[Path] = field(default_factory=list)  # sidecar unusable: video only
    bytes_copied: int = 0
    refused: list[Path] = field(default_factory=list)     # not a plain file inside the library


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    unreadable: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------- sidecar I/O


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


def _entry_from_json(data: object, sidecar: Path) -> LibraryEntry:
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ValueError("it has no format version")
    if schema > SIDECAR_SCHEMA:
        raise ValueError(f"it was written by a newer app (format {schema})")
    if schema != SIDECAR_SCHEMA:
        raise ValueError(f"unknown format {schema}")
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
        raise SidecarError(path, f"it is too large for a description ({exc.size} bytes)") from exc
    except NotARegularFileError as exc:
        raise SidecarError(path, f"it is {exc.strerror}") from exc
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SidecarError(path, f"it could not be read ({reason})") from exc
    try:
        data = _load_json(raw)
    except (ValueError, RecursionError) as exc:
        raise SidecarError(path, "it is damaged (not valid JSON)") from exc
    try:
        return _entry_from_json(data, path)
    except _UNUSABLE as exc:
        raise SidecarError(path, str(exc)) from exc


def _write_sidecar(entry: LibraryEntry) -> None:
    """Write ``entry``'s sidecar; the one place sidecars are written (links lose credentials)."""
    entry = replace(entry, base_url=_strip_credentials(entry.base_url),
                    image=_scrub(entry.image), video=_scrub(entry.video))
    text = json.dumps(entry.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomic(entry.sidecar_path, text.encode("utf-8"))


# ------------------------------------------------------------------------- library


class Library:
    """The library folder at ``root``; keeps ``store``'s results index in step when given.

    Every file in the folder is treated as hostile (it may be on a shared
    drive). Only regular files count: a link named like a video or sidecar is
    not followed, and neither is a link to a folder (even one pointing inside:
    skipping links is the one rule that needs no judgement); pipes, sockets and
    devices are never opened. Rebuild and sync always finish; a sidecar that
    cannot be used makes its video an "unreadable sidecar" row. Export and
    trash only act on regular files inside the library.
    """

    def __init__(self, root: Path, store: JobStore | None = None) -> None:
        self.root = Path(root)
        self.store = store

    # -- naming --------------------------------------------------------------

    def target_path(self, job: Job) -> Path:
        """Where the result of ``job`` goes: a readable, unique, portable file name.

        ``2026-11-25 14-03 Kling V3 Pro – <first words of the prompt> – <task>.mp4``.
        Call it once per job and keep the answer (``job.output_path``): when it is
        already set, it is returned unchanged.
        """
        if job.output_path:
            return Path(job.output_path)
        moment = datetime.fromtimestamp(job.completed_at or job.submitted_at or time.time())
        spec = job.spec
        options = spec.options
        model = Model(options.model).label
        mode = "Pro" if Mode(options.mode) is Mode.PRO else "Standard"
        words = " ".join(options.prompt.split()[:6])
        if len(words) > 48:
            words = words[:48].rstrip() + "…"
        if not words:
            words = _input_name(spec.image).rsplit(".", 1)[0] or "video"
        short = (job.task_id or "").rsplit("-", 1)[-1][-8:] or f"job {job.id}"
        words = safe_filename(words, max_bytes=90)
        stem = safe_filename(f"{moment:%Y-%m-%d %H-%M} {model} {mode} – {words} – {short}",
                             max_bytes=160)
        candidate = self.root / f"{stem}.mp4"
        counter = 2
        while candidate.exists() or candidate.with_suffix(".json").exists():
            candidate = self.root / f"{stem} ({counter}).mp4"
            counter += 1
        return candidate

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, with forward slashes (as stored in the index)."""
        if ".." not in path.parts:
            with contextlib.suppress(ValueError):
                return path.relative_to(self.root).as_posix()
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    # -- adding --------------------------------------------------------------

    def add_result(
        self,
        job: Job,
        video: Path,
        *,
        inputs_dir_name: str = INPUTS_DIR,
        copy_inputs: bool = True,
        duration: float | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> LibraryEntry:
        """Record ``video`` (already inside the root) as the result of ``job``.

        Writes ``<stem>.json`` next to it atomically, copies local inputs into
        ``<root>/<inputs_dir_name>/`` (once per content) and updates the index.
        ``duration`` defaults to the saved video's measured length
        (``job.result_duration``), else to the job's billable seconds (the clip's
        length). The sidecar also keeps the model the provider says it used
        next to the one asked for, and what it reported it charged.
        """
        video = Path(video)
        try:
            video_rel = self.relative(video)
        except ValueError:
            raise ValueError(f"{video} is not inside the library folder {self.root}") from None
        spec = job.spec
        if duration is None:
            duration = (job.result_duration if job.result_duration is not None
                        else spec.billable_seconds)
        inputs_dir = self.root / inputs_dir_name
        image_ref = self._input_ref(spec.image, inputs_dir, copy_inputs)
        video_ref = self._input_ref(spec.video, inputs_dir, copy_inputs)
        entry = LibraryEntry(
            video_path=video,
            sidecar_path=video.with_suffix(".json"),
            task_id=job.task_id,
            job_id=job.id,
            model=str(spec.options.model),
            mode=str(spec.options.mode),
            prompt=spec.options.prompt,
            orientation=str(spec.options.orientation),
            keep_original_sound=spec.options.keep_original_sound,
            image=image_ref,
            video=video_ref,
            created_at=job.created_at,
            submitted_at=job.submitted_at,
            completed_at=job.completed_at,
            saved_at=time.time(),
            base_url=_strip_credentials(job.base_url),
            demo=job.demo,
            billable_seconds=_usable_seconds(spec.billable_seconds),
            file_size=video.stat().st_size,
            duration=_usable_seconds(duration),
            width=width,
            height=height,
            batch_id=spec.batch_id,
            app_version=__version__,
            model_used=job.model_used,
            provider_usage=usage_from_text(job.provider_usage),
        )
        # exactly what the sidecar holds (times rounded to milliseconds)
        entry = _entry_from_json(entry.to_json(), entry.sidecar_path)
        try:
            _write_sidecar(entry)
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, entry.sidecar_path) from exc
        if self.store is not None:
            self.store.upsert_result(self._record(entry, video_rel))
        log.info("library: saved %s", video.name)
        return entry

    def _input_ref(self, source: str, inputs_dir: Path, copy: bool) -> InputRef:
        if _is_url(source):
            return InputRef(name=_input_name(source), url=_strip_credentials(source))
        path = Path(source).expanduser()
        if not copy:
            return InputRef(name=path.name)
        try:
            digest = _sha256(path)
            target = inputs_dir / f"{digest[:16]}{path.suffix.lower()}"
            kept = regular_file(target)
            if kept is None or kept.st_size != os.stat(path).st_size:
                inputs_dir.mkdir(parents=True, exist_ok=True)
                with open_regular(path, follow_links=True) as src:
                    fd, tmp_name = create_temp(inputs_dir, ".copy.", ".tmp")
                    try:
                        with os.fdopen(fd, "wb") as out:
                            shutil.copyfileobj(src, out, _CHUNK)
                            out.flush()
                            os.fsync(out.fileno())
                        os.replace(tmp_name, target)
                    except BaseException:
                        with contextlib.suppress(OSError):
                            os.unlink(tmp_name)
                        raise
        except OSError as exc:
            # The result itself is what matters; a missing input copy is noted, not fatal.
            log.warning("library: could not keep a copy of %s: %s", path.name, exc)
            return InputRef(name=path.name)
        return InputRef(name=path.name, copy=self.relative(target), sha256=digest)

    def path_of(self, rel: str) -> Path:
        """The absolute path of an index path (``ResultRecord.video_rel``)."""
        return self.root / Path(rel)

    def entry_from_record(self, record: ResultRecord) -> LibraryEntry | None:
        """The entry an index row describes (no disk access); None for an unusable sidecar."""
        if not record.sidecar_ok or not record.sidecar_json or not record.sidecar_rel:
            return None
        try:
            data = _load_json(record.sidecar_json.encode("utf-8", "surrogatepass"))
            entry = _entry_from_json(data, self.path_of(record.sidecar_rel))
        except _UNUSABLE:
            return None
        return replace(entry, file_size=record.file_size or entry.file_size)

    def input_path(self, ref: InputRef, *, must_exist: bool = True) -> Path | None:
        """The kept copy of an input inside the library, if there is one (and it exists).

        A sidecar naming a path outside the library (hand-edited) gets None; so
        does, with ``must_exist``, anything but a regular file really inside the
        library (a link out of it, a pipe). ``must_exist=False`` only checks the
        name (no disk access).
        """
        if not ref.copy:
            return None
        rel = Path(ref.copy)
        if rel.is_absolute() or rel.drive or ".." in rel.parts or not rel.parts:
            return None
        path = self.root / rel
        return path if not must_exist or self.is_library_file(path) else None

    def is_library_file(self, path: Path) -> bool:
        """True when ``path`` is a regular file (not a link) whose real place is in the library."""
        return regular_file(path) is not None and is_inside(path, self.root)

    def export_results(
        self,
        entries: Sequence[LibraryEntry | Path],
        folder: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Copy results (video + sidecar + kept inputs) into ``folder``, as a small library.

        ``entries`` are library entries, or bare video paths for results whose
        sidecar is unusable (those are copied without a description). Nothing in
        ``folder`` is overwritten: clashing names get `` (2)``. Sidecars are written
        fresh from the entry (known fields only, credentials stripped from the
        provider address), so nothing secret can ride along. ``progress(done,
        total)`` counts bytes; ``cancel`` stops between chunks.

        Only regular files inside the library are copied: a video that is a link
        (``x.mp4 -> /etc/passwd``), a pipe or a path outside the library is left
        out and listed in :attr:`ExportReport.refused`; so are kept inputs that
        are not (they are simply not copied).
        """
        folder = Path(folder)
        report = ExportReport()
        plan: list[tuple[Path, LibraryEntry | None]] = []
        for item in entries:
            video, entry = ((item.video_path, item) if isinstance(item, LibraryEntry)
                            else (Path(item), None))
            if self.is_library_file(video):
                plan.append((video, entry))
            else:
                log.warning("library: not exporting %s: not a plain file inside the library",
                            video)
                report.refused.append(video)
        inputs: dict[Path, Path] = {}
        for _video, entry in plan:
            if entry is None:
                continue
            for ref in (entry.image, entry.video):
                source = self.input_path(ref)
                if source is not None and ref.copy:
                    inputs.setdefault(source, folder / Path(ref.copy))
        total = sum(_size(video, 0) for video, _ in plan) + sum(_size(p, 0) for p in inputs)

        def step(count: int) -> None:
            report.bytes_copied += count
            if progress is not None:
                progress(report.bytes_copied, total)

        try:
            folder.mkdir(parents=True, exist_ok=True)
            for source, dest in inputs.items():
                if dest.is_file() and dest.stat().st_size == _size(source, -1):
                    step(dest.stat().st_size)   # same content name, same size: already there
                    continue
                with contextlib.suppress(NotARegularFileError):   # swapped since checked
                    report.inputs.append(copy_file(source, dest, cancel=cancel, progress=step))
            for video, entry in plan:
                dest = unique_path(folder / video.name)
                try:
                    copy_file(video, dest, cancel=cancel, progress=step)
                except NotARegularFileError:       # swapped since checked
                    report.refused.append(video)
                    continue
                report.videos.append(dest)
                if entry is None:
                    report.without_description.append(dest)
                    continue
                fresh = replace(entry, video_path=dest, sidecar_path=dest.with_suffix(".json"))
                _write_sidecar(fresh)
                report.sidecars.append(fresh.sidecar_path)
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, folder / "x") from exc
        log.info("library: exported %d results to %s", len(report.videos), folder)
        return report

    def delete_result(self, target: LibraryEntry | Path, trash: Callable[[Path], bool]) -> None:
        """Move a result (video, then its sidecar) out of the library with ``trash(path)``.

        ``trash`` returns True when the file went to the system trash (the window
        passes Qt's ``QFile.moveToTrash``; this module never deletes for good).
        Kept inputs stay: other results may share them. The index row goes as soon
        as the video is gone. Raises :class:`LibraryWriteError` when a file stays,
        and, without calling ``trash`` at all, for a path outside the library or
        one that is not a regular file (a link, a pipe: removed by hand, if at all).
        """
        if isinstance(target, LibraryEntry):
            video, sidecar = target.video_path, target.sidecar_path
        else:
            video, sidecar = Path(target), Path(target).with_suffix(".json")
        for path in (video, sidecar):
            if not os.path.lexists(path):
                continue
            if not is_inside(path, self.root):
                raise LibraryWriteError(
                    f"{path.name} is not inside the library folder; it was left alone.",
                    fix="Only results inside the library folder can be moved to the trash here.")
            if regular_file(path) is None:
                raise LibraryWriteError(
                    f"{path.name} is not a plain file (a link or a special file); "
                    "it was left alone.",
                    fix="Remove it in your file manager if you do not want it there.")
        if regular_file(video) is not None and not trash(video):
            raise LibraryWriteError(
                f"{video.name} could not be moved to the trash.",
                fix="Check that the file is not open in another program and that the library "
                    "folder may be written, then try again.")
        if self.store is not None:
            with contextlib.suppress(ValueError):
                self.store.remove_result(self.relative(video))
        if regular_file(sidecar) is not None and not trash(sidecar):
            raise LibraryWriteError(
                f"The video went to the trash, but its description {sidecar.name} stayed.",
                fix="Delete the .json file by hand; it is no longer listed.")
        log.info("library: moved %s to the trash", video.name)

    def set_mark(self, entry: LibraryEntry, mark: str | None) -> LibraryEntry:
        """Mark a result as a keeper or a reject (or neither), in its sidecar and the index."""
        if mark not in (None, *MARKS):
            raise ValueError(f"mark must be one of {MARKS} or None")
        if not is_inside(entry.sidecar_path, self.root):
            raise ValueError(f"{entry.sidecar_path} is not inside the library folder {self.root}")
        current = read_sidecar(entry.sidecar_path)
        updated = replace(current, mark=mark)
        try:
            _write_sidecar(updated)
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, updated.sidecar_path) from exc
        if self.store is not None:
            self.store.set_result_mark(self.relative(updated.video_path), mark)
        return updated

    # -- reading -------------------------------------------------------------

    def read_sidecar(self, path: Path) -> LibraryEntry:
        return read_sidecar(path)

    def _walk(self) -> Iterator[FoundFile]:
        """Every name under the root that is not a folder, skipping hidden ones (``.inputs``).

        Links to folders are not followed and the walk always ends (see
        :func:`~kling_desktop.engine.safe_files.walk_files`).
        """
        return walk_files(self.root)

    def _on_disk(self) -> tuple[list[Path], list[Path], list[Path]]:
        """``(sidecars, videos, skipped)``: every ``.json`` name whatever it is (reading
        refuses what is not a regular file), the regular video files, and video names
        that are not regular files (links, pipes: never results)."""
        sidecars: list[Path] = []
        videos: list[Path] = []
        skipped: list[Path] = []
        for found in self._walk():
            suffix = found.path.suffix.lower()
            if suffix == ".json":
                sidecars.append(found.path)
            elif suffix in VIDEO_SUFFIXES:
                (videos if found.regular else skipped).append(found.path)
        return sidecars, videos, skipped

    def _record(self, entry: LibraryEntry, video_rel: str | None = None) -> ResultRecord:
        return ResultRecord(
            video_rel=video_rel or self.relative(entry.video_path),
            sidecar_rel=self.relative(entry.sidecar_path),
            task_id=entry.task_id,
            job_id=entry.job_id,
            model=entry.model,
            mode=entry.mode,
            orientation=entry.orientation,
            prompt=entry.prompt,
            keep_original_sound=entry.keep_original_sound,
            created_at=entry.created_at,
            completed_at=entry.completed_at,
            saved_at=entry.saved_at,
            duration=entry.duration,
            width=entry.width,
            height=entry.height,
            file_size=_size(entry.video_path, entry.file_size),
            demo=entry.demo,
            mark=entry.mark,
            sidecar_ok=True,
            sidecar_json=json.dumps(entry.to_json(), ensure_ascii=False),
        )

    def _bare_record(self, video: Path, sidecar: Path | None = None) -> ResultRecord:
        """What a video without a usable sidecar tells by itself."""
        info = regular_file(video)
        size, mtime = (info.st_size, info.st_mtime) if info is not None else (0, None)
        return ResultRecord(
            video_rel=self.relative(video),
            sidecar_rel=self.relative(sidecar) if sidecar is not None else None,
            created_at=mtime,
            saved_at=mtime,
            file_size=size,
            sidecar_ok=False,
        )

    def _collect(
        self, progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[ResultRecord], RebuildReport]:
        sidecars, videos, skipped = self._on_disk()
        report = RebuildReport(skipped=skipped)
        for path in skipped:
            log.warning("library: %s is not a plain file; not listed", path.name)
        records: dict[str, ResultRecord] = {}
        total = len(sidecars) + len(videos)
        done = 0
        for sidecar in sidecars:
            try:
                entry = read_sidecar(sidecar)
            except SidecarError as exc:
                log.warning("library: %s", exc.message)
                report.unreadable.append(sidecar)
                video = _video_for(sidecar)
                if video is not None:
                    records[self.relative(video)] = self._bare_record(video, sidecar)
            else:
                if regular_file(entry.video_path) is not None:
                    record = self._record(entry)
                    records[record.video_rel] = record
                else:
                    report.missing_videos.append(entry.video_path)
            done += 1
            if progress is not None:
                progress(done, total)
        for video in videos:
            rel = self.relative(video)
            if rel not in records:
                records[rel] = self._bare_record(video)
                report.orphans.append(video)
            done += 1
            if progress is not None:
                progress(done, total)
        report.indexed = len(records)
        return list(records.values()), report

    def entries(self) -> list[LibraryEntry]:
        """Every readable sidecar whose video exists, read from disk (no index needed)."""
        result: list[LibraryEntry] = []
        for sidecar in self._on_disk()[0]:
            try:
                entry = read_sidecar(sidecar)
            except SidecarError:
                continue
            if regular_file(entry.video_path) is not None:
                result.append(entry)
        return result

    # -- index ---------------------------------------------------------------

    def rebuild_index(
        self, progress: Callable[[int, int], None] | None = None
    ) -> RebuildReport:
        """Recreate the store's results index from the folder (one transaction)."""
        records, report = self._collect(progress)
        if self.store is not None:
            self.store.replace_results(records)
        log.info("library: index rebuilt: %d videos, %d unreadable sidecars, %d without sidecar",
                 report.indexed, len(report.unreadable), len(report.orphans))
        return report

    def sync_index(self) -> SyncReport:
        """Bring the index up to date: add new videos/sidecars, drop rows whose video vanished."""
        report = SyncReport()
        if self.store is None:
            return report
        records, collected = self._collect()
        report.unreadable = collected.unreadable
        on_disk = {record.video_rel: record for record in records}
        for row in self.store.list_results():
            if row.video_rel not in on_disk:
                self.store.remove_result(row.video_rel)
                report.removed += 1
        for rel, record in on_disk.items():
            current = self.store.get_result(rel)
            if current is None or _changed(current, record):
                self.store.upsert_result(_keep_mark(current, record))
                report.added += current is None
        return report

    scan = sync_index

    def folder_state(self) -> dict[str, tuple[int, int]]:
        """Every video and sidecar under the root: relative path -> (mtime in ns, size).

        Only directory listings and ``lstat`` calls: cheap enough to take after every
        change notification, even for 10,000 results. Only regular files count.
        """
        state: dict[str, tuple[int, int]] = {}
        for found in self._walk():
            suffix = found.path.suffix.lower()
            if (suffix != ".json" and suffix not in VIDEO_SUFFIXES) or not found.regular:
                continue
            info = found.lstat()
            if info is None:
                continue
            state[self.relative(found.path)] = (info.st_mtime_ns, info.st_size)
        return state

    def sync_changes(
        self, before: Mapping[str, tuple[int, int]]
    ) -> tuple[dict[str, tuple[int, int]], SyncReport, list[str]]:
        """Bring the index up to date for what changed since ``before`` (a :meth:`folder_state`).

        Reads only the sidecars that were added, changed or removed. Returns the new
        state, what happened, and the ``video_rel`` of every row looked at. A sidecar
        naming a video with another stem is only caught by :meth:`sync_index`.
        """
        after = self.folder_state()
        report = SyncReport()
        changed = {rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel)}
        videos: set[str] = set()
        by_stem: dict[str, list[str]] | None = None
        for rel in changed:
            if Path(rel).suffix.lower() != ".json":
                videos.add(rel)
                continue
            if by_stem is None:
                by_stem = {}
                for other in {*after, *before}:
                    if Path(other).suffix.lower() in VIDEO_SUFFIXES:
                        by_stem.setdefault(Path(other).with_suffix("").as_posix(),
                                           []).append(other)
            videos.update(by_stem.get(Path(rel).with_suffix("").as_posix(), ()))
        if self.store is None:
            return after, report, sorted(videos)
        for rel in sorted(videos):
            video = self.path_of(rel)
            if not self.is_library_file(video):
                report.removed += self.store.remove_result(rel)
                continue
            sidecar = video.with_suffix(".json")
            record: ResultRecord
            if os.path.lexists(sidecar):   # whatever it is: reading refuses what is not a file
                try:
                    entry = read_sidecar(sidecar)
                except SidecarError as exc:
                    log.warning("library: %s", exc.message)
                    report.unreadable.append(sidecar)
                    record = self._bare_record(video, sidecar)
                else:
                    record = (self._record(entry, rel) if entry.video_path == video
                              else self._bare_record(video))
            else:
                record = self._bare_record(video)
            current = self.store.get_result(rel)
            if current is None or _changed(current, record):
                self.store.upsert_result(_keep_mark(current, record))
                report.added += current is None
        return after, report, sorted(videos)


def _changed(current: ResultRecord, fresh: ResultRecord) -> bool:
    return (current.sidecar_ok, current.sidecar_json, current.file_size) != (
        fresh.sidecar_ok, fresh.sidecar_json, fresh.file_size)


def _keep_mark(current: ResultRecord | None, fresh: ResultRecord) -> ResultRecord:
    """A row without a sidecar keeps the mark the index had (nowhere else to keep it)."""
    if current is not None and not fresh.sidecar_ok and fresh.mark is None:
        return replace(fresh, mark=current.mark)
    return fresh


def _size(path: Path, fallback: int) -> int:
    info = regular_file(path)
    return info.st_size if info is not None else fallback


def _video_for(sidecar: Path) -> Path | None:
    for suffix in (".mp4", ".mov", ".MP4", ".MOV"):
        candidate = sidecar.with_suffix(suffix)
        if regular_file(candidate) is not None:
            return candidate
    return None


def _usable_seconds(value: float | None) -> float | None:
    """A length in seconds fit for a sidecar: finite and not negative, else unknown."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _scrub(ref: InputRef) -> InputRef:
    return replace(ref, url=_strip_credentials(ref.url)) if ref.url else ref


def _input_name(source: str) -> str:
    if _is_url(source):
        try:
            path = urlsplit(source).path
        except ValueError:
            return source
        name = unquote(path.rsplit("/", 1)[-1])
        return name or source
    return Path(source).name
