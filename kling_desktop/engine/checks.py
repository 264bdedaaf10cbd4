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
from kling_desktop.i18n import _, format_number, ngettext
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


# ------------------------------------------------------------------ sources


def _link_words(field: str) -> dict[str, str]:
    """A link's refusals, whole sentences per field (a noun cannot be slotted into
    another language's sentence)."""
    if field == "image":
        return {
            "http": _("The picture link starts with http://; the service only fetches "
                      "secure https:// links."),
            "scheme": _("The picture link starts with {scheme}://; only https:// links work."),
            "spaces": _("The picture link contains spaces, so it is not a valid link."),
            "invalid": _("The picture link “{link}” is not a valid web address."),
            "password": _("The picture link carries a user name or password; it would be "
                          "stored with the job and handed to the provider."),
            "no_host": _("The picture link has no web address (host name) in it."),
            "host": _("The picture link's host name “{host}” is not valid."),
        }
    return {
        "http": _("The motion video link starts with http://; the service only fetches "
                  "secure https:// links."),
        "scheme": _("The motion video link starts with {scheme}://; only https:// links "
                    "work."),
        "spaces": _("The motion video link contains spaces, so it is not a valid link."),
        "invalid": _("The motion video link “{link}” is not a valid web address."),
        "password": _("The motion video link carries a user name or password; it would be "
                      "stored with the job and handed to the provider."),
        "no_host": _("The motion video link has no web address (host name) in it."),
        "host": _("The motion video link's host name “{host}” is not valid."),
    }


def _check_url(source: str, field: str) -> list[Problem]:
    words = _link_words(field)
    text = source.strip()
    scheme = text.partition("://")[0].lower()
    fix_link = _("Copy the full link again from your browser's address bar.")
    if scheme == "http":
        return [Problem(
            field,
            words["http"],
            _("Use the https:// version of the link, or download the file and pick it "
              "from your computer."),
        )]
    if scheme != "https":
        return [Problem(
            field,
            words["scheme"].format(scheme=scheme),
            _("Use an https:// link, or pick the file from your computer."),
        )]
    if any(ch.isspace() for ch in text):
        return [Problem(
            field,
            words["spaces"],
            _("Copy the link again from the address bar, or replace each space with %20."),
        )]
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return [Problem(field, words["invalid"].format(link=text), fix_link)]
    if parts.username is not None or parts.password is not None:
        return [Problem(
            field,
            words["password"],
            _("Use a public link without “name:password@”, or download the file and pick it "
              "from your computer."),
        )]
    if not host:
        return [Problem(field, words["no_host"], fix_link)]
    if any(not (ch.isalnum() or ch in "-._[]:") for ch in host):
        return [Problem(field, words["host"].format(host=host), fix_link)]
    return []


def _missing_source(field: str) -> Problem:
    if field == "image":
        return Problem(field, _("No picture is chosen."),
                       _("Pick a PNG or JPG picture of your character."))
    return Problem(field, _("No motion video is chosen."),
                   _("Pick an MP4 or MOV clip that shows the motion."))


def _not_found(field: str, source: str) -> Problem:
    message = (_("The picture “{name}” was not found.") if field == "image"
               else _("The motion video “{name}” was not found."))
    return Problem(field, message.format(name=source.strip()),
                   _("Pick the file again with Choose…, or drop it here."))


