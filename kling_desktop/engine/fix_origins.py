"""What a finished conversion did, as the :class:`~.origins.Origin` of its result (no Qt).

Both faces call :func:`origin_of` after the one conversion step: the window to list the
copy under the original's name with its note, ``generate --trim``/``--fix`` to record it
with the job. It reads the original's headers only (the original is never changed).
"""

from __future__ import annotations

from dataclasses import dataclass

from kling_desktop.engine.fixes import (
    ConversionPlan,
    Converted,
    Crop,
    FitLength,
    FitSize,
    Pad,
    Transcode,
    Trim,
)
from kling_desktop.engine.media import MediaError, probe_image, probe_video, sniff
from kling_desktop.engine.origins import FORMAT_NAMES, Origin

__all__ = ["SourceFacts", "origin_of", "source_facts"]


@dataclass(frozen=True)
class SourceFacts:
    """What the original's header says: its kind, longest side, bytes and length (0: a
    picture); None where it could not be read."""

    kind: str | None
    longest_side: int | None = None
    size_bytes: int | None = None
    duration: float | None = None


def source_facts(plan: ConversionPlan) -> SourceFacts:
    try:
        kind = sniff(plan.source)
    except MediaError:
        kind = None
    try:
        if plan.field == "video":
            clip = probe_video(plan.source)
            return SourceFacts(kind, max(clip.width, clip.height), clip.size_bytes,
                               clip.duration)
        picture = probe_image(plan.source)
        return SourceFacts(kind, max(picture.width, picture.height), picture.size_bytes, 0.0)
    except MediaError:
        return SourceFacts(kind)


def origin_of(plan: ConversionPlan, converted: Converted,
              facts: SourceFacts | None = None) -> Origin:
    """Where ``converted`` came from and what was done: the span kept when the clip was
    cut, the kind it was converted from, scaled down or made smaller, cropped or padded.
    ``facts`` are the original's (read now when not given)."""
    if facts is None:
        facts = source_facts(plan)
    fit = plan.find(FitLength)
    cut = isinstance(plan.find(Trim), Trim) or (
        converted.duration is not None and (
            converted.duration < facts.duration - 0.1 if facts.duration is not None
            # (another container: its length was read while converting)
            else isinstance(fit, FitLength) and converted.duration >= fit.seconds - 0.1))
    trim = converted.trim if converted.trim is not None and cut else None
    kind = facts.kind
    target = "jpeg" if converted.format_label.upper().startswith("JPEG") else (
        "png" if converted.field == "image" else "mp4")
    from_format = kind if (
        kind is not None and kind != target and kind in FORMAT_NAMES
        and (converted.field == "image" or isinstance(plan.find(Transcode), Transcode))
        and (kind not in ("mp4", "mov") or converted.field == "image")) else None
    steps: list[str] = []
    if facts.longest_side is not None and max(converted.width, converted.height) < \
            facts.longest_side:
        steps.append("scaled_down")
    elif facts.size_bytes is not None and isinstance(plan.find(FitSize), FitSize) and \
            converted.size_bytes < facts.size_bytes:
        steps.append("made_smaller")
    if isinstance(plan.find(Crop), Crop):
        steps.append("cropped")
    elif isinstance(plan.find(Pad), Pad) and converted.field == "image":
        steps.append("padded")
    return Origin.of_file(str(plan.source.absolute()), trim=trim, from_format=from_format,
                          steps=steps)
