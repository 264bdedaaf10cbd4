#!/usr/bin/env python3
"""Screenshots of the real window, one PNG per named state (a developer tool).

    python tests/look/shoot.py OUT_DIR [--display N] [--size 1440x900]

Starts a virtual X screen (Xvfb on a free display number, or ``--display``) with a
small window manager (twm), so decorations, dialogs and focus behave as on a desktop;
then runs the real app in a fresh data folder (``KLING_DATA_DIR``, a throwaway keyring
service, no key) and walks it the way an artist would: the start panel, "Try the
demo", Generate and its confirmation, a running job, the finished job, the result in
the Library, Compare, Settings. After each step it grabs the whole screen
(``import -window root``) into ``OUT_DIR/NN-name.png``. Needs Xvfb, twm and ImageMagick.
Not a test: pytest does not collect it and ``tests/run.sh`` does not run it. Open
every PNG and look (clipped text, jumping layout, contrast, wrong words).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

STATES = ("01-start-panel", "02-demo-form", "03-confirm-demo", "04-job-running",
          "05-job-completed", "06-library-result", "07-compare", "08-settings")
# twm's default fonts are rarely installed (it then exits at once); Xvfb always has
# "fixed". New windows are placed without asking (RandomPlacement, their own position).
TWMRC = """TitleFont "fixed"
ResizeFont "fixed"
MenuFont "fixed"
IconFont "fixed"
IconManagerFont "fixed"
RandomPlacement
UsePPosition "on"
NoGrabServer
DecorateTransients
"""
SETTLE_S = 0.8        # let the window paint (and a video show a frame) before a shot
STEP_TIMEOUT_S = 60.0


# -- the screen (parent process) ------------------------------------------------------------

def free_display(start: int = 90) -> int:
    for number in range(start, start + 100):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(
                f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise SystemExit("no free X display number between 90 and 190")


def need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise SystemExit(f"{tool} is needed (apt install xvfb twm imagemagick)")
    return exe


def shoot(out: Path, display: int | None, size: str, lang: str | None = None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    number = display if display is not None else free_display()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KLING_") and k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = f":{number}"
    started: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="kling-look-") as data:
        try:
            xvfb = subprocess.Popen([need("Xvfb"), f":{number}", "-screen", "0", f"{size}x24",
                                     "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
            started.append(xvfb)
            socket = Path(f"/tmp/.X11-unix/X{number}")
            deadline = time.monotonic() + 10
            while not socket.exists():
                if xvfb.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"Xvfb did not start on :{number}")
                time.sleep(0.05)
            twmrc = Path(data) / "twmrc"
            twmrc.write_text(TWMRC, encoding="utf-8")
            twm = subprocess.Popen([need("twm"), "-f", str(twmrc)], env=env,
                                   stderr=subprocess.DEVNULL)
            started.append(twm)
            time.sleep(0.5)
            if twm.poll() is not None:
                print("shoot.py: twm did not start: no window decorations", file=sys.stderr)
            need("import")
            env.update(KLING_DATA_DIR=str(Path(data) / "data"),
                       KLING_KEYRING_SERVICE=f"kling-look-{os.getpid()}",
                       QT_QPA_PLATFORM="xcb")
            driver = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--drive",
                                     *(["--lang", lang] if lang else []),
                                     str(out.resolve())], env=env, check=False)
            return driver.returncode
        finally:
            for proc in reversed(started):
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()


# -- the walk (child process, on the X screen) ------------------------------------------------

Step = Iterator[Callable[[], bool] | float | str]
"""A walk yields what to wait for: a condition, seconds to let paint, or a state to shoot."""


def walk(launcher: object) -> Step:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

    from kling_desktop.engine.jobs import JobState
    from kling_desktop.ui.app import Launcher
    from kling_desktop.ui.settings_dialog import SettingsDialog

    assert isinstance(launcher, Launcher)

    def modal(name: str) -> QMessageBox | None:
        box = QApplication.activeModalWidget()
        return box if isinstance(box, QMessageBox) and box.objectName() == name else None

    first = launcher.window
    assert first is not None
    yield lambda: first.isVisible() and first.is_start_panel_shown()
    yield SETTLE_S
    yield "01-start-panel"

    QTimer.singleShot(0, first.start_panel.demo_button.click)   # "Try the demo"
    yield lambda: launcher.window is not None and launcher.window is not first \
        and launcher.window.demo and launcher.window.isVisible()
    demo = launcher.window
    assert demo is not None
    yield lambda: demo.form.generate_button.isEnabled()
    yield SETTLE_S
    yield "02-demo-form"

    QTimer.singleShot(0, demo.form.generate_button.click)   # the box is modal: from the loop
    yield lambda: modal("confirmGeneration") is not None
    yield SETTLE_S
    yield "03-confirm-demo"
    box = modal("confirmGeneration")
    assert box is not None
    generate = box.findChild(QPushButton, "generateButton")
    assert generate is not None
    QTimer.singleShot(0, generate.click)

    def job_in(state: JobState, progress: int = 0) -> Callable[[], bool]:
        def reached() -> bool:
            ids = demo.jobs_panel.job_ids()
            job = demo.jobs_panel.job(ids[0]) if ids else None
            return job is not None and job.state is state and job.progress >= progress
        return reached

    yield job_in(JobState.SUBMITTED, progress=1)
    yield 0.2
    yield "04-job-running"
    yield job_in(JobState.COMPLETED)
    yield 2.0   # the result's poster frame
    yield "05-job-completed"

    demo.show_gallery()
    gallery = demo.library_page.ensure_gallery()
    yield lambda: gallery.model.rowCount() >= 1
    key = gallery.key_at(0)
    assert key is not None
    gallery.select_key(key)
    yield 1.5
    yield "06-library-result"

    gallery.open_compare()
    yield gallery.is_comparing
    yield 2.0
    yield "07-compare"
    gallery.close_compare()

    demo.tabs.setCurrentIndex(0)
    demo.open_settings()

    def settings_dialog() -> SettingsDialog | None:
        found = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, SettingsDialog) and w.isVisible()]
        return found[0] if found else None

    yield lambda: settings_dialog() is not None
    yield SETTLE_S
    yield "08-settings"
    dialog = settings_dialog()
    if dialog is not None:
        dialog.reject()


@dataclass
class Wait:
    """What the walk waits for: a condition (until ``deadline``), or a moment."""

    condition: Callable[[], bool] | None = None
    deadline: float = 0.0
    until: float = 0.0


def drive(out: Path, lang: str | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kling_desktop.ui.app import Launcher, configure_application
    from kling_desktop.ui.language import install_window_language

    app = QApplication(sys.argv[:1])
    configure_application(app)
    install_window_language(lang, "")      # as the app does: --lang, else the system
    app.setQuitOnLastWindowClosed(False)
    launcher = Launcher(app)
    if not launcher.open(False):
        return 1
    steps = walk(launcher)
    failure: list[str] = []
    shot: list[str] = []
    wait = Wait()

    def grab(name: str) -> None:
        path = out / f"{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
        shot.append(name)
        print(f"wrote {path}", flush=True)

    def finish() -> None:
        pump.stop()
        launcher.shutdown()
        app.quit()

    def tick() -> None:
        now = time.monotonic()
        if wait.condition is not None and not wait.condition():
            if now > wait.deadline:
                after = shot[-1] if shot else "the start"
                failure.append(f"a step after {after} did not happen within "
                               f"{STEP_TIMEOUT_S:.0f} s")
                finish()
            return
        if now < wait.until:
            return
        wait.condition, wait.until = None, 0.0
        try:
            item = next(steps)
        except StopIteration:
            finish()
            return
        except Exception as exc:   # report, do not hang on a broken step
            failure.append(f"{type(exc).__name__}: {exc}")
            finish()
            return
        if isinstance(item, str):
            grab(item)
        elif callable(item):
            wait.condition, wait.deadline = item, now + STEP_TIMEOUT_S
        else:
            wait.until = now + item

    pump = QTimer()
    pump.setInterval(50)
    pump.timeout.connect(tick)
    pump.start()
    app.exec()
    if failure:
        print(f"shoot.py: {failure[0]}", file=sys.stderr)
        return 1
    missing = [name for name in STATES if name not in shot]
    if missing:
        print(f"shoot.py: not shot: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="folder for the PNGs")
    parser.add_argument("--display", type=int, help="X display number (default: a free one)")
    parser.add_argument("--size", default="1440x900", help="screen size (default 1440x900)")
    parser.add_argument("--lang", help="the window's language (en, zh_CN; default: the system's)")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        return drive(args.out, args.lang)
    return shoot(args.out, args.display, args.size, args.lang)


if __name__ == "__main__":
    raise SystemExit(main())
