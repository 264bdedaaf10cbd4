"""Which fixes a refused input can take, as data, and what the result will be (no Qt).

A picture or clip the checks refuse (:mod:`.checks`) can often be made acceptable: a
WebM becomes an MP4, a 14 s clip is trimmed, a 12 MB PNG becomes a JPEG, a banner is
padded to 2.5:1. This module decides *which* fixes apply (:func:`plan_video`,
:func:`plan_picture`) and *how* (:func:`video_target`, :func:`picture_target`: sizes,
frame rate, bit rate, the trimmed span) from facts about the input; it never decodes a
frame. The work itself is done by :mod:`kling_desktop.convert` (Qt's image classes and
Qt Multimedia's recorder), which both faces call: the window on its TaskRunner, the
command line on its main thread; both pass the same :class:`ConversionPlan` and get the
same :class:`Converted` back.

Why the split: the rules (which fix, what limits, what will be sent) belong to the
Qt-free core, decided once and tested without Qt; decoding and encoding need Qt's
classes, which the core never imports. See ``kling_desktop/convert/__init__.py`` for
the encoder decision and its measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kling_desktop.api.models import Orientation
from kling_desktop.engine.checks import (
    IMAGE_MAX_ASPECT,
    IMAGE_MAX_BYTES,
    IMAGE_MAX_PIXELS,
    VIDEO_MAX_BYTES,
    VIDEO_MAX_SIDE,
    VIDEO_MIN_SECONDS,
)
from kling_desktop.engine.media import MediaError, probe_image, probe_video, sniff
from kling_desktop.errors import KlingError
from kling_desktop.i18n import N_, _, format_number

__all__ = [
    "CONVERTIBLE_PICTURES",
    "CONVERTIBLE_VIDEOS",
    "STANDARD_FRAME_RATES",
    "ConversionCancelled",
    "ConversionError",
    "ConversionPlan",
    "Converted",
    "Crop",
    "FitLength",
    "FitSize",
    "Fix",
    "Pad",
    "PictureTarget",
    "ScaleDown",
    "StandardRate",
    "ToJpeg",
    "ToPng",
    "Transcode",
    "Trim",
    "TrimError",
    "VideoTarget",
    "describe",
    "parse_trim",
    "picture_target",
    "plan_picture",
    "plan_video",
    "standard_frame_rate",
    "video_target",
]

#: Kinds of clip (by content, :func:`kling_desktop.sniff.identify`) Qt Multimedia reads.
CONVERTIBLE_VIDEOS = frozenset({"mp4", "mov", "webm", "mkv", "avi", "gif", "3gp"})
#: Kinds of picture Qt's image plugins read (HEIC only where the platform's plugin does).
CONVERTIBLE_PICTURES = frozenset({"png", "jpeg", "gif", "webp", "bmp", "tiff", "heic"})
#: Frame rates every player and the provider handle; others become the nearest.
STANDARD_FRAME_RATES = (24.0, 25.0, 30.0)
MB = 1024 * 1024
#: Sound kept in a re-encoded clip: AAC at 128 kbit/s.
AUDIO_BITS_PER_SECOND = 128_000
#: A clip is encoded at about this many bits per pixel and frame unless it must fit a size.
_BITS_PER_PIXEL = 0.15
#: Below this many bits per pixel and frame a fitted clip is scaled to 1080p.
_STARVED_BITS_PER_PIXEL = 0.05
_FITTED_SIDE = 1920
#: What a fitted clip aims at, under the limit: the container's own bytes and the
#: encoder's overshoot (it is rate-controlled, not exact).
_FIT_MARGIN = 0.85


class ConversionError(KlingError):
    """A conversion could not be done; nothing was written."""

    default_message = N_("The file could not be converted.")
    default_fix = N_("Convert it with another program, or pick another file.")


class ConversionCancelled(ConversionError):
    """The user stopped the conversion; no partial file is left."""

    default_message = N_("The conversion was stopped.")
    default_fix = N_("Start it again when you are ready.")


class TrimError(KlingError):
    """A ``--trim`` span that cannot be used."""

    default_message = N_("The trim span is not valid.")
    default_fix = N_("Give it as START-END in seconds, for example 2.5-9.5.")


# -- the fixes, as data -------------------------------------------------------------


@dataclass(frozen=True)
class Trim:
    """Keep [start, end) seconds of a clip; ``end`` None: to its end."""

    start: float
    end: float | None


@dataclass(frozen=True)
class FitLength:
    """Keep at most the first ``seconds`` (the limit of the chosen orientation)."""

    seconds: float


@dataclass(frozen=True)
class Transcode:
    """Re-encode into an MP4 (the best video codec the bundled encoder has)."""

    container: str = "mp4"


@dataclass(frozen=True)
class ScaleDown:
    """Longest side at most ``max_side`` px (a clip), or at most ``max_pixels`` (a picture)."""

    max_side: int
    max_pixels: int | None = None


@dataclass(frozen=True)
class FitSize:
    """The file at most ``max_bytes``."""

    max_bytes: int


@dataclass(frozen=True)
class StandardRate:
    """Frames per second: ``fps``."""

    fps: float


@dataclass(frozen=True)
class ToPng:
    pass


@dataclass(frozen=True)
class ToJpeg:
    quality: int = 90


@dataclass(frozen=True)
class Pad:
    """Pad to the nearest allowed shape (``ratio``: long side / short side); ``colour``
    ``#rrggbb``, None: the average of the picture's edges."""

    ratio: float = IMAGE_MAX_ASPECT
    colour: str | None = None


