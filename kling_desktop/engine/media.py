"""Identify and measure pictures and clips by their CONTENT, reading headers only.

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
:class:`~kling_desktop.api.errors.KlingError` subclass with a ``message`` (what
is wrong, in plain words) and a ``fix`` (what to do), plus a machine-readable
``kind`` (see :data:`ERROR_KINDS`) and, when the content was recognised, the
``detected`` format key (see :func:`describe_format`). Anything else raised from
here is a bug.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kling_desktop.api.errors import KlingError

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

_HEAD_BYTES = 4096


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


@dataclass(frozen=True)
class ImageInfo:
    """A picture as probed. ``format`` is ``"png"`` or ``"jpeg"`` (by content)."""

    path: Path
    format: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class VideoInfo:
    """A clip as probed. ``container`` is ``"mp4"`` or ``"mov"`` (by content).

    ``width``/``height`` are the displayed size (swapped when the track is
    rotated by 90°, as phones record portrait clips). ``duration`` is in seconds.
    ``has_audio`` is None when it could not be told.
    """

    path: Path
    container: str
    width: int
    height: int
    duration: float
    size_bytes: int
    has_audio: bool | None


class Readable(Protocol):
    """What the probes need from a binary stream (a file opened ``"rb"``, BytesIO...)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


# --------------------------------------------------------------------------- names

_NAMES: dict[str, str] = {
    "png": "a PNG image",
    "jpeg": "a JPG image",
    "gif": "a GIF image",
    "webp": "a WebP image",
    "bmp": "a BMP image",
    "tiff": "a TIFF image",
    "heic": "an HEIC photo",
    "avif": "an AVIF image",
    "jxl": "a JPEG XL image",
    "jp2": "a JPEG 2000 image",
    "psd": "a Photoshop document",
    "ico": "an icon file",
    "svg": "an SVG drawing",
    "pdf": "a PDF document",
    "zip": "a ZIP archive",
    "html": "a web page (HTML)",
    "text": "a text file",
    "mp4": "an MP4 video",
    "mov": "a MOV (QuickTime) video",
    "3gp": "a 3GP video",
    "m4a": "an M4A audio file",
    "webm": "a WebM video",
    "mkv": "a Matroska (MKV) video",
    "avi": "an AVI video",
    "wmv": "a WMV video",
    "flv": "a Flash (FLV) video",
    "mpeg-ts": "an MPEG-TS video",
    "mpeg-ps": "an MPEG video",
    "wav": "a WAV audio file",
    "mp3": "an MP3 audio file",
    "ogg": "an Ogg file",
    "flac": "a FLAC audio file",
}

_STILL_IMAGES = {"png", "jpeg", "gif", "webp", "bmp", "tiff", "heic", "avif", "jxl", "jp2",
                 "psd", "ico", "svg"}
_VIDEOS = {"mp4", "mov", "3gp", "webm", "mkv", "avi", "wmv", "flv", "mpeg-ts", "mpeg-ps"}

_EXTENSIONS: dict[str, str] = {
    ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
    ".gif": "gif", ".webp": "webp", ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff",
    ".heic": "heic", ".heif": "heic", ".avif": "avif", ".jxl": "jxl", ".jp2": "jp2",
    ".psd": "psd", ".ico": "ico", ".svg": "svg", ".pdf": "pdf", ".zip": "zip",
    ".html": "html", ".htm": "html", ".txt": "text",
    ".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".qt": "mov", ".3gp": "3gp",
    ".m4a": "m4a", ".webm": "webm", ".mkv": "mkv", ".avi": "avi", ".wmv": "wmv",
    ".flv": "flv", ".ts": "mpeg-ts", ".mts": "mpeg-ts", ".m2ts": "mpeg-ts",
    ".mpg": "mpeg-ps", ".mpeg": "mpeg-ps", ".wav": "wav", ".mp3": "mp3", ".ogg": "ogg",
    ".flac": "flac",
}


