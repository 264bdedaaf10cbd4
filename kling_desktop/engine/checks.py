"""Check a job's inputs locally, before anything is uploaded or paid for.

Limits come from the provider's documentation (``shared/API.md``, "Input
limits"). Every refusal is a :class:`Problem` that says what is wrong, with the
numbers, and what to do, in words a non-technical artist understands. A
``Problem.action`` is a one-click fix the GUI may offer (``"orientation=video"``).

Sources are local paths or ``https://`` links. For a link only its form is
checked (the provider fetches it), so its size and length are unknown and
``billable_seconds`` is None.

``ImageInfo`` and ``VideoInfo`` are defined in :mod:`kling_desktop.engine.media`
and re-exported here.
"""

from __future__ import annotations

import math
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kling_desktop.api.models import MAX_PROMPT_CHARS, Orientation
from kling_desktop.engine.media import (
    ImageInfo,
    MediaError,
    VideoInfo,
    probe_image,
    probe_video,
)
from kling_desktop.sources import is_link, local_path

__all__ = [
    "IMAGE_MAX_ASPECT",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_PIXELS",
    "IMAGE_MIN_SIDE",
    "VIDEO_MAX_BYTES",
    "VIDEO_MAX_SIDE",
    "VIDEO_MIN_SECONDS",
    "VIDEO_MIN_SIDE",
    "CheckReport",
    "ImageInfo",
    "Problem",
    "VideoInfo",
    "check_image",
    "check_job",
    "check_prompt",
    "check_video",
]

MB = 1024 * 1024
IMAGE_MAX_BYTES = 10 * MB
IMAGE_MIN_SIDE = 300
IMAGE_MAX_ASPECT = 2.5  # long side / short side
# Width × height read from the header: more is absurd for the provider, and a small file
# can hold a huge picture (8000 × 8000 PNG in ~190 KB) that costs 4 bytes a pixel to show.
IMAGE_MAX_PIXELS = 40_000_000
VIDEO_MAX_BYTES = 100 * MB
VIDEO_MIN_SIDE = 340
VIDEO_MAX_SIDE = 3850
VIDEO_MIN_SECONDS = 3.0


@dataclass(frozen=True)
class Problem:
    """One reason the job cannot be sent as it is.

    ``field`` is "image", "video", "prompt" or "options"; ``action`` a fix the
    GUI can apply in one click, e.g. ``"orientation=video"``.
    """

    field: str
    message: str
    fix: str
    action: str | None = None


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[Problem, ...]
    image: ImageInfo | None
    video: VideoInfo | None
    billable_seconds: float | None

    @property
    def ok(self) -> bool:
        return not self.problems

    def for_field(self, name: str) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.field == name)


# ---------------------------------------------------------------- formatting


def _num(value: float, limit: float | None = None) -> str:
    """``12.43`` -> ``"12.4"``, with as many decimals (up to 3) as it takes to differ
    from ``limit`` (so 10.02 s is not shown as "10.0 s" next to a 10 s limit)."""
    for decimals in (1, 2, 3):
        text = f"{value:.{decimals}f}"
        if limit is None or float(text) != limit:
            break
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text or "0"


def _mb(size: int, limit: int | None = None) -> str:
    return _num(size / MB, None if limit is None else limit / MB)


def _ratio(width: int, height: int) -> str:
    if width >= height:
        return f"{_num(width / height, IMAGE_MAX_ASPECT)}:1"
    return f"1:{_num(height / width, IMAGE_MAX_ASPECT)}"


_NOUNS = {"image": "picture", "video": "motion video"}


# ------------------------------------------------------------------ sources


def _check_url(source: str, field: str) -> list[Problem]:
    noun = _NOUNS[field]
    text = source.strip()
    scheme = text.partition("://")[0].lower()
    fix_link = "Copy the full link again from your browser's address bar."
    if scheme == "http":
        return [Problem(
            field,
            f"The {noun} link starts with http://; the service only fetches secure "
            "https:// links.",
            "Use the https:// version of the link, or download the file and pick it "
            "from your computer.",
        )]
    if scheme != "https":
        return [Problem(
            field,
            f"The {noun} link starts with {scheme}://; only https:// links work.",
            "Use an https:// link, or pick the file from your computer.",
        )]
    if any(ch.isspace() for ch in text):
        return [Problem(
            field,
            f"The {noun} link contains spaces, so it is not a valid link.",
            "Copy the link again from the address bar, or replace each space with %20.",
        )]
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return [Problem(field, f"The {noun} link “{text}” is not a valid web address.", fix_link)]
    if parts.username is not None or parts.password is not None:
        return [Problem(
            field,
            f"The {noun} link carries a user name or password; it would be stored with the "
            "job and handed to the provider.",
            "Use a public link without “name:password@”, or download the file and pick it "
            "from your computer.",
        )]
    if not host:
        return [Problem(field, f"The {noun} link has no web address (host name) in it.",
                        fix_link)]
    if any(not (ch.isalnum() or ch in "-._[]:") for ch in host):
        return [Problem(field, f"The {noun} link's host name “{host}” is not valid.", fix_link)]
    return []


