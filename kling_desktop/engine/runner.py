"""The engine: one job carried through upload -> create -> poll -> download -> library.

Both faces drive this module: the command line calls :meth:`Engine.run_job`
from a thread pool, the window from its QThreadPool workers. Every transition
is written to the job store *before* the next network step, so a kill at any
moment resumes correctly:

- killed while queued or uploading: uploads are redone (they are free) and the
  task is created once;
- killed after ``SUBMITTING`` was recorded but before the task id came back:
  the create call may have reached the provider, so the job becomes
  ``UNCERTAIN`` and the user decides (never re-created automatically);
- killed after the task id was recorded: the task is polled, never re-created;
- killed while downloading: the download restarts (the link is valid for 24 h
  after completion; after that the job is marked ``EXPIRED``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from kling_desktop.api import errors as api_errors
from kling_desktop.api.client import KlingClient, RetryPolicy, make_http_client, validate_base_url
from kling_desktop.api.models import GenerationRequest, Task, TaskStatus
from kling_desktop.engine.batch import BatchReport, JobOptions, check_batch, job_specs
from kling_desktop.engine.jobs import RESULT_LINK_LIFETIME, FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.library import Library, LibraryWriteError
from kling_desktop.engine.secrets import get_api_key
from kling_desktop.engine.settings import Settings, load_settings
from kling_desktop.engine.store import JobStore, owner_id
from kling_desktop.paths import AppPaths, app_paths

log = logging.getLogger(__name__)

ENV_BASE_URL = "KLING_BASE_URL"
DEMO_BASE_URL = "demo:"  # jobs made in demo mode; their simulator lives only as long as the app

JobCallback = Callable[[Job], None]


class NoApiKeyError(api_errors.AuthenticationError):
    default_message = "No API key is set up."
    default_fix = (
        "Paste your provider's API key in Settings (it is kept in the system keyring), "
        "or set KLING_API_KEY for this session. Or try the demo, which needs no key."
    )


class JobNotRetryableError(api_errors.KlingError):
    default_message = "This job cannot be sent again as it is."
    default_fix = ""


@dataclass(frozen=True)
class Pacing:
    """How often a running task is polled: paced by the provider's estimate, backing off."""

    min_interval: float
    max_interval: float

    def first_delay(self, estimated_time: float | None) -> float:
        if estimated_time is None:
            return self.min_interval
        return self._clamp(estimated_time / 6.0)

    def next_delay(self, previous: float, *, progressed: bool, remaining: float | None) -> float:
        if remaining is not None and progressed:
            return self._clamp(min(remaining / 3.0, max(previous, self.min_interval)))
        return self._clamp(previous * (1.0 if progressed else 1.5))

    def _clamp(self, value: float) -> float:
        return max(self.min_interval, min(self.max_interval, value))


