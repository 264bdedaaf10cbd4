"""A job's status in words: the one wording the window and the command line share."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from kling_desktop.api.models import TaskStatus
from kling_desktop.engine.jobs import BlockedOn, Job, JobState

__all__ = ["Status", "describe", "percent", "provider_reports", "remaining_text"]


@dataclass(frozen=True)
class Status:
    """``headline``: a few words ("Generating 40 % · about 40 s left"); ``detail``: the
    small print (what to do, where the video is); ``percent``: 0..100 or None."""

    headline: str
    detail: str
    percent: int | None


def percent(done: int, total: int) -> int | None:
    """``done`` of ``total`` as 0..100 (None when the total is unknown)."""
    if total <= 0:
        return None
    return max(0, min(100, math.floor(100 * done / total)))


def remaining_text(job: Job, now: float | None = None) -> str:
    """The provider's estimate, e.g. "about 40 s left"; "" when it gave none."""
    if job.estimated_time is None or job.submitted_at is None:
        return ""
    now = time.time() if now is None else now
    left = job.submitted_at + job.estimated_time - now
    if left < 1:
        return "taking longer than estimated"
    if left > 90:
        return f"about {math.ceil(left / 60)} min left"
    seconds = math.ceil(left)
    if seconds > 10:
        seconds = 5 * math.ceil(seconds / 5)
    return f"about {seconds} s left"


_BLOCKED_HEADLINES = {
    BlockedOn.KEY: "Needs the API key",
    BlockedOn.BALANCE: "Needs credit at the provider",
    BlockedOn.PERMISSION: "Not allowed by the provider",
    BlockedOn.PROVIDER: "Waiting for the provider",
    BlockedOn.NETWORK: "Offline",
    BlockedOn.LINK: "Fetching a fresh link",
    BlockedOn.DISK: "Cannot save",
}


def describe(job: Job, *, note: str = "", now: float | None = None) -> Status:
    """The status of ``job``; ``note`` is what the job service says beyond the store
    ("waiting for a free slot (3rd in line)", "being followed by the window")."""
    now = time.time() if now is None else now
    s = job.state
    if s.is_active and job.blocked_on is not None:
        head = _BLOCKED_HEADLINES.get(job.blocked_on, "Waiting")
        if job.next_poll_at and job.next_poll_at > now and job.blocked_on in (
                BlockedOn.NETWORK, BlockedOn.LINK, BlockedOn.PROVIDER):
            head += f" — next try in {_duration(job.next_poll_at - now)}"
        detail = " ".join(t for t in (job.error_message, job.error_fix) if t)
        return Status(head, detail, None)
    if note and s in (JobState.QUEUED, JobState.SEND_WAIT, JobState.SUBMITTED,
                      JobState.DOWNLOADING, JobState.UPLOADING):
        return Status(note[:1].upper() + note[1:], _task_line(job), None)
    if s is JobState.QUEUED:
        return Status("Waiting", "Starts when a slot is free.", None)
    if s is JobState.UPLOADING:
        pct = percent(job.transfer_done, job.transfer_total)
        return Status("Uploading" if pct is None else f"Uploading {pct} %", "", pct)
    if s is JobState.SUBMITTING:
        return Status("Sending to the provider", "", None)
    if s is JobState.SEND_WAIT:
        when = ""
        if job.next_poll_at and job.next_poll_at > now:
            when = f" — next try in {_duration(job.next_poll_at - now)}"
        return Status(f"Waiting to send{when}", job.error_message or "", None)
    if s is JobState.SUBMITTED:
        if job.provider_status in (None, str(TaskStatus.PENDING)) and job.progress <= 0:
            return Status("Queued at the provider", _task_line(job), 0)
        text = f"Generating {job.progress} %"
        left = remaining_text(job, now)
        return Status(f"{text} · {left}" if left else text, _task_line(job), job.progress)
    if s is JobState.DOWNLOADING:
        pct = percent(job.transfer_done, job.transfer_total)
        return Status("Downloading" if pct is None else f"Downloading {pct} %", "", pct)
    if s is JobState.COMPLETED:
        length = job.result_duration or job.spec.billable_seconds
        head = f"Saved · {length:g} s video" if length else "Saved"
        return Status(head, job.output_path or "", None)
    if s in (JobState.FAILED, JobState.EXPIRED):
        head = f"{s.label} — {job.error_message}" if job.error_message else s.label
        return Status(head, job.error_fix or "", None)
    if s is JobState.UNCERTAIN:
        return Status(s.label, " ".join(t for t in (job.error_message, job.error_fix) if t),
                      None)
    return Status(s.label, job.error_fix or "", None)


def _task_line(job: Job) -> str:
    return f"Task {job.task_id}" if job.task_id else ""


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 90:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds} s"


def provider_reports(job: Job) -> list[str]:
    """What the provider says about the result that the user did not choose: the model it
    actually used, a video shorter than the clip, what it reserved or charged."""
    lines: list[str] = []
    asked = job.spec.options.model.value
    if job.model_used and job.model_used != asked:
        lines.append(f"The provider says it used {job.model_used}, not {asked} as asked.")
    clip = job.spec.billable_seconds
    if job.result_duration and clip and job.result_duration < clip - 0.5:
        lines.append(f"The video is {job.result_duration:g} s long; the clip was {clip:g} s "
                     "(the model may keep only part of a hard motion).")
    if job.provider_usage:
        try:
            usage = json.loads(job.provider_usage)
        except ValueError:
            usage = None
        if isinstance(usage, dict) and usage:
            said = ", ".join(f"{key} {value}" for key, value in sorted(usage.items()))
            lines.append(f"The provider reports: {said}.")
    return lines
