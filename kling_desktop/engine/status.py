"""A job's status in words: the one wording the window and the command line share."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from kling_desktop.api.models import TaskStatus
from kling_desktop.engine.jobs import BlockedOn, Job, JobState
from kling_desktop.i18n import N_, _

__all__ = ["Status", "describe", "message_and_fix", "percent", "provider_reports",
           "remaining_text"]


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
        return _("taking longer than estimated")
    if left > 90:
        return _("about {minutes} min left").format(minutes=math.ceil(left / 60))
    seconds = math.ceil(left)
    if seconds > 10:
        seconds = 5 * math.ceil(seconds / 5)
    return _("about {seconds} s left").format(seconds=seconds)


_BLOCKED_HEADLINES = {
    BlockedOn.KEY: N_("Needs the API key"),
    BlockedOn.BALANCE: N_("Needs credit at the provider"),
    BlockedOn.PERMISSION: N_("Not allowed by the provider"),
    BlockedOn.PROVIDER: N_("Waiting for the provider"),
    BlockedOn.NETWORK: N_("Offline"),
    BlockedOn.LINK: N_("Fetching a fresh link"),
    BlockedOn.DISK: N_("Cannot save"),
}


def message_and_fix(message: str | None, fix: str | None) -> str:
    """What went wrong followed by what to do, joined as the user's language joins two
    sentences (a space in English, none in Chinese)."""
    if message and fix:
        # TRANSLATORS: two whole sentences, what went wrong then what to do; Chinese joins
        # them without a space.
        return _("{message} {fix}").format(message=message, fix=fix)
    return message or fix or ""


def describe(job: Job, *, note: str = "", now: float | None = None) -> Status:
    """The status of ``job``; ``note`` is what the job service says beyond the store
    ("waiting for a free slot (3rd in line)", "being followed by the window")."""
    now = time.time() if now is None else now
    s = job.state
    if s.is_active and job.blocked_on is not None:
        head = _(_BLOCKED_HEADLINES.get(job.blocked_on, N_("Waiting")))
        if job.next_poll_at and job.next_poll_at > now and job.blocked_on in (
                BlockedOn.NETWORK, BlockedOn.LINK, BlockedOn.PROVIDER):
            head = _("{status} — next try in {duration}").format(
                status=head, duration=_duration(job.next_poll_at - now))
        return Status(head, message_and_fix(job.error_message, job.error_fix), None)
    if note and s in (JobState.QUEUED, JobState.SEND_WAIT, JobState.SUBMITTED,
                      JobState.DOWNLOADING, JobState.UPLOADING):
        return Status(note[:1].upper() + note[1:], _task_line(job), None)
    if s is JobState.QUEUED:
        return Status(_("Waiting"), _("Starts when a slot is free."), None)
    if s is JobState.UPLOADING:
        pct = percent(job.transfer_done, job.transfer_total)
        return Status(_("Uploading") if pct is None else
                      _("Uploading {percent} %").format(percent=pct), "", pct)
    if s is JobState.SUBMITTING:
        return Status(_("Sending to the provider"), "", None)
    if s is JobState.SEND_WAIT:
        head = _("Waiting to send")
        if job.next_poll_at and job.next_poll_at > now:
            head = _("{status} — next try in {duration}").format(
                status=head, duration=_duration(job.next_poll_at - now))
        return Status(head, job.error_message or "", None)
    if s is JobState.SUBMITTED:
        if job.provider_status in (None, str(TaskStatus.PENDING)) and job.progress <= 0:
            return Status(_("Queued at the provider"), _task_line(job), 0)
        text = _("Generating {percent} %").format(percent=job.progress)
        left = remaining_text(job, now)
        if left:
            # TRANSLATORS: "Generating 40 %" · "about 40 s left"
            text = _("{progress} · {remaining}").format(progress=text, remaining=left)
        return Status(text, _task_line(job), job.progress)
    if s is JobState.DOWNLOADING:
        pct = percent(job.transfer_done, job.transfer_total)
        return Status(_("Downloading") if pct is None else
                      _("Downloading {percent} %").format(percent=pct), "", pct)
    if s is JobState.COMPLETED:
        length = job.result_duration or job.spec.billable_seconds
        head = (_("Saved · {seconds} s video").format(seconds=f"{length:g}") if length
                else _("Saved"))
        return Status(head, job.output_path or "", None)
    if s in (JobState.FAILED, JobState.EXPIRED):
        head = (_("{status} — {message}").format(status=s.label, message=job.error_message)
                if job.error_message else s.label)
        return Status(head, job.error_fix or "", None)
    if s is JobState.UNCERTAIN:
        return Status(s.label, message_and_fix(job.error_message, job.error_fix), None)
    return Status(s.label, job.error_fix or "", None)


def _task_line(job: Job) -> str:
    return _("Task {task_id}").format(task_id=job.task_id) if job.task_id else ""


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 90:
        return _("{minutes} min").format(minutes=math.ceil(seconds / 60))
    return _("{seconds} s").format(seconds=seconds)


def provider_reports(job: Job) -> list[str]:
    """What the provider says about the result that the user did not choose: the model it
    actually used, a video shorter than the clip, what it reserved or charged."""
    lines: list[str] = []
    asked = job.spec.options.model.value
    if job.model_used and job.model_used != asked:
        lines.append(_("The provider says it used {used}, not {asked} as asked.").format(
            used=job.model_used, asked=asked))
    clip = job.spec.billable_seconds
    if job.result_duration and clip and job.result_duration < clip - 0.5:
        lines.append(_("The video is {seconds} s long; the clip was {clip} s (the model may "
                       "keep only part of a hard motion).").format(
            seconds=f"{job.result_duration:g}", clip=f"{clip:g}"))
    if job.provider_usage:
        try:
            usage = json.loads(job.provider_usage)
        except ValueError:
            usage = None
        if isinstance(usage, dict) and usage:
            # The provider's own words (keys and values), as it sent them.
            said = ", ".join(f"{key} {value}" for key, value in sorted(usage.items()))
            lines.append(_("The provider reports: {usage}.").format(usage=said))
    return lines