class Engine:
    """The facade the command line and the window share."""

    def __init__(
        self,
        *,
        paths: AppPaths | None = None,
        settings: Settings | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        demo_base_url: str | None = None,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.paths = (paths or app_paths()).ensure()
        self.settings = settings if settings is not None else load_settings(
            self.paths.settings_file)
        self.demo_base_url = demo_base_url
        self.base_url = validate_base_url(
            demo_base_url or base_url or os.environ.get(ENV_BASE_URL, "").strip()
            or self.settings.base_url
        )
        self._explicit_key = api_key
        self._http = http
        self._owns_http = http is None
        self._retry = retry
        self._clients: dict[str, KlingClient] = {}
        self._lock = threading.Lock()
        self.store = JobStore(self.paths.database)
        self.library = Library(self.settings.library_path(self.paths), self.store)
        self.owner = owner_id()
        self._session_jobs: set[int] = set()  # jobs enqueued by this engine (demo bookkeeping)

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            if self._http is not None and self._owns_http:
                self._http.close()
                self._http = None
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def demo(self) -> bool:
        return self.demo_base_url is not None

    # -- planning ------------------------------------------------------------

    def check(self, images: list[str], videos: list[str], options: JobOptions) -> BatchReport:
        return check_batch(images, videos, options)

    def enqueue(self, batch: BatchReport, options: JobOptions) -> list[Job]:
        """Record one QUEUED job per pair. Nothing is sent yet."""
        return [self.enqueue_spec(spec) for spec in job_specs(batch, options)]

    def enqueue_spec(self, spec: JobSpec) -> Job:
        base_url = DEMO_BASE_URL if self.demo else self.base_url
        job = self.store.add_job(spec, base_url=base_url, demo=self.demo)
        self._session_jobs.add(job.id)
        return job

    def apply_settings(self, settings: Settings) -> None:
        """Point a running engine at newly saved settings (address, library, pacing, proxy)."""
        proxy_changed = settings.proxy != self.settings.proxy
        self.settings = settings
        if not self.demo:
            self.base_url = validate_base_url(
                os.environ.get(ENV_BASE_URL, "").strip() or settings.base_url)
        self.library = Library(settings.library_path(self.paths), self.store)
        with self._lock:
            # New clients pick up a new key, address or proxy; running calls finish on the old.
            self._clients.clear()
            if proxy_changed and self._owns_http:
                self._http = None

    def jobs(self, *, limit: int | None = None) -> list[Job]:
        return self.store.list_jobs(limit=limit)

    def resumable_jobs(self) -> list[Job]:
        """Unfinished jobs this engine can carry on (demo jobs only in a demo session)."""
        return [job for job in self.store.unfinished() if job.demo == self.demo]

    def abandon_stale_demo_jobs(self) -> list[Job]:
        """Demo tasks live in the demo simulator's memory: they end with the session.

        Every unfinished demo job not enqueued by this engine belongs to an earlier
        session (its simulator is gone), so it is closed with an explanation.
        """
        done = []
        for job in self.store.unfinished():
            if job.demo and job.id not in self._session_jobs:
                done.append(self.store.transition(
                    job.id, JobState.CANCELLED,
                    message="demo session ended",
                    error_message="Demo jobs stop when the demo session ends.",
                    error_fix="Start the demo again to make a new one."))
        return done

    # -- user decisions ------------------------------------------------------

    def retry(self, job_id: int, *, confirm_possible_duplicate: bool = False) -> Job:
        """Queue a failed job again. An UNCERTAIN job needs the user's explicit consent."""
        job = self._get(job_id)
        if job.state is JobState.UNCERTAIN and not confirm_possible_duplicate:
            raise JobNotRetryableError(
                "The provider may already have accepted this job; sending it again could "
                "charge you twice.",
                fix="Check your provider's dashboard first; then confirm to send it again.")
        if job.state is JobState.FAILED and job.error_kind is FailureKind.CONTENT_POLICY:
            raise JobNotRetryableError(
                "The provider's content policy refused this picture or clip; the same inputs "
                "would be refused again.",
                fix="Choose another picture or motion clip and generate a new job.")
        if job.state not in (JobState.FAILED, JobState.UNCERTAIN, JobState.CANCELLED,
                             JobState.EXPIRED):
            raise JobNotRetryableError(f"Job {job.id} is {job.state.label.lower()}, not failed.")
        return self.store.transition(
            job.id, JobState.QUEUED, message="queued again by the user",
            task_id=None, provider_status=None, progress=0, transfer_done=0, transfer_total=0,
            error_kind=None, error_code=None, error_message=None, error_fix=None,
            submitted_at=None, completed_at=None, result_url=None, result_expires_at=None,
            next_poll_at=None)

    def cancel(self, job_id: int) -> Job:
        """Stop following a job locally. A task already at the provider keeps running there."""
        job = self._get(job_id)
        if job.state.is_terminal:
            return job
        fix = ("The provider may still finish and bill it." if job.task_id else "")
        return self.store.transition(job.id, JobState.CANCELLED, message="cancelled by the user",
                                     error_message="Cancelled.", error_fix=fix)

    # -- running -------------------------------------------------------------

    def run_job(
        self,
        job_id: int,
        *,
        on_update: JobCallback | None = None,
        cancel: threading.Event | None = None,
        stop_after_submit: bool = False,
    ) -> Job:
        """Carry one job as far as it can go now; return it in its resting state.

        Returns a terminal job, or an active one when ``cancel`` was set, when
        ``stop_after_submit`` and the task was created, or when another process
        runs this job. Raises :class:`api_errors.NetworkError` (job left active,
        resumable) when the provider stays unreachable after the client's retries.
        """
        cancel = cancel or threading.Event()
        if not self.store.claim(job_id, self.owner):
            log.info("job %s is being run by another process", job_id)
            return self._get(job_id)
        run = _JobRun(self, self._get(job_id), on_update, cancel)
        try:
            return run.execute(stop_after_submit=stop_after_submit)
        finally:
            self.store.release(job_id, self.owner)

    def run_jobs(
        self,
        job_ids: Iterable[int],
        *,
        on_update: JobCallback | None = None,
        cancel: threading.Event | None = None,
        stop_after_submit: bool = False,
    ) -> dict[int, Job | api_errors.KlingError]:
        """Run several jobs, at most ``settings.max_concurrent_jobs`` at once."""
        ids = list(job_ids)
        results: dict[int, Job | api_errors.KlingError] = {}
        if not ids:
            return results
        workers = max(1, min(self.settings.max_concurrent_jobs, len(ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kling-job") as pool:
            futures = {
                job_id: pool.submit(self.run_job, job_id, on_update=on_update, cancel=cancel,
                                    stop_after_submit=stop_after_submit)
                for job_id in ids
            }
            for job_id, future in futures.items():
                try:
                    results[job_id] = future.result()
                except api_errors.KlingError as exc:
                    results[job_id] = exc
        return results

    # -- internals -----------------------------------------------------------

    def _get(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise api_errors.NotFoundError(f"There is no job {job_id} on this computer.",
                                           fix="List your jobs with `kling-desktop jobs`.")
        return job

    def client_for(self, job: Job) -> KlingClient:
        if job.demo or job.base_url == DEMO_BASE_URL:
            if self.demo_base_url is None:
                raise api_errors.NetworkError(
                    "This demo job belonged to a demo session that has ended.",
                    fix="Start the demo again to make a new one.")
            base_url = self.demo_base_url
        else:
            base_url = job.base_url
        with self._lock:
            client = self._clients.get(base_url)
            if client is None:
                key = self._key_for(base_url)
                if self._http is None:
                    self._http = make_http_client(proxy=self.settings.proxy or None)
                client = KlingClient(base_url, key, http=self._http, retry=self._retry)
                self._clients[base_url] = client
            return client

    def check_library_writable(self) -> None:
        """Refuse before anything is paid for when the results could not be saved."""
        root = self.library.root
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise LibraryWriteError(
                f"The library folder {root} cannot be written to ({exc.strerror or exc}); "
                "finished videos could not be saved.",
                fix="Choose another library folder in Settings (or fix this folder's "
                    "permissions), then try again.") from exc

    def require_key(self) -> None:
        """Raise NoApiKeyError now, before any job is recorded, when no key is set up."""
        if not self.demo:
            self._key_for(self.base_url)

    def _key_for(self, base_url: str) -> str:
        if self.demo_base_url is not None and base_url == self.demo_base_url:
            return self._explicit_key or "demo-key"
        key = self._explicit_key or get_api_key()
        if not key:
            raise NoApiKeyError()
        return key

    def pacing(self) -> Pacing:
        return Pacing(self.settings.poll_min_interval, self.settings.poll_max_interval)


class _JobRun:
    """One attempt at advancing one job; owns nothing beyond the call."""

    PROGRESS_WRITE_INTERVAL = 1.0   # seconds between transfer-progress writes to SQLite
    PROGRESS_EMIT_INTERVAL = 0.1    # seconds between progress callbacks

    def __init__(self, engine: Engine, job: Job, on_update: JobCallback | None,
                 cancel: threading.Event) -> None:
        self.engine = engine
        self.store = engine.store
        self.job = job
        self.on_update = on_update
        self.cancel = cancel
        self._last_write = 0.0
        self._last_emit = 0.0

    # -- bookkeeping -----------------------------------------------------------

    def emit(self, job: Job) -> Job:
        self.job = job
        if self.on_update is not None:
            self.on_update(job)
        return job

    def move(self, state: JobState, message: str = "", **fields: object) -> Job:
        return self.emit(self.store.transition(self.job.id, state, message=message, **fields))

    def save(self, **fields: object) -> Job:
        return self.emit(self.store.update(self.job.id, **fields))

    def transfer_progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_write >= self.PROGRESS_WRITE_INTERVAL or done == total:
            self._last_write = now
            self.save(transfer_done=done, transfer_total=total)
        elif now - self._last_emit >= self.PROGRESS_EMIT_INTERVAL:
            self._last_emit = now
            self.emit(replace(self.job, transfer_done=done, transfer_total=total))

    def fail(self, exc: api_errors.KlingError, kind: FailureKind) -> Job:
        return self.move(JobState.FAILED, message=type(exc).__name__, error_kind=kind,
                         error_code=exc.code, error_message=exc.message, error_fix=exc.fix)

    # -- the state machine -----------------------------------------------------

    def execute(self, *, stop_after_submit: bool) -> Job:
        self.emit(self.job)
        while not self.cancel.is_set():
            state = self.job.state
            if state.is_terminal:
                return self.job
            if state in (JobState.QUEUED, JobState.UPLOADING):
                self.submit()
                if stop_after_submit and self.job.state is JobState.SUBMITTED:
                    return self.job
            elif state is JobState.SUBMITTING:
                self.move(
                    JobState.UNCERTAIN, message="interrupted while sending",
                    error_kind=FailureKind.UNKNOWN,
                    error_message=("The app stopped while this job was being sent, so it is "
                                   "not known whether the provider accepted (and billed) it."),
                    error_fix=("Check the task list in your provider's dashboard; send it again "
                               "only if it is not there."))
            elif state is JobState.SUBMITTED:
                if stop_after_submit:
                    return self.job
                self.poll_once()
            elif state is JobState.DOWNLOADING:
                self.download()
            self.engine.store.heartbeat(self.job.id, self.engine.owner)
        return self.job

    def submit(self) -> None:
        job = self.job
        spec = job.spec
        try:
            client = self.engine.client_for(job)
        except api_errors.AuthenticationError as exc:
            self.fail(exc, FailureKind.AUTH)
            return
        self.move(JobState.UPLOADING, message="uploading inputs", transfer_done=0,
                  transfer_total=0)
        try:
            image_url = self.upload_if_local(client, spec.image)
            video_url = self.upload_if_local(client, spec.video)
        except api_errors.CancelledError:
            return
        except api_errors.UploadRefusedError as exc:
            self.fail(exc, FailureKind.UPLOAD_REFUSED)
            return
        except api_errors.KlingError as exc:
            self.fail_from_error(exc)
            return
        if self.cancel.is_set():
            return
        request = GenerationRequest(
            image_url=image_url, video_url=video_url, model=spec.model, mode=spec.mode,
            prompt=spec.prompt, orientation=spec.orientation,
            keep_original_sound=spec.keep_original_sound)
        # Durable BEFORE sending: a crash from here on must never re-create blindly.
        self.move(JobState.SUBMITTING, message="sending the create call")
        try:
            task = client.create_task(request)
        except api_errors.SubmissionUncertainError as exc:
            self.move(JobState.UNCERTAIN, message="create call outcome unknown",
                      create_calls=self.job.create_calls + 1, error_kind=FailureKind.UNKNOWN,
                      error_code=exc.code, error_message=exc.message, error_fix=exc.fix)
            return
        except api_errors.KlingError as exc:
            # The provider said the task was NOT created (or we never reached it).
            self.fail_from_error(exc)
            return
        now = time.time()
        self.move(JobState.SUBMITTED, message=f"task {task.id} created", task_id=task.id,
                  create_calls=self.job.create_calls + 1, submitted_at=now,
                  provider_status=str(task.status), progress=task.progress,
                  estimated_time=task.estimated_time, transfer_done=0, transfer_total=0,
                  next_poll_at=now + self.engine.pacing().first_delay(task.estimated_time))
        if task.status.is_final:
            self.apply_task(task)

    def upload_if_local(self, client: KlingClient, source: str) -> str:
        if source.startswith(("https://", "http://")):
            return source
        uploaded = client.upload_file(Path(source), progress=self.transfer_progress,
                                      cancel=self.cancel)
        return uploaded.url

    def poll_once(self) -> None:
        job = self.job
        assert job.task_id is not None
        wait = (job.next_poll_at or 0.0) - time.time()
        if wait > 0 and self.cancel.wait(wait):
            return
        client = self.engine.client_for(job)
        try:
            task = client.get_task(job.task_id, cancel=self.cancel)
        except api_errors.CancelledError:
            return
        except (api_errors.AuthenticationError, api_errors.InsufficientBalanceError,
                api_errors.NotFoundError, api_errors.InvalidRequestError) as exc:
            self.fail_from_error(exc)
            return
        except api_errors.KlingError as exc:
            # Unreachable or busy after the client's retries: keep the job, let the caller decide.
            self.save(error_message=exc.message, error_fix=exc.fix)
            raise
        self.apply_task(task)

    def apply_task(self, task: Task) -> None:
        now = time.time()
        if task.status is TaskStatus.COMPLETED:
            url = task.result_url
            if not url:
                self.move(JobState.FAILED, message="completed without a result",
                          provider_status=str(task.status), error_kind=FailureKind.PROVIDER,
                          error_message=(f"The provider finished task {task.id} but sent no "
                                         "video link."),
                          error_fix="Contact the provider with the task id.")
                return
            completed = self.job.completed_at or now
            self.move(JobState.DOWNLOADING, message="provider finished", progress=100,
                      provider_status=str(task.status), result_url=url, completed_at=completed,
                      result_expires_at=completed + RESULT_LINK_LIFETIME, error_message=None,
                      error_fix=None)
        elif task.status is TaskStatus.FAILED:
            error = task.error
            message = error.message if error else f"Task {task.id} failed at the provider."
            if error is not None and error.is_content_policy:
                kind = FailureKind.CONTENT_POLICY
                fix = ("The provider's content rules refused this picture or clip. Choose "
                       "another picture or motion clip; this job will not be sent again.")
            else:
                kind = FailureKind.PROVIDER
                fix = "Try again later, or with another clip. The task id helps the provider."
            self.move(JobState.FAILED, message="task failed", provider_status=str(task.status),
                      progress=task.progress, error_kind=kind,
                      error_code=error.code if error else None, error_message=message,
                      error_fix=fix)
        elif task.status is TaskStatus.CANCELLED:
            self.move(JobState.CANCELLED, message="cancelled at the provider",
                      provider_status=str(task.status),
                      error_message="The provider cancelled this task.", error_fix="")
        else:
            pacing = self.engine.pacing()
            previous_gap = max(pacing.min_interval,
                               (now - (self.job.updated_at or now)) or pacing.min_interval)
            remaining = None
            if task.estimated_time is not None and self.job.submitted_at is not None:
                remaining = max(0.0, self.job.submitted_at + task.estimated_time - now)
            delay = pacing.next_delay(previous_gap, progressed=task.progress != self.job.progress,
                                      remaining=remaining)
            self.save(provider_status=str(task.status), progress=task.progress,
                      estimated_time=task.estimated_time, next_poll_at=now + delay,
                      error_message=None, error_fix=None)

    def download(self) -> None:
        job = self.job
        now = time.time()
        if job.result_expires_at is not None and now > job.result_expires_at:
            self.move(JobState.EXPIRED, message="result link expired",
                      error_message=("The video was finished more than 24 hours ago and its "
                                     "download link has expired before it could be saved."),
                      error_fix=("Keep the app (or `kling-desktop wait`) running until jobs are "
                                 "saved; this video has to be generated again."))
            return
        assert job.result_url is not None
        target = Path(job.output_path) if job.output_path else self.engine.library.target_path(job)
        if not job.output_path:
            self.save(output_path=str(target))
        client = self.engine.client_for(job)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            error = LibraryWriteError.from_os_error(exc, target)
            self.save(error_message=error.message, error_fix=error.fix)
            raise error from exc
        try:
            client.download(job.result_url, target, progress=self.transfer_progress,
                            cancel=self.cancel)
        except api_errors.CancelledError:
            return
        except (api_errors.NotFoundError, api_errors.AuthenticationError) as exc:
            self.move(JobState.EXPIRED, message="result link refused",
                      error_code=exc.code,
                      error_message=("The provider no longer serves this video "
                                     f"({exc.message})."),
                      error_fix="Generate it again.")
            return
        except api_errors.KlingError as exc:
            self.save(error_message=exc.message, error_fix=exc.fix)
            raise
        entry = self.engine.library.add_result(
            self.job, target, copy_inputs=self.engine.settings.keep_inputs)
        self.move(JobState.COMPLETED, message="saved to the library",
                  output_path=str(entry.video_path), transfer_done=0, transfer_total=0,
                  error_message=None, error_fix=None)

    def fail_from_error(self, exc: api_errors.KlingError) -> Job:
        return self.fail(exc, classify(exc))


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