def _missing_source(field: str) -> Problem:
    if field == "image":
        return Problem(field, "No picture is chosen.",
                       "Pick a PNG or JPG picture of your character.")
    return Problem(field, "No motion video is chosen.",
                   "Pick an MP4 or MOV clip that shows the motion.")


def _not_found(field: str, source: str) -> Problem:
    noun = _NOUNS[field]
    return Problem(field, f"The {noun} “{source.strip()}” was not found.",
                   "Pick the file again with Choose…, or drop it here.")


def _media_problem(field: str, error: MediaError, source: str) -> Problem:
    message, fix = error.message, error.fix
    if error.kind == "missing" and source.strip().lower().startswith("www."):
        message = f"“{source.strip()}” looks like a web link without https:// in front."
        fix = "Add https:// at the start of the link, or pick the file from your computer."
    return Problem(field, message, fix)


# ------------------------------------------------------------------- checks


_Info = TypeVar("_Info", ImageInfo, VideoInfo)


def _probe_source(
    source: str, field: str, probe: Callable[[Path], _Info]
) -> tuple[_Info | None, list[Problem]]:
    """The probe of a local input, or the problems that stop it (missing, a link, unreadable).

    A link is checked for its form only: nothing is downloaded.
    """
    if not source.strip():
        return None, [_missing_source(field)]
    if is_link(source):
        return None, _check_url(source, field)
    try:
        path = local_path(source)
    except (OSError, RuntimeError, ValueError):   # "~nobody/a.png": no such home folder
        return None, [_not_found(field, source)]
    try:
        return probe(path), []
    except MediaError as exc:
        return None, [_media_problem(field, exc, source)]


def check_image(source: str) -> tuple[ImageInfo | None, list[Problem]]:
    """Probe and check the character picture (a local path or an https link)."""
    info, refused = _probe_source(source, "image", probe_image)
    if info is None:
        return None, refused

    problems: list[Problem] = []
    if info.size_bytes > IMAGE_MAX_BYTES:
        problems.append(Problem(
            "image",
            f"The picture is {_mb(info.size_bytes, IMAGE_MAX_BYTES)} MB; the limit is "
            f"{IMAGE_MAX_BYTES // MB} MB.",
            "Save it as JPG, or make it smaller (2000 px on the longest side is plenty).",
        ))
    w, h = info.width, info.height
    if min(w, h) < IMAGE_MIN_SIDE:
        problems.append(Problem(
            "image",
            f"The picture is {w} × {h} px; each side must be at least {IMAGE_MIN_SIDE} px.",
            f"Use a larger picture (at least {IMAGE_MIN_SIDE} px on each side).",
        ))
    if w * h > IMAGE_MAX_PIXELS:
        megapixels = _num(w * h / 1e6, IMAGE_MAX_PIXELS / 1e6)
        problems.append(Problem(
            "image",
            f"The picture is {w} × {h} px, {megapixels} megapixels; the limit is "
            f"{IMAGE_MAX_PIXELS // 1_000_000} megapixels.",
            "Scale it down (2000 px on the longest side is plenty) and save it again.",
        ))
    # Integer comparisons so exactly 2.5:1 passes.
    if 2 * w > 5 * h or 2 * h > 5 * w:
        shape = "wide" if w > h else "tall"
        problems.append(Problem(
            "image",
            f"The picture is {w} × {h} px, a {_ratio(w, h)} shape, which is too {shape}; "
            "the shape must be between 1:2.5 and 2.5:1.",
            "Crop it closer to the character, for example to 3:4 or 16:9.",
        ))
    return info, problems


