"""The engine: what both faces share (paths, settings, job store, library, provider clients).

The rules of a job's life (what may be sent, retried, resumed) live in
:mod:`kling_desktop.engine.service`; this module only provides the pieces the
service works with: the store, the library, one client per provider (each with
that provider's own key), the pacing of polls and the checks that need no input.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kling_desktop.api import errors as api_errors
from kling_desktop.api.links import validate_base_url
from kling_desktop.engine.settings import Settings, load_settings
from kling_desktop.i18n import N_, _
from kling_desktop.paths import AppPaths, app_paths

if TYPE_CHECKING:
    import httpx

    from kling_desktop.api.client import KlingClient, RetryPolicy
    from kling_desktop.engine.jobs import Job
    from kling_desktop.engine.library import Library
    from kling_desktop.engine.store import JobStore

log = logging.getLogger(__name__)

ENV_BASE_URL = "KLING_BASE_URL"
DEMO_BASE_URL = "demo:"  # jobs made in demo mode; their simulator lives only as long as the app

#: (a forward reference: the job module loads with the job store, after the window's
#: first paint)
JobCallback = Callable[["Job"], None]


class NoApiKeyError(api_errors.AuthenticationError):
    default_message = N_("No API key is set up.")
    default_fix = N_(
        "Paste your provider's API key in Settings (it is kept in the system keyring), "
        "or set KLING_API_KEY for this session. Or try the demo, which needs no key."
    )


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
        check_address: bool = True,
        open_store: bool = True,
    ) -> None:
        """``check_address=False`` checks the provider address on first use instead of
        now (the window starts without the URL parser, httpx; the first use is the key
        check on a worker after the first paint). ``open_store=False`` opens the job
        store and the library on first use, or when :meth:`open_store` is called (the
        window does it on a worker after its first paint); otherwise now, and a job
        database that cannot be used is raised here."""
        self.paths = (paths or app_paths()).ensure()
        self.settings = settings if settings is not None else load_settings(
            self.paths.settings_file)
        self.demo_base_url = demo_base_url
        #: The provider address as configured, not checked yet (see :attr:`base_url`).
        self.address = (demo_base_url or base_url or os.environ.get(ENV_BASE_URL, "").strip()
                        or self.settings.base_url)
        self._base_url: str | None = None
        if check_address:
            self._base_url = validate_base_url(self.address)
        self._explicit_key = api_key
        self._http = http
        self._owns_http = http is None
        self._retry = retry
        self._clients: dict[str, KlingClient] = {}
        self._lock = threading.Lock()
        self._store: JobStore | None = None
        self._library: Library | None = None
        self._store_lock = threading.Lock()
        self._closed = False
        self._session_jobs: set[int] = set()  # jobs enqueued by this engine (demo bookkeeping)
        self._legacy_checked = False
        if open_store:
            self.open_store()

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            if self._http is not None and self._owns_http:
                self._http.close()
                self._http = None
        with self._store_lock:
            self._closed = True
            if self._store is not None:
                self._store.close()

    # -- the job store and the library ---------------------------------------

    def open_store(self) -> JobStore:
        """Open the job store and the library, once (from any thread); the store.

        Raises what :class:`JobStore` raises for a job database that cannot be used (one
        from a newer version of the app, a folder that cannot be written).
        """
        with self._store_lock:
            if self._store is None:
                if self._closed:
                    raise RuntimeError("the engine is closed")
                from kling_desktop.engine.library import Library
                from kling_desktop.engine.store import JobStore

                store = JobStore(self.paths.database)
                self._library = Library(self.settings.library_path(self.paths), store)
                self._store = store
            return self._store

    @property
    def store_is_open(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> JobStore:
        """The job store (opened on first use, see :meth:`open_store`)."""
        store = self._store
        return store if store is not None else self.open_store()

    @property
    def library(self) -> Library:
        """The results library in the settings' folder (opened with the store)."""
        library = self._library
        if library is None:
            self.open_store()
            library = self._library
            assert library is not None
        return library

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """The provider address, checked (https, or http on this computer only); raises
        InsecureBaseURLError otherwise."""
        if self._base_url is None:
            self._base_url = validate_base_url(self.address)
        return self._base_url

    @property
    def demo(self) -> bool:
        return self.demo_base_url is not None

    # -- planning ------------------------------------------------------------

    def remember_session_jobs(self, job_ids: Iterable[int]) -> None:
        """Jobs made by this engine (a demo session keeps only its own demo jobs)."""
        self._session_jobs.update(job_ids)

    def apply_settings(self, settings: Settings) -> None:
        """Point a running engine at newly saved settings (address, library, pacing, proxy)."""
        proxy_changed = settings.proxy != self.settings.proxy
        self.settings = settings
        if not self.demo:
            address = os.environ.get(ENV_BASE_URL, "").strip() or settings.base_url
            self._base_url = validate_base_url(address)
            self.address = address
        from kling_desktop.engine.library import Library

        store = self.store
        with self._store_lock:
            self._library = Library(settings.library_path(self.paths), store)
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
        from kling_desktop.engine.jobs import JobState

        done = []
        for job in self.store.unfinished():
            if job.demo and job.id not in self._session_jobs:
                done.append(self.store.transition(
                    job.id, JobState.CANCELLED,
                    message="demo session ended",
                    error_message=_("Demo jobs stop when the demo session ends."),
                    error_fix=_("Start the demo again to make a new one.")))
        return done

    # -- internals -----------------------------------------------------------

    def _get(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise api_errors.NotFoundError(
                _("There is no job {job_id} on this computer.").format(job_id=job_id),
                fix=_("List your jobs with `kling-desktop jobs`."))
        return job

    def client_for(self, job: Job) -> KlingClient:
        if job.demo or job.base_url == DEMO_BASE_URL:
            if self.demo_base_url is None:
                raise api_errors.NetworkError(
                    _("This demo job belonged to a demo session that has ended."),
                    fix=_("Start the demo again to make a new one."))
            base_url = self.demo_base_url
        else:
            base_url = job.base_url
        with self._lock:
            client = self._clients.get(base_url)
            if client is None:
                # Made when a job first needs it: the window opens without the network stack.
                from kling_desktop.api.client import KlingClient, make_http_client

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
            from kling_desktop.engine.library import LibraryWriteError

            raise LibraryWriteError(
                # TRANSLATORS: {reason} is the system's own words, e.g. "Permission denied".
                _("The library folder {folder} cannot be written to ({reason}); finished "
                  "videos could not be saved.").format(folder=root,
                                                       reason=exc.strerror or exc),
                fix=_("Choose another library folder in Settings (or fix this folder's "
                      "permissions), then try again.")) from exc

    def require_key(self) -> None:
        """Raise NoApiKeyError now, before any job is recorded, when no key is set up."""
        if not self.demo:
            self._key_for(self.base_url)

    def _key_for(self, base_url: str) -> str:
        """The key of ``base_url``'s provider, and no other: a key is never sent elsewhere."""
        if self.demo_base_url is not None and base_url == self.demo_base_url:
            return self._explicit_key or "demo-key"
        if self._explicit_key is not None and _same_origin(base_url, self.base_url):
            return self._explicit_key
        from kling_desktop.engine.secrets import get_api_key  # the keyring: when asked

        self._migrate_legacy_key()
        key = get_api_key(base_url=base_url)
        if not key:
            raise NoApiKeyError(
                _("No API key is set up for {provider}.").format(
                    provider=provider_host(base_url)),
                fix=_("Paste the key for {provider} in Settings (it is kept in the system "
                      "keyring); the job waits until then. Or try the demo, which needs no "
                      "key.").format(provider=provider_host(base_url)))
        return key

    def _migrate_legacy_key(self) -> None:
        """Once per process: a key stored before keys had a provider belongs to the
        provider this install was using (its settings' address)."""
        if self._legacy_checked or self.demo:
            return
        self._legacy_checked = True
        from kling_desktop.engine.secrets import migrate_legacy_key

        try:
            if migrate_legacy_key(self.base_url):
                log.info("moved the stored API key to %s", provider_host(self.base_url))
        except (api_errors.KlingError, ValueError) as exc:
            log.warning("the stored API key could not be moved to its provider: %s",
                        type(exc).__name__)

    def pacing(self) -> Pacing:
        return Pacing(self.settings.poll_min_interval, self.settings.poll_max_interval)


def provider_host(base_url: str) -> str:
    """The provider's name for messages ("api.foxapi.cc"; "the demo" for demo jobs)."""
    if base_url == DEMO_BASE_URL:
        return _("the demo")
    from kling_desktop.engine.secrets import provider_name

    try:
        return provider_name(base_url)
    except ValueError:
        return _("the provider")


def _same_origin(a: str, b: str) -> bool:
    from kling_desktop.engine.secrets import provider_origin

    try:
        return provider_origin(a) == provider_origin(b)
    except ValueError:
        return False
