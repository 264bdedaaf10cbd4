"""Filesystem helpers for every layer: atomic writes and copies, and reads that cannot be fooled.

Writing: a file is replaced whole or not at all (temp file in the same folder,
flushed and fsynced, renamed, folder fsynced) and a copy can be cancelled
between chunks, leaving nothing behind.

Reading: the library folder may sit on a shared drive, so any name in it can be
a pipe (an ``open`` that never returns), a device (``/dev/zero``: endless), a
socket, a link out of the folder (``x.mp4 -> /etc/passwd``) or a link loop. The
readers here only ever read *regular files*, never block on opening one, never
follow a final link unless asked, and walk folders without following links.

Ground floor: imports nothing from the app's layers.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import shutil
import stat
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from kling_desktop.i18n import _

__all__ = [
    "CopyCancelledError",
    "FoundFile",
    "NotARegularFileError",
    "TooLargeError",
    "aside_path",
    "copy_file",
    "create_temp",
    "fsync_folder",
    "is_inside",
    "open_regular",
    "partial_path",
    "read_capped",
    "regular_file",
    "reserve_download",
    "safe_filename",
    "same_bytes",
    "walk_files",
    "write_atomic",
    "write_stream",
]

log = logging.getLogger(__name__)

CHUNK: Final = 1 << 20
MAX_DEPTH: Final = 32          # folders deeper than this are not looked into
_BASE_FLAGS: Final = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                      | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


class NotARegularFileError(OSError):
    """``path`` is a link, pipe, socket, device or folder where a plain file was expected."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(errno.EINVAL, _("not a plain file ({what})").format(what=what),
                         str(path))


class TooLargeError(OSError):
    """A file is larger than the caller accepts."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, _("too large ({size} bytes; at most {limit})").format(
            size=size, limit=limit), str(path))
        self.size = size
        self.limit = limit


class CopyCancelledError(Exception):
    """A copy was stopped by its ``cancel`` event; nothing of it was left behind."""


# ------------------------------------------------------------------------ writing


def create_temp(folder: Path, prefix: str, suffix: str, *,
                private: bool = False) -> tuple[int, Path]:
    """A new, empty file in ``folder``, opened for writing: ``(fd, path)``.

    Unlike ``tempfile.mkstemp`` (always 0600), a new file gets the user's normal
    permissions (0666 less the umask) unless ``private`` (0600 on POSIX): a file
    renamed into place keeps them.
    """
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0) | _NOFOLLOW)
    mode = 0o600 if private else 0o666
    for _attempt in range(100):
        candidate = folder / f"{prefix}{os.urandom(6).hex()}{suffix}"   # as secrets.token_hex
        try:
            fd = os.open(candidate, flags, mode)
        except FileExistsError:
            continue
        if private and hasattr(os, "fchmod"):
            try:
                os.fchmod(fd, 0o600)     # exactly 0600, whatever the umask took away
            except OSError:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(candidate)
                raise
        return fd, candidate
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable where the OS allows it (POSIX); never raises."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace_atomically(dest: Path, fill: Callable[[BinaryIO], None], *, suffix: str,
                        private: bool = False, overwrite: bool = True,
                        durable: bool = True) -> None:
    """Write ``dest`` through ``fill(handle)`` into a temp file, then rename it into place.

    The temp file (hidden, next to ``dest``) is flushed and fsynced before the
    rename and removed on any failure; ``overwrite=False`` refuses an existing
    ``dest`` (``FileExistsError``) instead of replacing it. ``durable=False`` skips
    both fsyncs (a cache that is made again if a crash loses it): readers still see
    the old file or the new one, never half of one.
    """
    fd, tmp = create_temp(dest.parent, f".{dest.name}.", suffix, private=private)
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if not overwrite and dest.exists():
            raise FileExistsError(errno.EEXIST, "already exists", str(dest))
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        fsync_folder(dest.parent)


def write_atomic(path: Path, data: bytes, *, private: bool = False,
                 durable: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    The folder is created when missing. The file gets the user's normal
    permissions (library files are theirs to share), or 0600 with ``private``
    (settings). ``durable=False``: not fsynced (see :func:`_replace_atomically`).
    """

    def fill(handle: BinaryIO) -> None:
        handle.write(data)

    path.parent.mkdir(parents=True, exist_ok=True)
    _replace_atomically(path, fill, suffix=".tmp", private=private, durable=durable)