def check_video(
    source: str, orientation: Orientation | str = Orientation.IMAGE
) -> tuple[VideoInfo | None, list[Problem]]:
    """Probe and check the motion clip (a local path or an https link)."""
    try:
        orientation = Orientation(orientation)
    except ValueError:
        return None, [Problem(
            "options",
            f"“{orientation}” is not a way for the character to face.",
            f"Choose {_setting(Orientation.IMAGE)} (image) or "
            f"{_setting(Orientation.VIDEO)} (video).",
        )]
    info, refused = _probe_source(source, "video", probe_video)
    if info is None:
        return None, refused

    problems: list[Problem] = []
    if info.size_bytes > VIDEO_MAX_BYTES:
        problems.append(Problem(
            "video",
            f"The motion video is {_mb(info.size_bytes, VIDEO_MAX_BYTES)} MB; the limit is "
            f"{VIDEO_MAX_BYTES // MB} MB.",
            "Export it again at a lower quality or resolution (1080p is plenty), or trim it.",
        ))
    w, h = info.width, info.height
    if min(w, h) < VIDEO_MIN_SIDE:
        problems.append(Problem(
            "video",
            f"The motion video is {w} × {h} px; each side must be at least {VIDEO_MIN_SIDE} px.",
            "Use a clip of at least 480p (720p or 1080p is best).",
        ))
    if max(w, h) > VIDEO_MAX_SIDE:
        problems.append(Problem(
            "video",
            f"The motion video is {w} × {h} px; each side must be at most {VIDEO_MAX_SIDE} px.",
            "Export it at 1080p or 720p.",
        ))
    problems.extend(_duration_problems(info.duration, orientation))
    return info, problems


def _duration_problems(seconds: float, orientation: Orientation) -> list[Problem]:
    image_limit = Orientation.IMAGE.max_video_seconds
    video_limit = Orientation.VIDEO.max_video_seconds
    limit = orientation.max_video_seconds
    # Settings are named as the form names them ("Match the video"), in the CLI's words too.
    chosen, longer = _setting(orientation), _setting(Orientation.VIDEO)
    if seconds < VIDEO_MIN_SECONDS:
        return [Problem(
            "video",
            f"The motion video is {_num(seconds, VIDEO_MIN_SECONDS)} s long; it must be at "
            f"least {_num(VIDEO_MIN_SECONDS)} s.",
            f"Use a longer clip ({_num(VIDEO_MIN_SECONDS)} s or more).",
        )]
    if seconds <= limit:
        return []
    if orientation is Orientation.IMAGE and seconds <= video_limit:
        return [Problem(
            "video",
            f"The motion video is {_num(seconds, limit)} s long; with {chosen} "
            f"the limit is {_num(limit)} s.",
            f"Trim it to {_num(limit)} s or less, or switch to {longer} "
            f"(clips up to {_num(video_limit)} s).",
            action="orientation=video",
        )]
    if orientation is Orientation.IMAGE:
        fix = (f"Trim it to {_num(image_limit)} s or less (or to {_num(video_limit)} s with "
               f"{longer}).")
    else:
        fix = f"Trim it to {_num(video_limit)} s or less."
    return [Problem(
        "video",
        f"The motion video is {_num(seconds, limit)} s long; the longest clip the service "
        f"takes is {_num(video_limit)} s (with {longer}).",
        fix,
    )]


def _setting(orientation: Orientation) -> str:
    """The orientation as the form's choice names it, quoted: “Match the video”."""
    return f"“{orientation.label}”"


def check_prompt(prompt: str) -> list[Problem]:
    """The prompt's length in characters (each Chinese character counts as one)."""
    count = len(prompt)
    if count <= MAX_PROMPT_CHARS:
        return []
    over = count - MAX_PROMPT_CHARS
    return [Problem(
        "prompt",
        f"The prompt is {count:,} characters long; the limit is {MAX_PROMPT_CHARS:,}.",
        f"Shorten it by at least {over:,} character{'s' if over > 1 else ''}.",
    )]


def check_job(
    image: str, video: str, *, orientation: Orientation | str, prompt: str
) -> CheckReport:
    """Every check of one job; ``billable_seconds`` is the clip's length when known."""
    image_info, image_problems = check_image(image)
    video_info, video_problems = check_video(video, orientation)
    problems = (*image_problems, *video_problems, *check_prompt(prompt))
    billable = None
    if video_info is not None and math.isfinite(video_info.duration):
        billable = round(video_info.duration, 1)
    return CheckReport(
        problems=problems, image=image_info, video=video_info, billable_seconds=billable
    )
