"""The window's face of the job service: relays its reports to the main thread.

Every rule of a job's life lives in :class:`kling_desktop.engine.service.JobService`;
this controller only starts it on the window's one background mechanism (the
:class:`TaskRunner`'s pool, which the window owns and shuts down with a bound),
and turns its reports, which arrive on worker threads, into signals on the main
thread:

- snapshots are coalesced: a worker only records the newest snapshot of each
  job, and the main thread takes them in one go at most every
  ``UPDATE_INTERVAL_MS``, so two hundred busy jobs cannot flood the event loop;
- a job waiting for the network is announced with :attr:`JobController.job_offline`
  (from the job's own ``blocked_on`` / ``next_poll_at``), and ``job_online`` when
  it moves again;
- store operations the user triggers (queue, retry, cancel, load the list) run on
  the same pool, never on the main thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kling_desktop.api import errors as api_errors
from kling_desktop.engine.batch import BatchReport, JobOptions
from kling_desktop.engine.jobs import BlockedOn, Job, JobState
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.service import JobService, Note
from kling_desktop.i18n import _
from kling_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: How many jobs the window lists (newest first); older ones stay in the store.
JOB_LIST_LIMIT = 500

UPDATE_INTERVAL_MS = 250      # progress reaches the window at most this often
TRANSFERS = 3                 # uploads/downloads at once
API_CALLS = 4                 # polls/creates at once
_OFFLINE_KINDS = (BlockedOn.NETWORK, BlockedOn.LINK)


@dataclass(frozen=True)
class OfflineInfo:
    """Why a job waits, and until when (``time.monotonic()`` seconds)."""

    retry_at: float
    reason: str          # "offline" | "busy"
    message: str

    def seconds_left(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        return max(0, round(self.retry_at - now))


def offline_info(job: Job) -> OfflineInfo | None:
    """The wait of a job the service could not reach the provider for, if any."""
    if not job.state.is_active or job.blocked_on not in _OFFLINE_KINDS:
        return None
    left = max(0.0, (job.next_poll_at or time.time()) - time.time())
    reason = "offline" if job.blocked_on is BlockedOn.NETWORK else "busy"
    return OfflineInfo(time.monotonic() + left, reason, job.error_message or "")


class _Relay(QObject):
    """Lives in the main thread; workers emit on it and Qt queues the calls over."""

    updates_ready = Signal()


class _PoolExecutor:
    """The job service's executor: the window's TaskRunner pool."""

    def __init__(self, tasks: TaskRunner) -> None:
        self._tasks = tasks

    def submit(self, fn: Callable[[], None], /) -> object:
        if self._tasks.closed:
            return None
        return self._tasks.run(fn)


class JobController(QObject):
    """Relays the job service to the window, in signals on the main thread.

    Signals (main thread):
    - ``jobs_loaded(list[Job])``: the job list read at start (newest first);
    - ``load_failed(KlingError)``: the job list could not be read;
    - ``job_updated(Job)`` / ``jobs_updated(list[Job])``: newer snapshots;
    - ``job_finished(Job)``: a job reached a final state (saved, failed, ...);
    - ``job_failed(int, KlingError)``: acting on a job raised an error;
    - ``job_offline(int, OfflineInfo)`` / ``job_online(int)``: waiting for the network;
    - ``job_note(int, str)``: what the service says beyond the store ("3rd in line");
    - ``submitted(list[Job])`` / ``submit_failed(KlingError)``: the outcome of ``submit``;
    - ``active_count_changed(int)``.
    """

    jobs_loaded = Signal(list)
    load_failed = Signal(object)
    job_updated = Signal(object)
    jobs_updated = Signal(list)
    job_finished = Signal(object)
    job_failed = Signal(int, object)
    job_offline = Signal(int, object)
    job_online = Signal(int)
    job_note = Signal(int, str)
    submitted = Signal(list)
    submit_failed = Signal(object)
    active_count_changed = Signal(int)

    def __init__(self, engine: Engine, tasks: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._tasks = tasks
        # The scheduler's loop holds one thread of the pool; steps take the rest.
        tasks.add_threads(1 + TRANSFERS + API_CALLS)
        self.service = JobService(
            engine, holder="the window", executor=_PoolExecutor(tasks),
            on_update=self._record_update, on_note=self._record_note,
            on_rest=self._record_rest, transfers=TRANSFERS, api_calls=API_CALLS)
        self._relay = _Relay(self)
        self._relay.updates_ready.connect(self.on_relay_updates_ready)
        self._pending: dict[int, Job] = {}
        self._notes: dict[int, Note] = {}
        self._rested: list[Job] = []
        self._pending_lock = threading.Lock()
        self._flush_posted = False
        self._followed: set[int] = set()
        self._offline: dict[int, OfflineInfo] = {}
        self._closed = False
        self._last_count = 0
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(UPDATE_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._last_flush = 0.0

    # -- queries -----------------------------------------------------------------------------

    def active_count(self) -> int:
        """Unfinished jobs this window follows."""
        return len(self._followed)

    def is_running(self, job_id: int) -> bool:
        return job_id in self._followed

    def offline_info(self, job_id: int) -> OfflineInfo | None:
        return self._offline.get(job_id)

    def set_max_concurrent(self, _count: int) -> None:
        """The cap lives in the engine's settings; let the scheduler look again."""
        self.service.poke()

    # -- actions -----------------------------------------------------------------------------

    def resume_all(self) -> None:
        """Read the job list on a worker, then follow every unfinished job."""
        self.load_jobs(resume=True)

    def load_jobs(self, *, resume: bool, then: Callable[[], None] | None = None) -> None:
        """Read the job list on a worker (``jobs_loaded``); with ``resume``, follow the
        unfinished ones. Without ``resume`` (no key yet) nothing is run or changed.
        ``then`` is called (on the main thread) once the read is over, read or not."""
        self._tasks.run(_load_jobs, self.engine, self.service, resume,
                        on_done=partial(self._on_loaded, then=then),
                        on_failed=partial(self._on_load_failed, then=then))

    def submit(self, batch: BatchReport, options: JobOptions,
               origins: Mapping[str, Origin] | None = None) -> None:
        """Ask the service to check the key and the library, record one job per pair and
        follow them (on a worker). ``origins``: where trimmed or converted inputs came
        from, by canonical source (the jobs remember them)."""
        self._tasks.run(self.service.submit, batch, options, origins=dict(origins or {}),
                        on_done=self._on_enqueued, on_failed=self._on_submit_failed)

    def retry(self, job_id: int, confirm_possible_duplicate: bool = False) -> None:
        """Carry a job on again; the service decides how (never a second paid task)."""
        self._tasks.run(self.service.retry, job_id,
                        confirm_possible_duplicate=confirm_possible_duplicate,
                        on_done=self._on_acted,
                        on_failed=lambda exc: self._on_action_failed(job_id, exc))

    def run_now(self, job_id: int) -> None:
        """Skip the wait of a job that waits for the provider."""
        self.service.poke(job_id)

    def key_changed(self) -> None:
        """A key was saved: jobs waiting for one look again now."""
        self.service.poke()

    def cancel(self, job_id: int) -> None:
        """Stop a job (one with a task at the provider is no longer followed)."""
        self._tasks.run(self.service.cancel, job_id, on_done=self._on_acted,
                        on_failed=lambda exc: self._on_action_failed(job_id, exc))

    def shutdown(self, timeout_ms: int = 5000, *, stop_jobs: bool = False) -> bool:
        """Stop following jobs and wait for the steps in flight, at most ``timeout_ms``.

        Jobs stay as they are in the store (they resume on the next start). With
        ``stop_jobs`` every job that has not been sent yet is stopped first; jobs
        already at the provider are kept to be followed next time.
        """
        if self._closed:
            return True
        self._closed = True
        self._flush_timer.stop()
        if stop_jobs:
            self.service.stop_unsent()
        done = self.service.close(timeout=max(0, timeout_ms) / 1000)
        if not done:
            log.warning("job steps still busy after %d ms at shutdown", timeout_ms)
        return done

    # -- reports from worker threads --------------------------------------------------------

    def _post(self) -> None:
        """Called with the pending lock held."""
        if self._flush_posted:
            return
        self._flush_posted = True
        self._relay.updates_ready.emit()

    def _record_update(self, job: Job) -> None:
        with self._pending_lock:
            self._pending[job.id] = job
            self._post()

    def _record_note(self, note: Note) -> None:
        with self._pending_lock:
            self._notes[note.job_id] = note
            self._post()

    def _record_rest(self, job: Job) -> None:
        with self._pending_lock:
            self._rested.append(job)
            self._post()

    # -- delivery (main thread) -----------------------------------------------------------

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
        with self._pending_lock:
            jobs = list(self._pending.values())
            notes = list(self._notes.values())
            rested = self._rested
            self._pending.clear()
            self._notes.clear()
            self._rested = []
            self._flush_posted = False
        if self._closed:
            return
        if jobs:
            self._publish(jobs)
        for note in notes:
            self.job_note.emit(note.job_id, note.text)
        for job in rested:
            self._followed.discard(job.id)
            self._set_offline(job.id, None)
            if job.state.is_terminal:
                self.job_finished.emit(job)
        self._count_changed()

    def _publish(self, jobs: list[Job]) -> None:
        for job in jobs:
            if not job.state.is_active:
                self._followed.discard(job.id)
            self._set_offline(job.id, offline_info(job))
        self.jobs_updated.emit(jobs)
        for job in jobs:
            self.job_updated.emit(job)

    def _set_offline(self, job_id: int, info: OfflineInfo | None) -> None:
        if info is not None:
            self._offline[job_id] = info
            self.job_offline.emit(job_id, info)
        elif self._offline.pop(job_id, None) is not None:
            self.job_online.emit(job_id)

    def _count_changed(self) -> None:
        count = self.active_count()
        if count != self._last_count:
            self._last_count = count
            self.active_count_changed.emit(count)

    # -- results of store operations (main thread) ------------------------------------------

    def _on_loaded(self, result: object, *, then: Callable[[], None] | None = None) -> None:
        if self._closed or not isinstance(result, tuple):
            return
        jobs, followed = result
        self._followed.update(job.id for job in followed)
        self.jobs_loaded.emit(list(jobs))
        self._count_changed()
        if then is not None:
            then()

    def _on_load_failed(self, error: BaseException, *,
                        then: Callable[[], None] | None = None) -> None:
        if not self._closed:
            self.load_failed.emit(_as_kling_error(error))
            if then is not None:
                then()

    def _on_enqueued(self, jobs: object) -> None:
        assert isinstance(jobs, list)
        if self._closed:
            return
        self._followed.update(job.id for job in jobs)
        self.submitted.emit(jobs)
        self._publish(list(jobs))
        self._count_changed()

    def _on_submit_failed(self, error: BaseException) -> None:
        if not self._closed:
            self.submit_failed.emit(_as_kling_error(error))

    def _on_acted(self, job: object) -> None:
        assert isinstance(job, Job)
        if self._closed:
            return
        if job.state.is_active:
            self._followed.add(job.id)
        self._publish([job])
        if job.state.is_terminal:
            self._followed.discard(job.id)
            self.job_finished.emit(job)
        self._count_changed()

    def _on_action_failed(self, job_id: int, error: BaseException) -> None:
        if not self._closed:
            self.job_failed.emit(job_id, _as_kling_error(error))


# -- worker functions (no Qt) -------------------------------------------------------------------

def _load_jobs(engine: Engine, service: JobService, resume: bool) -> tuple[list[Job], list[Job]]:
    if not resume:
        return engine.jobs(limit=JOB_LIST_LIMIT), []
    followed = service.follow_unfinished()
    return engine.jobs(limit=JOB_LIST_LIMIT), followed


def _as_kling_error(error: object) -> api_errors.KlingError:
    if isinstance(error, api_errors.KlingError):
        return error
    return api_errors.KlingError(
        _("Something went wrong inside the app ({kind}).").format(kind=type(error).__name__),
        fix=_("Try again. If it keeps happening, send the log file (Help ▸ Open log "
              "folder)."))


__all__ = ["JOB_LIST_LIMIT", "JobController", "JobState", "OfflineInfo", "offline_info"]
