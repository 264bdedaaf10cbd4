"""The window's one background mechanism (TaskRunner) and its face of the job service
(JobController): work runs on the pool, every answer arrives on the main thread,
superseded and cancelled answers never arrive, and shutting down is bounded."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.batch import check_batch
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.engine.runner import Engine
from kling_desktop.errors import KlingError
from kling_desktop.simulator import Simulator
from kling_desktop.ui.job_controller import JobController
from kling_desktop.ui.tasks import TaskRunner
from tests.conftest import TEST_KEY
from tests.media import make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, fast_settings

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    tasks = TaskRunner(max_threads=2)
    yield tasks
    assert tasks.shutdown(5_000)
    tasks.deleteLater()


def _on_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_work_runs_on_the_pool_and_its_result_arrives_on_the_main_thread(
        qtbot: QtBot, runner: TaskRunner) -> None:
    seen: dict[str, object] = {}

    def work(a: int, b: int) -> int:
        seen["worker_on_main"] = _on_main()
        return a + b

    def done(result: object) -> None:
        seen["result"] = result
        seen["done_on_main"] = _on_main()

    runner.run(work, 2, b=3, on_done=done)
    qtbot.waitUntil(lambda: "result" in seen, timeout=WAIT_MS)
    assert seen == {"worker_on_main": False, "result": 5, "done_on_main": True}
    qtbot.waitUntil(runner.is_idle, timeout=WAIT_MS)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice: Linux")
def test_workers_run_at_the_main_threads_priority(qtbot: QtBot, tasks: TaskRunner) -> None:
    """Never lower the workers: a lowered worker that holds Python's interpreter lock is
    scheduled last on a busy machine, and the main thread waits for that lock behind it
    (bench_stall with both cores busy: 2.7 s stalls and a 200-job batch 10x slower with
    the workers at nice +5; 160 ms and 27 s at the main thread's priority)."""
    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []
    done: list[object] = []
    tasks.run(lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())),
              on_done=done.append)
    qtbot.waitUntil(lambda: done != [], timeout=WAIT_MS)
    assert seen == [main]


def test_a_failure_arrives_as_the_exception_on_the_main_thread(
        qtbot: QtBot, runner: TaskRunner) -> None:
    got: list[tuple[BaseException, bool]] = []

    def work() -> None:
        raise KlingError("The clip could not be read.", fix="Choose another clip.")

    runner.run(work, on_done=lambda _r: pytest.fail("no result expected"),
               on_failed=lambda exc: got.append((exc, _on_main())))
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT_MS)
    error, on_main = got[0]
    assert isinstance(error, KlingError)
    assert error.fix == "Choose another clip."
    assert on_main


def test_a_newer_call_with_the_same_key_supersedes_the_older(
        qtbot: QtBot, runner: TaskRunner) -> None:
    release = threading.Event()
    results: list[str] = []

    def slow(name: str) -> str:
        release.wait(10)
        return name

    runner.run(slow, "old", key="preview", on_done=results.append)
    runner.run(slow, "new", key="preview", on_done=results.append)
    assert runner.pending("preview") == 1          # the old one no longer counts
    release.set()
    qtbot.waitUntil(lambda: results == ["new"], timeout=WAIT_MS)
    qtbot.waitUntil(runner.is_idle, timeout=WAIT_MS)
    assert results == ["new"]


def test_progress_arrives_in_order_and_cancel_reaches_the_work(
        qtbot: QtBot, runner: TaskRunner) -> None:
    steps: list[tuple[int, int]] = []
    stopped = threading.Event()
    finished: list[object] = []

    def copy(*, progress: object, cancel: threading.Event) -> str:
        assert callable(progress)
        for done in range(1, 4):
            progress(done * 2**31, 3 * 2**31)    # byte counts above 2**31 pass intact
        cancel.wait(10)
        if cancel.is_set():
            stopped.set()
        return "done"

    ticket = runner.run(copy, on_progress=lambda d, t: steps.append((d, t)),
                        pass_cancel=True, on_done=finished.append)
    qtbot.waitUntil(lambda: len(steps) == 3, timeout=WAIT_MS)
    assert steps == [(n * 2**31, 3 * 2**31) for n in (1, 2, 3)]
    ticket.cancel()
    assert stopped.wait(10)
    qtbot.waitUntil(runner.is_idle, timeout=WAIT_MS)
    assert finished == []                          # a cancelled call never answers


