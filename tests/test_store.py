"""The SQLite job store, on real database files in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    DatabaseTooNewError,
    JobConflictError,
    JobNotFoundError,
    JobStore,
    ResultFilter,
    ResultRecord,
    StoreCorruptError,
    StoreDiskFullError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    known_error,
    owner_id,
)
from kling_desktop.engine.store import schema as store_module
from kling_desktop.engine.store.result_index import result_keys_query

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://api.example.com"


def spec(n: int = 0, **changes: object) -> JobSpec:
    options = GenerationOptions(model=Model.V2_6, mode=Mode.PRO, prompt=f"dance number {n}",
                                orientation=Orientation.VIDEO, keep_original_sound=False)
    values: dict[str, object] = {
        "image": f"/pics/character-{n}.png",
        "video": "https://cdn.example.com/dance.mp4",
        "options": options,
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


def schema_version(path: Path) -> int:
    conn = raw(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def migrate_to(conn: sqlite3.Connection, version: int) -> None:
    """Bring a new database to format ``version`` as that version of the app did."""
    for number, statements in enumerate(MIGRATIONS[:version], start=1):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")


def query_plan(path: Path, sql: str, params: list[object]) -> str:
    """What SQLite says it will do for ``sql`` (EXPLAIN QUERY PLAN), one line."""
    with closing(raw(path)) as conn:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


# ---------------------------------------------------------------- schema and pragmas


def test_new_database_has_latest_schema_in_wal_mode(store: JobStore, db_path: Path) -> None:
    assert schema_version(db_path) == SCHEMA_VERSION
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
        assert schema_version(db_path) == SCHEMA_VERSION
        job = store.get(1)
        assert job is not None
        assert job.spec == JobSpec(
            image="a.png", video="b.mp4", billable_seconds=5.0,
            options=GenerationOptions(model=Model.V3, mode=Mode.PRO, prompt="wave",
                                      orientation=Orientation.IMAGE, keep_original_sound=False))
        assert (job.state, job.task_id, job.progress, job.demo) == (
            JobState.FAILED, "task-xyz", 40, True)
        assert job.error_kind is FailureKind.BALANCE
        assert [e.message for e in store.events(1)] == ["added"]
        # what the later migrations added works on the old data
        store.set_holder(1, "me")
        assert store.holder(1) == "me"
        assert store.get(1).blocked_on is None  # type: ignore[union-attr]
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
    updated = store.update(job.id, **changes)  # type: ignore[arg-type]
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


def test_listing_unfinished(store: JobStore) -> None:
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
                store.set_holder(shared.id, f"thread {n}")
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


# ------------------------------------------------------------- compare-and-set, holders


def test_owner_id_is_host_and_pid() -> None:
    host, pid = owner_id().rsplit(":", 1)
    assert host
    assert int(pid) == os.getpid()


def test_transition_is_a_compare_and_set(store: JobStore) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    moved = store.transition(job.id, JobState.UPLOADING, expect=JobState.QUEUED)
    assert moved.state is JobState.UPLOADING
    # a second mover expecting the old state changes nothing
    with pytest.raises(JobConflictError) as raised:
        store.transition(job.id, JobState.SUBMITTING, expect=JobState.QUEUED, task_id="x")
    assert raised.value.found is JobState.UPLOADING
    after = store.get(job.id)
    assert after is not None
    assert (after.state, after.task_id) == (JobState.UPLOADING, None)
    assert [e.state for e in store.events(job.id)] == [JobState.QUEUED, JobState.UPLOADING]
    # several expected states; updates can be guarded too
    store.transition(job.id, JobState.SUBMITTED, expect=(JobState.UPLOADING, JobState.SEND_WAIT),
                     task_id="task-1")
    with pytest.raises(JobConflictError):
        store.update(job.id, expect=JobState.DOWNLOADING, progress=50)
    assert store.update(job.id, expect=JobState.SUBMITTED, progress=50).progress == 50
    with pytest.raises(JobNotFoundError):
        store.transition(999, JobState.FAILED, expect=JobState.QUEUED)


def test_holder_label_is_for_display(store: JobStore) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    assert store.holder(job.id) is None
    store.set_holder(job.id, "the window (pid 42)")
    assert store.holder(job.id) == "the window (pid 42)"
    store.set_holder(job.id, None)
    assert store.holder(job.id) is None


def test_new_job_fields_round_trip(store: JobStore) -> None:
    job = store.add_job(spec(), base_url=BASE, demo=False)
    store.update(job.id, blocked_on=BlockedOn.KEY, image_url="https://u/i.png",
                 video_url="https://u/v.mp4", uploaded_at=5.0, download_attempts=2,
                 result_duration=4.5, model_used="kling-v2-6-motion-control",
                 provider_usage='{"credits_reserved": 5}')
    stored = store.get(job.id)
    assert stored is not None
    assert stored.blocked_on is BlockedOn.KEY
    assert (stored.image_url, stored.video_url, stored.uploaded_at) == (
        "https://u/i.png", "https://u/v.mp4", 5.0)
    assert (stored.download_attempts, stored.result_duration, stored.model_used) == (
        2, 4.5, "kling-v2-6-motion-control")
    assert stored.provider_usage == '{"credits_reserved": 5}'


def test_an_empty_job_database_is_moved_aside_not_reused(db_path: Path) -> None:
    """A 0-byte file used to be silently treated as new: in-flight task ids lost unseen."""
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    old = time.time() - 3600
    os.utime(db_path, (old, old))
    with JobStore(db_path) as store:
        assert store.moved_aside is not None
        assert store.moved_aside.exists()
        assert store.moved_aside.read_bytes() == b""
        assert store.moved_aside.name.startswith("jobs.sqlite3.empty-")
        message = store.moved_aside_message
        assert message is not None
        assert str(store.moved_aside) in message
        assert schema_version(db_path) == SCHEMA_VERSION


def test_a_damaged_job_database_is_moved_aside_with_a_message(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"this is not a database, but somebody's jobs were in it" * 100
    db_path.write_bytes(garbage)
    with JobStore(db_path) as store:
        assert store.moved_aside is not None
        assert store.moved_aside.read_bytes() == garbage  # never deleted
        assert store.list_jobs() == []
    with JobStore(db_path) as again:  # the new one is fine: nothing moved this time
        assert again.moved_aside is None


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_job_database_is_private(db_path: Path) -> None:
    with JobStore(db_path) as store:
        store.add_job(spec(), base_url=BASE, demo=False)
    assert db_path.stat().st_mode & 0o777 == 0o600


# --------------------------------------------------------------------- results index


def record(name: str, **changes: object) -> ResultRecord:
    values: dict[str, object] = {
        "video_rel": f"{name}.mp4", "sidecar_rel": f"{name}.json", "task_id": f"task-{name}",
        "model": "kling-v3-motion-control", "mode": "std", "prompt": f"prompt {name}",
        "saved_at": 100.0, "file_size": 10, "sidecar_ok": True, "sidecar_json": "{}",
    }
    values.update(changes)
    return ResultRecord(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("order_by", "newest_first", "demo"), [
    ("date", True, None), ("date", False, None), ("duration", True, None),
    ("duration", False, None), ("date", True, False), ("date", False, True)])
def test_the_gallery_list_is_read_from_an_index_alone(
        store: JobStore, db_path: Path, order_by: str, newest_first: bool,
        demo: bool | None) -> None:
    """By date and by length, and by date for real or demo results only, the keys come
    from an index, never from the wide rows (~20 ms for 10,000 results from the rows,
    ~4 ms from the index; bench_gallery)."""
    for n in range(30):
        store.upsert_result(record(f"r{n}", saved_at=float(n % 7), duration=n % 5 or None,
                                   demo=n % 3 == 0, prompt="a long prompt " * 40))
    where = ResultFilter(demo=demo)
    sql, params = result_keys_query(where, order_by=order_by, newest_first=newest_first)
    plan = query_plan(db_path, sql, params)
    assert "COVERING INDEX" in plan, plan
    with closing(raw(db_path)) as conn:
        listed = [row[0] for row in conn.execute(sql, params)]
    assert store.result_keys(where, order_by=order_by, newest_first=newest_first) == listed
    rows = {r.video_rel: r for r in store.list_results() if demo in (None, r.demo)}
    if order_by == "date":
        assert listed == sorted(rows, key=lambda k: (rows[k].saved_at, _id(store, k)),
                                reverse=newest_first)
    else:
        assert [k for k in listed if rows[k].duration is None] == listed[-6:]   # last
        known = [d for k in listed[:-6] if (d := rows[k].duration) is not None]
        assert len(known) == 24
        assert known == sorted(known, reverse=newest_first)


def test_a_format_6_library_index_is_migrated_and_listed_from_the_index(
        db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = raw(db_path)
    try:
        migrate_to(conn, 6)
        for name, saved_at in (("old", 1.0), ("new", 2.0)):
            conn.execute("INSERT INTO results (video_rel, saved_at, sidecar_ok, demo)"
                         " VALUES (?, ?, 1, 0)", (f"{name}.mp4", saved_at))
    finally:
        conn.close()
    with JobStore(db_path) as store:
        assert schema_version(db_path) == SCHEMA_VERSION
        assert store.result_keys() == ["new.mp4", "old.mp4"]
        sql, params = result_keys_query()
    plan = query_plan(db_path, sql, params)
    assert "COVERING INDEX results_saved_at" in plan, plan


def _id(store: JobStore, video_rel: str) -> int:
    conn = raw(store.path)
    try:
        return int(conn.execute("SELECT id FROM results WHERE video_rel = ?",
                                (video_rel,)).fetchone()[0])
    finally:
        conn.close()


def test_results_index(store: JobStore) -> None:
    store.upsert_result(record("a", saved_at=1.0, mode="pro", prompt="100% happy_dance"))
    store.upsert_result(record("b", saved_at=3.0, mark="keeper", keep_original_sound=False))
    store.upsert_result(record("c", saved_at=2.0, model="kling-v2-6-motion-control"))
    assert store.count_results() == 3
    assert [r.video_rel for r in store.list_results()] == ["b.mp4", "c.mp4", "a.mp4"]
    assert store.result_keys(newest_first=False)[:2] == ["a.mp4", "c.mp4"]
    assert store.result_keys(ResultFilter(mode="pro")) == ["a.mp4"]
    assert store.result_keys(ResultFilter(model="kling-v2-6-motion-control")) == ["c.mp4"]
    assert store.result_keys(ResultFilter(mark="keeper")) == ["b.mp4"]
    assert store.result_keys(ResultFilter(text="100%")) == ["a.mp4"]
    assert store.result_keys(ResultFilter(text="Y_D")) == ["a.mp4"]
    assert store.result_keys(ResultFilter(text="0_h")) == []  # "_" is literal, not a wildcard
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
        store.result_keys(order_by="prompt; DROP TABLE jobs")
    assert store.remove_result("a.mp4")
    assert not store.remove_result("a.mp4")
    store.replace_results([record("x"), record("y")])
    assert sorted(r.video_rel for r in store.list_results()) == ["x.mp4", "y.mp4"]
    store.replace_results([])
    assert store.count_results() == 0


def _sidecar_text(image: str, video: str) -> str:
    return json.dumps({"inputs": {"image": {"name": image}, "video": {"name": video}}})


def test_search_covers_titles_input_names_prompts_and_task_ids(store: JobStore) -> None:
    store.upsert_result(record("a", prompt="waves both arms", task_id="task-unified-17-aaaa",
                               sidecar_json=_sidecar_text("hero.png", "dance.mp4")))
    store.upsert_result(record("b", prompt="", task_id="task-unified-17-bbbb",
                               sidecar_json=_sidecar_text("villain.png", "dance.mp4")))
    store.upsert_result(record("c", prompt="hero pose", sidecar_ok=False,
                               sidecar_json="{not json"))   # unreadable: prompt still found

    def found(text: str) -> list[str]:
        return sorted(store.result_keys(ResultFilter(text=text)))

    assert found("villain") == ["b.mp4"]                    # a picture's name
    assert found("DANCE") == ["a.mp4", "b.mp4"]             # a clip's name, any case
    assert found("bbbb") == ["b.mp4"]                       # the task id
    assert found("hero") == ["a.mp4", "c.mp4"]              # picture name or prompt
    assert found("hero waves") == ["a.mp4"]                 # every word, in any field
    assert found("hero — waves both") == ["a.mp4"]          # a title as shown
    assert found("villain + dance") == ["b.mp4"]
    assert found("nobody") == []


def test_a_records_title_comes_from_what_the_artist_chose() -> None:
    with_prompt = record("2026-01-01 10-00 x (Kling V3 Standard)", prompt="waves both arms",
                         sidecar_json=_sidecar_text("hero.png", "dance.mp4"))
    assert with_prompt.title == "hero — waves both arms"
    assert with_prompt.input_names == ("hero.png", "dance.mp4")
    without = record("r", prompt="", sidecar_json=_sidecar_text("hero.png", "dance.mp4"))
    assert without.title == "hero + dance"
    unreadable = record("2026-01-01 10-00 lost", prompt="", sidecar_ok=False,
                        sidecar_json=None)
    assert unreadable.title == "2026-01-01 10-00 lost"     # its file name, nothing else known
