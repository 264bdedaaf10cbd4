"""Batches: one job per (character, motion) pair, all checked before any is sent.

A batch is one motion clip with several characters, or one character with
several clips (or a single pair). The window and the command line both plan
their jobs here, so the pairing and the billing rules exist once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.checks import (
    CheckReport,
    ImageInfo,
    Problem,
    VideoInfo,
    check_image,
    check_prompt,
    check_video,
)
from kling_desktop.engine.jobs import JobOptions, JobSpec
from kling_desktop.engine.origins import Origin
from kling_desktop.i18n import _
from kling_desktop.sources import canonical

__all__ = ["BatchReport", "JobOptions", "check_batch", "estimate_cost", "job_specs",
           "plan_pairs", "rate_key"]


@dataclass(frozen=True)
class BatchReport:
    """The outcome of checking every input of a batch once."""

    pairs: tuple[tuple[str, str], ...]
    reports: tuple[CheckReport, ...]          # one per pair, same order
    problems: tuple[Problem, ...]             # every distinct problem, batch-level first
    images: Mapping[str, ImageInfo | None]
    videos: Mapping[str, VideoInfo | None]

    @property
    def ok(self) -> bool:
        return bool(self.pairs) and not self.problems

    @property
    def job_count(self) -> int:
        return len(self.pairs)

    @property
    def accepted_reports(self) -> tuple[CheckReport, ...]:
        """The pairs whose picture and clip were both accepted (a prompt problem aside):
        the jobs this batch would send once its problems are fixed."""
        return tuple(r for r in self.reports
                     if not any(p.field in ("image", "video") for p in r.problems))

    @property
    def accepted_job_count(self) -> int:
        return len(self.accepted_reports)

    @property
    def accepted_billable_seconds(self) -> float | None:
        """Billable seconds of the accepted pairs only (a refused input bills nothing);
        None if any of their clips' length is unknown (a link)."""
        return _sum_seconds(self.accepted_reports)

    @property
    def total_billable_seconds(self) -> float | None:
        """Sum of the clips' durations over all jobs; None if any clip's length is unknown (URL)."""
        return _sum_seconds(self.reports)


def _sum_seconds(reports: Sequence[CheckReport]) -> float | None:
    total = 0.0
    for report in reports:
        if report.billable_seconds is None:
            return None
        total += report.billable_seconds
    return round(total, 1)


def plan_pairs(images: Sequence[str], videos: Sequence[str]) -> tuple[list[tuple[str, str]],
                                                                       list[Problem]]:
    """Pair the inputs: one clip x many characters, or one character x many clips."""
    problems: list[Problem] = []
    if not images:
        problems.append(Problem("image", _("No character picture chosen yet."),
                                _("Add a JPG or PNG picture of the character.")))
    if not videos:
        problems.append(Problem("video", _("No motion video chosen yet."),
                                _("Add an MP4 or MOV clip of the movement.")))
    if problems:
        return [], problems
    if len(images) > 1 and len(videos) > 1:
        return [], [Problem(
            "options",
            # TRANSLATORS: both counts are at least 2 here.
            _("{pictures} pictures and {clips} clips were chosen; a batch pairs one clip with "
              "several pictures, or one picture with several clips.").format(
                pictures=len(images), clips=len(videos)),
            _("Keep a single picture or a single clip."),
        )]
    return [(image, video) for image in images for video in videos], []


def check_batch(images: Sequence[str], videos: Sequence[str], options: JobOptions) -> BatchReport:
    """Check every input once, then report per pair. Nothing is sent anywhere.

    Inputs are made canonical first (see :func:`kling_desktop.sources.canonical`), so the jobs
    record exactly what was checked and what will be uploaded.
    """
    images = list(dict.fromkeys(_canonical(s) for s in images))
    videos = list(dict.fromkeys(_canonical(s) for s in videos))
    pairs, problems = plan_pairs(images, videos)
    image_infos: dict[str, ImageInfo | None] = {}
    video_infos: dict[str, VideoInfo | None] = {}
    input_problems: dict[str, list[Problem]] = {}
    for source in images:
        image_infos[source], input_problems[source] = check_image(source)
    for source in videos:
        video_infos[source], input_problems[source] = check_video(source, options.orientation)
    prompt_problems = check_prompt(options.prompt)

    all_problems: list[Problem] = list(problems)
    for found in (*input_problems.values(), prompt_problems):
        for problem in found:
            if problem not in all_problems:
                all_problems.append(problem)

    reports: list[CheckReport] = []
    for image, video in pairs:
        info = video_infos[video]
        reports.append(CheckReport(
            problems=tuple(input_problems[image] + input_problems[video] + prompt_problems),
            image=image_infos[image],
            video=info,
            billable_seconds=round(info.duration, 1) if info is not None else None,
        ))
    return BatchReport(tuple(pairs), tuple(reports), tuple(all_problems), image_infos, video_infos)


def _canonical(source: str) -> str:
    """The canonical form, or the text as typed when it cannot be made (``~nobody/a.png``:
    no such home folder); the checks then say what is wrong with it."""
    try:
        return canonical(source)
    except (OSError, RuntimeError, ValueError):
        return source


def job_specs(batch: BatchReport, options: JobOptions,
              origins: Mapping[str, Origin] | None = None) -> list[JobSpec]:
    """The jobs to queue for a batch that passed its checks. ``origins``: where the
    inputs that were trimmed or converted came from, by their canonical source."""
    if not batch.ok:
        raise ValueError("a batch with problems cannot be queued")
    batch_id = os.urandom(6).hex() if batch.job_count > 1 else None   # 12 hex digits
    origins = origins or {}
    return [
        JobSpec(
            image=image,
            video=video,
            options=options,
            billable_seconds=report.billable_seconds,
            batch_id=batch_id,
            image_origin=origins.get(image),
            video_origin=origins.get(video),
        )
        for (image, video), report in zip(batch.pairs, batch.reports, strict=True)
    ]


def rate_key(model: Model, mode: Mode) -> str:
    return f"{model}/{mode}"


def estimate_cost(batch: BatchReport, options: JobOptions,
                  rates: Mapping[str, float]) -> float | None:
    """Billable seconds of the accepted pairs x the user's own per-second rate; None when
    either is unknown."""
    rate = rates.get(rate_key(options.model, options.mode))
    seconds = batch.accepted_billable_seconds
    if rate is None or rate <= 0 or seconds is None:
        return None
    return round(seconds * rate, 4)
