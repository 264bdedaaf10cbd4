"""Main-thread stalls with 200 jobs in flight, idle and with both cores busy elsewhere.

A ``QTimer`` heartbeat (every 5 ms, precise) runs on the main thread of the real
window; every gap longer than the interval is the main thread being busy. The
floor is the same heartbeat on the same window with no jobs and no load; a second
floor, with no jobs while both cores are busy elsewhere, is what the OS's scheduler
alone does to the heartbeat (the loaded run's reference).

Each run:
1. the simulator runs in its own process (as the real provider would: its
   threads must not compete with the app's for the GIL) and gets a sparse
   500 MB MP4 uploaded (a few KB on disk); a job whose clip is that upload
   produces a 500 MB result, served at ~50 MB/s so the download lasts seconds;
2. that job is sent through the window's own path (the job controller and the
   job service's one scheduler), then 200 more in one batch, with the cap of
   tasks at the provider raised to 201 so that all of them poll at once;
3. the heartbeat runs until all 201 jobs are saved.
The "loaded" run does the same while two other processes keep both cores busy.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_stall.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kling_desktop.engine.runner import Engine
    from kling_desktop.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (  # noqa: E402
    QCoreApplication,
    QElapsedTimer,
    QEvent,
    QEventLoop,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QApplication  # noqa: E402

INTERVAL_MS = 5
TARGET_MS = 50.0


class Heartbeat:
    """Records the gaps between ticks of a precise timer on the main thread."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps = []
        self.clock.start()
        self._last = 0.0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self._last)
        self._last = now

    def stalls(self) -> tuple[float, float]:
        """(max, p99) of the time the main thread was late, in ms."""
        late = sorted(max(0.0, gap - INTERVAL_MS) for gap in self.gaps[1:]) or [0.0]
        p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
        return late[-1], p99


def run_until(done: Callable[[], bool], timeout_s: float) -> None:
    """Run the event loop until ``done()`` (checked every 20 ms) or the timeout."""
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(20)
    deadline = time.monotonic() + timeout_s

    def poll() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    check.timeout.connect(poll)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("the benchmark did not finish in time")


def open_window(engine: Engine) -> MainWindow:
    """The window on ``engine``, shown and its (empty) jobs list up, as the app leaves it
    then: start-up objects frozen, the collector on the main thread only."""
    from kling_desktop.ui.app import create_main_window, freeze_startup_objects

    window = create_main_window(engine, has_key=True)
    window.resize(1280, 800)
    window.show()
    run_until(lambda: window.jobs_panel.stack.currentWidget()
              is window.jobs_panel.empty_label, 10)
    freeze_startup_objects()
    return window


def close_window(window: MainWindow, engine: Engine, timeout_ms: int) -> None:
    """As the app's launcher closes a window: its work stopped, then deleted on the main
    thread (not left to the collector)."""
    window.shutdown(timeout_ms)
    window.close()
    window.deleteLater()
    engine.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def idle_stalls() -> tuple[float, float]:
    """(max, p99) stall of the heartbeat over 3 s of the window doing nothing."""
    beat = Heartbeat()
    beat.start()
    run_until(lambda: beat.clock.elapsed() >= 3000, 10)
    beat.stop()
    return beat.stalls()


def os_threads() -> int:
    """Threads of this process as the OS counts them (Qt's pool threads included)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return threading.active_count()


def busy_cores(count: int) -> list[subprocess.Popen[bytes]]:
    """Other processes that keep ``count`` cores busy (the machine is not ours alone)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_burners(burners: list[subprocess.Popen[bytes]]) -> None:
    for burner in burners:
        burner.kill()
        burner.wait(10)


