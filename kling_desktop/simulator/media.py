"""What the simulator needs of media: the provider's kind of an upload, an MP4's header facts."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kling_desktop.sniff import identify

SNIFF_BYTES = 16
IMAGE_KINDS = frozenset({"png", "jpeg", "gif", "webp"})
VIDEO_KINDS = frozenset({"mp4", "mov", "webm", "avi"})
_MAX_MOOV = 32 * 1024 * 1024
# The provider tells files apart by family only: any Matroska file is served as
# WebM, any ISO-BMFF movie flavour as MP4.
_FAMILIES = {"mkv": "webm", "3gp": "mp4", "m4a": "mp4"}


def sniff(head: bytes) -> str | None:
    """The provider's kind of a file from its first bytes (at least 12 are needed), else None.

    Named by :func:`kling_desktop.sniff.identify`; only the kinds the provider serves
    (:data:`IMAGE_KINDS`, :data:`VIDEO_KINDS`) are kept.
    """
    kind = identify(head)
    kind = _FAMILIES.get(kind or "", kind)
    return kind if kind in IMAGE_KINDS | VIDEO_KINDS else None


def sniff_file(path: Path) -> str | None:
    with path.open("rb") as f:
        return sniff(f.read(SNIFF_BYTES))


@dataclass(frozen=True)
class VideoFacts:
    duration: float | None
    width: int | None
    height: int | None


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``data[start:end]``."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _find_moov(f: BinaryIO, file_size: int) -> bytes | None:
    pos = 0
    while pos + 8 <= file_size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                return None
            (size,) = struct.unpack(">Q", head[8:16])
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            return None
        if kind == b"moov":
            if size > _MAX_MOOV:
                return None
            f.seek(pos + header)
            return f.read(size - header)
        pos += size
    return None


def video_facts(path: Path) -> VideoFacts:
    """Duration and frame size from an MP4/MOV's ``moov`` box; None where unknown."""
    try:
        with path.open("rb") as f:
            moov = _find_moov(f, path.stat().st_size)
    except OSError:
        return VideoFacts(None, None, None)
    if moov is None:
        return VideoFacts(None, None, None)
    duration: float | None = None
    width = height = 0
    for kind, start, end in _boxes(moov, 0, len(moov)):
        if kind == b"mvhd" and end - start >= 20:
            version = moov[start]
            if version == 1 and end - start >= 32:
                timescale, length = struct.unpack(">IQ", moov[start + 20 : start + 32])
            else:
                timescale, length = struct.unpack(">II", moov[start + 12 : start + 20])
            if timescale:
                duration = round(length / timescale, 3)
        elif kind == b"trak":
            for sub, s_start, s_end in _boxes(moov, start, end):
                if sub == b"tkhd" and s_end - s_start >= 84:
                    w, h = struct.unpack(">II", moov[s_end - 8 : s_end])
                    if (w >> 16) * (h >> 16) > width * height:
                        width, height = w >> 16, h >> 16
    return VideoFacts(duration, width or None, height or None)
