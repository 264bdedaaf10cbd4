"""Converted inputs are kept while a job may send them, and removed a month later."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.jobs import JobSpec, JobState
from kling_desktop.engine.library import converted_dir, prune_converted
from kling_desktop.engine.store import JobStore

DAY = 86400


def made(folder: Path, name: str, days_ago: float) -> Path:
    path = folder / name
    path.write_bytes(b"converted")
    when = time.time() - days_ago * DAY
    os.utime(path, (when, when))
    return path


def test_old_converted_inputs_go_unless_a_job_under_way_sends_them(
        tmp_path: Path, store: JobStore) -> None:
    folder = converted_dir(tmp_path / "library")
    folder.mkdir(parents=True)
    old = made(folder, "dance 0-10s.mp4", 45)
    sent_later = made(folder, "queued 2-9.5s.mp4", 45)
    done_long_ago = made(folder, "done 0-10s.mp4", 45)
    recent = made(folder, "yesterday.png", 1)
    partial = made(folder, ".crashed.mp4.part", 45)
    store.add_job(JobSpec(image="/pics/hero.png", video=str(sent_later),
                          options=GenerationOptions()), base_url="https://api.example.com",
                  demo=False)                                        # still waiting to go
    finished = store.add_job(JobSpec(image="/pics/hero.png", video=str(done_long_ago),
                                     options=GenerationOptions()),
                             base_url="https://api.example.com", demo=False)
    store.transition(finished.id, JobState.CANCELLED, message="test")

    removed = prune_converted(folder, store)

    assert sorted(p.name for p in removed) == sorted([old.name, done_long_ago.name,
                                                      partial.name])
    assert sorted(p.name for p in folder.iterdir()) == sorted([sent_later.name, recent.name])


def test_only_plain_files_in_the_folder_are_ever_removed(tmp_path: Path,
                                                         store: JobStore) -> None:
    folder = tmp_path / "converted"
    folder.mkdir()
    elsewhere = made(tmp_path, "precious.mp4", 400)
    link = folder / "link.mp4"
    link.symlink_to(elsewhere)
    os.utime(link, (0, 0), follow_symlinks=False)
    inner = folder / "a folder"
    inner.mkdir()
    made(inner, "inside.mp4", 400)
    os.utime(inner, (0, 0))

    assert prune_converted(folder, store) == []
    assert elsewhere.read_bytes() == b"converted"
    assert link.is_symlink()
    assert (inner / "inside.mp4").exists()


def test_no_folder_yet_is_nothing_to_do(tmp_path: Path, store: JobStore) -> None:
    assert prune_converted(tmp_path / "missing", store) == []
