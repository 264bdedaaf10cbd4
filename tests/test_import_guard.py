"""The start-up path imports only what the first paint needs (issue 16): an import guard,
not a timer.

A fresh ``python`` runs ``kling-desktop`` as a user starts it (``kling_desktop.main.main``
with no arguments: the window, offscreen, no key, an empty data folder). An import hook
notes who asked first for each module below; at the window's first paint the child
prints what it saw and exits. What is loaded after the first paint (the keyring lookup,
the job list on a worker, the gallery when its tab opens) does not count.

A failure names the chain that pulled the module in, outermost first, e.g.
``kling_desktop.main -> kling_desktop.ui.app -> kling_desktop.engine.runner -> httpx``;
functions appear as ``module.function()`` when the import happened in a call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Loaded only when needed: the log file's handler (the file opens after the first
#: paint), the network (httpx, the client, the standard library's HTTP stack with ssl
#: and email, the answer parsers), the keyring, the demo's simulator, playing video, the
#: Library tab, the Settings dialog, the trim editor; the job store and the library with
#: SQLite (they open on a worker after the first paint); the form's checks, the media
#: probes and the fixes with the converter (the first check loads them, on a worker; the
#: form's side of a fix loads when one starts); the
#: jobs' status wording (the jobs list's), what a job is and where its inputs came from
#: (they load with the job store).
DEFERRED = (
    "logging.handlers",
    "httpx",
    "keyring",
    "kling_desktop.api.client",
    "kling_desktop.api.exchange",
    "urllib.request",
    "kling_desktop.api.parse",
    "kling_desktop.simulator",
    "PySide6.QtMultimedia",
    "kling_desktop.ui.gallery",
    "kling_desktop.ui.settings_dialog",
    "kling_desktop.ui.form.trim",
    "kling_desktop.engine.store",
    "kling_desktop.engine.library",
    "sqlite3",
    "kling_desktop.engine.batch",
    "kling_desktop.engine.status",
    "kling_desktop.engine.jobs",
    "kling_desktop.engine.origins",
    "kling_desktop.engine.checks",
    "kling_desktop.engine.media",
    "kling_desktop.engine.fixes",
    "kling_desktop.convert",
    "kling_desktop.ui.form.fix_runs",
)

#: Qt classes the first paint does without. PySide builds a class's Python wrapper, with
#: all its enums, the first time Python touches it (an import of its name, or a return
#: value of that class): the style's alone costs ~9 ms (QCommonStyle and QStyle, 500 enum
#: members), a message box's, a file dialog's or a process's ~1 ms each.
DEFERRED_QT = (
    "QtWidgets.QStyle",
    "QtWidgets.QMessageBox",
    "QtWidgets.QFileDialog",
    "QtCore.QProcess",
    "QtCore.QMimeDatabase",
    "QtGui.QDesktopServices",
    "QtGui.QFontDatabase",
    "QtCore.QLibraryInfo",
    "QtCore.QTranslator",
    "QtWidgets.QDialog",
)

#: Still imported eagerly through modules outside the start-up work's files; each is a
#: strict xfail, so the test fails (XPASS) the day the chain is cut and the mark must go.
STILL_EAGER: dict[str, str] = {}

CHILD = r"""
import json, os, sys

DEFERRED = json.loads(sys.argv[1])
QT_TYPES = json.loads(sys.argv[2])
seen = {}

def chain():
    names = []
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        module = frame.f_globals.get("__name__", "?")
        if code.co_name == "<module>" and not code.co_filename.startswith("<frozen"):
            names.append(module)
        elif module.startswith("kling_desktop") and code.co_name != "<module>":
            names.append(f"{module}.{code.co_qualname}()")
        frame = frame.f_back
    names.reverse()
    return [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]

class Watch:
    def find_spec(self, name, path=None, target=None):
        for wanted in DEFERRED:
            if (name == wanted or name.startswith(wanted + ".")) and wanted not in seen:
                seen[wanted] = chain() + [name]
        return None

sys.meta_path.insert(0, Watch())
import kling_desktop.main as entry   # Qt is loaded by the program, as a user's start does

def watch_first_paint():
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QMainWindow

    class FirstPaint(QObject):
        # On the window itself: a filter on the whole application would be handed every
        # object's events, the style's among them, and so build the wrappers it looks for.
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                made = [name for name in QT_TYPES if isinstance(vars(sys.modules[
                    "PySide6." + name.split(".")[0]]).get(name.split(".")[1]), type)]
                import linecache
                read = sorted(name for name in linecache.cache if "kling_desktop" in name)
                print("SEEN " + json.dumps(seen), flush=True)
                print("MADE " + json.dumps(made), flush=True)
                print("READ " + json.dumps(read), flush=True)
                os._exit(0)
            return False

    watcher = FirstPaint()
    show = QMainWindow.show
    def show_watched(window):
        window.installEventFilter(watcher)
        show(window)
    QMainWindow.show = show_watched

load_window = entry.load_window
def load_and_watch():
    window_code = load_window()
    watch_first_paint()
    return window_code
