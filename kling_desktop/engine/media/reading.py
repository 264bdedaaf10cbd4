"""Reading a picked file for the probes: positioned reads, and every failure as a MediaError.

:class:`MediaError` is the one error of the probes (a ``message``, a ``fix``, a
machine-readable ``kind`` and, when the content was recognised, the
``detected`` format key); :class:`Source` turns OS errors into it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from kling_desktop.errors import KlingError
from kling_desktop.i18n import _

__all__ = [
    "ERROR_KINDS",
    "HEAD_BYTES",
    "IMAGE_FORMATS",
    "VIDEO_CONTAINERS",
    "MediaError",
    "Readable",
    "Source",
    "corrupt",
    "label",
    "non_empty_source",
    "os_error",
    "permission_error",
    "truncated",
]

IMAGE_FORMATS = ("png", "jpeg")
VIDEO_CONTAINERS = ("mp4", "mov")

#: Values of :attr:`MediaError.kind`.
ERROR_KINDS = (
    "missing",      # no such file (or a link to a file that is gone)
    "folder",       # a folder was picked
    "unreadable",   # permission denied or another OS error
    "empty",        # 0 bytes
    "format",       # readable, but not a format the service takes (see .detected)
    "truncated",    # the file ends before its data does
    "corrupt",      # the header is inconsistent
)

HEAD_BYTES = 4096


class MediaError(KlingError):
    """A file the app cannot use, with a plain-words ``message`` and ``fix``."""

    default_message = "This file could not be read."
    default_fix = "Pick another file."

    def __init__(
        self, message: str, fix: str, *, kind: str = "corrupt", detected: str | None = None
    ) -> None:
        super().__init__(message, fix=fix)
        self.kind = kind
        self.detected = detected

    def __repr__(self) -> str:
        return (
            f"MediaError(kind={self.kind!r}, detected={self.detected!r}, "
            f"message={self.message!r})"
        )


class Readable(Protocol):
    """What the probes need from a binary stream (a file opened ``"rb"``, BytesIO...)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def label(path: Path) -> str:
    """The file's name, quoted for a sentence: “a.png”."""
    return _("“{name}”").format(name=path.name or path)


def permission_error(path: Path) -> MediaError:
    return MediaError(
        _("The app is not allowed to read {name}.").format(name=label(path)),
        _("Check the file's permissions (or copy it into your Documents folder) and pick it "
          "again."),
        kind="unreadable",
    )


def os_error(path: Path, exc: OSError) -> MediaError:
    reason = exc.strerror or type(exc).__name__
    return MediaError(
        _("{name} could not be read ({reason}).").format(name=label(path), reason=reason),
        _("Copy it to a local folder and pick the copy."),
        kind="unreadable",
    )


class Source:
    """Positioned reads over a stream of known size; OS errors become MediaError."""

    def __init__(self, stream: Readable, size: int, path: Path) -> None:
        self.stream = stream
        self.size = size
        self.path = path

    def read_at(self, offset: int, length: int) -> bytes:
        if offset >= self.size or length <= 0:
            return b""
        length = min(length, self.size - offset)
        try:
            self.stream.seek(offset)
            data = self.stream.read(length)
        except PermissionError:
            raise permission_error(self.path) from None
        except OSError as exc:
            raise os_error(self.path, exc) from None
        return data or b""


def truncated(path: Path, what: str) -> MediaError:
    """``what`` is "picture" or "video"."""
    message = (_("The picture {name} is incomplete: the file ends before its data does.")
               if what == "picture" else
               _("The video {name} is incomplete: the file ends before its data does."))
    return MediaError(
        message.format(name=label(path)),
        _("It may still be downloading or copying. Get the file again (or export it again) "
          "and pick the new copy."),
        kind="truncated",
    )


def corrupt(path: Path, what: str, detail: str) -> MediaError:
    """``what`` is "picture" or "video"; ``detail`` a translated clause (or an error's
    type name)."""
    message = (_("The picture {name} looks damaged ({detail}).") if what == "picture"
               else _("The video {name} looks damaged ({detail})."))
    return MediaError(
        message.format(name=label(path), detail=detail),
        _("Open it in an editor and save or export it again, then pick the new file."),
        kind="corrupt",
    )


def non_empty_source(stream: Readable, size: int, path: Path) -> Source:
    if size <= 0:
        raise MediaError(_("The file {name} is empty (0 bytes).").format(name=label(path)),
                         _("Pick the original file again."), kind="empty", detected="empty")
    return Source(stream, size, path)