def scenario(args: argparse.Namespace, tmp: Path, *, load: bool) -> tuple[float, float, float,
                                                                          int, int]:
    """One run; (max stall, p99 stall, seconds, jobs saved, peak threads)."""
    from kling_desktop.api.client import KlingClient
    from kling_desktop.engine.jobs import JobSpec, JobState
    from kling_desktop.engine.runner import Engine
    from kling_desktop.engine.settings import Settings
    from tests.media import make_image, make_sparse_large_mp4, make_video

    data = tmp / ("data-loaded" if load else "data-idle")
    os.environ["KLING_DATA_DIR"] = str(data)
    media = tmp / "media"
    big = make_sparse_large_mp4(media, mdat_bytes=args.big_mb * 1024 * 1024)
    picture = make_image(media)
    clip = make_video(media, seconds=4)

    sim = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from kling_desktop.simulator import serve; "
         f"sys.exit(serve(0, None, polls_until_done={args.polls}, estimated_time=10, "
         f"download_bytes_per_second={50 * 1024 * 1024}))"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    burners: list[subprocess.Popen[bytes]] = []
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        base_url = line.strip().rsplit(" ", 1)[-1]
        with KlingClient(base_url, "bench") as client:
            big_url = client.upload_file(big).url
            picture_url = client.upload_file(picture).url
            clip_url = client.upload_file(clip).url

        settings = Settings(poll_min_interval=args.poll_interval,
                            poll_max_interval=args.poll_interval,
                            confirm_before_generate=False, notify_when_done=False,
                            max_concurrent_jobs=args.jobs + 1)
        engine = Engine(api_key="bench", base_url=base_url, settings=settings)
        window = open_window(engine)
        controller = window.controller

        states: dict[int, JobState] = {}
        controller.job_updated.connect(lambda job: states.__setitem__(job.id, job.state))
        if load:
            burners = busy_cores(2)
            time.sleep(0.5)
        beat = Heartbeat()
        beat.start()
        started = time.monotonic()
        peak_threads = os_threads()
        # The simulator is plain http on loopback, which the input checks (rightly) refuse
        # for links: the jobs are recorded off the main thread, as the window's own
        # submit does, and picked up by the window's own resume path.
        engine.store.add_job(JobSpec(image=picture_url, video=big_url), base_url=base_url,
                             demo=False)
        controller.resume_all()
        run_until(lambda: len(states) == 1
                  and next(iter(states.values())) is not JobState.QUEUED, 60)
        recorded = threading.Thread(target=lambda: [
            engine.store.add_job(JobSpec(image=f"{picture_url}?n={n}", video=clip_url),
                                 base_url=base_url, demo=False)
            for n in range(args.jobs)])
        recorded.start()
        run_until(lambda: not recorded.is_alive(), 60)
        controller.resume_all()

        def all_saved() -> bool:
            nonlocal peak_threads
            peak_threads = max(peak_threads, os_threads())
            return len(states) == args.jobs + 1 and all(
                s is JobState.COMPLETED for s in states.values())

        run_until(all_saved, 600)
        beat.stop()
        elapsed = time.monotonic() - started
        stall_max, stall_p99 = beat.stalls()
        saved = sum(1 for s in states.values() if s is JobState.COMPLETED)
        close_window(window, engine, 10_000)
        return stall_max, stall_p99, elapsed, saved, peak_threads
    finally:
        stop_burners(burners)
        sim.terminate()
        sim.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument("--polls", type=int, default=10, help="polls until a task is done")
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="seconds between polls of one job (the app's default is 5; "
                             "1 s makes 200 jobs poll ~200 times a second)")
    parser.add_argument("--only", choices=["idle", "loaded"], default=None)
    args = parser.parse_args()

    from kling_desktop.ui.app import configure_application

    app = QApplication(sys.argv[:1])
    configure_application(app)

    with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["KLING_DATA_DIR"] = str(tmp / "data-floor")
        from kling_desktop.engine.runner import Engine
        from kling_desktop.engine.settings import Settings

        engine = Engine(api_key="bench", base_url="http://127.0.0.1:9", settings=Settings())
        window = open_window(engine)
        floor_max, floor_p99 = idle_stalls()
        if args.only != "idle":
            # What the OS alone does to the heartbeat with both cores busy elsewhere: the
            # loaded run's figure is measured against this.
            burners = busy_cores(2)
            try:
                time.sleep(0.5)
                loaded_max, loaded_p99 = idle_stalls()
            finally:
                stop_burners(burners)
        close_window(window, engine, 5_000)

        print(f"heartbeat every {INTERVAL_MS} ms on the main thread of the real window "
              "(offscreen)")
        print(f"floor (window idle, no jobs, no load, 3 s):    max {floor_max:6.1f} ms   "
              f"p99 {floor_p99:5.1f} ms")
        if args.only != "idle":
            print(f"floor, both cores busy elsewhere (idle, 3 s):  max {loaded_max:6.1f} ms   "
                  f"p99 {loaded_p99:5.1f} ms")
        met = True
        for load in (False, True):
            if args.only is not None and args.only != ("loaded" if load else "idle"):
                continue
            stall_max, stall_p99, elapsed, saved, threads = scenario(args, tmp, load=load)
            label = (f"{args.jobs + 1} jobs in flight"
                     + (", both cores busy elsewhere" if load else ", idle machine"))
            print(f"{label + ':':<47}max {stall_max:6.1f} ms   p99 {stall_p99:5.1f} ms   "
                  f"({saved} saved in {elapsed:.1f} s, peak {threads} threads)")
            met = met and stall_max < TARGET_MS
        print(f"target: max stall under {TARGET_MS:.0f} ms -> {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
