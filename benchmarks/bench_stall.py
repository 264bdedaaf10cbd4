"""Main-thread stalls while 50 jobs poll the simulator and a 500 MB result downloads.

A ``QTimer`` heartbeat (every 5 ms, precise) runs on the main thread of the real
window; every gap longer than the interval is the main thread being busy. The
floor is the same heartbeat on the same window with no jobs at all.

1. The simulator runs in its own process (as the real provider would: its
   threads must not compete with the app's for the GIL) and gets a sparse
   500 MB MP4 uploaded (a few KB on disk); a job whose clip is that upload
   produces a 500 MB result, served at ~50 MB/s so the download lasts seconds.
2. That job is started; once the provider has it, 50 more jobs start and poll
   the simulator together while the big result downloads.
3. The heartbeat runs until all 51 jobs are saved.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_stall.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument("--workers", type=int, default=0,
                        help="jobs carried at once (default: the settings' maximum, 10; "
                             "use 51 to have every job poll at the same time)")
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="seconds between polls of one job (the app's default is 5; "
                             "1 s makes 50 jobs poll ~50 times a second)")
    args = parser.parse_args()

    from kling_desktop.ui.app import configure_application

    app = QApplication(sys.argv[:1])
    configure_application(app)

    from kling_desktop.api.client import KlingClient
    from kling_desktop.engine.jobs import JobSpec, JobState
    from kling_desktop.engine.runner import Engine
    from kling_desktop.engine.settings import MAX_CONCURRENT_JOBS, Settings
    from kling_desktop.ui.app import create_main_window
    from tests.media import make_image, make_sparse_large_mp4, make_video

    with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["KLING_DATA_DIR"] = str(tmp / "data")
        media = tmp / "media"
        big = make_sparse_large_mp4(media, mdat_bytes=args.big_mb * 1024 * 1024)
        picture = make_image(media)
        clip = make_video(media, seconds=4)

        sim = subprocess.Popen(
            [sys.executable, "-c",
             "import sys; from kling_desktop.simulator import serve; "
             "sys.exit(serve(0, None, polls_until_done=10, estimated_time=10, "
             f"download_bytes_per_second={50 * 1024 * 1024}))"],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        base_url = line.strip().rsplit(" ", 1)[-1]
        with KlingClient(base_url, "bench") as client:
            print(f"uploading the {args.big_mb} MB clip to the simulator…", flush=True)
            big_url = client.upload_file(big).url
            picture_url = client.upload_file(picture).url
            clip_url = client.upload_file(clip).url

        settings = Settings(poll_min_interval=args.poll_interval,
                            poll_max_interval=args.poll_interval,
                            confirm_before_generate=False, notify_when_done=False)
        engine = Engine(api_key="bench", base_url=base_url, settings=settings)
        window = create_main_window(engine, has_key=True)
        window.resize(1280, 800)
        window.show()
        controller = window.controller
        workers = args.workers or MAX_CONCURRENT_JOBS
        controller.set_max_concurrent(workers)
        run_until(lambda: window.jobs_panel.stack.currentWidget()
                  is window.jobs_panel.empty_label, 10)

        beat = Heartbeat()
        beat.start()
        run_until(lambda: beat.clock.elapsed() >= 3000, 10)
        beat.stop()
        floor_max, floor_p99 = beat.stalls()

        states: dict[int, JobState] = {}
        controller.job_updated.connect(lambda job: states.__setitem__(job.id, job.state))
        beat.start()
        started = time.monotonic()
        big_job = engine.enqueue_spec(JobSpec(image=picture_url, video=big_url))
        controller.resume_all()   # reads the list and starts jobs on workers, as at start
        run_until(lambda: states.get(big_job.id) is JobState.SUBMITTED, 60)
        # Queued off the main thread, as the window does (TaskRunner), then resumed.
        queued = threading.Thread(target=lambda: [
            engine.enqueue_spec(JobSpec(image=picture_url, video=clip_url))
            for _ in range(args.jobs)])
        queued.start()
        run_until(lambda: not queued.is_alive(), 60)
        controller.resume_all()
        run_until(lambda: len(states) == args.jobs + 1
                  and all(s is JobState.COMPLETED for s in states.values()), 300)
        beat.stop()
        elapsed = time.monotonic() - started
        load_max, load_p99 = beat.stalls()
        big_done = engine.store.get(big_job.id)
        size = Path(big_done.output_path).stat().st_size if big_done and \
            big_done.output_path else 0

        window.shutdown(10_000)
        window.close()
        engine.close()
        sim.terminate()
        sim.wait(10)

    print(f"heartbeat every {INTERVAL_MS} ms on the main thread of the real window (offscreen)")
    print(f"floor (window idle, no jobs, 3 s):        max {floor_max:6.1f} ms   "
          f"p99 {floor_p99:5.1f} ms")
    print(f"{args.jobs} jobs polling every {args.poll_interval:g} s + {args.big_mb} MB download, "
          f"{workers} at a time "
          f"({elapsed:.1f} s, {size / 1e6:.0f} MB saved):")
    print(f"                                          max {load_max:6.1f} ms   "
          f"p99 {load_p99:5.1f} ms")
    print(f"target: max stall under {TARGET_MS:.0f} ms -> "
          f"{'met' if load_max < TARGET_MS else 'NOT met'}")
    print(f"(median tick gap under load {statistics.median(beat.gaps):.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
