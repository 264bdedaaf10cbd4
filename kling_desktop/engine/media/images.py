"""Size of a PNG or JPEG picture from its header, and proof that the file is whole."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from kling_desktop.engine.media.reading import (
    HEAD_BYTES,
    Readable,
    Source,
    corrupt,
    non_empty_source,
    truncated,
)
from kling_desktop.engine.media.refusal import format_refusal
from kling_desktop.i18n import _
from kling_desktop.sniff import identify

__all__ = ["ImageInfo", "probe_image_stream"]


@dataclass(frozen=True)
class ImageInfo:
    """A picture as probed. ``format`` is ``"png"`` or ``"jpeg"`` (by content)."""

    path: Path
    format: str
    width: int
    height: int
    size_bytes: int


def probe_image_stream(stream: Readable, size: int, path: Path) -> ImageInfo:
    """Like :func:`probe_image` for an open stream; ``path`` is used in messages."""
    src = non_empty_source(stream, size, path)
    try:
        kind = identify(src.read_at(0, HEAD_BYTES), size)
        if kind == "png":
            width, height = _png_size(src)
        elif kind == "jpeg":
            width, height = _jpeg_size(src)
        else:
            raise format_refusal(path, kind, want="image")
    except (struct.error, ValueError, IndexError, OverflowError) as exc:  # defensive
        raise corrupt(path, "picture", type(exc).__name__) from None
    return ImageInfo(path=path, format=kind, width=width, height=height, size_bytes=size)


_PNG_MAX_CHUNKS = 200_000


def _png_size(src: Source) -> tuple[int, int]:
    path = src.path
    ihdr = src.read_at(8, 8 + 13)
    if len(ihdr) < 21:
        raise truncated(path, "picture")
    length, ctype = struct.unpack_from(">I4s", ihdr)
    if ctype != b"IHDR" or length != 13:
        raise corrupt(path, "picture", _("its PNG header is missing"))
    width, height = struct.unpack_from(">II", ihdr, 8)
    if width == 0 or height == 0 or width > 2**31 - 1 or height > 2**31 - 1:
        raise corrupt(path, "picture", _("it claims a size of {width} × {height} px").format(
            width=width, height=height))
    pos = 8
    for _chunk in range(_PNG_MAX_CHUNKS):
        head = src.read_at(pos, 8)
        if len(head) < 8:
            raise truncated(path, "picture")
        length, ctype = struct.unpack(">I4s", head)
        if length > 2**31 - 1 or not all(chr(c).isascii() and chr(c).isalpha() for c in ctype):
            raise corrupt(path, "picture", _("a PNG chunk is invalid"))
        end = pos + 12 + length
        if end > src.size:
            raise truncated(path, "picture")
        if ctype == b"IEND":
            return width, height
        pos = end
    return width, height  # absurdly many chunks: stop verifying, the header is fine


# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SCAN_LIMIT = 32 * 1024 * 1024
_JPEG_TAIL = 64 * 1024
_JPEG_MAX_SEGMENTS = 10_000  # before the frame header; real files have a dozen


def _jpeg_size(src: Source) -> tuple[int, int]:
    path = src.path
    pos = 2
    for _segment in range(_JPEG_MAX_SEGMENTS):
        chunk = src.read_at(pos, 16)
        if not chunk:
            raise truncated(path, "picture")
        if chunk[0] != 0xFF:
            raise corrupt(path, "picture", _("a JPEG marker is missing"))
        skip = 0
        while skip < len(chunk) and chunk[skip] == 0xFF:
            skip += 1
        if skip == len(chunk):  # only fill bytes so far
            if len(chunk) < 16:
                raise truncated(path, "picture")
            pos += skip - 1
            continue
        marker = chunk[skip]
        pos += skip + 1  # just after the marker byte
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # standalone markers have no length
        if marker in (0xD8, 0xD9, 0xDA) or marker == 0x00:
            raise corrupt(path, "picture", _("its JPEG header has no image size"))
        seg = src.read_at(pos, 7)
        if len(seg) < 2:
            raise truncated(path, "picture")
        length = struct.unpack_from(">H", seg)[0]
        if length < 2:
            raise corrupt(path, "picture", _("a JPEG segment is invalid"))
        seg_end = pos + length
        if seg_end > src.size:
            raise truncated(path, "picture")
        if marker in _SOF_MARKERS:
            if len(seg) < 7 or length < 7:
                raise corrupt(path, "picture", _("its JPEG frame header is too short"))
            height, width = struct.unpack_from(">HH", seg, 3)
            if width == 0 or height == 0:
                raise corrupt(path, "picture", _(
                    "it claims a size of {width} × {height} px").format(width=width, height=height))
            if not _jpeg_has_end(src, seg_end):
                raise truncated(path, "picture")
            return width, height
        pos = seg_end
    raise corrupt(path, "picture", _("its JPEG header has no image size"))


def _jpeg_has_end(src: Source, data_start: int) -> bool:
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
