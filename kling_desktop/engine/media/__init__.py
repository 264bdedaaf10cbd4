"""Identify and measure pictures and clips by their CONTENT, reading headers only.

This module opens the picked file and hands it on: :mod:`kling_desktop.sniff`
names the kind of content, :mod:`.images` measures PNG/JPEG pictures,
:mod:`.videos` walks MP4/MOV boxes, :mod:`.refusal` words a wrong kind of file.

Why this is parsed here instead of with a library:

- mutagen and hachoir are GPL; the app ships as installers, so they are out.
- PyAV would add ~100 MB (it bundles FFmpeg) to every installer.
- pymediainfo needs the native MediaInfo library on every platform.
- What the checks need is small and stable: the PNG signature + IHDR, the JPEG
  segment list up to a SOFn marker, and the ISO-BMFF (MP4/MOV) box tree
  (``ftyp``, ``moov/mvhd``, ``trak/tkhd``, ``mdia/mdhd``, ``mdia/hdlr``, and for
  fragmented files ``mvex/mehd`` or the ``moof`` boxes).

Nothing is decoded and no file is read whole: boxes and chunks are walked by
their length fields with ``seek``, so probing a 100 MB clip reads a few KB
(``mdat``, the media data, is always skipped).

Errors: every problem with a file is a :class:`MediaError`, a
:class:`~kling_desktop.errors.KlingError` subclass with a ``message`` (what
is wrong, in plain words) and a ``fix`` (what to do), plus a machine-readable
``kind`` (see :data:`ERROR_KINDS`) and, when the content was recognised, the
``detected`` format key (see :func:`describe_format`). Anything else raised from
here is a bug.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from kling_desktop.engine.media.images import ImageInfo, probe_image_stream
from kling_desktop.engine.media.reading import (
    ERROR_KINDS,
    HEAD_BYTES,
    IMAGE_FORMATS,
    VIDEO_CONTAINERS,
    MediaError,
    Readable,
    Source,
    label,
    os_error,
    permission_error,
)
from kling_desktop.engine.media.videos import VideoInfo, probe_video_stream
from kling_desktop.i18n import _
from kling_desktop.sniff import describe_format, identify

__all__ = [
    "ERROR_KINDS",
    "IMAGE_FORMATS",
    "VIDEO_CONTAINERS",
    "ImageInfo",
    "MediaError",
    "Readable",
    "VideoInfo",
    "describe_format",
    "identify",
    "probe_image",
    "probe_image_stream",
    "probe_video",
    "probe_video_stream",
    "sniff",
]


def _open_checked(path: Path) -> tuple[int, io.FileIO]:
    """Stat and open ``path`` for reading; every failure becomes a MediaError."""
    name = label(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise MediaError(
                _("{name} is a shortcut (link) to a file that no longer exists.").format(
                    name=name),
                _("Pick the original file instead of the shortcut."),
                kind="missing",
            ) from None
        raise MediaError(
            _("The file {name} was not found.").format(name=name),
            _("It may have been moved, renamed or be on a drive that is not connected. "
              "Pick it again."),
            kind="missing",
        ) from None
    except PermissionError:
        raise permission_error(path) from None
    except OSError as exc:
        raise os_error(path, exc) from None
    except ValueError:  # e.g. a NUL character pasted into the name
        raise MediaError(
            _("{name} is not a valid file name.").format(name=name),
            _("Pick the file with the Browse button instead of typing its name."),
            kind="missing",
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(
            _("{name} is a folder, not a file.").format(name=name),
            _("Open the folder and pick a file inside it."),
            kind="folder",
        )
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(
            _("{name} is not an ordinary file.").format(name=name),
            _("Pick a picture or video file saved on your computer."),
            kind="unreadable",
        )
    if st.st_size == 0:
        raise MediaError(
            _("The file {name} is empty (0 bytes).").format(name=name),
            _("It may not have finished downloading or copying. Pick the original file "
              "again."),
            kind="empty",
            detected="empty",
        )
    try:
        handle = _open_binary(path)
    except PermissionError:
        raise permission_error(path) from None
    except OSError as exc:
        raise os_error(path, exc) from None
    return st.st_size, handle


def _open_binary(path: Path) -> io.FileIO:
    """Unbuffered: each read asks the OS for exactly the header bytes needed."""
    return io.FileIO(path, "rb")


def sniff(path: str | os.PathLike[str]) -> str | None:
    """The format key of a file's content (see :func:`identify`); raises MediaError."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        src = Source(handle, size, p)
        return identify(src.read_at(0, HEAD_BYTES), size)


def probe_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Format and size of a PNG or JPEG picture; raises MediaError otherwise."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        return probe_image_stream(handle, size, p)


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Container, size, duration and audio of an MP4/MOV clip; raises MediaError otherwise."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        return probe_video_stream(handle, size, p)
