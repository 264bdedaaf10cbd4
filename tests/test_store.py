"""The SQLite job store, on real database files in tmp_path."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine import store as store_module
from kling_desktop.engine.jobs import FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.store import (
    SCHEMA_VERSION,
    DatabaseTooNewError,
    JobNotFoundError,
    JobStore,
    ResultRecord,
    StoreCorruptError,
    StoreDiskFullError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    known_error,
    owner_id,
)

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://api.example.com"


def spec(n: int = 0, **changes: object) -> JobSpec:
    values: dict[str, object] = {
        "image": f"/pics/character-{n}.png",
        "video": "https://cdn.example.com/dance.mp4",
        "model": Model.V2_6,
        "mode": Mode.PRO,
        "prompt": f"dance number {n}",
        "orientation": Orientation.VIDEO,
        "keep_original_sound": False,
        "billable_seconds": 7.5,
        "batch_id": "batch-1",
    }
    values.update(changes)
    return JobSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "jobs.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[JobStore]:
    with JobStore(db_path) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# ---------------------------------------------------------------- schema and pragmas


def test_new_database_has_latest_schema_in_wal_mode(store: JobStore, db_path: Path) -> None:
    assert store.schema_version == SCHEMA_VERSION
    conn = raw(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()
    assert {"jobs", "events", "results"} <= tables
    assert {"results_saved_at", "results_model", "results_mode", "results_task_id"} <= indexes


V1_SCHEMA = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image TEXT NOT NULL, video TEXT NOT NULL, model TEXT NOT NULL, mode TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '', orientation TEXT NOT NULL,
    keep_original_sound INTEGER NOT NULL DEFAULT 1, billable_seconds REAL, batch_id TEXT,
    state TEXT NOT NULL, base_url TEXT NOT NULL, demo INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, task_id TEXT, provider_status TEXT,
    progress INTEGER NOT NULL DEFAULT 0, transfer_done INTEGER NOT NULL DEFAULT 0,
    transfer_total INTEGER NOT NULL DEFAULT 0, estimated_time REAL, error_kind TEXT,
    error_code TEXT, error_message TEXT, error_fix TEXT, submitted_at REAL, completed_at REAL,
    result_url TEXT, result_expires_at REAL, output_path TEXT,
    create_calls INTEGER NOT NULL DEFAULT 0, next_poll_at REAL
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_task_id ON jobs(task_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    time REAL NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_job ON events(job_id, id);
PRAGMA user_version = 1;
"""