def test_an_answer_for_a_deleted_widget_is_dropped(qtbot: QtBot, runner: TaskRunner) -> None:
    calls: list[object] = []

    class Receiver(QObject):
        def on_done(self, result: object) -> None:
            calls.append(result)

    receiver = Receiver()
    release = threading.Event()
    runner.run(lambda: release.wait(10), on_done=receiver.on_done)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _alive_object(receiver), timeout=WAIT_MS)
    release.set()
    qtbot.waitUntil(runner.is_idle, timeout=WAIT_MS)
    assert calls == []


def _alive_object(obj: QObject) -> bool:
    import shiboken6
    return bool(shiboken6.isValid(obj))


def test_shutdown_is_bounded_and_refuses_new_work(qtbot: QtBot) -> None:
    tasks = TaskRunner(max_threads=1)
    release = threading.Event()
    late: list[object] = []
    tasks.run(lambda: release.wait(30), on_done=late.append)
    tasks.run(lambda: "never started", on_done=late.append)
    assert tasks.shutdown(100) is False            # still busy: says so, does not hang
    with pytest.raises(RuntimeError):
        tasks.run(lambda: None)
    release.set()
    assert tasks.shutdown(5_000) is True
    qtbot.wait(50)
    assert late == []                              # nothing is delivered after shutdown
    tasks.deleteLater()


def test_add_threads_makes_room_for_a_long_running_user(qtbot: QtBot,
                                                        runner: TaskRunner) -> None:
    hold = threading.Event()
    runner.add_threads(1)                          # three threads now
    started = threading.Semaphore(0)

    def busy() -> None:
        started.release()
        hold.wait(10)

    for _ in range(3):
        runner.run(busy)
    assert all(started.acquire(timeout=10) for _ in range(3))   # all three at once
    hold.set()
    qtbot.waitUntil(runner.is_idle, timeout=WAIT_MS)


# ------------------------------------------------------------------ the controller


def test_the_controller_relays_the_services_reports_on_the_main_thread(
        qtbot: QtBot, sim: Simulator, media: Path) -> None:
    engine = Engine(api_key=TEST_KEY, base_url=sim.base_url, settings=fast_settings())
    tasks = TaskRunner(max_threads=2)
    controller = JobController(engine, tasks)
    threads: set[bool] = set()
    finished: list[Job] = []
    counts: list[int] = []
    controller.job_updated.connect(lambda _job: threads.add(_on_main()))
    controller.jobs_updated.connect(lambda _jobs: threads.add(_on_main()))
    controller.job_finished.connect(finished.append)
    controller.active_count_changed.connect(counts.append)
    try:
        pictures = [str(make_image(media, name=f"hero-{n}.png")) for n in range(2)]
        batch = check_batch(pictures, [str(make_video(media, seconds=4))], GenerationOptions())
        assert batch.ok, batch.problems
        with qtbot.waitSignal(controller.submitted, timeout=WAIT_MS) as submitted:
            controller.submit(batch, GenerationOptions())
        assert len(submitted.args[0]) == 2
        qtbot.waitUntil(lambda: len(finished) == 2, timeout=60_000)
        assert {job.state for job in finished} == {JobState.COMPLETED}
        assert threads == {True}                   # never a report from a worker thread
        qtbot.waitUntil(lambda: controller.active_count() == 0, timeout=WAIT_MS)
        assert counts[-1] == 0
        assert max(counts) >= 1
        assert sim.count("create") == 2
    finally:
        assert controller.shutdown(10_000)
        assert tasks.shutdown(5_000)
        engine.close()
