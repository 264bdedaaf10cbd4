"""Jobs remember where a trimmed or converted input came from: migration 6 on a database
of the previous format, the round trip through a real SQLite file, unusable rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kling_desktop.engine.jobs import JobSpec, JobState
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.store import SCHEMA_VERSION, JobStore
from tests.test_store import BASE, migrate_to, raw, schema_version, spec

CLIP = Origin("dance.mp4", "/clips/dance.mp4", (2.0, 9.5))
PICTURE = Origin("banner.png", "/pics/banner.png", steps=("padded",))


def previous_format(path: Path) -> None:
    """A database as the app before origins wrote it (format 5), with one finished job."""
    path.parent.mkdir(parents=True)
    conn = raw(path)
    try:
        migrate_to(conn, 5)
        conn.execute(
            "INSERT INTO jobs (image, video, model, mode, prompt, orientation,"
            " keep_original_sound, billable_seconds, state, base_url, demo, created_at,"
            " updated_at, task_id, output_path, result_duration) VALUES"
            " ('/pics/a.png', '/lib/.inputs/converted/b 2-9.5s.mp4', 'kling-v3-motion-control',"
            " 'std', 'wave', 'image', 1, 7.5, 'completed', 'https://api.example.com', 0,"
            " 100.0, 200.0, 'task-old', '/lib/out.mp4', 7.5)")
    finally:
        conn.close()


def test_the_previous_format_migrates_and_its_jobs_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jobs.sqlite3"
    previous_format(path)
    with JobStore(path) as store:
        assert schema_version(path) == SCHEMA_VERSION   # 5 -> 6 (origins) and on
        old = store.get(1)
        assert old is not None
        assert (old.state, old.task_id, old.output_path) == (
            JobState.COMPLETED, "task-old", "/lib/out.mp4")
        assert old.spec.video == "/lib/.inputs/converted/b 2-9.5s.mp4"
        assert (old.spec.image_origin, old.spec.video_origin) == (None, None)
        # an old job takes the new fields like a new one
        updated = store.update(1, spec=JobSpec(old.spec.image, old.spec.video,
                                               old.spec.options, video_origin=CLIP))
        assert updated.spec.video_origin == CLIP
        assert store.add_job(spec(), base_url=BASE, demo=False).id == 2


def test_origins_survive_the_database(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jobs.sqlite3"
    made = spec(image="/lib/.inputs/converted/banner.png", video="/lib/converted/dance.mp4",
                image_origin=PICTURE, video_origin=CLIP)
    with JobStore(path) as store:
        job_id = store.add_job(made, base_url=BASE, demo=False).id
    with JobStore(path) as store:          # a fresh process, reading the file
        job = store.get(job_id)
        assert job is not None
        assert job.spec == made
        assert job.spec.video_origin is not None
        assert job.spec.video_origin.note == "trimmed 2.0–9.5 s"
        assert store.list_jobs()[0].spec.image_origin == PICTURE


def test_an_unusable_origin_in_a_row_reads_as_the_users_own_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jobs.sqlite3"
    with JobStore(path) as store:
        job_id = store.add_job(spec(video_origin=CLIP), base_url=BASE, demo=False).id
    conn = sqlite3.connect(path)
    try:
        for text in ("{not json", '["a"]', '{"name": "../x"}', '{"name": "a", "trim": [NaN, 1]}'):
            with conn:
                conn.execute("UPDATE jobs SET video_origin = ?, image_origin = 7 WHERE id = ?",
                             (text, job_id))
            with JobStore(path) as store:
                job = store.get(job_id)
                assert job is not None
                assert job.spec.image_origin is None
                origin = job.spec.video_origin
                assert origin is None or (origin.name == "a" and origin.trim is None)
    finally:
        conn.close()
