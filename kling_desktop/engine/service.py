"""The job service: the one place that decides what may be sent, retried and resumed.

The window and the command line are two faces of this service: they ask it to
plan, submit, follow, retry and cancel, and only render what it reports.

Ownership. A job is followed by at most one process: the holder of its
operating-system lock (:mod:`ownership`), which dies with its process. Every
state change is a compare-and-set on the state it expects to leave, and the
lock is checked again right before a create call is sent.

Money. A create call is sent only from ``UPLOADING`` after ``SUBMITTING`` was
written durably. Only an answer that never came makes a job ``UNCERTAIN``; a
definite refusal (rate limit, no free channel, not reached) becomes
``SEND_WAIT`` with its next try *before* any sleeping, so a kill during the
back-off simply sends again later. A job with a task id is never re-created by
anything automatic: problems while polling or downloading leave it followable
(``blocked_on`` says what the user must fix), and ``retry`` polls that task again.

One scheduler. A single loop (one thread of the face's executor) follows every
job: it paces polls by the provider's estimate, keeps at most
``settings.max_concurrent_jobs`` ("tasks at the provider at once") tasks
at the provider (the rest wait in line locally), and hands each network step
to the same executor, with at most ``transfers`` uploads/downloads and
``api_calls`` polls/creates at once.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Protocol

from kling_desktop.api import errors as api_errors
from kling_desktop.api.client import KlingClient
from kling_desktop.api.models import GenerationOptions, GenerationRequest, Task, TaskStatus
from kling_desktop.engine.batch import BatchReport, check_batch, job_specs
from kling_desktop.engine.checks import Problem
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
from kling_desktop.engine.runner import DEMO_BASE_URL, Engine, NoApiKeyError, provider_host
from kling_desktop.engine.store import JobConflictError, JobNotFoundError
from kling_desktop.sources import is_link

__all__ = [
    "Executor",
    "JobService",
    "Note",
    "Plan",
    "PlanRefusedError",
    "classify",
]

log = logging.getLogger(__name__)

UPLOAD_REUSE_SECONDS = 3600.0     # an upload URL is reused by a later send try this long
BLOCKED_RECHECK = 300.0           # a job blocked on a key/balance/permission is looked at again
HELD_RECHECK = 1.0                # a job another process holds is tried again this often
NETWORK_BACKOFF = (30.0, 300.0)   # first and longest wait after the provider was unreachable
LINK_BACKOFF = (2.0, 300.0)       # first and longest wait before a fresh link is fetched
SEND_BACKOFF = (2.0, 300.0)       # after a definite "not now" to a create call
ODD_POLLS_BEFORE_TELLING = 3      # polls of an unusable answer before the user is told
MAX_RESULT_BYTES = 2 * 1024**3    # no 30 s video comes near this
PROGRESS_WRITE_INTERVAL = 1.0     # seconds between transfer-progress writes to SQLite
PROGRESS_EMIT_INTERVAL = 0.1      # seconds between transfer-progress reports

JobCallback = Callable[[Job], None]


class Executor(Protocol):
    """Runs a function on a worker thread (a ThreadPoolExecutor, or the window's pool)."""

    def submit(self, fn: Callable[[], None], /) -> object: ...


class PlanRefusedError(api_errors.KlingError):
    """The plan has problems; nothing was recorded or sent. ``causes``: the errors behind
    the problems that are not about the inputs (no key, library not writable)."""

    default_message = "Nothing was sent: the inputs need attention."

    def __init__(self, problems: Sequence[Problem],
                 causes: Sequence[api_errors.KlingError] = ()) -> None:
        first = problems[0] if problems else None
        super().__init__(first.message if first else None, fix=first.fix if first else None)
        self.problems = tuple(problems)
        self.causes = tuple(causes)


@dataclass(frozen=True)
class Plan:
    """Every check made before money is spent: the inputs, the key, the library folder."""

    batch: BatchReport
    options: GenerationOptions
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.batch.ok and not self.problems


@dataclass(frozen=True)
class Note:
    """What the service knows about a job that is not stored: its place in line, its holder."""

    job_id: int
    kind: str           # "in_line" | "held" | "" (nothing to say any more)
    text: str
    position: int = 0


class _Step(Enum):
    SEND = "send"
    POLL = "poll"
    DOWNLOAD = "download"


@dataclass(eq=False)
class _Followed:
    """A job this service follows."""

    job: Job
    until_submitted: bool = False
    due: float = 0.0                  # time.monotonic() of its next step
    busy: bool = False
    held: bool = False                # this process holds its lock
    cancel: threading.Event = field(default_factory=threading.Event)
    user_cancelled: bool = False
    odd_polls: int = 0
    note: Note | None = None
    transfer: bool = False            # the running step holds a transfer place


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


def _backoff(attempt: int, bounds: tuple[float, float], retry_after: float | None = None) -> float:
    first, longest = bounds
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        return min(retry_after, longest)
    delay = first * 2.0 ** max(0, min(attempt - 1, 16))
    return min(longest, delay * random.uniform(0.85, 1.0))


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _day_and_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


class JobService:
    """Follows jobs for one face. Thread-safe; reports arrive on worker threads."""

    def __init__(
        self,
        engine: Engine,
        *,
        holder: str,
        executor: Executor | None = None,
        on_update: JobCallback | None = None,
        on_note: Callable[[Note], None] | None = None,
        on_rest: JobCallback | None = None,
        give_up_on: Iterable[BlockedOn] = (),
        transfers: int = 3,
        api_calls: int = 4,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.holder = f"{holder} (pid {os.getpid()})"
        self._locks = JobLocks(engine.paths.data_dir / "locks")
        self._own_executor: ThreadPoolExecutor | None = None
        if executor is None:
            self._own_executor = ThreadPoolExecutor(
                max_workers=1 + transfers + api_calls, thread_name_prefix="kling-jobs")
            executor = self._own_executor
        self._executor = executor
        self._on_update = on_update
        self._on_note = on_note
        self._on_rest = on_rest
        self._give_up_on = frozenset(give_up_on)
        self._max_transfers = max(1, transfers)
        self._max_api = max(1, api_calls)
        self._cond = threading.Condition()
        self._followed: dict[int, _Followed] = {}
        self._busy_transfers = 0
        self._busy_api = 0
        self._running = False
        self._closed = False
        self._loop_done = threading.Event()
        self._loop_done.set()
        self._no_new_sends = False
        self._send_gate = threading.Lock()   # a cancel and a create never interleave
        self._progress_marks: dict[int, tuple[float, float]] = {}

    # ------------------------------------------------------------------ planning

    def plan(self, images: Sequence[str], videos: Sequence[str],
             options: GenerationOptions) -> Plan:
        """Check everything before money is spent; nothing is recorded or sent."""
        batch = check_batch(images, videos, options)
        return Plan(batch, options, tuple(batch.problems) + tuple(self._preflight()[0]))

    def preflight(self) -> list[Problem]:
        """The checks that do not depend on the inputs: the key, the library folder."""
        return self._preflight()[0]

    def _preflight(self) -> tuple[list[Problem], list[api_errors.KlingError]]:
        problems: list[Problem] = []
        causes: list[api_errors.KlingError] = []
        try:
            self.engine.require_key()
        except NoApiKeyError as exc:
            problems.append(Problem("options", exc.message, exc.fix, action="open_settings"))
            causes.append(exc)
        try:
            self.engine.check_library_writable()
        except LibraryWriteError as exc:
            problems.append(Problem("options", exc.message, exc.fix, action="open_settings"))
            causes.append(exc)
        return problems, causes

    def submit(self, batch: BatchReport, options: GenerationOptions, *,
               until_submitted: bool = False) -> list[Job]:
        """Record one job per pair and follow them. Raises :class:`PlanRefusedError`."""
        found, causes = self._preflight()
        problems = list(batch.problems) + found
        if problems or not batch.ok:
            raise PlanRefusedError(problems, causes)
        base_url = DEMO_BASE_URL if self.engine.demo else self.engine.base_url
        jobs = [self.store.add_job(spec, base_url=base_url, demo=self.engine.demo)
                for spec in job_specs(batch, options)]
        self.engine.remember_session_jobs(job.id for job in jobs)
        for job in jobs:
            self._report(job)
        self.follow(jobs, until_submitted=until_submitted)
        return jobs

    # ------------------------------------------------------------------ following

    def start(self) -> None:
        """Start the scheduler loop on the executor (once)."""
        with self._cond:
            if self._running or self._closed:
                return
            self._running = True
            self._loop_done.clear()
        self._executor.submit(self._loop)

    def follow(self, jobs: Iterable[Job], *, until_submitted: bool = False) -> None:
        """Carry these jobs on (active ones; others are ignored)."""
        with self._cond:
            for job in jobs:
                if not job.state.is_active or self._closed:
                    continue
                current = self._followed.get(job.id)
                if current is not None:
                    current.until_submitted = current.until_submitted and until_submitted
                    continue
                self._followed[job.id] = _Followed(job, until_submitted=until_submitted,
                                                   due=_not_before(job))
            self._cond.notify_all()
        self.start()

    def follow_unfinished(self) -> list[Job]:
        """Follow every unfinished job this session may carry; returns them."""
        self.engine.abandon_stale_demo_jobs()
        jobs = self.engine.resumable_jobs()
        self.follow(jobs)
        return jobs

    def following(self) -> list[int]:
        with self._cond:
            return sorted(self._followed)

    def is_following(self, job_id: int) -> bool:
        with self._cond:
            return job_id in self._followed

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is followed any more (True) or ``timeout`` passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._followed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(0.5 if remaining is None else min(0.5, remaining))
            return True

    def poke(self, job_id: int | None = None) -> None:
        """Look at a job (or every blocked job: a key was saved, a balance topped up) now."""
        with self._cond:
            for followed in self._followed.values():
                if job_id is None or followed.job.id == job_id:
                    followed.due = 0.0
            self._cond.notify_all()

    # ------------------------------------------------------------------ user decisions

    def retry(self, job_id: int, *, confirm_possible_duplicate: bool = False) -> Job:
        """Carry a job on again, by the user's decision.

        A job with a task id is never re-created: its task is polled again (and its
        result fetched). Only an UNCERTAIN job is sent again, and only with the
        user's explicit confirmation that the provider does not have it.
        """
        job = self.get(job_id)
        if job.demo and not self.engine.demo:
            raise api_errors.KlingError(
                f"Job {job.id} was made in the demo; demo jobs cannot be carried on outside it.",
                fix="Start the demo again to make a new one.")
        if job.state is JobState.UNCERTAIN:
            if not confirm_possible_duplicate:
                raise JobNotRetryableError(
                    "The provider may already have accepted this job; sending it again could "
                    "charge you twice.",
                    fix="Check your provider's dashboard first; then confirm to send it again.")
            job = self._transition(job, JobState.QUEUED, "sent again by the user, who checked",
                                   **_CLEARED_TASK, **_CLEARED_ERROR)
        elif job.state is JobState.FAILED and job.error_kind is FailureKind.CONTENT_POLICY:
            raise JobNotRetryableError(
                "The provider's content policy refused this picture or clip; the same inputs "
                "would be refused again.",
                fix="Choose another picture or motion clip and generate a new job.")
        elif job.task_id:
            # Paid already: follow the same task to its result, never a new one.
            target = JobState.DOWNLOADING if job.completed_at else JobState.SUBMITTED
            if job.state.is_active and job.state is not target:
                target = job.state
            job = self._transition(job, target, "followed again by the user",
                                   result_url=None if target is JobState.DOWNLOADING
                                   else job.result_url, next_poll_at=None,
                                   download_attempts=0, **_CLEARED_ERROR)
        elif job.state in (JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED):
            job = self._transition(job, JobState.QUEUED, "queued again by the user",
                                   **_CLEARED_TASK, **_CLEARED_ERROR)
        elif job.state.is_active:
            job = self.store.update(job.id, expect=job.state, next_poll_at=None,
                                    **_CLEARED_ERROR)
        else:
            raise JobNotRetryableError(f"Job {job.id} is {job.state.label.lower()}.")
        self._report(job)
        if self.is_following(job.id):
            self.poke(job.id)
        else:
            self.follow([job])
        return job

    def cancel(self, job_id: int) -> Job:
        """Stop a job. One without a task stops for good; one with a task is no longer
        followed (the provider may still finish and bill it)."""
        with self._cond:
            followed = self._followed.get(job_id)
            if followed is not None and followed.busy:
                followed.user_cancelled = True
                followed.cancel.set()
                return followed.job
        job = self.get(job_id)
        if job.state.is_terminal:
            return job
        if followed is None:
            holder = self.store.holder(job_id)
            if not self._locks.acquire(job_id):
                raise api_errors.KlingError(
                    f"Job {job_id} is being followed by {holder or 'another program'}.",
                    fix="Stop it there, or wait until that program is done with it.")
            self._locks.release(job_id)
        job = self._cancelled(job)
        self._drop(job_id, finished=True)
        return job

    def stop_unsent(self) -> tuple[list[Job], list[Job]]:
        """Ctrl-C / Quit-and-stop: no create goes out from now on.

        Every job without a task id stops at once (an upload in progress is aborted);
        jobs that already have a task id are kept, to be followed later. Returns
        (stopped, kept) as far as known now; a create already in flight finishes and
        is recorded (its job ends up kept or uncertain).
        """
        with self._send_gate:
            self._no_new_sends = True
        stopped: list[Job] = []
        kept: list[Job] = []
        with self._cond:
            entries = list(self._followed.values())
        for followed in entries:
            job = followed.job
            if job.task_id or job.state in (JobState.SUBMITTING, JobState.SUBMITTED,
                                            JobState.DOWNLOADING):
                kept.append(job)
                continue
            if not followed.held:
                # Another program follows it: not ours to stop. We only stop waiting for it.
                self._drop(job.id, finished=False)
                continue
            followed.cancel.set()
            with self._cond:
                busy = followed.busy
                if busy:
                    followed.user_cancelled = True
            if not busy:
                try:
                    job = self._cancelled(job, "stopped before it was sent")
                except JobConflictError:
                    job = self.get(job.id)
                self._drop(job.id, finished=job.state.is_terminal)
            stopped.append(job)
        return stopped, kept

    def close(self, timeout: float = 5.0) -> bool:
        """Stop following (jobs stay as they are, to resume later) and wait, bounded."""
        with self._cond:
            self._closed = True
            for followed in self._followed.values():
                followed.cancel.set()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(f.busy for f in self._followed.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(0.2, left))
            idle = not any(f.busy for f in self._followed.values())
            for job_id, followed in list(self._followed.items()):
                if not followed.busy:
                    self._followed.pop(job_id)
        self._loop_done.wait(max(0.0, deadline - time.monotonic()))
        self._locks.release_all()
        if self._own_executor is not None:
            self._own_executor.shutdown(wait=idle)
        return idle

    def get(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._closed:
                        return
                    now = time.monotonic()
                    picked, next_due, unheld = self._pick(now)
                    if not picked and not unheld:
                        timeout = 1.0 if next_due is None else max(0.0, min(1.0, next_due - now))
                        self._cond.wait(timeout)
                        continue
                # Outside the lock: taking a hold reads and writes the store.
                for followed in unheld:
                    self._take_hold(followed, now)
                for followed, step in picked:
                    self._executor.submit(functools.partial(self._run, followed, step))
        except BaseException:
            log.exception("job scheduler stopped by an unexpected error")
            raise
        finally:
            with self._cond:
                self._running = False
            self._loop_done.set()

    def _pick(self, now: float) -> tuple[list[tuple[_Followed, _Step]], float | None,
                                         list[_Followed]]:
        """Which steps start now, and which due jobs still need their hold taken
        (called with the condition held)."""
        picked: list[tuple[_Followed, _Step]] = []
        unheld: list[_Followed] = []
        cap = max(1, self.engine.settings.max_concurrent_jobs)
        at_provider = sum(1 for f in self._followed.values() if _at_provider(f))
        waiting: list[_Followed] = []
        heap: list[float] = []
        for followed in sorted(self._followed.values(), key=lambda f: f.job.id):
            if followed.busy:
                continue
            if followed.due > now:
                heap.append(followed.due)
                continue
            if not followed.held:
                unheld.append(followed)
                continue
            job = followed.job
            step = _next_step(job)
            if step is None:
                self._rest(followed)
                continue
            if step is _Step.POLL and followed.until_submitted and job.state is JobState.SUBMITTED:
                self._rest(followed)
                continue
            if step is _Step.SEND and self._no_new_sends:
                followed.busy = True
                followed.transfer = False
                self._busy_api += 1
                picked.append((followed, step))   # the step records the cancel
                continue
            if step is _Step.SEND and not _at_provider(followed):
                if at_provider >= cap:
                    waiting.append(followed)
                    continue
                at_provider += 1
            transfer = step is _Step.DOWNLOAD or (step is _Step.SEND and _needs_upload(job))
            if transfer:
                if self._busy_transfers >= self._max_transfers:
                    heap.append(now + 0.05)
                    continue
                self._busy_transfers += 1
            else:
                if self._busy_api >= self._max_api:
                    heap.append(now + 0.05)
                    continue
                self._busy_api += 1
            followed.busy = True
            followed.transfer = transfer
            picked.append((followed, step))
        for position, followed in enumerate(waiting, start=1):
            self._set_note(followed, Note(
                followed.job.id, "in_line",
                f"waiting for a free slot ({_ordinal(position)} in line)", position))
        return picked, (min(heap) if heap else None), unheld

    def _take_hold(self, followed: _Followed, now: float) -> bool:
        """Try the job's OS lock; when held elsewhere, say by whom and look again soon.
        Called by the loop only, outside the condition."""
        job_id = followed.job.id
        if followed.held or not self.is_following(job_id):
            return followed.held
        if not self._locks.acquire(job_id):
            holder = self.store.holder(job_id) or "another program"
            with self._cond:
                followed.due = now + HELD_RECHECK
            self._set_note(followed, Note(job_id, "held", f"being followed by {holder}"))
            return False
        followed.held = True
        self.store.set_holder(job_id, self.holder)
        job = self.get(job_id)
        if job.state is JobState.SUBMITTING:
            # Its holder died between writing SUBMITTING and learning the answer.
            job = self._transition(
                job, JobState.UNCERTAIN, "interrupted while sending",
                error_kind=FailureKind.UNKNOWN,
                error_message=("The app stopped while this job was being sent, so it is not "
                               "known whether the provider accepted (and billed) it."),
                error_fix=("Check the task list in your provider's dashboard; send it again "
                           "only if it is not there."))
        followed.job = job
        self._set_note(followed, None)
        self._report(job)
        return True

    def _rest(self, followed: _Followed) -> None:
        """Stop following a job (with the condition held): it is done, or waits for later."""
        job = followed.job
        self._followed.pop(job.id, None)
        if followed.held:
            self.store.set_holder(job.id, None)
            self._locks.release(job.id, finished=job.state.is_terminal)
        self._cond.notify_all()
        if self._on_rest is not None:
            self._on_rest(job)

    def _drop(self, job_id: int, *, finished: bool) -> None:
        with self._cond:
            followed = self._followed.pop(job_id, None)
            if followed is not None and followed.held:
                self.store.set_holder(job_id, None)
                self._locks.release(job_id, finished=finished)
            self._cond.notify_all()
        if followed is not None and self._on_rest is not None:
            self._on_rest(followed.job)

    def _run(self, followed: _Followed, step: _Step) -> None:
        delay: float | None = 0.0
        try:
            if step is _Step.SEND:
                delay = self._send(followed)
            elif step is _Step.POLL:
                delay = self._poll(followed)
            else:
                delay = self._download(followed)
        except JobConflictError as exc:
            log.info("job %s: %s", followed.job.id, exc.message)
            followed.job = self.get(followed.job.id)
            delay = 0.0
        except BaseException as exc:  # a bug: keep the job, say so, look again later
            log.exception("job %s: unexpected error in %s", followed.job.id, step.value)
            try:
                followed.job = self.store.update(
                    followed.job.id, blocked_on=BlockedOn.PROVIDER,
                    error_message=f"Something went wrong inside the app ({type(exc).__name__}).",
                    error_fix="It is tried again in a few minutes. If it keeps happening, send "
                              "the log file (Help ▸ Open log folder).")
                self._report(followed.job)
            except Exception:
                log.exception("job %s: could not record the error", followed.job.id)
            delay = BLOCKED_RECHECK
        finally:
            self._step_done(followed, delay)

    def _step_done(self, followed: _Followed, delay: float | None) -> None:
        if followed.user_cancelled and followed.job.state.is_active:
            try:
                followed.job = self._cancelled(followed.job)
            except JobConflictError:
                followed.job = self.get(followed.job.id)
        with self._cond:
            followed.busy = False
            if followed.transfer:
                self._busy_transfers -= 1
            else:
                self._busy_api -= 1
            job = followed.job
            if delay is None or not job.state.is_active or self._closed or \
                    followed.user_cancelled or job.blocked_on in self._give_up_on or \
                    (self._no_new_sends and not job.task_id
                     and job.state is not JobState.SUBMITTING):
                if self._closed and job.state.is_active:
                    self._followed.pop(job.id, None)
                    if followed.held:
                        self._locks.release(job.id)
                    self._cond.notify_all()
                else:
                    self._rest(followed)
            else:
                followed.due = time.monotonic() + max(0.0, delay)
            self._cond.notify_all()

    # ------------------------------------------------------------------ steps

    def _send(self, followed: _Followed) -> float | None:
        job = followed.job
        if self._no_new_sends or followed.cancel.is_set():
            followed.job = self._cancelled(job, "stopped before it was sent")
            return None
        try:
            client = self.engine.client_for(job)
        except api_errors.AuthenticationError as exc:
            return self._block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                               message=self._needs_key(job))
        except api_errors.KlingError as exc:
            return self._block(followed, BlockedOn.NETWORK, exc, BLOCKED_RECHECK)
        if job.state is not JobState.UPLOADING:
            job = self._transition(job, JobState.UPLOADING, "uploading inputs",
                                   transfer_done=0, transfer_total=0)
            followed.job = job
        try:
            image_url, video_url = self._inputs(followed, client)
        except api_errors.CancelledError:
            followed.job = self._cancelled(followed.job, "stopped before it was sent")
            return None
        except api_errors.KlingError as exc:
            return self._send_refused(followed, exc, sent=False)
        request = GenerationRequest(image_url=image_url, video_url=video_url,
                                    options=job.spec.options)
        with self._send_gate:
            job = followed.job
            if self._no_new_sends or followed.cancel.is_set():
                followed.job = self._cancelled(job, "stopped before it was sent")
                return None
            if not self._locks.holds(job.id):
                log.warning("job %s: lost its lock before sending; not sent", job.id)
                followed.held = False
                return None
            # Durable BEFORE sending: a kill from here on never re-creates blindly.
            job = self._transition(job, JobState.SUBMITTING, "sending the create call",
                                   create_calls=job.create_calls + 1)
            followed.job = job
        try:
            task = client.create_task(request, retry=False)
        except api_errors.SubmissionUncertainError as exc:
            followed.job = self._transition(
                followed.job, JobState.UNCERTAIN, "create call outcome unknown",
                error_kind=FailureKind.UNKNOWN, error_code=exc.code, error_message=exc.message,
                error_fix=exc.fix, blocked_on=None)
            return None
        except api_errors.KlingError as exc:
            return self._send_refused(followed, exc, sent=True)
        now = time.time()
        followed.job = self._transition(
            followed.job, JobState.SUBMITTED, f"task {task.id} created", task_id=task.id,
            submitted_at=now, provider_status=str(task.status), progress=task.progress,
            estimated_time=task.estimated_time, transfer_done=0, transfer_total=0,
            next_poll_at=now + self.engine.pacing().first_delay(task.estimated_time),
            **_CLEARED_ERROR)
        if task.status.is_final:
            return self._apply_task(followed, task)
        return self.engine.pacing().first_delay(task.estimated_time)

    def _inputs(self, followed: _Followed, client: KlingClient) -> tuple[str, str]:
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
                result = client.upload_file(Path(source), progress=self._progress(followed),
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

    def _send_refused(self, followed: _Followed, exc: api_errors.KlingError, *,
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
            delay = _backoff(attempts, SEND_BACKOFF, getattr(exc, "retry_after", None))
            reason = ("rate limit" if isinstance(exc, api_errors.RateLimitedError)
                      else "no free channel")
            return self._wait_to_send(
                followed, expect, None, exc, delay,
                message=(f"The provider said no ({reason}); nothing was created. Next try at "
                         f"{_clock(time.time() + delay)}."), fix="")
        if isinstance(exc, api_errors.NetworkError) and not isinstance(
                exc, api_errors.IncompleteDownloadError):
            delay = _backoff(attempts, NETWORK_BACKOFF)
            return self._wait_to_send(followed, expect, BlockedOn.NETWORK, exc, delay)
        kind = FailureKind.UPLOAD_REFUSED if isinstance(exc, api_errors.UploadRefusedError) \
            else classify(exc)
        followed.job = self._transition(
            job, JobState.FAILED, type(exc).__name__, error_kind=kind, error_code=exc.code,
            error_message=exc.message, error_fix=exc.fix, blocked_on=None)
        return None

    def _wait_to_send(self, followed: _Followed, expect: JobState, blocked: BlockedOn | None,
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

    def _poll(self, followed: _Followed) -> float | None:
        job = followed.job
        assert job.task_id is not None
        try:
            client = self.engine.client_for(job)
        except api_errors.AuthenticationError as exc:
            return self._block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                               message=self._needs_key(job))
        except api_errors.KlingError as exc:
            return self._block(followed, BlockedOn.NETWORK, exc, BLOCKED_RECHECK)
        stuck = (job.estimated_time is not None and job.submitted_at is not None
                 and time.time() - job.submitted_at > 4 * max(job.estimated_time, 60.0)
                 and followed.odd_polls % 10 == 0)
        try:
            task = client.get_task(job.task_id, cancel=followed.cancel, sync_upstream=stuck)
        except api_errors.CancelledError:
            return 0.0
        except api_errors.InsufficientBalanceError as exc:
            return self._block(followed, BlockedOn.BALANCE, exc, BLOCKED_RECHECK)
        except api_errors.AuthenticationError as exc:
            if exc.status == 403:
                return self._block(followed, BlockedOn.PERMISSION, exc, BLOCKED_RECHECK)
            return self._block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                               message=self._key_refused(job))
        except (api_errors.NotFoundError, api_errors.InvalidRequestError,
                api_errors.MalformedResponseError) as exc:
            followed.odd_polls += 1
            return self._block(
                followed, BlockedOn.PROVIDER, exc, min(BLOCKED_RECHECK, 30.0 * followed.odd_polls),
                message=(f"The provider did not give a usable answer about task {job.task_id}: "
                         f"{exc.message}"),
                fix=("The task is paid for and is followed on its own; if this stays, contact "
                     "the provider with the task id."))
        except api_errors.KlingError as exc:
            followed.odd_polls += 1
            return self._block(followed, BlockedOn.NETWORK, exc,
                               _backoff(followed.odd_polls, NETWORK_BACKOFF))
        return self._apply_task(followed, task)

    def _apply_task(self, followed: _Followed, task: Task) -> float | None:
        job = followed.job
        now = time.time()
        usage = json.dumps(task.usage, ensure_ascii=False, sort_keys=True) \
            if getattr(task, "usage", None) else job.provider_usage
        if task.status is TaskStatus.COMPLETED and task.result_url:
            followed.odd_polls = 0
            completed = job.completed_at or now
            followed.job = self._transition(
                job, JobState.DOWNLOADING, "provider finished", progress=100,
                provider_status=str(task.status), result_url=task.result_url,
                completed_at=completed, result_expires_at=completed + RESULT_LINK_LIFETIME,
                model_used=task.model or job.model_used, provider_usage=usage,
                next_poll_at=None, **_CLEARED_ERROR)
            return 0.0
        if task.status is TaskStatus.FAILED:
            error = task.error
            message = error.message if error else f"Task {task.id} failed at the provider."
            if error is not None and error.is_content_policy:
                kind = FailureKind.CONTENT_POLICY
                fix = ("The provider's content rules refused this picture or clip. Choose "
                       "another picture or motion clip; this job will not be sent again.")
            else:
                kind = FailureKind.PROVIDER
                fix = ("Several providers refund failed tasks. Try again with a new job, or "
                       "another clip; the task id helps the provider.")
            followed.job = self._transition(
                job, JobState.FAILED, "task failed", provider_status=str(task.status),
                progress=task.progress, error_kind=kind, error_code=error.code if error else None,
                error_message=message, error_fix=fix, blocked_on=None, provider_usage=usage)
            return None
        if task.status is TaskStatus.CANCELLED:
            followed.job = self._transition(
                job, JobState.CANCELLED, "cancelled at the provider",
                provider_status=str(task.status), error_message="The provider cancelled this task.",
                error_fix="", blocked_on=None)
            return None
        pacing = self.engine.pacing()
        if task.status is TaskStatus.COMPLETED or task.status not in (
                TaskStatus.PENDING, TaskStatus.PROCESSING):
            followed.odd_polls += 1
            said = getattr(task, "raw_status", None) or str(task.status)
            delay = pacing.next_delay(pacing.min_interval * followed.odd_polls,
                                      progressed=False, remaining=None)
            if followed.odd_polls >= ODD_POLLS_BEFORE_TELLING:
                what = ("finished but sent no video link" if task.status is TaskStatus.COMPLETED
                        else f"reports the status “{said}”, which this app does not know")
                return self._block(
                    followed, BlockedOn.PROVIDER, None, delay,
                    message=f"The provider {what} for task {task.id}.",
                    fix=("The task is paid for and is still followed; if this stays, contact "
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
            provider_usage=usage, **_CLEARED_ERROR)
        self._report(followed.job)
        return delay

    def _download(self, followed: _Followed) -> float | None:
        job = followed.job
        url = job.result_url
        if url is None:
            return self._poll(followed)   # a fresh link first
        now = time.time()
        if job.result_expires_at is not None and now > job.result_expires_at:
            made = job.completed_at or job.result_expires_at - RESULT_LINK_LIFETIME
            followed.job = self._transition(
                job, JobState.EXPIRED, "result link expired",
                error_message=(f"The video was made on {_day_and_time(made)}; its link expired "
                               "24 hours later, before it could be saved, and it can no longer "
                               "be fetched."),
                error_fix=("Keep the app (or `kling-desktop wait`) running until jobs are "
                           "saved; this video has to be generated again."), blocked_on=None)
            return None
        library = self.engine.library
        target = Path(job.output_path) if job.output_path else library.target_path(job)
        if not job.output_path:
            job = self.store.update(job.id, expect=JobState.DOWNLOADING, output_path=str(target))
            followed.job = job
        try:
            client = self.engine.client_for(job)
        except api_errors.AuthenticationError as exc:
            return self._block(followed, BlockedOn.KEY, exc, BLOCKED_RECHECK,
                               message=self._needs_key(job))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download(url, target, progress=self._progress(followed),
                            cancel=followed.cancel, max_bytes=MAX_RESULT_BYTES)
        except api_errors.CancelledError:
            return 0.0
        except OSError as exc:
            error = LibraryWriteError.from_os_error(exc, target)
            return self._block(followed, BlockedOn.DISK, error, 60.0)
        except (api_errors.LocalFileError, LibraryWriteError) as exc:
            return self._block(followed, BlockedOn.DISK, exc, 60.0)
        except api_errors.ResultTooLargeError as exc:
            followed.job = self._transition(
                job, JobState.FAILED, "result refused: too large", error_kind=FailureKind.PROVIDER,
                error_code=exc.code, error_message=exc.message,
                error_fix=("Nothing was saved. Retry follows the same task again (it is not "
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
                raise MediaError(f"{target.name} has no length.", "", kind="corrupt")
        except MediaError as exc:
            log.warning("job %s: the download is not a video (%s); fetching a fresh link",
                        job.id, exc.message)
            target.unlink(missing_ok=True)
            refused = api_errors.MalformedResponseError(
                f"What the provider sent for task {job.task_id} is not a video "
                f"({exc.message}); a fresh link is being fetched.")
            return self._fresh_link(followed, refused, BlockedOn.LINK)
        job = replace(followed.job, result_duration=round(info.duration, 3))
        try:
            entry = library.add_result(job, target, copy_inputs=self.engine.settings.keep_inputs)
        except LibraryWriteError as exc:
            return self._block(followed, BlockedOn.DISK, exc, 60.0)
        followed.job = self._transition(
            job, JobState.COMPLETED, "saved to the library", output_path=str(entry.video_path),
            result_duration=job.result_duration, transfer_done=0, transfer_total=0,
            **_CLEARED_ERROR)
        return None

    def _fresh_link(self, followed: _Followed, exc: api_errors.KlingError,
                    blocked: BlockedOn) -> float:
        """The download failed: ask the provider for the task again (a fresh link), later."""
        job = followed.job
        attempts = job.download_attempts + 1
        delay = _backoff(attempts, LINK_BACKOFF if blocked is BlockedOn.LINK else NETWORK_BACKOFF)
        followed.job = self.store.update(
            job.id, expect=JobState.DOWNLOADING, result_url=None, download_attempts=attempts,
            blocked_on=blocked, next_poll_at=time.time() + delay, error_code=exc.code,
            error_message=f"The download failed: {exc.message}",
            error_fix=f"A fresh link is asked for at {_clock(time.time() + delay)}; the video "
                      "is paid for and kept waiting until its link expires.",
            transfer_done=0, transfer_total=0)
        self._report(followed.job)
        return delay

    # ------------------------------------------------------------------ bookkeeping

    def _block(self, followed: _Followed, blocked: BlockedOn,
               exc: api_errors.KlingError | None, delay: float, *, message: str | None = None,
               fix: str | None = None) -> float:
        """An active job waits for something outside (a key, a balance, the network)."""
        job = followed.job
        followed.job = self.store.update(
            job.id, expect=job.state, blocked_on=blocked, next_poll_at=time.time() + delay,
            error_code=exc.code if exc else None, error_kind=_BLOCKED_KINDS.get(blocked),
            error_message=message or (exc.message if exc else None),
            error_fix=fix if fix is not None else (exc.fix if exc else None))
        self._report(followed.job)
        return delay

    def _needs_key(self, job: Job) -> str:
        return f"This job needs the API key for {provider_host(job.base_url)}."

    def _key_refused(self, job: Job) -> str:
        return (f"The provider {provider_host(job.base_url)} refused the key. The job waits "
                "and continues once a working key for it is saved.")

    def _transition(self, job: Job, state: JobState, message: str, **fields: object) -> Job:
        updated = self.store.transition(job.id, state, expect=job.state, message=message,
                                        **fields)
        self._report(updated)
        return updated

    def _cancelled(self, job: Job, message: str = "cancelled by the user") -> Job:
        fix = "The provider may still finish and bill it." if job.task_id else ""
        return self._transition(job, JobState.CANCELLED, message, error_message="Cancelled.",
                                error_fix=fix, blocked_on=None, transfer_done=0,
                                transfer_total=0)

    def _report(self, job: Job) -> None:
        with self._cond:
            followed = self._followed.get(job.id)
            if followed is not None:
                followed.job = job
        if self._on_update is not None:
            self._on_update(job)

    def _set_note(self, followed: _Followed, note: Note | None) -> None:
        if note == followed.note:
            return
        followed.note = note
        if self._on_note is not None:
            self._on_note(note or Note(followed.job.id, "", ""))

    def _progress(self, followed: _Followed) -> Callable[[int, int], None]:
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
                if self._on_update is not None:
                    self._on_update(followed.job)

        return progress


class JobNotRetryableError(api_errors.KlingError):
    default_message = "This job cannot be sent again as it is."
    default_fix = ""


_CLEARED_ERROR: dict[str, object] = dict(
    error_kind=None, error_code=None, error_message=None, error_fix=None, blocked_on=None)
_CLEARED_TASK: dict[str, object] = dict(
    task_id=None, provider_status=None, progress=0, transfer_done=0, transfer_total=0,
    submitted_at=None, completed_at=None, result_url=None, result_expires_at=None,
    next_poll_at=None, download_attempts=0, image_url=None, video_url=None, uploaded_at=None)


_BLOCKED_KINDS: dict[BlockedOn, FailureKind] = {
    BlockedOn.KEY: FailureKind.AUTH,
    BlockedOn.BALANCE: FailureKind.BALANCE,
    BlockedOn.PERMISSION: FailureKind.AUTH,
    BlockedOn.NETWORK: FailureKind.RETRYABLE,
    BlockedOn.LINK: FailureKind.RETRYABLE,
    BlockedOn.PROVIDER: FailureKind.PROVIDER,
    BlockedOn.DISK: FailureKind.UNKNOWN,
}


def _not_before(job: Job) -> float:
    """When a job's next step may start (``time.monotonic()``): a rate limit's back-off or
    a poll's pace survive a restart; anything the user must fix is looked at at once."""
    if job.next_poll_at is None or job.blocked_on is not None:
        return 0.0
    return time.monotonic() + max(0.0, min(job.next_poll_at - time.time(), SEND_BACKOFF[1]))


def _needs_upload(job: Job) -> bool:
    fresh = job.uploaded_at is not None and time.time() - job.uploaded_at < UPLOAD_REUSE_SECONDS
    return any(not is_link(source) and not (fresh and known)
               for source, known in ((job.spec.image, job.image_url),
                                     (job.spec.video, job.video_url)))


def _next_step(job: Job) -> _Step | None:
    state = job.state
    if state in (JobState.QUEUED, JobState.UPLOADING, JobState.SEND_WAIT):
        return _Step.SEND
    if state is JobState.SUBMITTED:
        return _Step.POLL
    if state is JobState.DOWNLOADING:
        return _Step.DOWNLOAD
    return None


def _at_provider(followed: _Followed) -> bool:
    """Whether this job holds one of the provider's running-task slots."""
    state = followed.job.state
    if state in (JobState.SUBMITTING, JobState.SUBMITTED):
        return True
    return followed.busy and state in (JobState.QUEUED, JobState.UPLOADING, JobState.SEND_WAIT)


def classify(exc: api_errors.KlingError) -> FailureKind:
    """What the user can do about an error, in one word."""
    if isinstance(exc, api_errors.AuthenticationError):
        return FailureKind.AUTH
    if isinstance(exc, api_errors.InsufficientBalanceError):
        return FailureKind.BALANCE
    if isinstance(exc, api_errors.UploadRefusedError):
        return FailureKind.UPLOAD_REFUSED
    if isinstance(exc, api_errors.InvalidRequestError):
        return FailureKind.INVALID
    if exc.retryable:
        return FailureKind.RETRYABLE
    if isinstance(exc, api_errors.NotFoundError):
        return FailureKind.PROVIDER
    return FailureKind.UNKNOWN
