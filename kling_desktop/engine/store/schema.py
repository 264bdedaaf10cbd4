"""The store's schema: the migrations in order, and applying them by ``PRAGMA user_version``.

Each migration runs in its own transaction; a database written by a newer app
is refused (:class:`DatabaseTooNewError`), never "repaired".
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import suppress
from typing import Final

from kling_desktop.engine.store.errors import DatabaseTooNewError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "rollback"]

log = logging.getLogger(__name__)

# Each migration is a sequence of statements run in one transaction; migration
# N (1-based) brings the database to ``user_version`` N. Append, never edit.
#
# A prompt search can later be added as a migration creating an external-content
# FTS5 table over ``results(prompt)`` keyed by ``results.id`` plus triggers.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: jobs and their audit trail
    (
        """
        CREATE TABLE jobs (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            image               TEXT NOT NULL,
            video               TEXT NOT NULL,
            model               TEXT NOT NULL,
            mode                TEXT NOT NULL,
            prompt              TEXT NOT NULL DEFAULT '',
            orientation         TEXT NOT NULL,
            keep_original_sound INTEGER NOT NULL DEFAULT 1,
            billable_seconds    REAL,
            batch_id            TEXT,
            state               TEXT NOT NULL,
            base_url            TEXT NOT NULL,
            demo                INTEGER NOT NULL DEFAULT 0,
            created_at          REAL NOT NULL,
            updated_at          REAL NOT NULL,
            task_id             TEXT,
            provider_status     TEXT,
            progress            INTEGER NOT NULL DEFAULT 0,
            transfer_done       INTEGER NOT NULL DEFAULT 0,
            transfer_total      INTEGER NOT NULL DEFAULT 0,
            estimated_time      REAL,
            error_kind          TEXT,
            error_code          TEXT,
            error_message       TEXT,
            error_fix           TEXT,
            submitted_at        REAL,
            completed_at        REAL,
            result_url          TEXT,
            result_expires_at   REAL,
            output_path         TEXT,
            create_calls        INTEGER NOT NULL DEFAULT 0,
            next_poll_at        REAL
        )
        """,
        "CREATE INDEX jobs_state ON jobs(state)",
        "CREATE INDEX jobs_task_id ON jobs(task_id)",
        """
        CREATE TABLE events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            time    REAL NOT NULL,
            state   TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX events_job ON events(job_id, id)",
    ),
    # 2: claims, so two processes never run the same job
    (
        "ALTER TABLE jobs ADD COLUMN claim_owner TEXT",
        "ALTER TABLE jobs ADD COLUMN claim_at REAL",
    ),
    # 3: the library index (rebuildable from the sidecars at any time)
    (
        """
        CREATE TABLE results (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            video_rel           TEXT NOT NULL UNIQUE,
            sidecar_rel         TEXT,
            task_id             TEXT,
            job_id              INTEGER,
            model               TEXT,
            mode                TEXT,
            orientation         TEXT,
            prompt              TEXT NOT NULL DEFAULT '',
            keep_original_sound INTEGER,
            created_at          REAL,
            completed_at        REAL,
            saved_at            REAL,
            duration            REAL,
            width               INTEGER,
            height              INTEGER,
            file_size           INTEGER NOT NULL DEFAULT 0,
            demo                INTEGER NOT NULL DEFAULT 0,
            mark                TEXT CHECK (mark IN ('keeper', 'reject')),
            sidecar_ok          INTEGER NOT NULL DEFAULT 0,
            sidecar_json        TEXT
        )
        """,
        "CREATE INDEX results_saved_at ON results(saved_at)",
        "CREATE INDEX results_model ON results(model)",
        "CREATE INDEX results_mode ON results(mode)",
        "CREATE INDEX results_task_id ON results(task_id)",
    ),
    # 4: the gallery sorts by length and filters by look, kind and mark
    (
        "CREATE INDEX results_duration ON results(duration)",
        "CREATE INDEX results_orientation ON results(orientation)",
        "CREATE INDEX results_mark ON results(mark)",
        "CREATE INDEX results_demo ON results(demo, saved_at)",
    ),
    # 5: the job service: reused uploads, why an active job waits, what the provider
    #    reports about the result (its real length, the model used, the charge)
    (
        "ALTER TABLE jobs ADD COLUMN image_url TEXT",
        "ALTER TABLE jobs ADD COLUMN video_url TEXT",
        "ALTER TABLE jobs ADD COLUMN uploaded_at REAL",
        "ALTER TABLE jobs ADD COLUMN blocked_on TEXT",
        "ALTER TABLE jobs ADD COLUMN download_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN result_duration REAL",
        "ALTER TABLE jobs ADD COLUMN model_used TEXT",
        "ALTER TABLE jobs ADD COLUMN provider_usage TEXT",
    ),
    # 6: where a trimmed or converted input came from (engine.origins.Origin as JSON
    #    text; NULL for the user's own file, as for every job recorded before)
    (
        "ALTER TABLE jobs ADD COLUMN image_origin TEXT",
        "ALTER TABLE jobs ADD COLUMN video_origin TEXT",
    ),
    # 7: the gallery's list of keys, by date or by length, and by date for real or demo
    #    results only, answered from an index alone (the rows are wide: for 10,000
    #    results ~20 ms from the rows, ~4 ms from the index; the gallery reads it on the
    #    main thread); the names stay
    (
        "DROP INDEX results_saved_at",
        "CREATE INDEX results_saved_at ON results(saved_at, id, video_rel)",
        "DROP INDEX results_duration",
        "CREATE INDEX results_duration ON results(duration, id, video_rel)",
        "DROP INDEX results_demo",
        "CREATE INDEX results_demo ON results(demo, saved_at, id, video_rel)",
    ),
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


def rollback(db: sqlite3.Connection) -> None:
    """End an open transaction without its changes; the original error is the one to report."""
    if db.in_transaction:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def migrate(db: sqlite3.Connection) -> None:
    """Bring ``db`` to :data:`SCHEMA_VERSION`, one migration per transaction."""
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise DatabaseTooNewError(version, SCHEMA_VERSION)
            if version == SCHEMA_VERSION:
                db.execute("COMMIT")
                return
            for statement in MIGRATIONS[version]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            rollback(db)
            raise
        log.info("job database: migrated to format %d", version + 1)
