"""Jobs and result files for the library tests (no job store needed: a Job is plain data)."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.engine.library import Library

BASE = "https://api.example.com"
_ids = itertools.count(1)


def finished_job(image: str, video: str, *, prompt: str = "a happy dance",
                 task: str = "task-unified-1757165031-uyujaw3d", base_url: str = BASE,
                 billable_seconds: float | None = 6.0, batch_id: str | None = "b-1",
                 **job_fields: object) -> Job:
    """A job whose result the provider finished and the runner is about to save."""
    options = GenerationOptions(model=Model.V3, mode=Mode.PRO, prompt=prompt,
                                orientation=Orientation.VIDEO, keep_original_sound=False)
    spec = JobSpec(image=image, video=video, options=options,
                   billable_seconds=billable_seconds, batch_id=batch_id)
    now = time.time()
    fields: dict[str, object] = {
        "task_id": task, "submitted_at": now + 1, "completed_at": now + 60,
        "result_url": "https://cdn.example.com/out.mp4", **job_fields}
    return Job(id=next(_ids), spec=spec, state=JobState.DOWNLOADING, base_url=base_url,
               demo=False, created_at=now, updated_at=now, **fields)  # type: ignore[arg-type]


def download(library: Library, job: Job, size: int = 30_000) -> Path:
    """What the runner does: write the result straight to the library's target path."""
    target = library.target_path(job)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(size))
    return target