def test_migration_from_v1_keeps_jobs_and_events(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = raw(db_path)
    conn.executescript(V1_SCHEMA)
    conn.execute(
        "INSERT INTO jobs (image, video, model, mode, prompt, orientation, keep_original_sound,"
        " billable_seconds, state, base_url, demo, created_at, updated_at, task_id, progress,"
        " error_kind, error_message) VALUES"
        " ('a.png', 'b.mp4', 'kling-v3-motion-control', 'pro', 'wave', 'image', 0, 5.0,"
        " 'failed', 'https://api.example.com', 1, 100.0, 200.0, 'task-xyz', 40,"
        " 'balance', 'Top up')")
    conn.execute("INSERT INTO events (job_id, time, state, message)"
                 " VALUES (1, 100.0, 'queued', 'added')")
    conn.close()

    with JobStore(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        job = store.get(1)
        assert job is not None
        assert job.spec == JobSpec(image="a.png", video="b.mp4", model=Model.V3, mode=Mode.PRO,
                                   prompt="wave", orientation=Orientation.IMAGE,
                                   keep_original_sound=False, billable_seconds=5.0)
        assert (job.state, job.task_id, job.progress, job.demo) == (
            JobState.FAILED, "task-xyz", 40, True)
        assert job.error_kind is FailureKind.BALANCE
        assert [e.message for e in store.events(1)] == ["added"]
        # what the later migrations added works on the old data
        assert store.claim(1, "me:1")
        store.upsert_result(ResultRecord(video_rel="a.mp4", task_id="task-xyz"))
        assert store.count_results() == 1
        # new jobs do not reuse the old ids
        assert store.add_job(spec(), base_url=BASE, demo=False).id == 2


def test_failed_migration_is_rolled_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    JobStore(db_path).close()
    broken = (*store_module.MIGRATIONS, ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(sqlite3.OperationalError):  # a bug, not a "known error"
        JobStore(db_path)
    conn = raw(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchone() is None
    finally:
        conn.close()


def test_newer_database_is_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = raw(db_path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseTooNewError) as caught:
        JobStore(db_path)
    assert "newer version" in caught.value.message
    assert "Update the app" in caught.value.fix
    assert isinstance(caught.value, StoreError)
    assert db_path.read_bytes() == before


def test_damaged_file_is_a_known_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database at all " * 200)
    with pytest.raises(StoreCorruptError) as caught:
        JobStore(db_path)
    assert "damaged" in caught.value.message
    assert caught.value.fix


def test_locked_database_is_a_known_error_and_recoverable(db_path: Path) -> None:
    with JobStore(db_path, busy_timeout=0.2) as store:
        job = store.add_job(spec(), base_url=BASE, demo=False)
        other = raw(db_path)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreLockedError):
                store.update(job.id, progress=10)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert store.update(job.id, progress=20).progress == 20


@pytest.mark.parametrize(
    ("code", "kind"),
    [(13, StoreDiskFullError), (8, StoreReadOnlyError), (1032, StoreReadOnlyError),
     (5, StoreLockedError), (11, StoreCorruptError), (26, StoreCorruptError), (1, None),
     (19, None)],
)
def test_driver_errors_split_into_known_errors_and_bugs(
    code: int, kind: type[StoreError] | None
) -> None:
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    mapped = known_error(exc)
    if kind is None:
        assert mapped is None
    else:
        assert type(mapped) is kind
        assert mapped is not None
        assert mapped.message
        assert mapped.fix


# ------------------------------------------------------------------------------ jobs


def test_every_job_field_round_trips(store: JobStore, db_path: Path) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=True)
    assert job.state is JobState.QUEUED
    assert job.demo
    assert job.created_at == job.updated_at
    changes: dict[str, object] = {
        "task_id": "task-unified-1-abc", "provider_status": "processing", "progress": 55,
        "transfer_done": 10, "transfer_total": 20, "estimated_time": 45.0,
        "error_kind": FailureKind.CONTENT_POLICY, "error_code": "E1", "error_message": "m",
        "error_fix": "f", "submitted_at": 1.5, "completed_at": 2.5, "result_url": "https://r",
        "result_expires_at": 3.5, "output_path": "/lib/x.mp4", "create_calls": 1,
        "next_poll_at": 4.5, "base_url": "https://other.example", "demo": False,
    }
    updated = store.update(job.id, **changes)
    for name, value in changes.items():
        assert getattr(updated, name) == value, name
    assert updated.updated_at >= job.updated_at
    assert updated.spec == spec()
    # a second store on the same file reads exactly the same job
    with JobStore(db_path) as again:
        assert again.get(job.id) == updated
    # enums are stored as their plain string values
    conn = raw(db_path)
    try:
        row = conn.execute(
            "SELECT model, mode, orientation, state, error_kind FROM jobs").fetchone()
    finally:
        conn.close()
    assert row == ("kling-v2-6-motion-control", "pro", "video", "queued", "content_policy")
    # fields can be cleared again, and the spec replaced as a whole
    cleared = store.update(job.id, error_kind=None, task_id=None, spec=spec(9))
    assert cleared.error_kind is None
    assert cleared.task_id is None
    assert cleared.spec == spec(9)


def test_update_refuses_unknown_fields_and_state(store: JobStore) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    with pytest.raises(TypeError, match="colour"):
        store.update(job.id, colour="red")
    with pytest.raises(TypeError, match="transition"):
        store.update(job.id, state=JobState.FAILED)
    with pytest.raises(TypeError):
        store.update(job.id, id=99)
    with pytest.raises(JobNotFoundError):
        store.update(12345, progress=1)
    assert store.get(job.id) == job


def test_transitions_write_events_in_one_durable_transaction(store: JobStore,
                                                              db_path: Path) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    store.transition(job.id, JobState.SUBMITTING, message="sending", create_calls=1)
    done = store.transition(job.id, JobState.SUBMITTED, message="accepted", task_id="task-42",
                            submitted_at=10.0)
    assert (done.state, done.task_id, done.create_calls) == (JobState.SUBMITTED, "task-42", 1)
    events = store.events(job.id)
    assert [(e.state, e.message) for e in events] == [
        (JobState.QUEUED, "added"), (JobState.SUBMITTING, "sending"),
        (JobState.SUBMITTED, "accepted")]
    assert events == sorted(events, key=lambda e: e.time)
    # committed: another connection sees it at once
    conn = raw(db_path)
    try:
        assert conn.execute("SELECT state, task_id FROM jobs").fetchone() == (
            "submitted", "task-42")
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
    finally:
        conn.close()
    found = store.find_by_task_id("task-42")
    assert found is not None
    assert found.id == job.id
    assert store.find_by_task_id("task-unknown") is None
    # a bad transition changes nothing and logs nothing
    with pytest.raises(TypeError):
        store.transition(job.id, JobState.FAILED, message="x", nonsense=1)
    with pytest.raises(JobNotFoundError):
        store.transition(999, JobState.FAILED)
    assert store.get(job.id) == done
    assert len(store.events(job.id)) == 3


def test_listing_unfinished_and_deleting(store: JobStore) -> None:
    jobs = [store.add_job(spec(n), base_url=BASE, demo=False) for n in range(5)]
    store.transition(jobs[1].id, JobState.COMPLETED)
    store.transition(jobs[2].id, JobState.SUBMITTED, task_id="t2")
    store.transition(jobs[3].id, JobState.UNCERTAIN)
    assert [j.id for j in store.list_jobs()] == [j.id for j in reversed(jobs)]
    assert [j.id for j in store.list_jobs(limit=2)] == [jobs[4].id, jobs[3].id]
    assert [j.id for j in store.list_jobs(states=[JobState.COMPLETED, JobState.UNCERTAIN])] == [
        jobs[3].id, jobs[1].id]
    assert store.list_jobs(states=[]) == []
    assert [j.id for j in store.unfinished()] == [jobs[0].id, jobs[2].id, jobs[4].id]
    assert store.delete_job(jobs[2].id)
    assert not store.delete_job(jobs[2].id)
    assert store.get(jobs[2].id) is None
    assert store.events(jobs[2].id) == []  # foreign keys on: events went with the job


def test_concurrent_updates_from_threads(db_path: Path) -> None:
    """Threads sharing one store, and a second store (connection) on the same file."""
    first = JobStore(db_path)
    second = JobStore(db_path)
    shared = first.add_job(spec(), base_url=BASE, demo=False)
    errors: list[BaseException] = []
    created: list[Job] = []
    lock = threading.Lock()

    def work(store: JobStore, n: int) -> None:
        try:
            for i in range(20):
                job = store.add_job(spec(n * 100 + i), base_url=BASE, demo=False)
                store.update(job.id, progress=i, transfer_done=n)
                store.transition(job.id, JobState.SUBMITTED, task_id=f"t-{n}-{i}")
                store.update(shared.id, provider_status=f"{n}-{i}")
                store.heartbeat(shared.id, "nobody")
                with lock:
                    created.append(job)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(first if n % 2 else second, n))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(created) == 160
        for job in created:
            stored = first.get(job.id)
            assert stored is not None
            assert stored.state is JobState.SUBMITTED
            assert stored.task_id == f"t-{stored.transfer_done}-{stored.progress}"
            assert len(first.events(job.id)) == 2
        assert len(first.list_jobs()) == 161
    finally:
        first.close()
        second.close()


# ---------------------------------------------------------------------------- claims


def test_owner_id_is_host_and_pid() -> None:
    host, pid = owner_id().rsplit(":", 1)
    assert host
    assert int(pid) == os.getpid()


def test_claim_heartbeat_release(store: JobStore) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    me, other = owner_id(), "elsewhere.example:4242"
    assert store.claim(job.id, me)
    assert store.claim(job.id, me)  # re-claiming one's own is fine
    assert not store.claim(job.id, other)
    assert store.heartbeat(job.id, me)
    assert not store.heartbeat(job.id, other)
    store.release(job.id, other)  # not theirs to release
    assert store.claimed_by(job.id) == me
    store.release(job.id, me)
    assert store.claimed_by(job.id) is None
    assert store.claim(job.id, other)
    assert not store.claim(job.id, me)
    with pytest.raises(JobNotFoundError):
        store.claim(999, me)


def test_stale_claim_is_taken_over(store: JobStore, db_path: Path) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    assert store.claim(job.id, "elsewhere.example:4242")  # another host: pid not checkable
    assert not store.claim(job.id, owner_id(), stale_after=120.0)
    conn = raw(db_path)
    try:
        conn.execute("UPDATE jobs SET claim_at = ?", (time.time() - 121.0,))
    finally:
        conn.close()
    assert store.claim(job.id, owner_id(), stale_after=120.0)
    assert store.claimed_by(job.id) == owner_id()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
def test_claim_of_a_killed_process_is_free(store: JobStore, db_path: Path) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    child_code = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from kling_desktop.engine.store import JobStore, owner_id
        store = JobStore(Path(sys.argv[1]))
        ok = store.claim(int(sys.argv[2]), owner_id())
        print("claimed" if ok else "refused", owner_id(), flush=True)
        time.sleep(120)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", child_code, str(db_path), str(job.id)],
                          stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env) as child:
        try:
            assert child.stdout is not None
            status, child_owner = child.stdout.readline().split()
            assert status == "claimed"
            assert child_owner == f"{owner_id().rsplit(':', 1)[0]}:{child.pid}"
            assert store.claimed_by(job.id) == child_owner
            # alive and fresh: nobody else may run the job
            assert not store.claim(job.id, owner_id())
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert store.claimed_by(job.id) == child_owner  # the dead claim is still written...
    assert store.claim(job.id, owner_id())          # ...but free for the taking
    assert store.claimed_by(job.id) == owner_id()


