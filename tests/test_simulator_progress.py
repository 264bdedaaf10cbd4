"""Progress words follow the real state: the simulator's estimate read as the engine reads
it ("the task takes about N s from its creation"), through ``engine.status``.

A first-time artist saw "almost done" at 20-40 % in the demo once the estimate had run
out; the words must say "taking longer than estimated" only when it has.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from kling_desktop.api.models import GenerationOptions, TaskStatus
from kling_desktop.api.parse import parse_task
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.engine.status import describe, remaining_text
from kling_desktop.simulator import Simulator, SimulatorConfig

ESTIMATE = 40


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    sim = Simulator(SimulatorConfig(polls_until_done=5, estimated_time=ESTIMATE))
    with sim, httpx.Client(base_url=sim.base_url, timeout=30,
                           headers={"Authorization": "Bearer k"}) as c:
        yield c


def job_from(body: dict[str, object], submitted_at: float) -> Job:
    task = parse_task(body)
    return Job(id=1, spec=JobSpec(image="/a.png", video="/b.mp4", options=GenerationOptions(),
                                  billable_seconds=5.0),
               state=JobState.SUBMITTED, base_url="http://127.0.0.1:1", demo=True,
               task_id=task.id, provider_status=str(task.status),
               progress=task.progress, estimated_time=task.estimated_time,
               submitted_at=submitted_at, created_at=submitted_at, updated_at=submitted_at)


def test_each_poll_keeps_the_estimate_of_the_whole_task(client: httpx.Client) -> None:
    created = client.post("/v1/videos/generations", json={
        "model": "kling-v3-motion-control", "image_url": "https://example.com/a.png",
        "video_url": "https://example.com/b.mp4"}).json()
    submitted = time.time()
    seen: list[tuple[int, str]] = []
    while True:
        body = client.get(f"/v1/tasks/{created['id']}").json()
        if body["status"] != TaskStatus.PROCESSING.value:
            if body["status"] == TaskStatus.COMPLETED.value:
                break
            continue
        job = job_from(body, submitted)
        # On schedule (half the estimate gone): time left, never "taking longer".
        on_time = describe(job, now=submitted + ESTIMATE / 2).headline
        seen.append((job.progress, on_time))
        assert "taking longer" not in on_time
        assert on_time.endswith("about 20 s left")
        # Past the estimate, whatever the progress: said so.
        late = describe(job, now=submitted + ESTIMATE + 1).headline
        assert late == f"Generating {job.progress} % · taking longer than estimated"
    assert [p for p, _ in seen] == [20, 40, 60]


@pytest.mark.parametrize(("elapsed", "words"), [
    (0, "about 40 s left"),
    (27, "about 15 s left"),
    (38.5, "about 2 s left"),
    (39.5, "taking longer than estimated"),
    (40, "taking longer than estimated"),
    (400, "taking longer than estimated"),
])
def test_remaining_words(elapsed: float, words: str) -> None:
    job = job_from({"id": "task-1", "status": "processing", "progress": 30,
                    "task_info": {"estimated_time": ESTIMATE}}, 1000.0)
    assert remaining_text(job, now=1000.0 + elapsed) == words