@dataclass(frozen=True)
class Crop:
    """Keep this rectangle of the picture (px)."""

    x: int
    y: int
    width: int
    height: int


Fix = Trim | FitLength | Transcode | ScaleDown | FitSize | StandardRate | ToPng | ToJpeg \
    | Pad | Crop


@dataclass(frozen=True)
class ConversionPlan:
    """What to do to one input. ``limit_bytes`` is the size the result must fit (tests
    inject a smaller one); ``keep_audio`` False drops the sound."""

    field: Literal["image", "video"]
    source: Path
    fixes: tuple[Fix, ...]
    keep_audio: bool = True
    limit_bytes: int = VIDEO_MAX_BYTES

    def find(self, kind: type[Fix]) -> Fix | None:
        return next((fix for fix in self.fixes if isinstance(fix, kind)), None)


@dataclass(frozen=True)
class Converted:
    """A finished conversion: ``path`` is complete (renamed into place)."""

    source: Path
    path: Path
    field: Literal["image", "video"]
    format_label: str          # "MP4 H.264", "PNG"
    size_bytes: int
    duration: float | None     # a clip's length
    width: int
    height: int
    trim: tuple[float, float] | None = None   # the source's in and out points
    has_audio: bool = False


def describe(converted: Converted) -> str:
    """``"motion.webm → MP4 H.264, 7.5 s, 12.3 MB"``, in the user's language (KB below
    1 MB)."""
    size = (_("{n} MB").format(n=format_number(converted.size_bytes / MB, 1))
            if converted.size_bytes >= MB
            else _("{n} KB").format(n=format_number(max(1, converted.size_bytes // 1024))))
    if converted.duration is not None:
        return _("{name} → {format}, {seconds} s, {size}").format(
            name=converted.source.name, format=converted.format_label,
            seconds=format_number(converted.duration, 1), size=size)
    return _("{name} → {format}, {width} × {height} px, {size}").format(
        name=converted.source.name, format=converted.format_label, width=converted.width,
        height=converted.height, size=size)


# -- which fixes ---------------------------------------------------------------------


def parse_trim(text: str) -> Trim:
    """``"2.5-9.5"`` -> Trim(2.5, 9.5); ``"2.5-"`` to the end. Raises TrimError."""
    start_text, sep, end_text = text.strip().partition("-")
    try:
        if not sep:
            raise ValueError(text)
        start = float(start_text) if start_text.strip() else 0.0
        end = float(end_text) if end_text.strip() else None
    except ValueError:
        raise TrimError(_("“{text}” is not a trim span.").format(text=text)) from None
    if not math.isfinite(start) or start < 0 or (end is not None and (
            not math.isfinite(end) or end <= start)):
        raise TrimError(_("“{text}” is not a trim span: the end must come after the start.")
                        .format(text=text))
    if end is not None and end - start < VIDEO_MIN_SECONDS:
        raise TrimError(
            _("“{text}” keeps {seconds} s; the provider needs at least {limit} s.").format(
                text=text, seconds=format_number(end - start, 1),
                limit=format_number(VIDEO_MIN_SECONDS)),
            fix=_("Choose a longer span, for example 2.5-9.5."))
    return Trim(start, end)


def plan_video(source: Path, *, orientation: Orientation, keep_audio: bool = True,
               trim: Trim | None = None, auto: bool = True) -> ConversionPlan | None:
    """The fixes this clip needs to be accepted (``auto``: the safe ones: format, size,
    frame rate, length by trimming from the start), plus ``trim`` when asked; None when
    it can go as it is. Raises MediaError for a file no fix can help (missing, broken)."""
    kind = sniff(source)
    if kind not in CONVERTIBLE_VIDEOS:
        return None          # the checks' refusal says what it is
    fixes: list[Fix] = []
    if trim is not None:
        fixes.append(trim)
    limit = orientation.max_video_seconds
    try:
        info = probe_video(source)
    except MediaError:
        if not auto:
            return ConversionPlan("video", source, (*fixes, Transcode()), keep_audio) \
                if fixes else None
        # Another container (WebM, MKV, AVI, GIF): its facts are read while converting.
        return ConversionPlan("video", source, (
            *fixes, Transcode(), FitLength(limit), ScaleDown(VIDEO_MAX_SIDE),
            FitSize(VIDEO_MAX_BYTES)), keep_audio)
    if auto:
        kept = _kept_seconds(info.duration, trim)
        if kept > limit:
            fixes.append(FitLength(limit))
        if max(info.width, info.height) > VIDEO_MAX_SIDE:
            fixes.append(ScaleDown(VIDEO_MAX_SIDE))
        # What the kept span would weigh at the clip's own bit rate.
        share = min(kept, limit) / max(info.duration, 0.001)
        if info.size_bytes * share > VIDEO_MAX_BYTES:
            fixes.append(FitSize(VIDEO_MAX_BYTES))
    if not fixes:
        return None
    if trim is not None or any(isinstance(f, FitLength | ScaleDown | FitSize) for f in fixes):
        fixes.append(Transcode())
    return ConversionPlan("video", source, tuple(fixes), keep_audio)


def _kept_seconds(duration: float, trim: Trim | None) -> float:
    if trim is None:
        return duration
    end = duration if trim.end is None else min(trim.end, duration)
    return max(0.0, end - trim.start)


def plan_picture(source: Path, *, auto: bool = True,
                 shape: Pad | Crop | None = None) -> ConversionPlan | None:
    """The fixes this picture needs to be accepted; None when it can go as it is.
    ``shape`` overrides how a shape outside 1:2.5–2.5:1 is fixed (the default pads)."""
    kind = sniff(source)
    if kind not in CONVERTIBLE_PICTURES:
        return None
    if not auto and shape is None:
        return None
    fixes: list[Fix] = []
    try:
        info = probe_image(source)
        width, height, size = info.width, info.height, info.size_bytes
    except MediaError:
        # WebP, GIF, BMP, TIFF, HEIC: to PNG (JPEG if that is too big), decided while
        # converting, where the pixels are known.
        fixes.append(ToPng())
        width = height = size = 0
    if width and width * height > IMAGE_MAX_PIXELS:
        fixes.append(ScaleDown(0, IMAGE_MAX_PIXELS))
    if size > IMAGE_MAX_BYTES:
        fixes.append(FitSize(IMAGE_MAX_BYTES))
    if shape is not None:
        fixes.append(shape)
    elif not width or 2 * width > 5 * height or 2 * height > 5 * width:
        fixes.append(Pad())     # (unknown size: applied only if the decoded one needs it)
    if not fixes or (fixes == [Pad()] and shape is None and not width):
        return None
    return ConversionPlan("image", source, tuple(fixes), limit_bytes=IMAGE_MAX_BYTES)


# -- how: from the input's facts to the output's -------------------------------------


def standard_frame_rate(fps: float) -> float:
    """The output rate for a clip at ``fps``: a standard rate is kept, anything else
    (60 fps screen recordings, 14.7 fps phones) becomes the nearest of 24/25/30, never
    above 30."""
    if not math.isfinite(fps) or fps <= 0:
        return 30.0
    for rate in (*STANDARD_FRAME_RATES, 30000 / 1001, 24000 / 1001):
        if abs(fps - rate) < 0.02:
            return fps
    if fps > 30:
        return 30.0
    return min(STANDARD_FRAME_RATES, key=lambda rate: abs(rate - fps))


@dataclass(frozen=True)
class VideoTarget:
    """What the encoder is asked for."""

    start: float              # seconds into the source
    end: float                # seconds into the source (exclusive)
    width: int
    height: int
    fps: float
    video_bits_per_second: int
    keep_audio: bool

    @property
    def duration(self) -> float:
        return self.end - self.start

    def estimated_bytes(self) -> int:
        audio = AUDIO_BITS_PER_SECOND if self.keep_audio else 0
        return int((self.video_bits_per_second + audio) * self.duration / 8)


def video_target(plan: ConversionPlan, *, width: int, height: int, fps: float,
                 duration: float, has_audio: bool, size_factor: float = 1.0) -> VideoTarget:
    """The span, size, rate and bit rate for ``plan``'s clip, from its facts (read by
    the converter). ``size_factor`` < 1 asks for fewer bits (a second try at fitting).
    Raises ConversionError for a span outside the clip."""
    start, end = 0.0, duration
    trim = plan.find(Trim)
    if isinstance(trim, Trim):
        start = trim.start
        end = duration if trim.end is None else min(trim.end, duration)
    fit = plan.find(FitLength)
    if isinstance(fit, FitLength):
        end = min(end, start + fit.seconds)
    if end - start < VIDEO_MIN_SECONDS - 1e-6:
        raise ConversionError(
            _("The clip is {duration} s long; from {start} s on only {seconds} s are left, "
              "and the provider needs at least {limit} s.").format(
                duration=format_number(duration, 1), start=format_number(start, 1),
                seconds=format_number(max(0.0, end - start), 1),
                limit=format_number(VIDEO_MIN_SECONDS)),
            fix=_("Choose an earlier start or a longer span."))
    w, h = width, height
    scale = plan.find(ScaleDown)
    if isinstance(scale, ScaleDown) and scale.max_side and max(w, h) > scale.max_side:
        factor = scale.max_side / max(w, h)
        w, h = int(w * factor), int(h * factor)
    w, h = max(2, w - w % 2), max(2, h - h % 2)     # 4:2:0 needs even sides
    rate = standard_frame_rate(fps)
    bits = int(w * h * rate * _BITS_PER_PIXEL)
    keep_audio = has_audio and plan.keep_audio
    fit_size = plan.find(FitSize)
    limit = fit_size.max_bytes if isinstance(fit_size, FitSize) else plan.limit_bytes
    limit = min(limit, plan.limit_bytes)
    budget = limit * 8 * _FIT_MARGIN * size_factor / max(end - start, 0.001)
    budget -= AUDIO_BITS_PER_SECOND if keep_audio else 0
    bits = int(max(100_000, min(bits * size_factor, budget)))
    if bits < w * h * rate * _STARVED_BITS_PER_PIXEL and max(w, h) > _FITTED_SIDE:
        # Too few bits for this many pixels (a 4K clip fitted into 100 MB): 1080p, which
        # is the most the provider makes anyway, looks better at the same size.
        factor = _FITTED_SIDE / max(w, h)
        w, h = int(w * factor), int(h * factor)
        w, h = max(2, w - w % 2), max(2, h - h % 2)
    return VideoTarget(start, end, w, h, rate, bits, keep_audio)


@dataclass(frozen=True)
class PictureTarget:
    width: int                  # the picture scaled to this (before padding/cropping)
    height: int
    canvas_width: int           # after padding or cropping
    canvas_height: int
    offset_x: int               # where the scaled picture sits on the canvas (padding),
    offset_y: int               # or minus where the crop starts
    fmt: Literal["png", "jpeg"]


def picture_target(plan: ConversionPlan, *, width: int, height: int) -> PictureTarget:
    """Scale, pad or crop for ``plan``'s picture of ``width`` × ``height`` px."""
    w, h = width, height
    crop = plan.find(Crop)
    if isinstance(crop, Crop):
        w, h = crop.width, crop.height
    if w * h > IMAGE_MAX_PIXELS or isinstance(plan.find(ScaleDown), ScaleDown):
        scale = plan.find(ScaleDown)
        max_pixels = scale.max_pixels if isinstance(scale, ScaleDown) and scale.max_pixels \
            else IMAGE_MAX_PIXELS
        max_side = scale.max_side if isinstance(scale, ScaleDown) and scale.max_side else 0
        factor = min(1.0, math.sqrt(max_pixels / (w * h)))
        if max_side:
            factor = min(factor, max_side / max(w, h))
        w, h = max(1, int(w * factor)), max(1, int(h * factor))
    cw, ch, ox, oy = w, h, 0, 0
    if isinstance(plan.find(Pad), Pad) and not isinstance(crop, Crop):
        pad = plan.find(Pad)
        assert isinstance(pad, Pad)
        ratio = min(pad.ratio, IMAGE_MAX_ASPECT)
        if w > ratio * h:
            ch = math.ceil(w / ratio)
            oy = (ch - h) // 2
        elif h > ratio * w:
            cw = math.ceil(h / ratio)
            ox = (cw - w) // 2
    fmt: Literal["png", "jpeg"] = "jpeg" if isinstance(plan.find(ToJpeg), ToJpeg) else "png"
    return PictureTarget(w, h, cw, ch, ox, oy, fmt)
