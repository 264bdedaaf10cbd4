"""The one shape for background work in the window.

``TaskRunner`` owns a bounded ``QThreadPool``. ``run(fn, *args, on_done=...,
on_failed=...)`` calls ``fn`` on the pool and hands its result (or the exception
it raised) back to the main thread through queued signals, so callbacks may touch
widgets while ``fn`` never does.

A ``key`` names a kind of request ("check the form", "decode this preview"):
a newer request with the same key supersedes the older one, whose result is
then dropped (and whose cancel event is set, for functions that look at it).
``shutdown(timeout_ms)`` drops every pending callback and waits for the pool,
with a bound; the window calls it on quit and tests call it at teardown.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kling_desktop.api.errors import KlingError

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
FailedCallback = Callable[[BaseException], None]
ProgressCallback = Callable[[int, int], None]


@dataclass(eq=False)
class Ticket:
    """One submitted call. ``cancel()`` drops its result and sets ``cancel_event``."""

    id: int
    key: str | None
    on_done: DoneCallback | None
    on_failed: FailedCallback | None
    on_progress: ProgressCallback | None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    dropped: bool = False

    def cancel(self) -> None:
        self.dropped = True
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.dropped


class _Relay(QObject):
    """Lives in the main thread; workers emit, Qt queues the call over."""

    finished = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object, object)  # object: byte counts may pass 2**31


class _Call(QRunnable):
    def __init__(self, relay: _Relay, ticket_id: int, fn: Callable[..., Any],
                 args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._ticket_id = ticket_id
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # every failure goes back to the main thread
            self._relay.failed.emit(self._ticket_id, exc)
        else:
            self._relay.finished.emit(self._ticket_id, result)
        finally:
            # Drop references on the worker thread: the relay outlives the call.
            self._fn = _noop
            self._args = ()
            self._kwargs = {}


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


class TaskRunner(QObject):
    """Runs plain functions on a bounded pool; results come back on the main thread."""

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, max_threads))
        self._relay = _Relay(self)
        self._relay.finished.connect(self.on_relay_finished)
        self._relay.failed.connect(self.on_relay_failed)
        self._relay.progress.connect(self.on_relay_progress)
        self._ids = itertools.count(1)
        self._tickets: dict[int, Ticket] = {}
        self._latest: dict[str, int] = {}
        self._closed = False

    # -- submitting ---------------------------------------------------------------------------

    def run(self, fn: Callable[..., Any], *args: Any,
            on_done: DoneCallback | None = None,
            on_failed: FailedCallback | None = None,
            on_progress: ProgressCallback | None = None,
            key: str | None = None,
            pass_cancel: bool = False,
            **kwargs: Any) -> Ticket:
        """Call ``fn(*args, **kwargs)`` on the pool.

        ``on_done(result)`` / ``on_failed(exception)`` run on the main thread, unless
        the ticket was cancelled or superseded by a newer call with the same ``key``.
        With ``on_progress``, ``fn`` receives ``progress=callable(done, total)``; with
        ``pass_cancel``, it receives ``cancel=threading.Event``.
        """
        if self._closed:
            raise RuntimeError("the task runner was shut down")
        ticket = Ticket(next(self._ids), key, on_done, on_failed, on_progress)
        if key is not None:
            older = self._latest.get(key)
            if older is not None and older in self._tickets:
                self._tickets[older].cancel()
            self._latest[key] = ticket.id
        self._tickets[ticket.id] = ticket
        if on_progress is not None:
            kwargs["progress"] = self._progress_emitter(ticket.id)
        if pass_cancel:
            kwargs["cancel"] = ticket.cancel_event
        self._pool.start(_Call(self._relay, ticket.id, fn, args, kwargs))
        return ticket

    def add_threads(self, count: int) -> None:
        """Make room for ``count`` more calls at once (a long-running user such as the job
        scheduler keeps one thread busy for as long as the window lives)."""
        self._pool.setMaxThreadCount(self._pool.maxThreadCount() + max(0, count))

    def cancel(self, key: str) -> None:
        """Drop the result of the latest call made with ``key`` (if still running)."""
        ticket_id = self._latest.pop(key, None)
        if ticket_id is not None and ticket_id in self._tickets:
            self._tickets[ticket_id].cancel()

    def pending(self, key: str | None = None) -> int:
        """How many calls (with this key, if given) have not reported back yet."""
        return sum(1 for t in self._tickets.values()
                   if not t.dropped and (key is None or t.key == key))

    def is_idle(self) -> bool:
        return not self._tickets and self._pool.activeThreadCount() == 0

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop every pending callback and wait (bounded) for running calls.

        Returns True when the pool is idle. Calls not yet started are discarded.
        """
        self._closed = True
        for ticket in self._tickets.values():
            ticket.cancel()
        self._pool.clear()
        finished = self._pool.waitForDone(max(0, timeout_ms))
        self._tickets.clear()
        self._latest.clear()
        if not finished:
            log.warning("background work still running after %d ms at shutdown", timeout_ms)
        return finished

    @property
    def closed(self) -> bool:
        return self._closed

    # -- delivering (main thread) -------------------------------------------------------------

    def _take(self, ticket_id: int) -> Ticket | None:
        ticket = self._tickets.pop(ticket_id, None)
        if ticket is None:
            return None
        if ticket.key is not None and self._latest.get(ticket.key) == ticket.id:
            del self._latest[ticket.key]
        if ticket.dropped:
            return None
        return ticket

    @Slot(int, object)
    def on_relay_finished(self, ticket_id: int, result: object) -> None:
        ticket = self._take(ticket_id)
        if ticket is not None and ticket.on_done is not None and _alive(ticket.on_done):
            ticket.on_done(result)

    @Slot(int, object)
    def on_relay_failed(self, ticket_id: int, error: object) -> None:
        ticket = self._take(ticket_id)
        if not isinstance(error, BaseException):  # pragma: no cover - the relay only sends these
            return
        if ticket is None:
            return
        if not isinstance(error, KlingError):
            log.error("background task failed", exc_info=error)
        if ticket.on_failed is not None and _alive(ticket.on_failed):
            ticket.on_failed(error)

    @Slot(int, object, object)
    def on_relay_progress(self, ticket_id: int, done: object, total: object) -> None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket.dropped or ticket.on_progress is None:
            return
        if _alive(ticket.on_progress) and isinstance(done, int) and isinstance(total, int):
            ticket.on_progress(done, total)

    def _progress_emitter(self, ticket_id: int) -> ProgressCallback:
        relay = self._relay

        def progress(done: int, total: int) -> None:
            relay.progress.emit(ticket_id, int(done), int(total))

        return progress


def _alive(callback: Callable[..., Any]) -> bool:
    """False when the callback is a method of a Qt object that was already deleted."""
    while isinstance(callback, partial):
        callback = callback.func
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject):
        return shiboken6.isValid(owner)
    return True
