"""What a user's "carry it on again" may do to a job: the retry rule, in one place.

Money: a job with a task id is never re-created; its task is polled again (and
its result fetched). Only an ``UNCERTAIN`` job is sent again, and only with the
user's explicit confirmation that the provider does not have it. A content-policy
refusal is not retried (the same inputs would be refused again), and a demo job
cannot be carried on outside the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kling_desktop.api import errors as api_errors
from kling_desktop.engine.following import CLEARED_ERROR, CLEARED_TASK
from kling_desktop.engine.jobs import FailureKind, Job, JobState
from kling_desktop.i18n import N_, _

__all__ = ["JobNotRetryableError", "RetryMove", "retry_move"]


class JobNotRetryableError(api_errors.KlingError):
    default_message = N_("This job cannot be sent again as it is.")
    default_fix = ""


@dataclass(frozen=True)
class RetryMove:
    """The state a retried job moves to (None: it stays where it is and is looked at
    now), the history line, and the fields written with it."""

    state: JobState | None
    message: str
    fields: dict[str, object] = field(default_factory=dict)


def retry_move(job: Job, *, in_demo: bool, confirm_possible_duplicate: bool) -> RetryMove:
    """The move a retry makes on ``job``. Raises :class:`JobNotRetryableError` (or a
    :class:`KlingError` for a demo job outside the demo) when none is allowed."""
    if job.demo and not in_demo:
        raise api_errors.KlingError(
            _("Job {job_id} was made in the demo; demo jobs cannot be carried on outside "
              "it.").format(job_id=job.id),
            fix=_("Start the demo again to make a new one."))
    if job.state is JobState.UNCERTAIN:
        if not confirm_possible_duplicate:
            raise JobNotRetryableError(
                _("The provider may already have accepted this job; sending it again could "
                  "charge you twice."),
                fix=_("Check your provider's dashboard first; then confirm to send it again."))
        return RetryMove(JobState.QUEUED, "sent again by the user, who checked",
                         {**CLEARED_TASK, **CLEARED_ERROR})
    if job.state is JobState.FAILED and job.error_kind is FailureKind.CONTENT_POLICY:
        raise JobNotRetryableError(
            _("The provider's content policy refused this picture or clip; the same inputs "
              "would be refused again."),
            fix=_("Choose another picture or motion clip and generate a new job."))
    if job.task_id:
        # Paid already: follow the same task to its result, never a new one.
        target = JobState.DOWNLOADING if job.completed_at else JobState.SUBMITTED
        if job.state.is_active and job.state is not target:
            target = job.state
        return RetryMove(target, "followed again by the user", {
            "result_url": None if target is JobState.DOWNLOADING else job.result_url,
            "next_poll_at": None, "download_attempts": 0, **CLEARED_ERROR})
    if job.state in (JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED):
        return RetryMove(JobState.QUEUED, "queued again by the user",
                         {**CLEARED_TASK, **CLEARED_ERROR})
    if job.state.is_active:
        return RetryMove(None, "looked at again by the user",
                         {"next_poll_at": None, **CLEARED_ERROR})
    # TRANSLATORS: {state} is the job's state in words, e.g. "completed".
    raise JobNotRetryableError(_("Job {job_id} is {state}.").format(
        job_id=job.id, state=job.state.label.lower()))