def describe_format(kind: str | None) -> str:
    """``"gif"`` -> ``"a GIF image"``; None -> ``"an unknown kind of file"``."""
    if kind is None:
        return "an unknown kind of file"
    return _NAMES.get(kind, f"a {kind} file")


# ---------------------------------------------------------------- identification

_BMFF_QT_FIRST = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"junk"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _brands_kind(major: bytes, compatible: list[bytes]) -> str:
    brands = {major, *compatible}
    if major == b"qt  ":
        return "mov"
    if brands & {b"avif", b"avis"}:
        return "avif"
    if brands & _HEIC_BRANDS:
        return "heic"
    if major.startswith((b"3gp", b"3g2")):
        return "3gp"
    if major in (b"M4A ", b"M4B ", b"M4P "):
        return "m4a"
    return "mp4"


def _identify_bmff(head: bytes) -> str | None:
    """The ISO-BMFF flavour of ``head``, or None when it does not look like one."""
    pos = 0
    first: bytes | None = None
    for _ in range(4):
        if pos + 8 > len(head):
            break
        size, typ = struct.unpack_from(">I4s", head, pos)
        if not all(0x20 <= c < 0x7F for c in typ):
            return None
        if first is None:
            first = typ
            if typ != b"ftyp" and typ not in _BMFF_QT_FIRST:
                return None
            if size not in (0, 1) and size < 8:
                return None
        if typ == b"ftyp":
            body = head[pos + 8 : pos + min(size, 256)]
            if size < 16 or len(body) < 8:
                return None
            major = body[:4]
            compatible = [body[i : i + 4] for i in range(8, len(body) - 3, 4)]
            return _brands_kind(major, compatible)
        if size == 1:
            if pos + 16 > len(head):
                break
            size = struct.unpack_from(">Q", head, pos + 8)[0]
            if size < 16:
                return None
        elif size == 0:
            break
        elif size < 8:
            return None
        pos += size
    return "mov" if first is not None else None


def _looks_like_text(head: bytes) -> bool:
    sample = head[:1024]
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end
            return False
        text = sample[: exc.start].decode("utf-8")
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable >= 0.95 * len(text)


def identify(head: bytes, size: int | None = None) -> str | None:
    """The format key of content starting with ``head`` (a few KB), or None.

    Keys are those of :func:`describe_format`; ``"empty"`` for no bytes at all.
    """
    if size == 0 or not head:
        return "empty"
    h = head
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if h.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if h.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if h.startswith(b"RIFF") and len(h) >= 12:
        return {b"WEBP": "webp", b"AVI ": "avi", b"WAVE": "wav"}.get(h[8:12])
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in h[:64] else "mkv"
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if h.startswith(b"BM") and len(h) >= 18:
        dib = struct.unpack_from("<I", h, 14)[0]
        if dib in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if h.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    if h.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "jp2"
    if h.startswith(b"8BPS"):
        return "psd"
    if h.startswith(b"\x00\x00\x01\x00") and len(h) >= 6 and 0 < h[4] + 256 * h[5] < 256:
        return "ico"
    if h.startswith(b"%PDF"):
        return "pdf"
    if h.startswith(b"PK\x03\x04"):
        return "zip"
    if h.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "wmv"
    if h.startswith(b"FLV\x01"):
        return "flv"
    if h.startswith(b"\x00\x00\x01\xba"):
        return "mpeg-ps"
    if h.startswith(b"ID3"):
        return "mp3"
    if h.startswith(b"OggS"):
        return "ogg"
    if h.startswith(b"fLaC"):
        return "flac"
    if len(h) >= 377 and h[0] == h[188] == h[376] == 0x47:
        return "mpeg-ts"
    if len(h) >= 389 and h[4] == h[196] == h[388] == 0x47:
        return "mpeg-ts"  # M2TS (Blu-ray / AVCHD camcorders): 192-byte packets
    bmff = _identify_bmff(h)
    if bmff is not None:
        return bmff
    if _looks_like_text(h):
        lowered = h[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:512]:
            return "html"
        if b"<svg" in lowered:
            return "svg"
        return "text"
    return None


