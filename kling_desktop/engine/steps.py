"""One step of one job, and what each answer of the provider means for it.

The job service's scheduler decides WHEN a job moves (:mod:`kling_desktop.engine.service`);
this module decides WHAT one move does: send a job (uploads, then the create call),
poll its task, fetch and verify its result. Every store write is a compare-and-set
on the state the step expects to leave; a step returns the seconds until the job's
next step, or None when the job rests.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kling_desktop.api import errors as api_errors
from kling_desktop.api.exchange import GenerationRequest, Task
from kling_desktop.api.models import TaskStatus
from kling_desktop.engine.following import (
    BLOCKED_KINDS,
    BLOCKED_RECHECK,
    CLEARED_ERROR,
    SEND_BACKOFF,
    UPLOAD_REUSE_SECONDS,
    Followed,
    JobCallback,
    backoff,
    classify,
)
from kling_desktop.engine.jobs import (
    RESULT_LINK_LIFETIME,
    BlockedOn,
    FailureKind,
    Job,
    JobState,
)
from kling_desktop.engine.library import LibraryWriteError
from kling_desktop.engine.media import MediaError, probe_video
from kling_desktop.engine.ownership import JobLocks
from kling_desktop.engine.runner import Engine, provider_host
from kling_desktop.engine.store import JobNotFoundError
from kling_desktop.i18n import _, format_datetime
from kling_desktop.sources import is_link

if TYPE_CHECKING:
    from kling_desktop.api.client import KlingClient  # imported by the engine when needed

log = logging.getLogger(__name__)

NETWORK_BACKOFF = (30.0, 300.0)   # first and longest wait after the provider was unreachable
LINK_BACKOFF = (2.0, 300.0)       # first and longest wait before a fresh link is fetched
ODD_POLLS_BEFORE_TELLING = 3      # polls of an unusable answer before the user is told
MAX_RESULT_BYTES = 2 * 1024**3    # no 30 s video comes near this
PROGRESS_WRITE_INTERVAL = 1.0     # seconds between transfer-progress writes to SQLite
PROGRESS_EMIT_INTERVAL = 0.1      # seconds between transfer-progress reports

def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _day_and_time(epoch: float) -> str:
    return format_datetime(epoch)


class JobSteps:
    """The steps the scheduler runs on worker threads; one job's steps never overlap.

    ``report(job)``: a stored snapshot to pass on; ``emit(job)``: a progress-only snapshot;
    ``sending_stopped()``: no create may go out any more; ``send_gate``: held around the
    last look before a create call, so a stop and a create never interleave.
    """

    def __init__(self, engine: Engine, locks: JobLocks, *, report: JobCallback,
                 emit: JobCallback | None, sending_stopped: Callable[[], bool],
                 send_gate: threading.Lock) -> None:
        self.engine = engine
        self.store = engine.store
        self._locks = locks
        self._report = report
        self._emit = emit
        self._sending_stopped = sending_stopped
        self._send_gate = send_gate

    def get(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    def _client(self, followed: Followed) -> KlingClient | None:
        """The client of the job's own provider (with that provider's key), or None once
        the job is marked as waiting for a key (or for the provider's address to work)."""
        job = followed.job
        try:
            return self.engine.client_for(job)
        except api_errors.AuthenticationError as exc:
            self.block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                       message=self._needs_key(job))
        except api_errors.KlingError as exc:
            self.block(followed, BlockedOn.NETWORK, exc, BLOCKED_RECHECK)
        return None

    def send(self, followed: Followed) -> float | None:
        job = followed.job
        if self._sending_stopped() or followed.cancel.is_set():
            followed.job = self.cancelled(job, "stopped before it was sent")
            return None
        client = self._client(followed)
        if client is None:
            return BLOCKED_RECHECK
        if job.state is not JobState.UPLOADING:
            job = self.transition(job, JobState.UPLOADING, "uploading inputs",
                                   transfer_done=0, transfer_total=0)
            followed.job = job
        try:
            image_url, video_url = self._inputs(followed, client)
        except api_errors.CancelledError:
            followed.job = self.cancelled(followed.job, "stopped before it was sent")
            return None
        except api_errors.KlingError as exc:
            return self._send_refused(followed, exc, sent=False)
        request = GenerationRequest(image_url=image_url, video_url=video_url,
                                    options=job.spec.options)
        with self._send_gate:
            job = followed.job
            if self._sending_stopped() or followed.cancel.is_set():
                followed.job = self.cancelled(job, "stopped before it was sent")
                return None
            if not self._locks.holds(job.id):
                log.warning("job %s: lost its lock before sending; not sent", job.id)
                followed.held = False
                return None
            # Durable BEFORE sending: a kill from here on never re-creates blindly.
            job = self.transition(job, JobState.SUBMITTING, "sending the create call",
                                   create_calls=job.create_calls + 1)
            followed.job = job
        try:
            task = client.create_task(request, retry=False)
        except api_errors.SubmissionUncertainError as exc:
            followed.job = self.transition(
                followed.job, JobState.UNCERTAIN, "create call outcome unknown",
                error_kind=FailureKind.UNKNOWN, error_code=exc.code, error_message=exc.message,
                error_fix=exc.fix, blocked_on=None)
            return None
        except api_errors.KlingError as exc:
            return self._send_refused(followed, exc, sent=True)
        now = time.time()
        followed.job = self.transition(
            followed.job, JobState.SUBMITTED, f"task {task.id} created", task_id=task.id,
            submitted_at=now, provider_status=str(task.status), progress=task.progress,
            estimated_time=task.estimated_time, transfer_done=0, transfer_total=0,
            next_poll_at=now + self.engine.pacing().first_delay(task.estimated_time),
            **CLEARED_ERROR)
        if task.status.is_final:
            return self.apply_task(followed, task)
        return self.engine.pacing().first_delay(task.estimated_time)

    def _inputs(self, followed: Followed, client: KlingClient) -> tuple[str, str]:
        """The URLs the create call names: links as they are, files uploaded (or reused)."""
        job = followed.job
        fresh = job.uploaded_at is not None and time.time() - job.uploaded_at < UPLOAD_REUSE_SECONDS
        urls: list[str] = []
        uploaded = False
        for source, known in ((job.spec.image, job.image_url), (job.spec.video, job.video_url)):
            if is_link(source):
                urls.append(source)
            elif fresh and known:
                urls.append(known)
            else:
                result = client.upload_file(Path(source), progress=self.progress(followed),
                                            cancel=followed.cancel)
                urls.append(result.url)
                uploaded = True
        if uploaded:
            followed.job = self.store.update(job.id, expect=JobState.UPLOADING,
                                             image_url=urls[0], video_url=urls[1],
                                             uploaded_at=time.time(), transfer_done=0,
                                             transfer_total=0)
            self._report(followed.job)
        return urls[0], urls[1]

    def _send_refused(self, followed: Followed, exc: api_errors.KlingError, *,
                      sent: bool) -> float | None:
        """The create call (or an upload before it) did not create a task: nothing is owed."""
        job = followed.job
        expect = JobState.SUBMITTING if sent else JobState.UPLOADING
        attempts = max(1, job.create_calls)
        if isinstance(exc, api_errors.InsufficientBalanceError):
            return self._wait_to_send(followed, expect, BlockedOn.BALANCE, exc, BLOCKED_RECHECK)
        if isinstance(exc, api_errors.AuthenticationError):
            blocked = (BlockedOn.PERMISSION if exc.status == 403 else BlockedOn.KEY)
            return self._wait_to_send(followed, expect, blocked, exc, BLOCKED_RECHECK,
                                      message=None if blocked is BlockedOn.PERMISSION
                                      else self._key_refused(job))
        if isinstance(exc, api_errors.RateLimitedError | api_errors.ServiceUnavailableError):
            delay = backoff(attempts, SEND_BACKOFF, getattr(exc, "retry_after", None))
            reason = (_("rate limit") if isinstance(exc, api_errors.RateLimitedError)
                      else _("no free channel"))
            return self._wait_to_send(
                followed, expect, None, exc, delay,
                # TRANSLATORS: {reason} is "rate limit" or "no free channel"; {time} a clock time.
                message=_("The provider said no ({reason}); nothing was created. Next try at "
                          "{time}.").format(reason=reason, time=_clock(time.time() + delay)),
                fix="")
        if isinstance(exc, api_errors.NetworkError) and not isinstance(
                exc, api_errors.IncompleteDownloadError):
            delay = backoff(attempts, NETWORK_BACKOFF)
            return self._wait_to_send(followed, expect, BlockedOn.NETWORK, exc, delay)
        kind = FailureKind.UPLOAD_REFUSED if isinstance(exc, api_errors.UploadRefusedError) \
            else classify(exc)
        followed.job = self.transition(
            job, JobState.FAILED, type(exc).__name__, error_kind=kind, error_code=exc.code,
            error_message=exc.message, error_fix=exc.fix, blocked_on=None)
        return None

    def _wait_to_send(self, followed: Followed, expect: JobState, blocked: BlockedOn | None,
                      exc: api_errors.KlingError, delay: float, *, message: str | None = None,
                      fix: str | None = None) -> float:
        """SEND_WAIT, written before any sleeping: a kill now simply sends again later."""
        followed.job = self.store.transition(
            followed.job.id, JobState.SEND_WAIT, expect=expect,
            message=f"not created: {type(exc).__name__}", blocked_on=blocked,
            next_poll_at=time.time() + delay, error_code=exc.code, error_kind=classify(exc),
            error_message=message or exc.message, error_fix=exc.fix if fix is None else fix)
        self._report(followed.job)
        return delay

    def poll(self, followed: Followed) -> float | None:
        job = followed.job
        assert job.task_id is not None
        client = self._client(followed)
        if client is None:
            return BLOCKED_RECHECK
        stuck = (job.estimated_time is not None and job.submitted_at is not None
                 and time.time() - job.submitted_at > 4 * max(job.estimated_time, 60.0)
                 and followed.odd_polls % 10 == 0)
        try:
            task = client.get_task(job.task_id, cancel=followed.cancel, sync_upstream=stuck)
        except api_errors.CancelledError:
            return 0.0
        except api_errors.InsufficientBalanceError as exc:
            return self.block(followed, BlockedOn.BALANCE, exc, BLOCKED_RECHECK)
        except api_errors.AuthenticationError as exc:
            if exc.status == 403:
                return self.block(followed, BlockedOn.PERMISSION, exc, BLOCKED_RECHECK)
            return self.block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                               message=self._key_refused(job))
        except (api_errors.NotFoundError, api_errors.InvalidRequestError,
                api_errors.MalformedResponseError) as exc:
            followed.odd_polls += 1
            return self.block(
                followed, BlockedOn.PROVIDER, exc, min(BLOCKED_RECHECK, 30.0 * followed.odd_polls),
                message=_("The provider did not give a usable answer about task {task_id}: "
                          "{reason}").format(task_id=job.task_id, reason=exc.message),
                fix=_("The task is paid for and is followed on its own; if this stays, contact "
                      "the provider with the task id."))
        except api_errors.KlingError as exc:
            followed.odd_polls += 1
            return self.block(followed, BlockedOn.NETWORK, exc,
                               backoff(followed.odd_polls, NETWORK_BACKOFF))
        return self.apply_task(followed, task)

    def apply_task(self, followed: Followed, task: Task) -> float | None:
        job = followed.job
        now = time.time()
        usage = json.dumps(task.usage, ensure_ascii=False, sort_keys=True) \
            if getattr(task, "usage", None) else job.provider_usage
        if task.status is TaskStatus.COMPLETED and task.result_url:
            followed.odd_polls = 0
            completed = job.completed_at or now
            followed.job = self.transition(
                job, JobState.DOWNLOADING, "provider finished", progress=100,
                provider_status=str(task.status), result_url=task.result_url,
                completed_at=completed, result_expires_at=completed + RESULT_LINK_LIFETIME,
                model_used=task.model or job.model_used, provider_usage=usage,
                next_poll_at=None, **CLEARED_ERROR)
            return 0.0
        if task.status is TaskStatus.FAILED:
            error = task.error
            message = error.message if error else _(
                "Task {task_id} failed at the provider.").format(task_id=task.id)
            if error is not None and error.is_content_policy:
                kind = FailureKind.CONTENT_POLICY
                fix = _("The provider's content rules refused this picture or clip. Choose "
                        "another picture or motion clip; this job will not be sent again.")
            else:
                kind = FailureKind.PROVIDER
                fix = _("Several providers refund failed tasks. Try again with a new job, or "
                        "another clip; the task id helps the provider.")
            followed.job = self.transition(
                job, JobState.FAILED, "task failed", provider_status=str(task.status),
                progress=task.progress, error_kind=kind, error_code=error.code if error else None,
                error_message=message, error_fix=fix, blocked_on=None, provider_usage=usage)
            return None
        if task.status is TaskStatus.CANCELLED:
            followed.job = self.transition(
                job, JobState.CANCELLED, "cancelled at the provider",
                provider_status=str(task.status),
                error_message=_("The provider cancelled this task."), error_fix="",
                blocked_on=None)
            return None
        pacing = self.engine.pacing()
        if task.status is TaskStatus.COMPLETED or task.status not in (
                TaskStatus.PENDING, TaskStatus.PROCESSING):
            followed.odd_polls += 1
            said = getattr(task, "raw_status", None) or str(task.status)
            delay = pacing.next_delay(pacing.min_interval * followed.odd_polls,
                                      progressed=False, remaining=None)
            if followed.odd_polls >= ODD_POLLS_BEFORE_TELLING:
                if task.status is TaskStatus.COMPLETED:
                    message = _("The provider finished task {task_id} but sent no video "
                                "link.").format(task_id=task.id)
                else:
                    # TRANSLATORS: {status} is the provider's own word for the task's status.
                    message = _("The provider reports the status “{status}” for task {task_id}, "
                                "which this app does not know.").format(status=said,
                                                                        task_id=task.id)
                return self.block(
                    followed, BlockedOn.PROVIDER, None, delay, message=message,
                    fix=_("The task is paid for and is still followed; if this stays, contact "
                          "the provider with the task id."))
            return delay
        followed.odd_polls = 0
        previous_gap = max(pacing.min_interval, now - (job.updated_at or now))
        remaining = None
        if task.estimated_time is not None and job.submitted_at is not None:
            remaining = max(0.0, job.submitted_at + task.estimated_time - now)
        delay = pacing.next_delay(previous_gap, progressed=task.progress != job.progress,
                                  remaining=remaining)
        followed.job = self.store.update(
            job.id, expect=(JobState.SUBMITTED, JobState.DOWNLOADING),
            provider_status=str(task.status), progress=task.progress,
            estimated_time=task.estimated_time, next_poll_at=now + delay,
            provider_usage=usage, **CLEARED_ERROR)
        self._report(followed.job)
        return delay

    def download(self, followed: Followed) -> float | None:
        job = followed.job
        url = job.result_url
        if url is None:
            return self.poll(followed)   # a fresh link first
        now = time.time()
        if job.result_expires_at is not None and now > job.result_expires_at:
            made = job.completed_at or job.result_expires_at - RESULT_LINK_LIFETIME
            followed.job = self.transition(
                job, JobState.EXPIRED, "result link expired",
                error_message=_("The video was made on {date}; its link expired 24 hours "
                                "later, before it could be saved, and it can no longer be "
                                "fetched.").format(date=_day_and_time(made)),
                error_fix=_("Keep the app (or `kling-desktop wait`) running until jobs are "
                            "saved; this video has to be generated again."), blocked_on=None)
            return None
        library = self.engine.library
        if job.output_path:
            target = Path(job.output_path)
        else:   # recorded before it is claimed on disk: a kill in between leaves no stray file
            def record(path: Path) -> None:
                followed.job = self.store.update(job.id, expect=JobState.DOWNLOADING,
                                                 output_path=str(path))

            target = library.claim_target(job, record, claimed=lambda path: (
                self.store.output_path_claimed(str(path), other_than=job.id)))
            job = followed.job
        client = self._client(followed)
        if client is None:
            return BLOCKED_RECHECK
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download(url, target, progress=self.progress(followed),
                            cancel=followed.cancel, max_bytes=MAX_RESULT_BYTES)
        except api_errors.CancelledError:
            return 0.0
        except OSError as exc:
            error = LibraryWriteError.from_os_error(exc, target)
            return self.block(followed, BlockedOn.DISK, error, 60.0)
        except (api_errors.LocalFileError, LibraryWriteError) as exc:
            return self.block(followed, BlockedOn.DISK, exc, 60.0)
        except api_errors.ResultTooLargeError as exc:
            followed.job = self.transition(
                job, JobState.FAILED, "result refused: too large", error_kind=FailureKind.PROVIDER,
                error_code=exc.code, error_message=exc.message,
                error_fix=_("Nothing was saved. Retry follows the same task again (it is not "
                            "sent again); contact the provider if it keeps happening."),
                blocked_on=None)
            return None
        except api_errors.KlingError as exc:
            if isinstance(exc, api_errors.NetworkError) and not isinstance(
                    exc, api_errors.IncompleteDownloadError):
                return self._fresh_link(followed, exc, BlockedOn.NETWORK)
            return self._fresh_link(followed, exc, BlockedOn.LINK)
        try:
            info = probe_video(target)
            if not info.duration or info.duration <= 0:
                raise MediaError(_("{name} has no length.").format(name=target.name), "",
                                 kind="corrupt")
        except MediaError as exc:
            log.warning("job %s: the download is not a video (%s); fetching a fresh link",
                        job.id, exc.message)
            target.unlink(missing_ok=True)
            refused = api_errors.MalformedResponseError(
                _("What the provider sent for task {task_id} is not a video ({reason}); a "
                  "fresh link is being fetched.").format(task_id=job.task_id,
                                                         reason=exc.message))
            return self._fresh_link(followed, refused, BlockedOn.LINK)
        job = replace(followed.job, result_duration=round(info.duration, 3))
        try:
            entry = library.add_result(job, target, copy_inputs=self.engine.settings.keep_inputs)
        except LibraryWriteError as exc:
            return self.block(followed, BlockedOn.DISK, exc, 60.0)
        followed.job = self.transition(
            job, JobState.COMPLETED, "saved to the library", output_path=str(entry.video_path),
            result_duration=job.result_duration, transfer_done=0, transfer_total=0,
            **CLEARED_ERROR)
        return None

    def _fresh_link(self, followed: Followed, exc: api_errors.KlingError,
                    blocked: BlockedOn) -> float:
        """The download failed: ask the provider for the task again (a fresh link), later."""
        job = followed.job
        attempts = job.download_attempts + 1
        delay = backoff(attempts, LINK_BACKOFF if blocked is BlockedOn.LINK else NETWORK_BACKOFF)
        followed.job = self.store.update(
            job.id, expect=JobState.DOWNLOADING, result_url=None, download_attempts=attempts,
            blocked_on=blocked, next_poll_at=time.time() + delay, error_code=exc.code,
            error_message=_("The download failed: {reason}").format(reason=exc.message),
            error_fix=_("A fresh link is asked for at {time}; the video is paid for and kept "
                        "waiting until its link expires.").format(
                            time=_clock(time.time() + delay)),
            transfer_done=0, transfer_total=0)
        self._report(followed.job)
        return delay

    # ------------------------------------------------------------------ bookkeeping

    def block(self, followed: Followed, blocked: BlockedOn,
               exc: api_errors.KlingError | None, delay: float, *, message: str | None = None,
               fix: str | None = None) -> float:
        """An active job waits for something outside (a key, a balance, the network)."""
        job = followed.job
        followed.job = self.store.update(
            job.id, expect=job.state, blocked_on=blocked, next_poll_at=time.time() + delay,
            error_code=exc.code if exc else None, error_kind=BLOCKED_KINDS.get(blocked),
            error_message=message or (exc.message if exc else None),
            error_fix=fix if fix is not None else (exc.fix if exc else None))
        self._report(followed.job)
        return delay

    def _needs_key(self, job: Job) -> str:
        return _("This job needs the API key for {provider}.").format(
            provider=provider_host(job.base_url))

    def _key_refused(self, job: Job) -> str:
        return _("The provider {provider} refused the key. The job waits and continues once "
                 "a working key for it is saved.").format(provider=provider_host(job.base_url))

    def transition(self, job: Job, state: JobState, message: str, **fields: object) -> Job:
        updated = self.store.transition(job.id, state, expect=job.state, message=message,
                                        **fields)
        self._report(updated)
        return updated

    def cancelled(self, job: Job, message: str = "cancelled by the user") -> Job:
        fix = _("The provider may still finish and bill it.") if job.task_id else ""
        return self.transition(job, JobState.CANCELLED, message, error_message=_("Cancelled."),
                                error_fix=fix, blocked_on=None, transfer_done=0,
                                transfer_total=0)

    def progress(self, followed: Followed) -> Callable[[int, int], None]:
        job_id = followed.job.id
        marks = [0.0, 0.0]   # last write, last report

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - marks[0] >= PROGRESS_WRITE_INTERVAL or (total and done >= total):
                marks[0] = now
                followed.job = self.store.update(job_id, transfer_done=done, transfer_total=total)
                self._report(followed.job)
            elif now - marks[1] >= PROGRESS_EMIT_INTERVAL:
                marks[1] = now
                followed.job = replace(followed.job, transfer_done=done, transfer_total=total)
                if self._emit is not None:
                    self._emit(followed.job)

        return progress
