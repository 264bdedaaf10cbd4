"""Reading and listing a folder that may hold anything, without being fooled by it.

The library folder may sit on a shared drive: any name in it can be a pipe (an
``open`` that never returns), a device (``/dev/zero``: endless), a socket, a
link out of the folder (``x.mp4 -> /etc/passwd``) or a link loop. The helpers
here only ever read *regular files*, never block on opening one, never follow a
final link unless asked, and walk folders without following links.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "FoundFile",
    "NotARegularFileError",
    "TooLargeError",
    "create_temp",
    "is_inside",
    "open_regular",
    "read_capped",
    "regular_file",
    "walk_files",
]

log = logging.getLogger(__name__)

MAX_DEPTH: Final = 32          # folders deeper than this are not looked into
_BASE_FLAGS: Final = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                      | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


class NotARegularFileError(OSError):
    """``path`` is a link, pipe, socket, device or folder where a plain file was expected."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(errno.EINVAL, f"not a plain file ({what})", str(path))


class TooLargeError(OSError):
    """A file is larger than the caller accepts."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"too large ({size} bytes; at most {limit})", str(path))
        self.size = size
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


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
            raise NotARegularFileError(path, "a link") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError(path, _kind(info.st_mode))
        if expected is not None and (info.st_dev, info.st_ino) != (expected.st_dev,
                                                                  expected.st_ino):
            raise NotARegularFileError(path, "it changed while being opened")
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
        candidate = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
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