def write_stream(source: BinaryIO, dest: Path, *, cancel: threading.Event | None = None,
                 progress: Callable[[int], None] | None = None,
                 overwrite: bool = True) -> None:
    """Copy what ``source`` holds into ``dest`` whole or not at all, chunk by chunk.

    ``progress(bytes)`` is called after each chunk; a set ``cancel`` stops the
    copy (raising :class:`CopyCancelledError`) and leaves nothing behind.
    """

    def fill(out: BinaryIO) -> None:
        while chunk := source.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise CopyCancelledError()
            out.write(chunk)
            if progress is not None:
                progress(len(chunk))

    _replace_atomically(dest, fill, suffix=".part", overwrite=overwrite)


def copy_file(source: Path, dest: Path, *, cancel: threading.Event | None = None,
              progress: Callable[[int], None] | None = None) -> Path:
    """Copy ``source`` to ``dest`` whole or not at all (temp file + rename), never overwriting.

    Only a regular file is copied: a link, pipe or device as ``source`` raises
    :class:`NotARegularFileError` (an ``OSError``) without reading anything. An
    existing ``dest`` raises ``FileExistsError``. ``progress`` and ``cancel`` as
    for :func:`write_stream`. The copy keeps the source's times and mode.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open_regular(source) as src:
        write_stream(src, dest, cancel=cancel, progress=progress, overwrite=False)
    with contextlib.suppress(OSError):
        shutil.copystat(source, dest)
    return dest


def aside_path(path: Path, tag: str) -> Path:
    """A free name next to ``path`` to keep it aside under: ``<name>.<tag>-<time>[-<n>]``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{counter}")
    return target