entry.load_window = load_and_watch
sys.exit(entry.main([]))
"""


@pytest.fixture(scope="module")
def first_paint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the child printed at the window's first paint, by the line's first word."""
    env = dict(os.environ)
    env["KLING_DATA_DIR"] = str(tmp_path_factory.mktemp("startup") / "data")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("KLING_API_KEY", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(DEFERRED),
                           json.dumps(DEFERRED_QT)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    printed = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert {"SEEN", "MADE", "READ"} <= printed.keys(), (
        f"the window never painted (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return printed


@pytest.fixture(scope="module")
def eager(first_paint: dict[str, str]) -> dict[str, list[str]]:
    """Each deferred module the start-up path imported before the first paint, with the
    chain that imported it."""
    seen = json.loads(first_paint["SEEN"])
    assert isinstance(seen, dict)
    return seen


@pytest.mark.parametrize("module", [
    pytest.param(name, marks=pytest.mark.xfail(reason=STILL_EAGER[name], strict=True))
    if name in STILL_EAGER else name
    for name in DEFERRED
])
def test_the_first_paint_does_not_import(module: str, eager: dict[str, list[str]]) -> None:
    chain = eager.get(module)
    assert chain is None, (f"{module} is imported before the first paint: "
                           + " -> ".join(chain))


def test_the_first_paint_builds_no_wrapper_for_these_qt_classes(
        first_paint: dict[str, str]) -> None:
    made = json.loads(first_paint["MADE"])
    assert made == [], (f"Python touched {', '.join(made)} before the first paint (an import "
                        "of the name, or a call returning one, e.g. widget.style())")


def test_no_module_source_is_read_on_the_way_to_the_first_paint(
        first_paint: dict[str, str]) -> None:
    """PySide asks of every module imported after Qt whether its source mentions PySide6;
    its own way (``inspect.getsource``) read, split and kept each file of ours in
    ``linecache``, a few ms of the start-up. The app answers from the file's bytes
    (:mod:`kling_desktop.ui.import_check`), keeping nothing."""
    read = json.loads(first_paint["READ"])
    assert read == [], f"{len(read)} source files were read into linecache, e.g. {read[:3]}"


def test_the_first_paint_probe_says_so_and_closes_the_window(tmp_path: Path) -> None:
    """What the build script times on the frozen app (KLING_FIRST_PAINT_PROBE)."""
    env = dict(os.environ, KLING_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               KLING_FIRST_PAINT_PROBE="1", KLING_API_KEY="probe-key-not-real",
               KLING_BASE_URL="http://127.0.0.1:9")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-m", "kling_desktop"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.splitlines() == ["first paint"]
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_library_tab_plays_and_decodes_nothing_until_asked() -> None:
    """The gallery (the Library tab) shows its grid without Qt Multimedia or the
    conversion step: clips are decoded by the poster helper (a child process), the player
    and the comparison view load when a result is shown or compared."""
    script = ("import sys, kling_desktop.ui.gallery; print(sorted({m.split('.')[0] + '.' + "
              "m.split('.')[1] for m in sys.modules if m.startswith(('PySide6.QtMultimedia', "
              "'kling_desktop.convert', 'kling_desktop.ui.poster_grabber'))}))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


COLLECTOR_CHILD = r"""
import gc, json, sys
import kling_desktop.main as entry
seen = []   # each collection the collector ran: (generation, enabled, the window's run over)
over = []
gc.callbacks.append(lambda phase, info: phase == "start"
                    and seen.append((info["generation"], gc.isenabled(), bool(over))))
load_window = entry.load_window
def load_and_mark_the_end():
    app = load_window()
    run_app = app.run_app
    def run_and_mark(*args, **kwargs):
        try:
            return run_app(*args, **kwargs)
        finally:
            over.append(True)
    app.run_app = run_and_mark
    return app
entry.load_window = load_and_mark_the_end
code = entry.main([])
print("COLLECTIONS " + json.dumps({"seen": seen, "enabled_after": gc.isenabled(),
                                   "code": code}))
"""


def test_the_collector_waits_until_the_window_is_painted(tmp_path: Path) -> None:
    """Start-up makes objects that live until quit: the ~60 automatic collections of
    its imports and first build (~8 ms before the first paint) are not run. The collector
    runs again, after one full collection, once the jobs are listed (here the probe closes
    the window at its first paint; then on the main thread only, tests/ui/test_collector.py)
    and in any case when the window's run is over (as the interpreter's own again)."""
    env = dict(os.environ, KLING_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               KLING_FIRST_PAINT_PROBE="1", KLING_API_KEY="probe-key-not-real",
               KLING_BASE_URL="http://127.0.0.1:9")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", COLLECTOR_CHILD], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("COLLECTIONS ")]
    assert lines, f"exit {done.returncode}:\n{done.stderr[-3000:]}"
    report = json.loads(lines[-1][len("COLLECTIONS "):])
    assert report["code"] == 0
    automatic = [generation for generation, enabled, over in report["seen"]
                 if enabled and not over]
    assert automatic == [], f"{len(automatic)} automatic collections during start-up"
    assert report["enabled_after"] is True


LOG_CHILD = r"""
import logging, sys
import kling_desktop.main as entry

load_window = entry.load_window
def load_and_log():
    logging.getLogger("probe").warning("said while the window loads")
    return load_window()
entry.load_window = load_and_log
sys.exit(entry.main([]))
"""


def test_what_is_logged_before_the_first_paint_reaches_the_log_file(tmp_path: Path) -> None:
    """The log file opens after the first paint (on a worker, with the job store): the
    lines logged before it are held and written first, once each."""
    env = dict(os.environ, KLING_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen",
               KLING_FIRST_PAINT_PROBE="1", KLING_API_KEY="probe-key-not-real",
               KLING_BASE_URL="http://127.0.0.1:9")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", LOG_CHILD], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (tmp_path / "data" / "logs" / "kling-desktop.log").read_text("utf-8").splitlines()
    said = [n for n, line in enumerate(lines) if "said while the window loads" in line]
    assert said == [0], lines[:5]
    assert " WARNING MainThread probe: " in lines[0]
    assert "said while the window loads" not in done.stderr
