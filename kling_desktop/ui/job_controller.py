"""Runs the engine's jobs for the window: one QRunnable per job on a bounded pool.

The controller is the only place in the window that calls :meth:`Engine.run_job`.
Workers never touch widgets: they emit on a relay that lives in the main thread,
so every signal of :class:`JobController` arrives on the main thread.

- Progress snapshots are coalesced: a worker only records the newest snapshot
  of its job, and the main thread drains them in one go, so fifty busy jobs
  cannot flood the event loop.
- When the provider stays unreachable (``run_job`` raises a retryable error and
  leaves the job active), the job waits for a timer (30 s, doubling up to 5 min)
  and runs again; :attr:`JobController.job_offline` tells the window how long.
- Store operations the user triggers (queue, retry, cancel, load the list) run
  on the shared :class:`TaskRunner`, never on the main thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from kling_desktop.api import errors as api_errors
from kling_desktop.engine.batch import BatchReport, JobOptions
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.engine.runner import Engine
from kling_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: How many jobs the window lists (newest first); older ones stay in the store.
JOB_LIST_LIMIT = 500

UPDATE_INTERVAL_MS = 250      # progress reaches the window at most this often
OFFLINE_FIRST_DELAY = 30.0     # seconds before the first automatic retry
OFFLINE_MAX_DELAY = 300.0      # never wait longer than this between retries
ELSEWHERE_RECHECK = 30.0       # a job another process runs is looked at again after this


def offline_delay(attempt: int) -> float:
    """Seconds to wait before automatic retry number ``attempt`` (1, 2, ...)."""
    return float(min(OFFLINE_MAX_DELAY, OFFLINE_FIRST_DELAY * (1 << max(0, min(attempt - 1, 16)))))


@dataclass(frozen=True)
class OfflineInfo:
    """Why a job waits, and until when (``time.monotonic()`` seconds)."""

    retry_at: float
    reason: str          # "offline" | "busy"
    message: str

    def seconds_left(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        return max(0, round(self.retry_at - now))


def is_connection_problem(exc: BaseException) -> bool:
    """Errors after which ``run_job`` leaves the job active and trying later may help."""
    return isinstance(exc, api_errors.KlingError) and exc.retryable


def connection_reason(exc: BaseException) -> str:
    return "offline" if isinstance(exc, api_errors.NetworkError) else "busy"


class _Relay(QObject):
    """Lives in the main thread; workers emit on it and Qt queues the calls over."""

    updates_ready = Signal()
    raised = Signal(int, object)       # job id, the exception


@dataclass(eq=False)
class _Run:
    """One job being carried by a worker (or waiting for a free worker)."""

    job_id: int
    cancel: threading.Event = field(default_factory=threading.Event)
    user_cancelled: bool = False


class _JobRunnable(QRunnable):
    def __init__(self, engine: Engine, run: _Run, relay: _Relay,
                 on_update: Callable[[Job], None], on_return: Callable[[Job], None]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._engine = engine
        self._run = run
        self._relay = relay
        self._on_update = on_update
        self._on_return = on_return

    def run(self) -> None:
        run = self._run
        try:
            job = self._engine.run_job(run.job_id, on_update=self._on_update, cancel=run.cancel)
            if run.user_cancelled:
                job = self._engine.cancel(run.job_id)
        except BaseException as exc:  # every outcome goes back to the main thread
            if not isinstance(exc, api_errors.KlingError):
                log.error("job %s: unexpected error", run.job_id, exc_info=exc)
            self._relay.raised.emit(run.job_id, exc)
        else:
            self._on_return(job)
        finally:
            self._on_update = _ignore
            self._on_return = _ignore


def _ignore(_job: Job) -> None:
    return None


class JobController(QObject):
    """Carries the engine's jobs on a bounded pool; tells the window in signals.

    Signals (main thread):
    - ``jobs_loaded(list[Job])``: the job list read at start (newest first);
    - ``load_failed(KlingError)``: the job list could not be read;
    - ``job_updated(Job)``: a newer snapshot of a job (progress, state);
    - ``job_finished(Job)``: a job reached a resting state (saved, failed, ...);
    - ``job_failed(int, KlingError)``: running or acting on a job raised an error;
    - ``job_offline(int, OfflineInfo)``: the job waits for the provider, retried later;
    - ``job_online(int)``: the job is running again;
    - ``submitted(list[Job])`` / ``submit_failed(KlingError)``: the outcome of ``submit``;
    - ``active_count_changed(int)``.
    """

    jobs_loaded = Signal(list)
    load_failed = Signal(object)
    job_updated = Signal(object)
    jobs_updated = Signal(list)        # the same snapshots, batched (one per flush)
    job_finished = Signal(object)
    job_failed = Signal(int, object)
    job_offline = Signal(int, object)
    job_online = Signal(int)
    submitted = Signal(list)
    submit_failed = Signal(object)
    active_count_changed = Signal(int)

    def __init__(self, engine: Engine, tasks: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._tasks = tasks
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, engine.settings.max_concurrent_jobs))
        self._relay = _Relay(self)
        self._relay.updates_ready.connect(self.on_relay_updates_ready)
        self._relay.raised.connect(self.on_relay_raised)
        self._runs: dict[int, _Run] = {}
        self._waiting: dict[int, QTimer] = {}
        self._offline: dict[int, OfflineInfo] = {}
        self._attempts: dict[int, int] = {}
        self._pending: dict[int, Job] = {}
        self._returned: list[Job] = []              # run_job came back (worker threads)
        self._states: dict[int, JobState] = {}      # the last state seen of each job
        self._pending_lock = threading.Lock()
        self._flush_posted = False
        self._closed = False
        self._last_count = 0
        # Progress is delivered in batches, at most every UPDATE_INTERVAL_MS: with dozens of
        # busy jobs the main thread then wakes up a few times a second, not hundreds.
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(UPDATE_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._last_flush = 0.0

    # -- queries -----------------------------------------------------------------------------

    def active_count(self) -> int:
        """Unfinished jobs this window carries: running, waiting for a worker or to retry.

        A job whose last snapshot is already final (its worker is just wrapping up)
        does not count.
        """
        ids = self._runs.keys() | self._waiting.keys()
        return sum(1 for job_id in ids
                   if job_id not in self._states or self._states[job_id].is_active)

    def is_running(self, job_id: int) -> bool:
        return job_id in self._runs

    def offline_info(self, job_id: int) -> OfflineInfo | None:
        return self._offline.get(job_id)

    def set_max_concurrent(self, count: int) -> None:
        self._pool.setMaxThreadCount(max(1, count))

    # -- actions -----------------------------------------------------------------------------

    def resume_all(self) -> None:
        """Read the job list on a worker, then carry on every unfinished job."""
        self.load_jobs(resume=True)

    def load_jobs(self, *, resume: bool) -> None:
        """Read the job list on a worker (``jobs_loaded``); with ``resume``, run unfinished jobs.

        Without ``resume`` (no key yet) nothing is run or changed: the jobs wait.
        """
        self._tasks.run(_load_jobs, self.engine, resume, on_done=self._on_loaded,
                        on_failed=self._on_load_failed)

    def submit(self, batch: BatchReport, options: JobOptions) -> None:
        """Record one job per pair (on a worker), then run them."""
        self._tasks.run(_enqueue, self.engine, batch, options, on_done=self._on_enqueued,
                        on_failed=self._on_submit_failed)

    def retry(self, job_id: int, confirm_possible_duplicate: bool = False) -> None:
        """Send a failed job again; run an active one (left by an error) again now."""
        if job_id in self._runs:
            return
        if job_id in self._waiting:
            self.run_now(job_id)
            return
        self._tasks.run(_retry, self.engine, job_id, confirm_possible_duplicate,
                        on_done=self._on_retried,
                        on_failed=lambda exc: self._on_action_failed(job_id, exc))

    def run_now(self, job_id: int) -> None:
        """Skip the wait of a job that waits for the provider."""
        timer = self._waiting.pop(job_id, None)
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        self._start(job_id)

    def cancel(self, job_id: int) -> None:
        """Stop following a job (the provider may still finish a task it already has)."""
        run = self._runs.get(job_id)
        if run is not None:
            run.user_cancelled = True
            run.cancel.set()
            return
        self._forget_wait(job_id)
        self._tasks.run(self.engine.cancel, job_id, on_done=self._on_cancelled,
                        on_failed=lambda exc: self._on_action_failed(job_id, exc))
        self._count_changed()

    def shutdown(self, timeout_ms: int = 5000, *, stop_jobs: bool = False) -> bool:
        """Ask every worker to stop and wait for them, at most ``timeout_ms``.

        Jobs are left as they are in the store (they resume on the next start),
        unless ``stop_jobs``: then they are cancelled. Returns True when the pool is idle.
        """
        if self._closed:
            return self._pool.waitForDone(0)
        self._closed = True
        waiting = list(self._waiting)
        for job_id in waiting:
            self._forget_wait(job_id)
        if stop_jobs:
            # Queued and waiting jobs still pass through a worker, which cancels them at once.
            for job_id in waiting:
                if job_id not in self._runs:
                    run = _Run(job_id)
                    self._runs[job_id] = run
                    self._pool.start(_JobRunnable(self.engine, run, self._relay, _ignore,
                                                      _ignore))
            for run in self._runs.values():
                run.user_cancelled = True
        else:
            self._pool.clear()
        for run in self._runs.values():
            run.cancel.set()
        done = self._pool.waitForDone(max(0, timeout_ms))
        if not done:
            log.warning("job workers still busy after %d ms at shutdown", timeout_ms)
        return done

    # -- running -------------------------------------------------------------------------------

    def _start(self, job_id: int) -> None:
        if self._closed or job_id in self._runs:
            return
        self._forget_wait(job_id)
        run = _Run(job_id)
        self._runs[job_id] = run
        self._pool.start(_JobRunnable(self.engine, run, self._relay, self._record_update,
                                          self._record_return))
        self._count_changed()

    def _record_update(self, job: Job) -> None:
        """Called on worker threads: keep the newest snapshot, post one flush."""
        with self._pending_lock:
            self._pending[job.id] = job
            if self._flush_posted:
                return
            self._flush_posted = True
        self._relay.updates_ready.emit()

    def _record_return(self, job: Job) -> None:
        """Called on worker threads when run_job came back; delivered with the next flush."""
        with self._pending_lock:
            self._returned.append(job)
            if self._flush_posted:
                return
            self._flush_posted = True
        self._relay.updates_ready.emit()

    def _take_pending(self) -> tuple[list[Job], list[Job]]:
        with self._pending_lock:
            returned, self._returned = self._returned, []
            done = {job.id for job in returned}
            jobs = [job for job in self._pending.values() if job.id not in done]
            self._pending.clear()
            self._flush_posted = False
        return jobs, returned

    @Slot()
    def on_relay_updates_ready(self) -> None:
        if self._flush_timer.isActive():
            return
        wait = UPDATE_INTERVAL_MS - (time.monotonic() - self._last_flush) * 1000
        if wait > 0:
            self._flush_timer.start(round(wait))
        else:
            self._flush()

    @Slot()
    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        jobs, returned = self._take_pending()
        if self._closed:
            return
        if jobs:
            self._publish(jobs)
        if returned:
            self._finish_returned(returned)
        self._count_changed()

    def _publish(self, jobs: list[Job]) -> None:
        """``jobs_updated`` once for the batch, then ``job_updated`` for each snapshot."""
        for job in jobs:
            self._note_state(job)
        self.jobs_updated.emit(jobs)
        for job in jobs:
            self.job_updated.emit(job)

    def _note_state(self, job: Job) -> None:
        self._states[job.id] = job.state

    def _finish_returned(self, jobs: list[Job]) -> None:
        """Workers that came back: their jobs rest (saved, failed…) or wait for later."""
        runs = {job.id: self._runs.pop(job.id, None) for job in jobs}
        for job in jobs:
            self._attempts.pop(job.id, None)
            if self._offline.pop(job.id, None) is not None:
                self.job_online.emit(job.id)
        self._publish(jobs)
        for job in jobs:
            run = runs[job.id]
            if job.state.is_terminal:
                self.job_finished.emit(job)
            elif run is not None and not run.cancel.is_set():
                # Another process (e.g. `kling-desktop wait`) carries this job: look later.
                self._wait(job.id, ELSEWHERE_RECHECK, None)

    @Slot(int, object)
    def on_relay_raised(self, job_id: int, error: object) -> None:
        self._runs.pop(job_id, None)
        if self._closed:
            return
        if isinstance(error, BaseException) and is_connection_problem(error):
            attempt = self._attempts.get(job_id, 0) + 1
            self._attempts[job_id] = attempt
            self._wait(job_id, offline_delay(attempt), error)
        else:
            self.job_failed.emit(job_id, _as_kling_error(error))
        self._count_changed()

    def _wait(self, job_id: int, seconds: float, error: BaseException | None) -> None:
        self._forget_wait(job_id)
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(round(seconds * 1000))
        timer.timeout.connect(lambda: self.run_now(job_id))
        self._waiting[job_id] = timer
        timer.start()
        if error is not None:
            info = OfflineInfo(time.monotonic() + seconds, connection_reason(error),
                               getattr(error, "message", str(error)))
            self._offline[job_id] = info
            self.job_offline.emit(job_id, info)

    def _forget_wait(self, job_id: int) -> None:
        timer = self._waiting.pop(job_id, None)
        if timer is not None:
            timer.stop()
            timer.deleteLater()

    def _count_changed(self) -> None:
        count = self.active_count()
        if count != self._last_count:
            self._last_count = count
            self.active_count_changed.emit(count)

    # -- results of store operations (main thread) ------------------------------------------

    def _on_loaded(self, result: object) -> None:
        if self._closed:
            return
        if not isinstance(result, tuple):
            return
        jobs, resumable = result
        self.jobs_loaded.emit(list(jobs))
        for job in resumable:
            self._start(job.id)

    def _on_load_failed(self, error: BaseException) -> None:
        if not self._closed:
            self.load_failed.emit(_as_kling_error(error))

    def _on_enqueued(self, jobs: object) -> None:
        assert isinstance(jobs, list)
        if self._closed:
            return
        self.submitted.emit(jobs)
        self._publish(list(jobs))
        for job in jobs:
            self._start(job.id)

    def _on_submit_failed(self, error: BaseException) -> None:
        if not self._closed:
            self.submit_failed.emit(_as_kling_error(error))

    def _on_retried(self, job: object) -> None:
        assert isinstance(job, Job)
        if self._closed:
            return
        self._publish([job])
        self._start(job.id)

    def _on_cancelled(self, job: object) -> None:
        assert isinstance(job, Job)
        self._offline.pop(job.id, None)
        if not self._closed:
            self.job_online.emit(job.id)
            self._publish([job])
            if job.state.is_terminal:
                self.job_finished.emit(job)

    def _on_action_failed(self, job_id: int, error: BaseException) -> None:
        if not self._closed:
            self.job_failed.emit(job_id, _as_kling_error(error))


# -- worker functions (no Qt) -------------------------------------------------------------------

def _load_jobs(engine: Engine, resume: bool) -> tuple[list[Job], list[Job]]:
    if not resume:
        return engine.jobs(limit=JOB_LIST_LIMIT), []
    engine.abandon_stale_demo_jobs()
    return engine.jobs(limit=JOB_LIST_LIMIT), engine.resumable_jobs()


def _enqueue(engine: Engine, batch: BatchReport, options: JobOptions) -> list[Job]:
    engine.require_key()
    return engine.enqueue(batch, options)


def _retry(engine: Engine, job_id: int, confirm: bool) -> Job:
    job = engine.store.get(job_id)
    if job is not None and job.state.is_active:
        return job  # left active by an error: simply run it again
    return engine.retry(job_id, confirm_possible_duplicate=confirm)


def _as_kling_error(error: object) -> api_errors.KlingError:
    if isinstance(error, api_errors.KlingError):
        return error
    return api_errors.KlingError(
        f"Something went wrong inside the app ({type(error).__name__}).",
        fix="Try again. If it keeps happening, send the log file (Help ▸ Open log folder).")
