"""What each one-click fix will make, for the inputs the checks refused.

Plain functions, no Qt, run on the TaskRunner after each check (they read file headers):
they ask :mod:`kling_desktop.engine.fixes`, which decides every rule, and turn its plans
into the buttons of :mod:`.offers` ("Convert to MP4", "Trim to 10 s…", "Pad…" /
"Crop…") with the outcome shown before anything runs ("Comes out: 10.0 s, 640 × 480 px,
about 3.1 MB"). Loaded by the first check, not with the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kling_desktop.api.models import GenerationOptions, Orientation
from kling_desktop.engine.checks import check_image, check_video
from kling_desktop.engine.fixes import (
    MB,
    ConversionError,
    ConversionPlan,
    FitLength,
    FitSize,
    Pad,
    ScaleDown,
    ToJpeg,
    ToPng,
    picture_target,
    plan_picture,
    plan_video,
    video_target,
)
from kling_desktop.engine.media import MediaError, probe_image, probe_video, sniff
from kling_desktop.i18n import _, format_number
from kling_desktop.sources import is_link, local_path
from kling_desktop.ui.form.offers import CONVERT, CROP, PAD, TRIM, FixOffer

__all__ = ["clip_outcome_text", "offers_for", "size_text"]

#: The frame rate assumed for an estimate before the clip is opened (most are 24–30).
_ASSUMED_FPS = 30.0


def size_text(size: int) -> str:
    if size >= MB:
        return _("{n} MB").format(n=format_number(size / MB, 1))
    return _("{n} KB").format(n=format_number(max(1, size // 1024)))


def offers_for(images: Sequence[str], videos: Sequence[str],
               options: GenerationOptions) -> tuple[FixOffer, ...]:
    """The fixes for every refused local input (reads headers: call it off the main thread)."""
    offers: list[FixOffer] = []
    for source in dict.fromkeys(images):
        offers.extend(_picture_offers(source))
    for source in dict.fromkeys(videos):
        offers.extend(_clip_offers(source, options.orientation, options.keep_original_sound))
    return tuple(offers)


def _local(source: str) -> Path | None:
    if not source.strip() or is_link(source):
        return None
    try:
        path = local_path(source)
    except (OSError, RuntimeError, ValueError):
        return None
    return path if path.is_file() else None


# -- clips ---------------------------------------------------------------------------


def _clip_offers(source: str, orientation: Orientation, keep_audio: bool) -> list[FixOffer]:
    path = _local(source)
    if path is None:
        return []
    info, problems = check_video(source, orientation)
    problems = [p for p in problems if p.field == "video"]
    if not problems:
        return []
    try:
        plan = plan_video(path, orientation=orientation, keep_audio=keep_audio)
    except MediaError:
        return []
    if plan is None:
        return []
    limit = orientation.max_video_seconds
    kind = sniff(path)
    outcome = _clip_outcome(plan)
    # Too long: the editor, where the artist picks which seconds (the checks say the
    # length last).
    too_long = problems[-1] if info is not None and info.duration > limit and isinstance(
        plan.find(FitLength), FitLength) else None
    needs_more = kind not in ("mp4", "mov") or any(
        isinstance(fix, ScaleDown | FitSize) for fix in plan.fixes)
    offers: list[FixOffer] = []
    if too_long is not None and kind in ("mp4", "mov"):
        offers.append(FixOffer(
            too_long.message, TRIM, source,
            _("Trim to {limit} s…").format(limit=format_number(limit)), outcome))
    if needs_more:
        if kind not in ("mp4", "mov"):
            label = _("Convert to MP4")
        elif isinstance(plan.find(FitSize), FitSize):
            label = _("Make it smaller")
        else:
            label = _("Scale down")
        message = next((p.message for p in problems if too_long is None or p is not too_long),
                       problems[0].message)
        offers.append(FixOffer(message, CONVERT, source, label, outcome))
    return offers


def _clip_outcome(plan: ConversionPlan) -> str:
    try:
        info = probe_video(plan.source)
    except MediaError:
        # Another container: its facts are read while converting.
        return _("Comes out: an MP4 the provider takes (the length and size are shown "
                 "when it is done).")
    try:
        target = video_target(plan, width=info.width, height=info.height, fps=_ASSUMED_FPS,
                              duration=info.duration, has_audio=bool(info.has_audio))
    except ConversionError as exc:
        return exc.message
    return clip_outcome_text(target.duration, target.width, target.height,
                             target.estimated_bytes())


def clip_outcome_text(seconds: float, width: int, height: int, size: int) -> str:
    return _("Comes out: {seconds} s, {width} × {height} px, about {size}.").format(
        seconds=format_number(seconds, 1), width=width, height=height, size=size_text(size))


# -- pictures ------------------------------------------------------------------------


def _picture_offers(source: str) -> list[FixOffer]:
    path = _local(source)
    if path is None:
        return []
    info, problems = check_image(source)
    problems = [p for p in problems if p.field == "image"]
    if not problems:
        return []
    try:
        plan = plan_picture(path)
    except MediaError:
        return []
    if plan is None:
        return []
    outcome = _picture_outcome(plan)
    message = problems[0].message
    shape = any(isinstance(fix, Pad) for fix in plan.fixes)
    if isinstance(plan.find(ToPng), ToPng):
        return [FixOffer(message, CONVERT, source, _("Convert to PNG"), outcome)]
    offers: list[FixOffer] = []
    others = [fix for fix in plan.fixes if not isinstance(fix, Pad)]
    if others:
        label = (_("Make it smaller") if isinstance(plan.find(FitSize), FitSize)
                 else _("Scale down"))
        offers.append(FixOffer(message, CONVERT, source, label, outcome))
    if shape:
        # (the checks say the shape last)
        shape_message = problems[-1].message if info is not None else message
        offers.append(FixOffer(shape_message, PAD, source, _("Pad…"), outcome))
        offers.append(FixOffer(shape_message, CROP, source, _("Crop…"), outcome))
    return offers


def _picture_outcome(plan: ConversionPlan) -> str:
    try:
        info = probe_image(plan.source)
    except MediaError:
        return _("Comes out: a PNG picture (a JPEG if a PNG would be over the limit).")
    target = picture_target(plan, width=info.width, height=info.height)
    fmt = "JPEG" if isinstance(plan.find(ToJpeg), ToJpeg) else "PNG"
    return _("Comes out: {width} × {height} px, {format}.").format(
        width=target.canvas_width, height=target.canvas_height, format=fmt)
