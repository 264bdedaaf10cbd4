"""Building real libraries for the gallery tests, the screenshots and the benchmark.

Results are made the way the app makes them: a job in the store, its video
written to the library's target path, then :meth:`Library.add_result` (sidecar,
kept input copies, index row).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.engine.library import Library, LibraryEntry
from kling_desktop.engine.store import JobStore
from tests.media import make_image, make_video


@dataclass(frozen=True)
class Made:
    prompt: str = "a happy dance"
    model: Model = Model.V3
    mode: Mode = Mode.PRO
    orientation: Orientation = Orientation.VIDEO
    demo: bool = False
    seconds: float = 2.0
    width: int = 320
    height: int = 240
    mark: str | None = None
    age_days: float = 0.0     # completed this long ago


def finished_job(store: JobStore, image: Path, clip: Path, made: Made, task: str) -> Job:
    options = GenerationOptions(model=made.model, mode=made.mode, prompt=made.prompt,
                                orientation=made.orientation, keep_original_sound=True)
    spec = JobSpec(image=str(image), video=str(clip), options=options,
                   billable_seconds=made.seconds, batch_id=None)
    job = store.add_job(spec, base_url="demo:" if made.demo else "https://api.example.com",
                        demo=made.demo)
    store.transition(job.id, JobState.SUBMITTED, task_id=task,
                     submitted_at=job.created_at - made.age_days * 86400)
    return store.transition(job.id, JobState.DOWNLOADING,
                            completed_at=job.created_at - made.age_days * 86400 + 40)


def add_results(library: Library, store: JobStore, media: Path, items: list[Made]
                ) -> list[LibraryEntry]:
    """One real result per item (videos and pictures made by ffmpeg, cached per session)."""
    entries: list[LibraryEntry] = []
    for number, made in enumerate(items, 1):
        image = make_image(media / f"img{number}", width=made.height, height=made.width,
                           name=f"character {number}.png")
        clip = make_video(media / f"clip{number}", seconds=made.seconds, width=made.width,
                          height=made.height, fps=12, name=f"motion {number}.mp4")
        job = finished_job(store, image, clip, made, f"task-unified-{number:04d}-abcdefgh")
        target = library.target_path(job)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        entry = library.add_result(job, target, width=made.width, height=made.height)
        if made.age_days:
            # saved_at is "now" in add_result: age it like a result from another day
            entry = _age(library, entry, made.age_days)
        if made.mark:
            entry = library.set_mark(entry, made.mark)
        entries.append(entry)
    return entries


def _age(library: Library, entry: LibraryEntry, days: float) -> LibraryEntry:
    import json
    from dataclasses import replace

    from kling_desktop.files import write_atomic

    assert entry.saved_at is not None
    aged = replace(entry, saved_at=entry.saved_at - days * 86400)
    write_atomic(aged.sidecar_path,
                 (json.dumps(aged.to_json(), indent=2) + "\n").encode("utf-8"))
    if library.store is not None:
        library.store.upsert_result(library._record(aged))
    return aged
