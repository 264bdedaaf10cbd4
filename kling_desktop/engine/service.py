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

What one step does (send, poll, fetch and verify the result) is in
:mod:`kling_desktop.engine.steps`, the checks before money is spent in
:mod:`kling_desktop.engine.planning`, what a user's retry may do in
:mod:`kling_desktop.engine.decisions`; this module is the service's face and its scheduler.

One scheduler. A single loop (one thread of the face's executor) follows every
job: it paces polls by the provider's estimate, keeps at most
``settings.max_concurrent_jobs`` ("tasks at the provider at once") tasks
at the provider (the rest wait in line locally), and hands each network step
to the same executor, with at most ``transfers`` uploads/downloads and
``api_calls`` polls/creates at once.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine import planning
from kling_desktop.engine.batch import BatchReport
from kling_desktop.engine.checks import Problem
from kling_desktop.engine.decisions import JobNotRetryableError, retry_move
from kling_desktop.engine.following import (
    BLOCKED_RECHECK,
    SEND_BACKOFF,
    Followed,
    JobCallback,
    Note,
    Step,
    classify,
    needs_upload,
)
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobState
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.ownership import JobLocks
from kling_desktop.engine.planning import Plan, PlanRefusedError
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.steps import JobSteps
from kling_desktop.engine.store import JobConflictError, JobNotFoundError
from kling_desktop.i18n import _

__all__ = [
    "Executor",
    "JobNotRetryableError",
    "JobService",
    "Note",
    "Plan",
    "PlanRefusedError",
    "classify",
]

log = logging.getLogger(__name__)

HELD_RECHECK = 1.0                # a job another process holds is tried again this often


class Executor(Protocol):
    """Runs a function on a worker thread (a ThreadPoolExecutor, or the window's pool)."""

    def submit(self, fn: Callable[[], None], /) -> object: ...


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
        self._followed: dict[int, Followed] = {}
        self._busy_transfers = 0
        self._busy_api = 0
        self._running = False
        self._closed = False
        self._loop_done = threading.Event()
        self._loop_done.set()
        self._no_new_sends = False
        self._send_gate = threading.Lock()   # a cancel and a create never interleave
        self._steps = JobSteps(engine, self._locks, report=self._report, emit=on_update,
                               sending_stopped=lambda: self._no_new_sends,
                               send_gate=self._send_gate)

    # ------------------------------------------------------------------ planning

    def plan(self, images: Sequence[str], videos: Sequence[str],
             options: GenerationOptions) -> Plan:
        """Check everything before money is spent; nothing is recorded or sent."""
        return planning.plan(self.engine, images, videos, options)

    def preflight(self) -> list[Problem]:
        """The checks that do not depend on the inputs: the key, the library folder."""
        return planning.preflight(self.engine)[0]

    def submit(self, batch: BatchReport, options: GenerationOptions, *,
               origins: Mapping[str, Origin] | None = None,
               until_submitted: bool = False) -> list[Job]:
        """Record one job per pair and follow them (``origins``: where trimmed or converted
        inputs came from, by canonical source). Raises :class:`PlanRefusedError`."""
        jobs = planning.record(self.engine, batch, options, origins)
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
                self._followed[job.id] = Followed(job, until_submitted=until_submitted,
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
        move = retry_move(job, in_demo=self.engine.demo,
                          confirm_possible_duplicate=confirm_possible_duplicate)
        if move.state is None:
            job = self.store.update(job.id, expect=job.state, **move.fields)
        else:
            job = self._steps.transition(job, move.state, move.message, **move.fields)
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
                    # TRANSLATORS: {holder} is e.g. "the window (pid 4242)".
                    _("Job {job_id} is being followed by {holder}.").format(
                        job_id=job_id, holder=holder or _("another program")),
                    fix=_("Stop it there, or wait until that program is done with it."))
            self._locks.release(job_id)
        job = self._steps.cancelled(job)
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
                    job = self._steps.cancelled(job, "stopped before it was sent")
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

    def _pick(self, now: float) -> tuple[list[tuple[Followed, Step]], float | None,
                                         list[Followed]]:
        """Which steps start now, and which due jobs still need their hold taken
        (called with the condition held)."""
        picked: list[tuple[Followed, Step]] = []
        unheld: list[Followed] = []
        cap = max(1, self.engine.settings.max_concurrent_jobs)
        at_provider = sum(1 for f in self._followed.values() if _at_provider(f))
        waiting: list[Followed] = []
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
            if step is Step.POLL and followed.until_submitted and job.state is JobState.SUBMITTED:
                self._rest(followed)
                continue
            if step is Step.SEND and self._no_new_sends:
                followed.busy = True
                followed.transfer = False
                self._busy_api += 1
                picked.append((followed, step))   # the step records the cancel
                continue
            if step is Step.SEND and not _at_provider(followed):
                if at_provider >= cap:
                    waiting.append(followed)
                    continue
                at_provider += 1
            transfer = step is Step.DOWNLOAD or (step is Step.SEND and needs_upload(job))
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
                _("waiting for a free slot (number {position} in line)").format(
                    position=position), position))
        return picked, (min(heap) if heap else None), unheld

    def _take_hold(self, followed: Followed, now: float) -> bool:
        """Try the job's OS lock; when held elsewhere, say by whom and look again soon.
        Called by the loop only, outside the condition."""
        job_id = followed.job.id
        if followed.held or not self.is_following(job_id):
            return followed.held
        if not self._locks.acquire(job_id):
            holder = self.store.holder(job_id) or _("another program")
            with self._cond:
                followed.due = now + HELD_RECHECK
            self._set_note(followed, Note(job_id, "held", _("being followed by {holder}").format(
                holder=holder)))
            return False
        followed.held = True
        self.store.set_holder(job_id, self.holder)
        job = self.get(job_id)
        if job.state is JobState.SUBMITTING:
            # Its holder died between writing SUBMITTING and learning the answer.
            job = self._steps.transition(
                job, JobState.UNCERTAIN, "interrupted while sending",
                error_kind=FailureKind.UNKNOWN,
                error_message=_("The app stopped while this job was being sent, so it is not "
                                "known whether the provider accepted (and billed) it."),
                error_fix=_("Check the task list in your provider's dashboard; send it again "
                            "only if it is not there."))
        followed.job = job
        self._set_note(followed, None)
        self._report(job)
        return True

    def _rest(self, followed: Followed) -> None:
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

    def _run(self, followed: Followed, step: Step) -> None:
        delay: float | None = 0.0
        try:
            if step is Step.SEND:
                delay = self._steps.send(followed)
            elif step is Step.POLL:
                delay = self._steps.poll(followed)
            else:
                delay = self._steps.download(followed)
        except JobConflictError as exc:
            log.info("job %s: %s", followed.job.id, exc.message)
            followed.job = self.get(followed.job.id)
            delay = 0.0
        except BaseException as exc:  # a bug: keep the job, say so, look again later
            log.exception("job %s: unexpected error in %s", followed.job.id, step.value)
            try:
                followed.job = self.store.update(
                    followed.job.id, blocked_on=BlockedOn.PROVIDER,
                    error_message=_("Something went wrong inside the app ({name}).").format(
                        name=type(exc).__name__),
                    error_fix=_("It is tried again in a few minutes. If it keeps happening, "
                                "send the log file (Help ▸ Open log folder)."))
                self._report(followed.job)
            except Exception:
                log.exception("job %s: could not record the error", followed.job.id)
            delay = BLOCKED_RECHECK
        finally:
            self._step_done(followed, delay)

    def _step_done(self, followed: Followed, delay: float | None) -> None:
        if followed.user_cancelled and followed.job.state.is_active:
            try:
                followed.job = self._steps.cancelled(followed.job)
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

    def _report(self, job: Job) -> None:
        with self._cond:
            followed = self._followed.get(job.id)
            if followed is not None:
                followed.job = job
        if self._on_update is not None:
            self._on_update(job)

    def _set_note(self, followed: Followed, note: Note | None) -> None:
        if note == followed.note:
            return
        followed.note = note
        if self._on_note is not None:
            self._on_note(note or Note(followed.job.id, "", ""))


def _not_before(job: Job) -> float:
    """When a job's next step may start (``time.monotonic()``): a rate limit's back-off or
    a poll's pace survive a restart; anything the user must fix is looked at at once."""
    if job.next_poll_at is None or job.blocked_on is not None:
        return 0.0
    return time.monotonic() + max(0.0, min(job.next_poll_at - time.time(), SEND_BACKOFF[1]))


def _next_step(job: Job) -> Step | None:
    state = job.state
    if state in (JobState.QUEUED, JobState.UPLOADING, JobState.SEND_WAIT):
        return Step.SEND
    if state is JobState.SUBMITTED:
        return Step.POLL
    if state is JobState.DOWNLOADING:
        return Step.DOWNLOAD
    return None


def _at_provider(followed: Followed) -> bool:
    """Whether this job holds one of the provider's running-task slots."""
    state = followed.job.state
    if state in (JobState.SUBMITTING, JobState.SUBMITTED):
        return True
    return followed.busy and state in (JobState.QUEUED, JobState.UPLOADING, JobState.SEND_WAIT)
