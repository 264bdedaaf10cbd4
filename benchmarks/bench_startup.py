"""Start-up time: process launch -> first painted main window, next to a bare QMainWindow.

Each sample is a fresh ``python`` process (offscreen). The parent notes the time
just before launching it; the child prints ``PAINTED`` when the window receives
its first paint event; the difference is the figure. The floor is a bare PySide6
``QMainWindow`` launched the same way in the same run, so the difference between
the two medians is what the app itself costs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.done = False
    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint and (
                obj is self.window or (hasattr(obj, "window") and obj.window() is self.window)):
            self.done = True
            QTimer.singleShot(0, self.report)
        return False
    def report(self):
        print("PAINTED", flush=True)
        os._exit(0)

mode = sys.argv[1]
if mode == "bare":
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
else:
    from kling_desktop.ui.app import Launcher, configure_application
    app = QApplication(sys.argv[:1])
    configure_application(app)
    launcher = Launcher(app)
    # Launcher.open builds the engine and the window and shows it, exactly as run_app does.
    original_show = QMainWindow.show
    holder = {}
    def show(self):
        holder["filter"] = FirstPaint(self)
        app.installEventFilter(holder["filter"])
        original_show(self)
    QMainWindow.show = show
    if not launcher.open(demo=False):
        sys.exit(2)
    window = launcher.window
if mode == "bare":
    flt = FirstPaint(window)
    app.installEventFilter(flt)
    window.resize(1280, 800)
    window.show()
app.exec()
"""


def sample(mode: str, data_dir: Path) -> float:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["KLING_DATA_DIR"] = str(data_dir)
    env["KLING_API_KEY"] = "bench-key-not-real"     # opens on the form, not the start panel
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    proc.wait(30)
    if line.strip() != "PAINTED":
        raise RuntimeError(f"{mode}: the child did not paint (exit {proc.returncode})")
    return elapsed * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp:
        data = Path(tmp)
        sample("app", data)   # warm the OS file cache and create the database once
        sample("bare", data)
        bare: list[float] = []
        app: list[float] = []
        for _ in range(args.runs):   # interleaved, so drift hits both alike
            bare.append(sample("bare", data))
            app.append(sample("app", data))
    floor, ours = statistics.median(bare), statistics.median(app)
    print(f"runs each:                         {args.runs}")
    print(f"floor: bare QMainWindow, median    {floor:7.0f} ms   "
          f"(min {min(bare):.0f}, max {max(bare):.0f})")
    print(f"Kling Motion Studio window, median {ours:7.0f} ms   "
          f"(min {min(app):.0f}, max {max(app):.0f})")
    print(f"app cost over the floor            {ours - floor:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
