"""The engine opens the job store and the library when first needed (the window: on a
worker after its first paint), once, whatever thread asks first; the command line opens
them at once. Real SQLite files in the test's data folder, real threads."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from kling_desktop.engine.runner import Engine
from kling_desktop.engine.store import SCHEMA_VERSION, DatabaseTooNewError, JobStore
from kling_desktop.paths import app_paths


def test_a_lazy_engine_opens_its_store_once_for_every_thread() -> None:
    paths = app_paths().ensure()
    engine = Engine(paths=paths, open_store=False)
    try:
        assert not engine.store_is_open
        assert not paths.database.exists()          # nothing read or written yet
        seen: list[JobStore] = []
        start = threading.Barrier(8)

        def first_use() -> None:
            start.wait()
            seen.append(engine.store)

        threads = [threading.Thread(target=first_use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(seen) == 8
        assert all(store is seen[0] for store in seen)
        assert engine.store_is_open
        assert paths.database.is_file()
        assert engine.library.root == engine.settings.library_path(paths)
        assert engine.open_store() is seen[0]
    finally:
        engine.close()


def test_a_database_from_a_newer_version_is_refused_when_opened_and_left_alone() -> None:
    paths = app_paths().ensure()
    conn = sqlite3.connect(paths.database)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = paths.database.read_bytes()

    with pytest.raises(DatabaseTooNewError):     # the command line: at once
        Engine(paths=paths)
    engine = Engine(paths=paths, open_store=False)   # the window: when it opens the store
    try:
        with pytest.raises(DatabaseTooNewError):
            engine.open_store()
        assert not engine.store_is_open
    finally:
        engine.close()
    assert paths.database.read_bytes() == before


def test_a_closed_engine_does_not_open_its_store_again() -> None:
    paths = app_paths().ensure()
    engine = Engine(paths=paths, open_store=False)
    engine.close()                                  # never opened: nothing to close
    with pytest.raises(RuntimeError, match="closed"):
        engine.open_store()
    assert not paths.database.exists()


def test_unfinished_demo_jobs_of_an_earlier_session_are_closed_and_nothing_else() -> None:
    """The engine opens the job module only when it needs it (the window's first paint goes
    without it): closing an earlier demo session's jobs still works, and touches neither
    this session's demo jobs nor a real one (which may be a paid task at the provider)."""
    from kling_desktop.engine.jobs import JobSpec, JobState

    engine = Engine(paths=app_paths().ensure())
    try:
        spec = JobSpec(image="/pics/a.png", video="https://cdn.example.com/dance.mp4")
        stale = engine.store.add_job(spec, base_url="demo:", demo=True)
        current = engine.store.add_job(spec, base_url="demo:", demo=True)
        real = engine.store.add_job(spec, base_url="https://api.example.com", demo=False)
        engine.remember_session_jobs([current.id])

        closed = engine.abandon_stale_demo_jobs()

        assert [job.id for job in closed] == [stale.id]
        now = {job.id: job for job in engine.store.list_jobs()}
        assert now[stale.id].state is JobState.CANCELLED
        assert now[stale.id].error_message == "Demo jobs stop when the demo session ends."
        assert now[current.id].state is JobState.QUEUED
        assert now[real.id].state is JobState.QUEUED
    finally:
        engine.close()