def _media_problem(field: str, error: MediaError, source: str) -> Problem:
    message, fix = error.message, error.fix
    if error.kind == "missing" and source.strip().lower().startswith("www."):
        message = _("“{link}” looks like a web link without https:// in front.").format(
            link=source.strip())
        fix = _("Add https:// at the start of the link, or pick the file from your computer.")
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
            _("The picture is {size} MB; the limit is {limit} MB.").format(
                size=_mb(info.size_bytes, IMAGE_MAX_BYTES), limit=IMAGE_MAX_BYTES // MB),
            _("Save it as JPG, or make it smaller (2000 px on the longest side is plenty)."),
        ))
    w, h = info.width, info.height
    if min(w, h) < IMAGE_MIN_SIDE:
        problems.append(Problem(
            "image",
            _("The picture is {width} × {height} px; each side must be at least {limit} px."
              ).format(width=w, height=h, limit=IMAGE_MIN_SIDE),
            _("Use a larger picture (at least {limit} px on each side).").format(
                limit=IMAGE_MIN_SIDE),
        ))
    if w * h > IMAGE_MAX_PIXELS:
        megapixels = _num(w * h / 1e6, IMAGE_MAX_PIXELS / 1e6)
        problems.append(Problem(
            "image",
            _("The picture is {width} × {height} px, {megapixels} megapixels; the limit is "
              "{limit} megapixels.").format(width=w, height=h, megapixels=megapixels,
                                            limit=IMAGE_MAX_PIXELS // 1_000_000),
            _("Scale it down (2000 px on the longest side is plenty) and save it again."),
        ))
    # Integer comparisons so exactly 2.5:1 passes.
    if 2 * w > 5 * h or 2 * h > 5 * w:
        shape = (_("The picture is {width} × {height} px, a {ratio} shape, which is too wide; "
                   "the shape must be between 1:2.5 and 2.5:1.") if w > h else
                 _("The picture is {width} × {height} px, a {ratio} shape, which is too tall; "
                   "the shape must be between 1:2.5 and 2.5:1."))
        problems.append(Problem(
            "image",
            shape.format(width=w, height=h, ratio=_ratio(w, h)),
            _("Crop it closer to the character, for example to 3:4 or 16:9."),
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
            _("“{orientation}” is not a way for the character to face.").format(
                orientation=orientation),
            _("Choose {image_setting} (image) or {video_setting} (video).").format(
                image_setting=_setting(Orientation.IMAGE),
                video_setting=_setting(Orientation.VIDEO)),
        )]
    info, refused = _probe_source(source, "video", probe_video)
    if info is None:
        return None, refused

    problems: list[Problem] = []
    if info.size_bytes > VIDEO_MAX_BYTES:
        problems.append(Problem(
            "video",
            _("The motion video is {size} MB; the limit is {limit} MB.").format(
                size=_mb(info.size_bytes, VIDEO_MAX_BYTES), limit=VIDEO_MAX_BYTES // MB),
            _("Export it again at a lower quality or resolution (1080p is plenty), or trim "
              "it."),
        ))
    w, h = info.width, info.height
    if min(w, h) < VIDEO_MIN_SIDE:
        problems.append(Problem(
            "video",
            _("The motion video is {width} × {height} px; each side must be at least "
              "{limit} px.").format(width=w, height=h, limit=VIDEO_MIN_SIDE),
            _("Use a clip of at least 480p (720p or 1080p is best)."),
        ))
    if max(w, h) > VIDEO_MAX_SIDE:
        problems.append(Problem(
            "video",
            _("The motion video is {width} × {height} px; each side must be at most "
              "{limit} px.").format(width=w, height=h, limit=VIDEO_MAX_SIDE),
            _("Export it at 1080p or 720p."),
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
            _("The motion video is {seconds} s long; it must be at least {limit} s.").format(
                seconds=_num(seconds, VIDEO_MIN_SECONDS), limit=_num(VIDEO_MIN_SECONDS)),
            _("Use a longer clip ({limit} s or more).").format(limit=_num(VIDEO_MIN_SECONDS)),
        )]
    if seconds <= limit:
        return []
    if orientation is Orientation.IMAGE and seconds <= video_limit:
        return [Problem(
            "video",
            # TRANSLATORS: {setting} is the orientation as the form names it, quoted.
            _("The motion video is {seconds} s long; with {setting} the limit is {limit} s."
              ).format(seconds=_num(seconds, limit), setting=chosen, limit=_num(limit)),
            _("Trim it to {limit} s or less, or switch to {setting} (clips up to "
              "{longest} s).").format(limit=_num(limit), setting=longer,
                                      longest=_num(video_limit)),
            action="orientation=video",
        )]
    if orientation is Orientation.IMAGE:
        fix = _("Trim it to {limit} s or less (or to {longest} s with {setting}).").format(
            limit=_num(image_limit), longest=_num(video_limit), setting=longer)
    else:
        fix = _("Trim it to {limit} s or less.").format(limit=_num(video_limit))
    return [Problem(
        "video",
        _("The motion video is {seconds} s long; the longest clip the service takes is "
          "{longest} s (with {setting}).").format(
              seconds=_num(seconds, limit), longest=_num(video_limit), setting=longer),
        fix,
    )]


def _setting(orientation: Orientation) -> str:
    """The orientation as the form's choice names it, quoted: “Match the video”."""
    return _("“{setting}”").format(setting=orientation.label)


def check_prompt(prompt: str) -> list[Problem]:
    """The prompt's length in characters (each Chinese character counts as one)."""
    count = len(prompt)
    if count <= MAX_PROMPT_CHARS:
        return []
    over = count - MAX_PROMPT_CHARS
    return [Problem(
        "prompt",
        ngettext("The prompt is {count} character long; the limit is {limit}.",
                 "The prompt is {count} characters long; the limit is {limit}.", count).format(
            count=format_number(count), limit=format_number(MAX_PROMPT_CHARS)),
        ngettext("Shorten it by at least {n} character.",
                 "Shorten it by at least {n} characters.", over).format(n=format_number(over)),
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