# ------------------------------------------------------------------- file access


def _label(path: Path) -> str:
    return f"“{path.name or path}”"


def _open_checked(path: Path) -> tuple[int, io.FileIO]:
    """Stat and open ``path`` for reading; every failure becomes a MediaError."""
    name = _label(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise MediaError(
                f"{name} is a shortcut (link) to a file that no longer exists.",
                "Pick the original file instead of the shortcut.",
                kind="missing",
            ) from None
        raise MediaError(
            f"The file {name} was not found.",
            "It may have been moved, renamed or be on a drive that is not connected. "
            "Pick it again.",
            kind="missing",
        ) from None
    except PermissionError:
        raise _permission_error(path) from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    except ValueError:  # e.g. a NUL character pasted into the name
        raise MediaError(
            f"{name} is not a valid file name.",
            "Pick the file with the Browse button instead of typing its name.",
            kind="missing",
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(
            f"{name} is a folder, not a file.",
            "Open the folder and pick a file inside it.",
            kind="folder",
        )
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(
            f"{name} is not an ordinary file.",
            "Pick a picture or video file saved on your computer.",
            kind="unreadable",
        )
    if st.st_size == 0:
        raise MediaError(
            f"The file {name} is empty (0 bytes).",
            "It may not have finished downloading or copying. Pick the original file again.",
            kind="empty",
            detected="empty",
        )
    try:
        handle = _open_binary(path)
    except PermissionError:
        raise _permission_error(path) from None
    except OSError as exc:
        raise _os_error(path, exc) from None
    return st.st_size, handle


def _open_binary(path: Path) -> io.FileIO:
    """Unbuffered: each read asks the OS for exactly the header bytes needed."""
    return io.FileIO(path, "rb")


def _permission_error(path: Path) -> MediaError:
    return MediaError(
        f"The app is not allowed to read {_label(path)}.",
        "Check the file's permissions (or copy it into your Documents folder) and pick it again.",
        kind="unreadable",
    )


def _os_error(path: Path, exc: OSError) -> MediaError:
    reason = exc.strerror or type(exc).__name__
    return MediaError(
        f"{_label(path)} could not be read ({reason}).",
        "Copy it to a local folder and pick the copy.",
        kind="unreadable",
    )


class _Source:
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
            raise _permission_error(self.path) from None
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        return data or b""


def _format_refusal(path: Path, kind: str | None, *, want: str) -> MediaError:
    """``want`` is "image" or "video": what the user was asked for."""
    ext = path.suffix.lower()
    claimed = _EXTENSIONS.get(ext)
    if kind is None:
        if claimed in IMAGE_FORMATS or claimed in VIDEO_CONTAINERS:
            message = (
                f"This file's name ends in {path.suffix}, but its content is not "
                f"{describe_format(claimed)}; it may be damaged."
            )
        else:
            message = "This file is not a kind of file the app recognises."
        if want == "image":
            return MediaError(message, "Open it in an image editor and save it as PNG or JPG.",
                              kind="format")
        return MediaError(message, "Export the clip again as MP4.", kind="format")

    renamed = claimed is not None and claimed != kind and not (
        {claimed, kind} <= set(VIDEO_CONTAINERS)
    )
    although = f", although its name ends in {path.suffix}" if renamed else ""

    def refuse(clause: str, fix: str, note: str = "") -> MediaError:
        text = f"This file is {describe_format(kind)}{clause}{although}{note}."
        return MediaError(text, fix, kind="format", detected=kind)

    if want == "image":
        if kind in _VIDEOS:
            return refuse(", not a picture", "Pick a PNG or JPG picture of your character.")
        if kind == "html":
            return refuse(", not the picture itself",
                          "Open the page in your browser, right-click the picture and choose "
                          "\"Save image as\", then pick the saved file.")
        if kind == "gif":
            return refuse("", "Save it as PNG or JPG.")
        if kind == "heic":
            return refuse("", "Save a copy as JPG (Photos on Mac and Windows can export JPG), "
                          "then pick it.", "; the service takes PNG or JPG pictures only")
        if kind in _STILL_IMAGES:
            return refuse("", "Save it as PNG or JPG in an image editor, then pick the saved file.",
                          "; the service takes PNG or JPG pictures only")
        return refuse("", "Pick a PNG or JPG picture of your character.")

    if kind in _STILL_IMAGES:
        return refuse(", not a video", "Pick an MP4 or MOV clip for the motion.")
    if kind in _VIDEOS:
        return refuse(
            "",
            "Convert it to MP4 (for example with HandBrake or VLC), then pick the converted file.",
            "; the service takes MP4 or MOV clips only",
        )
    if kind == "html":
        return refuse(", not the video itself", "Download the video file itself, then pick it.")
    return refuse(", not a video", "Pick an MP4 or MOV clip for the motion.")


def _truncated(path: Path, what: str) -> MediaError:
    return MediaError(
        f"The {what} {_label(path)} is incomplete: the file ends before its data does.",
        "It may still be downloading or copying. Get the file again (or export it again) "
        "and pick the new copy.",
        kind="truncated",
    )


def _corrupt(path: Path, what: str, detail: str) -> MediaError:
    return MediaError(
        f"The {what} {_label(path)} looks damaged ({detail}).",
        "Open it in an editor and save or export it again, then pick the new file.",
        kind="corrupt",
    )


def sniff(path: str | os.PathLike[str]) -> str | None:
    """The format key of a file's content (see :func:`identify`); raises MediaError."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        src = _Source(handle, size, p)
        return identify(src.read_at(0, _HEAD_BYTES), size)


# ----------------------------------------------------------------------- images


def _non_empty_source(stream: Readable, size: int, path: Path) -> _Source:
    if size <= 0:
        raise MediaError(f"The file {_label(path)} is empty (0 bytes).",
                         "Pick the original file again.", kind="empty", detected="empty")
    return _Source(stream, size, path)


def probe_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Format and size of a PNG or JPEG picture; raises MediaError otherwise."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        return probe_image_stream(handle, size, p)


def probe_image_stream(stream: Readable, size: int, path: Path) -> ImageInfo:
    """Like :func:`probe_image` for an open stream; ``path`` is used in messages."""
    src = _non_empty_source(stream, size, path)
    try:
        kind = identify(src.read_at(0, _HEAD_BYTES), size)
        if kind == "png":
            width, height = _png_size(src)
        elif kind == "jpeg":
            width, height = _jpeg_size(src)
        else:
            raise _format_refusal(path, kind, want="image")
    except (struct.error, ValueError, IndexError, OverflowError) as exc:  # defensive
        raise _corrupt(path, "picture", type(exc).__name__) from None
    return ImageInfo(path=path, format=kind, width=width, height=height, size_bytes=size)


_PNG_MAX_CHUNKS = 200_000


def _png_size(src: _Source) -> tuple[int, int]:
    path = src.path
    ihdr = src.read_at(8, 8 + 13)
    if len(ihdr) < 21:
        raise _truncated(path, "picture")
    length, ctype = struct.unpack_from(">I4s", ihdr)
    if ctype != b"IHDR" or length != 13:
        raise _corrupt(path, "picture", "its PNG header is missing")
    width, height = struct.unpack_from(">II", ihdr, 8)
    if width == 0 or height == 0 or width > 2**31 - 1 or height > 2**31 - 1:
        raise _corrupt(path, "picture", f"it claims a size of {width} × {height} px")
    pos = 8
    for _ in range(_PNG_MAX_CHUNKS):
        head = src.read_at(pos, 8)
        if len(head) < 8:
            raise _truncated(path, "picture")
        length, ctype = struct.unpack(">I4s", head)
        if length > 2**31 - 1 or not all(chr(c).isascii() and chr(c).isalpha() for c in ctype):
            raise _corrupt(path, "picture", "a PNG chunk is invalid")
        end = pos + 12 + length
        if end > src.size:
            raise _truncated(path, "picture")
        if ctype == b"IEND":
            return width, height
        pos = end
    return width, height  # absurdly many chunks: stop verifying, the header is fine


# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SCAN_LIMIT = 32 * 1024 * 1024
_JPEG_TAIL = 64 * 1024
_JPEG_MAX_SEGMENTS = 10_000  # before the frame header; real files have a dozen


def _jpeg_size(src: _Source) -> tuple[int, int]:
    path = src.path
    pos = 2
    for _ in range(_JPEG_MAX_SEGMENTS):
        chunk = src.read_at(pos, 16)
        if not chunk:
            raise _truncated(path, "picture")
        if chunk[0] != 0xFF:
            raise _corrupt(path, "picture", "a JPEG marker is missing")
        skip = 0
        while skip < len(chunk) and chunk[skip] == 0xFF:
            skip += 1
        if skip == len(chunk):  # only fill bytes so far
            if len(chunk) < 16:
                raise _truncated(path, "picture")
            pos += skip - 1
            continue
        marker = chunk[skip]
        pos += skip + 1  # just after the marker byte
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # standalone markers have no length
        if marker in (0xD8, 0xD9, 0xDA) or marker == 0x00:
            raise _corrupt(path, "picture", "its JPEG header has no image size")
        seg = src.read_at(pos, 7)
        if len(seg) < 2:
            raise _truncated(path, "picture")
        length = struct.unpack_from(">H", seg)[0]
        if length < 2:
            raise _corrupt(path, "picture", "a JPEG segment is invalid")
        seg_end = pos + length
        if seg_end > src.size:
            raise _truncated(path, "picture")
        if marker in _SOF_MARKERS:
            if len(seg) < 7 or length < 7:
                raise _corrupt(path, "picture", "its JPEG frame header is too short")
            height, width = struct.unpack_from(">HH", seg, 3)
            if width == 0 or height == 0:
                raise _corrupt(path, "picture", f"it claims a size of {width} × {height} px")
            if not _jpeg_has_end(src, seg_end):
                raise _truncated(path, "picture")
            return width, height
        pos = seg_end
    raise _corrupt(path, "picture", "its JPEG header has no image size")


def _jpeg_has_end(src: _Source, data_start: int) -> bool:
    """Whether an EOI marker (FF D9) follows the frame header.

    Entropy-coded data never contains FF D9 (0xFF is stuffed as FF 00), so an
    EOI near the end proves the file is complete. A file with data appended
    after its EOI (e.g. "motion photos") is scanned forward, up to a bound.
    """
    tail_start = max(data_start, src.size - _JPEG_TAIL)
    if b"\xff\xd9" in src.read_at(tail_start, src.size - tail_start):
        return True
    if src.size > _JPEG_SCAN_LIMIT:
        return True  # too big to scan; the size check refuses it anyway
    pos = data_start
    block = 1024 * 1024
    carry = b""
    while pos < tail_start:
        data = src.read_at(pos, block)
        if not data:
            break
        if b"\xff\xd9" in carry + data:
            return True
        carry = data[-1:]
        pos += len(data)
    return False


# ----------------------------------------------------------------------- videos

_MAX_BOXES = 100_000
# Boxes that may sit at the top level of a file; others there are taken as junk.
_TOP_LEVEL = {b"ftyp", b"styp", b"moov", b"mdat", b"moof", b"mfra", b"free", b"skip", b"wide",
              b"uuid", b"meta", b"sidx", b"ssix", b"prft", b"emsg", b"pdin", b"pnot", b"junk",
              b"udta", b"bloc", b"mvex"}
_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"traf", b"edts", b"dinf"}


@dataclass
class _Track:
    handler: bytes = b""
    track_id: int = 0
    width: float = 0.0
    height: float = 0.0
    rotated: bool = False
    timescale: int = 0
    duration: int = 0
    entry_width: int = 0
    entry_height: int = 0


@dataclass
class _Movie:
    timescale: int = 0
    duration: int = 0
    fragment_duration: int = 0
    fragmented: bool = False
    tracks: list[_Track] = field(default_factory=list)
    default_durations: dict[int, int] = field(default_factory=dict)  # trex, per track
    fragment_ends: dict[int, int] = field(default_factory=dict)  # per track, track units


def _walk(src: _Source, start: int, end: int, *, top: bool) -> Iterator[tuple[bytes, int, int]]:
    """Boxes in ``[start, end)`` as (type, payload start, box end)."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        head = src.read_at(pos, 16)
        if len(head) < 8:
            raise _truncated(src.path, "video")
        size, typ = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                raise _truncated(src.path, "video")
            size = struct.unpack_from(">Q", head, 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        box_end = pos + size
        if size < header or box_end > end:
            if top and typ not in _TOP_LEVEL:
                return  # junk after the last box (some tools pad files): ignore it
            if size < header:
                raise _corrupt(src.path, "video", "a box has an invalid size")
            if top:
                raise _truncated(src.path, "video")
            raise _corrupt(src.path, "video", "a box is larger than its parent")
        yield typ, pos + header, box_end
        pos = box_end
    raise _corrupt(src.path, "video", "it has too many boxes")


def _u32(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">I", data, offset)[0]
    return value


def _u64(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">Q", data, offset)[0]
    return value


def _full_box(src: _Source, start: int, end: int, want: int) -> bytes:
    data = src.read_at(start, min(want, end - start))
    if len(data) < 4:
        raise _corrupt(src.path, "video", "a header box is too short")
    return data


def _parse_mvhd(src: _Source, start: int, end: int, movie: _Movie) -> None:
    data = _full_box(src, start, end, 32)
    if data[0] == 1:
        if len(data) < 32:
            raise _corrupt(src.path, "video", "the movie header is too short")
        movie.timescale, movie.duration = _u32(data, 20), _u64(data, 24)
        if movie.duration == 2**64 - 1:
            movie.duration = 0
    else:
        if len(data) < 20:
            raise _corrupt(src.path, "video", "the movie header is too short")
        movie.timescale, movie.duration = _u32(data, 12), _u32(data, 16)
        if movie.duration == 2**32 - 1:
            movie.duration = 0


def _parse_tkhd(src: _Source, start: int, end: int, track: _Track) -> None:
    data = _full_box(src, start, end, 96)
    base = 36 if data[0] == 1 else 24
    track.track_id = _u32(data, 12 if data[0] == 0 else 20) if len(data) >= base else 0
    matrix = base + 16
    if len(data) < matrix + 44:
        return
    a, b = struct.unpack_from(">ii", data, matrix)
    d = struct.unpack_from(">i", data, matrix + 16)[0]
    track.rotated = a == 0 and d == 0 and b != 0
    track.width = _u32(data, matrix + 36) / 65536.0
    track.height = _u32(data, matrix + 40) / 65536.0


def _parse_mdhd(src: _Source, start: int, end: int, track: _Track) -> None:
    data = _full_box(src, start, end, 32)
    if data[0] == 1 and len(data) >= 32:
        track.timescale, track.duration = _u32(data, 20), _u64(data, 24)
    elif len(data) >= 20:
        track.timescale, track.duration = _u32(data, 12), _u32(data, 16)
    if track.duration in (2**32 - 1, 2**64 - 1):
        track.duration = 0


def _parse_stsd(src: _Source, start: int, end: int, track: _Track) -> None:
    data = src.read_at(start, min(48, end - start))
    # version/flags(4) entry_count(4) | entry: size(4) type(4) reserved(6) dref(2)
    # pre_defined/reserved(16) width(2) height(2)
    if len(data) >= 8 + 36:
        track.entry_width, track.entry_height = struct.unpack_from(">HH", data, 8 + 32)


def _parse_trak(src: _Source, start: int, end: int, depth: int = 0) -> _Track:
    track = _Track()
    if depth > 6:  # trak/mdia/minf/stbl is as deep as real files go
        raise _corrupt(src.path, "video", "its boxes are nested too deeply")
    for typ, s, e in _walk(src, start, end, top=False):
        if typ == b"tkhd":
            _parse_tkhd(src, s, e, track)
        elif typ == b"mdhd":
            _parse_mdhd(src, s, e, track)
        elif typ == b"hdlr":
            data = src.read_at(s, min(12, e - s))
            if len(data) >= 12:
                track.handler = data[8:12]
        elif typ == b"stsd":
            _parse_stsd(src, s, e, track)
        elif typ in _CONTAINERS:
            inner = _parse_trak(src, s, e, depth + 1)
            for name in ("handler", "timescale", "duration", "entry_width", "entry_height"):
                if getattr(inner, name) and not getattr(track, name):
                    setattr(track, name, getattr(inner, name))
    return track


def _parse_moov(src: _Source, start: int, end: int, movie: _Movie) -> None:
    for typ, s, e in _walk(src, start, end, top=False):
        if typ == b"mvhd":
            _parse_mvhd(src, s, e, movie)
        elif typ == b"trak":
            movie.tracks.append(_parse_trak(src, s, e))
        elif typ == b"mvex":
            movie.fragmented = True
            for sub, ss, se in _walk(src, s, e, top=False):
                data = src.read_at(ss, min(se - ss, 24))
                if sub == b"mehd" and len(data) >= 8:
                    movie.fragment_duration = (
                        _u64(data, 4) if data[0] == 1 and len(data) >= 12 else _u32(data, 4)
                    )
                elif sub == b"trex" and len(data) >= 16:
                    movie.default_durations[_u32(data, 4)] = _u32(data, 12)


_TRUN_MAX_BYTES = 4 * 1024 * 1024


def _parse_moof(src: _Source, start: int, end: int, movie: _Movie) -> None:
    """Add each track fragment's end time (decode time + sample durations)."""
    for typ, s, e in _walk(src, start, end, top=False):
        if typ != b"traf":
            continue
        track_id = 0
        default_duration: int | None = None
        base_time: int | None = None
        total = 0
        for sub, ss, se in _walk(src, s, e, top=False):
            if sub == b"tfhd":
                data = src.read_at(ss, min(se - ss, 40))
                if len(data) < 8:
                    continue
                flags = int.from_bytes(data[1:4], "big")
                track_id = _u32(data, 4)
                off = 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
                if flags & 0x8 and len(data) >= off + 4:
                    default_duration = _u32(data, off)
            elif sub == b"tfdt":
                data = src.read_at(ss, min(se - ss, 12))
                if data[:1] == b"\x01" and len(data) >= 12:
                    base_time = _u64(data, 4)
                elif len(data) >= 8:
                    base_time = _u32(data, 4)
            elif sub == b"trun":
                total += _trun_duration(src, ss, se, default_duration, movie, track_id)
        previous = movie.fragment_ends.get(track_id, 0)
        movie.fragment_ends[track_id] = (
            base_time + total if base_time is not None else previous + total
        )


def _trun_duration(
    src: _Source, start: int, end: int, default: int | None, movie: _Movie, track_id: int
) -> int:
    data = src.read_at(start, min(end - start, _TRUN_MAX_BYTES))
    if len(data) < 8:
        return 0
    flags = int.from_bytes(data[1:4], "big")
    count = _u32(data, 4)
    if not flags & 0x100:
        per = default if default is not None else movie.default_durations.get(track_id, 0)
        return count * per
    off = 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    total = 0
    for i in range(count):
        at = off + i * stride
        if at + 4 > len(data):
            break
        total += _u32(data, at)
    return total


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Container, size, duration and audio of an MP4/MOV clip; raises MediaError otherwise."""
    p = Path(path)
    size, handle = _open_checked(p)
    with handle:
        return probe_video_stream(handle, size, p)


def probe_video_stream(stream: Readable, size: int, path: Path) -> VideoInfo:
    """Like :func:`probe_video` for an open stream; ``path`` is used in messages."""
    src = _non_empty_source(stream, size, path)
    try:
        kind = identify(src.read_at(0, _HEAD_BYTES), size)
        if kind not in VIDEO_CONTAINERS:
            raise _format_refusal(path, kind, want="video")
        return _probe_bmff(src, kind)
    except (struct.error, ValueError, IndexError, OverflowError) as exc:  # defensive
        raise _corrupt(path, "video", type(exc).__name__) from None


def _probe_bmff(src: _Source, container: str) -> VideoInfo:
    path = src.path
    movie = _Movie()
    found_moov = False
    # Every top-level box is visited (one small read each) even after ``moov``:
    # a media box running past the end of the file means it was cut short.
    for typ, s, e in _walk(src, 0, src.size, top=True):
        if typ == b"moov" and not found_moov:
            found_moov = True
            _parse_moov(src, s, e, movie)
        elif typ == b"moof" and found_moov and movie.fragmented:
            _parse_moof(src, s, e, movie)
    if not found_moov:
        raise MediaError(
            f"The video {_label(path)} is incomplete: its index (the 'moov' part) is missing.",
            "The recording or download may have been interrupted. Export or download it again.",
            kind="truncated",
        )

    videos = [t for t in movie.tracks if t.handler == b"vide"]
    if not videos:
        if movie.tracks:
            raise MediaError(
                f"The file {_label(path)} has no picture, only sound.",
                "Pick a video clip that shows the motion.",
                kind="format",
                detected="m4a",
            )
        raise _corrupt(path, "video", "it has no tracks")

    def area(t: _Track) -> float:
        return max(t.width * t.height, float(t.entry_width * t.entry_height))

    video = max(videos, key=area)
    width = round(video.width) or video.entry_width
    height = round(video.height) or video.entry_height
    if not width or not height:
        raise _corrupt(path, "video", "its picture size is missing")
    if video.rotated:
        width, height = height, width

    duration = _duration(movie)
    if duration is None:
        raise _corrupt(path, "video", "its length could not be read")
    return VideoInfo(
        path=path,
        container=container,
        width=int(width),
        height=int(height),
        duration=duration,
        size_bytes=src.size,
        has_audio=any(t.handler == b"soun" for t in movie.tracks),
    )


def _duration(movie: _Movie) -> float | None:
    """Seconds: the movie header's, else (fragmented) the latest fragment end, else tracks'."""
    candidates: list[float] = []
    if movie.timescale and movie.duration:
        candidates.append(movie.duration / movie.timescale)
    if movie.fragmented:
        if movie.timescale and movie.fragment_duration:
            candidates.append(movie.fragment_duration / movie.timescale)
        scales = {t.track_id: t.timescale for t in movie.tracks if t.timescale}
        candidates.extend(
            end / scales[tid] for tid, end in movie.fragment_ends.items() if end and tid in scales
        )
    if candidates:
        return max(candidates)
    track_seconds = [t.duration / t.timescale for t in movie.tracks if t.timescale and t.duration]
    if track_seconds:
        return max(track_seconds)
    return None