_RESERVED_CHARS: Final = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_RESERVED: Final = frozenset(
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


# ------------------------------------------------------------------------ reading


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return _("a link")
    if stat.S_ISDIR(mode):
        return _("a folder")
    if stat.S_ISFIFO(mode):
        return _("a pipe")
    if stat.S_ISSOCK(mode):
        return _("a socket")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("a device")
    return _("a special file")


def regular_file(path: Path) -> os.stat_result | None:
    """``lstat(path)`` when ``path`` itself is a regular file (links are not followed)."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError):      # ValueError: a NUL in the name
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def open_regular(path: Path, *, follow_links: bool = False) -> BinaryIO:
    """``path`` opened for reading, only if it is a regular file; never blocks.

    Opening uses ``O_NONBLOCK`` (a pipe cannot stall it) and, unless
    ``follow_links``, ``O_NOFOLLOW`` plus an ``lstat`` first (a final link is
    refused, also where ``O_NOFOLLOW`` does not exist). What was opened is
    checked with ``fstat``: anything but a regular file (a device behind a
    link, a file swapped in between) raises :class:`NotARegularFileError`.
    """
    expected: os.stat_result | None = None
    if not follow_links:
        expected = os.lstat(path)
        if not stat.S_ISREG(expected.st_mode):
            raise NotARegularFileError(path, _kind(expected.st_mode))
    try:
        fd = os.open(path, _BASE_FLAGS | (0 if follow_links else _NOFOLLOW))
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise NotARegularFileError(path, _("a link")) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError(path, _kind(info.st_mode))
        if expected is not None and (info.st_dev, info.st_ino) != (expected.st_dev,
                                                                  expected.st_ino):
            raise NotARegularFileError(path, _("it changed while being opened"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (links not followed), at most ``limit`` of them.

    A larger file raises :class:`TooLargeError` before anything is read (and
    when it grows while being read); never holds more than ``limit + 1`` bytes.
    """
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise TooLargeError(path, size, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(path, len(data), limit)
    return data


def is_inside(path: Path, root: Path) -> bool:
    """True when ``path``'s real location (links in its folders resolved) is below ``root``."""
    try:
        real_root = root.resolve()
        real = path.parent.resolve() / path.name
    except (OSError, RuntimeError, ValueError):
        return False
    return real != real_root and real.is_relative_to(real_root)


@dataclass(frozen=True)
class FoundFile:
    """A name found by :func:`walk_files` that is not a folder."""

    path: Path
    entry: os.DirEntry[str]

    @property
    def regular(self) -> bool:
        """A regular file (not a link, pipe, socket or device)."""
        try:
            return self.entry.is_file(follow_symlinks=False)
        except OSError:
            return False

    def lstat(self) -> os.stat_result | None:
        try:
            return self.entry.stat(follow_symlinks=False)
        except OSError:
            return None


def _readable_name(name: str) -> bool:
    """Names that are not valid UTF-8 (possible on Linux) cannot be stored or shown."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def walk_files(root: Path, *, max_depth: int = MAX_DEPTH) -> Iterator[FoundFile]:
    """Every name under ``root`` that is not a folder, folder by folder in name order.

    Hidden names (``.inputs``, ``.x.part``) are skipped, so are names that are
    not UTF-8. Links to folders are never followed, a folder reached twice
    (bind mounts, Windows junctions) is looked into once, and nothing deeper
    than ``max_depth`` is visited: the walk always ends. A folder that cannot
    be listed is logged and skipped. Files of every kind are yielded (links,
    pipes...): check :attr:`FoundFile.regular`; nothing is opened.
    """
    try:
        top = os.stat(root)
    except OSError:
        return
    if not stat.S_ISDIR(top.st_mode):
        return
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[Path, int]] = [(Path(root), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as listing:
                items = sorted(listing, key=lambda item: item.name)
        except OSError as exc:
            log.warning("library: could not list %s: %s", folder, exc.strerror or exc)
            continue
        folders: list[Path] = []
        for item in items:
            if item.name.startswith(".") or not _readable_name(item.name):
                continue
            try:
                is_folder = item.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_folder:
                yield FoundFile(Path(item.path), item)
                continue
            if depth >= max_depth or getattr(item, "is_junction", lambda: False)():
                continue
            try:
                info = os.stat(item.path)   # the real folder: a second way in is skipped
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            folders.append(Path(item.path))
        stack.extend((sub, depth + 1) for sub in reversed(folders))


@functools.lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> bytes:
    import hashlib  # here: the window's start-up path imports this module

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").digest()


def same_bytes(one: Path, other: Path) -> bool:
    """Whether two files hold the same bytes (sizes compared first: a file of another
    size is never read; digests are remembered while a file is unchanged)."""
    try:
        a, b = one.stat(), other.stat()
        if a.st_size != b.st_size:
            return False
        return _digest(str(one), a.st_size, a.st_mtime_ns) == _digest(
            str(other), b.st_size, b.st_mtime_ns)
    except OSError:
        return False


def partial_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` lives, across calls and processes."""
    return dest.parent / f".{dest.name}.part"


def reserve_download(dest: Path) -> bool:
    """Claim ``dest`` for one download by creating its (empty) partial file exclusively:
    False when another download already holds that name. The claim is atomic across
    threads and processes; the download itself then resumes into that partial."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(partial_path(dest), os.O_CREAT | os.O_EXCL | os.O_WRONLY
                     | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o644)
    except FileExistsError:
        return False
    except OSError:
        return True     # an unwritable folder: the download says so, with its fix
    os.close(fd)
    return True