# --------------------------------------------------------------------- results index


def record(name: str, **changes: object) -> ResultRecord:
    values: dict[str, object] = {
        "video_rel": f"{name}.mp4", "sidecar_rel": f"{name}.json", "task_id": f"task-{name}",
        "model": "kling-v3-motion-control", "mode": "std", "prompt": f"prompt {name}",
        "saved_at": 100.0, "file_size": 10, "sidecar_ok": True, "sidecar_json": "{}",
    }
    values.update(changes)
    return ResultRecord(**values)  # type: ignore[arg-type]


def test_results_index(store: JobStore) -> None:
    store.upsert_result(record("a", saved_at=1.0, mode="pro", prompt="100% happy_dance"))
    store.upsert_result(record("b", saved_at=3.0, mark="keeper", keep_original_sound=False))
    store.upsert_result(record("c", saved_at=2.0, model="kling-v2-6-motion-control"))
    assert store.count_results() == 3
    assert [r.video_rel for r in store.list_results()] == ["b.mp4", "c.mp4", "a.mp4"]
    assert [r.video_rel for r in store.list_results(newest_first=False, limit=2)] == [
        "a.mp4", "c.mp4"]
    assert [r.video_rel for r in store.list_results(mode="pro")] == ["a.mp4"]
    assert [r.video_rel for r in store.list_results(model="kling-v2-6-motion-control")] == [
        "c.mp4"]
    assert [r.video_rel for r in store.list_results(mark="keeper")] == ["b.mp4"]
    assert [r.video_rel for r in store.list_results(text="100%")] == ["a.mp4"]
    assert [r.video_rel for r in store.list_results(text="Y_D")] == ["a.mp4"]
    assert store.list_results(text="0_h") == []  # "_" is literal, not a wildcard
    assert store.get_result("b.mp4") == record("b", saved_at=3.0, mark="keeper",
                                               keep_original_sound=False)
    # upsert replaces by video path
    store.upsert_result(record("b", saved_at=3.0, prompt="changed"))
    assert store.count_results() == 3
    changed = store.get_result("b.mp4")
    assert changed is not None
    assert changed.prompt == "changed"
    assert changed.mark is None
    assert store.set_result_mark("b.mp4", "reject")
    with pytest.raises(ValueError):
        store.set_result_mark("b.mp4", "maybe")
    with pytest.raises(ValueError):
        store.list_results(order_by="prompt; DROP TABLE jobs")
    assert store.remove_result("a.mp4")
    assert not store.remove_result("a.mp4")
    store.replace_results([record("x"), record("y")])
    assert sorted(r.video_rel for r in store.list_results()) == ["x.mp4", "y.mp4"]
    store.clear_results()
    assert store.count_results() == 0
