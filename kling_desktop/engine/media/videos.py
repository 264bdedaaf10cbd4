"""Container, displayed size, length and sound of an MP4/MOV clip, from its box tree.

The ISO-BMFF boxes (``ftyp``, ``moov/mvhd``, ``trak/tkhd``, ``mdia/mdhd``,
``mdia/hdlr``, and for fragmented files ``mvex/mehd`` or the ``moof`` boxes) are
walked by their length fields with ``seek``; ``mdat`` is always skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kling_desktop.engine.media.reading import (
    HEAD_BYTES,
    VIDEO_CONTAINERS,
    MediaError,
    Readable,
    Source,
    corrupt,
    label,
    non_empty_source,
    truncated,
)
from kling_desktop.engine.media.refusal import format_refusal
from kling_desktop.i18n import _
from kling_desktop.sniff import identify

__all__ = ["VideoInfo", "probe_video_stream"]


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


def _walk(src: Source, start: int, end: int, *, top: bool) -> Iterator[tuple[bytes, int, int]]:
    """Boxes in ``[start, end)`` as (type, payload start, box end)."""
    pos = start
    for _box in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        head = src.read_at(pos, 16)
        if len(head) < 8:
            raise truncated(src.path, "video")
        size, typ = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                raise truncated(src.path, "video")
            size = struct.unpack_from(">Q", head, 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        box_end = pos + size
        if size < header or box_end > end:
            if top and typ not in _TOP_LEVEL:
                return  # junk after the last box (some tools pad files): ignore it
            if size < header:
                raise corrupt(src.path, "video", _("a box has an invalid size"))
            if top:
                raise truncated(src.path, "video")
            raise corrupt(src.path, "video", _("a box is larger than its parent"))
        yield typ, pos + header, box_end
        pos = box_end
    raise corrupt(src.path, "video", _("it has too many boxes"))


def _u32(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">I", data, offset)[0]
    return value


def _u64(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(">Q", data, offset)[0]
    return value


def _full_box(src: Source, start: int, end: int, want: int) -> bytes:
    data = src.read_at(start, min(want, end - start))
    if len(data) < 4:
        raise corrupt(src.path, "video", _("a header box is too short"))
    return data


def _parse_mvhd(src: Source, start: int, end: int, movie: _Movie) -> None:
    data = _full_box(src, start, end, 32)
    if data[0] == 1:
        if len(data) < 32:
            raise corrupt(src.path, "video", _("the movie header is too short"))
        movie.timescale, movie.duration = _u32(data, 20), _u64(data, 24)
        if movie.duration == 2**64 - 1:
            movie.duration = 0
    else:
        if len(data) < 20:
            raise corrupt(src.path, "video", _("the movie header is too short"))
        movie.timescale, movie.duration = _u32(data, 12), _u32(data, 16)
        if movie.duration == 2**32 - 1:
            movie.duration = 0


def _parse_tkhd(src: Source, start: int, end: int, track: _Track) -> None:
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


def _parse_mdhd(src: Source, start: int, end: int, track: _Track) -> None:
    data = _full_box(src, start, end, 32)
    if data[0] == 1 and len(data) >= 32:
        track.timescale, track.duration = _u32(data, 20), _u64(data, 24)
    elif len(data) >= 20:
        track.timescale, track.duration = _u32(data, 12), _u32(data, 16)
    if track.duration in (2**32 - 1, 2**64 - 1):
        track.duration = 0


def _parse_stsd(src: Source, start: int, end: int, track: _Track) -> None:
    data = src.read_at(start, min(48, end - start))
    # version/flags(4) entry_count(4) | entry: size(4) type(4) reserved(6) dref(2)
    # pre_defined/reserved(16) width(2) height(2)
    if len(data) >= 8 + 36:
        track.entry_width, track.entry_height = struct.unpack_from(">HH", data, 8 + 32)


def _parse_trak(src: Source, start: int, end: int, depth: int = 0) -> _Track:
    track = _Track()
    if depth > 6:  # trak/mdia/minf/stbl is as deep as real files go
        raise corrupt(src.path, "video", _("its boxes are nested too deeply"))
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


def _parse_moov(src: Source, start: int, end: int, movie: _Movie) -> None:
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


def _parse_moof(src: Source, start: int, end: int, movie: _Movie) -> None:
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
    src: Source, start: int, end: int, default: int | None, movie: _Movie, track_id: int
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


def probe_video_stream(stream: Readable, size: int, path: Path) -> VideoInfo:
    """Like :func:`probe_video` for an open stream; ``path`` is used in messages."""
    src = non_empty_source(stream, size, path)
    try:
        kind = identify(src.read_at(0, HEAD_BYTES), size)
        if kind not in VIDEO_CONTAINERS:
            raise format_refusal(path, kind, want="video")
        return _probe_bmff(src, kind)
    except (struct.error, ValueError, IndexError, OverflowError) as exc:  # defensive
        raise corrupt(path, "video", type(exc).__name__) from None


def _probe_bmff(src: Source, container: str) -> VideoInfo:
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
            _("The video {name} is incomplete: its index (the 'moov' part) is missing.").format(
                name=label(path)),
            _("The recording or download may have been interrupted. Export or download it "
              "again."),
            kind="truncated",
        )

    videos = [t for t in movie.tracks if t.handler == b"vide"]
    if not videos:
        if movie.tracks:
            raise MediaError(
                _("The file {name} has no picture, only sound.").format(name=label(path)),
                _("Pick a video clip that shows the motion."),
                kind="format",
                detected="m4a",
            )
        raise corrupt(path, "video", _("it has no tracks"))

    def area(t: _Track) -> float:
        return max(t.width * t.height, float(t.entry_width * t.entry_height))

    video = max(videos, key=area)
    width = round(video.width) or video.entry_width
    height = round(video.height) or video.entry_height
    if not width or not height:
        raise corrupt(path, "video", _("its picture size is missing"))
    if video.rotated:
        width, height = height, width

    duration = _duration(movie)
    if duration is None:
        raise corrupt(path, "video", _("its length could not be read"))
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
