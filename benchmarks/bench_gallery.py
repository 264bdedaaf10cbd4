"""The gallery at 10,000 results: first paint, scroll stalls and memory, next to floors.

    python benchmarks/bench_gallery.py [--count 10000] [--keep DIR] [--runs 5]

Builds a library of ``--count`` results in a temporary folder: the bundled
sample clip hard-linked (copied where links are impossible) once per result,
plus one generated sidecar each (varied models, modes, marks, dates, a few demo
results and a few unreadable sidecars), then the index via
``Library.rebuild_index``. Each measurement runs in a fresh subprocess
(offscreen Qt), so start-up costs are real:

- floor, SQLite: a bare script reading the first screen's rows and every key;
- floor, Qt: a bare ``QMainWindow`` shown until its first paint (and the same after
  importing the app's core, which the real window has done before any tab exists);
- gallery: a ``QMainWindow`` holding ``GalleryWidget`` until the grid's first
  painted items (cold thumbnail cache, then warm), then a scroll from top to
  bottom a half page every 16 ms while a 5 ms ``QTimer`` heartbeat records the
  longest main-thread stall; RSS after the first paint and after the scroll.

Targets (issue 16): first paint within 0.3 s of the Qt floor with a cold poster cache;
RSS after scrolling all of it at most 150 MB; no scroll stall above 50 ms.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PAINT_TARGET_S = 0.3
RSS_TARGET_MB = 150
HELPER_IDLE_S = 20.0   # kling_desktop.ui.posters.HELPER_IDLE_MS, without importing Qt here
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROMPTS = (
    "a joyful hip-hop routine in a neon street", "ballet pirouette on a wooden stage",
    "robot dance with stiff arms", "slow tai chi in the morning fog",
    "salsa with spins and a dip", "breakdance windmill and freeze", "waving hello",
    "", "k-pop chorus choreography", "a bow to the audience after a waltz",
)


def build_library(folder: Path, count: int) -> dict[str, float]:
    from kling_desktop.api.models import Mode, Model, Orientation
    from kling_desktop.engine.library import InputRef, Library, LibraryEntry
    from kling_desktop.engine.store import JobStore
    from kling_desktop.paths import sample_character, sample_motion

    root = folder / "library"
    inputs = root / ".inputs"
    inputs.mkdir(parents=True)
    shutil.copyfile(sample_character(), inputs / "character.png")
    shutil.copyfile(sample_motion(), inputs / "motion.mp4")
    source = sample_motion()
    size = source.stat().st_size
    rng = random.Random(7)
    now = time.time()
    started = time.perf_counter()
    linked = True
    for number in range(count):
        name = f"result {number:05d}"
        video = root / f"{name}.mp4"
        try:
            if linked:
                os.link(source, video)
            else:
                shutil.copyfile(source, video)
        except OSError:
            linked = False
            shutil.copyfile(source, video)
        sidecar = video.with_suffix(".json")
        if number % 997 == 13:
            sidecar.write_text("{ damaged", encoding="utf-8")
            continue
        saved = now - rng.uniform(0, 400) * 86400
        entry = LibraryEntry(
            video_path=video, sidecar_path=sidecar, task_id=f"task-unified-{number:08d}",
            job_id=number + 1, model=str(rng.choice(list(Model))),
            mode=str(rng.choice(list(Mode))), prompt=rng.choice(PROMPTS),
            orientation=str(rng.choice(list(Orientation))), keep_original_sound=True,
            image=InputRef("character.png", copy=".inputs/character.png"),
            video=InputRef("motion.mp4", copy=".inputs/motion.mp4"),
            created_at=saved - 120, submitted_at=saved - 100, completed_at=saved - 5,
            saved_at=saved, base_url="https://api.example.com", demo=number % 50 == 0,
            billable_seconds=5.0, file_size=size, duration=round(rng.uniform(3, 30), 1),
            width=1280, height=720,
            mark=rng.choice((None, None, None, "keeper", "reject")))
        sidecar.write_text(json.dumps(entry.to_json(), indent=2), encoding="utf-8")
    made = time.perf_counter() - started
    started = time.perf_counter()
    with JobStore(folder / "data" / "jobs.sqlite3") as store:
        report = Library(root, store).rebuild_index()
        assert store.count_results() == count, report
    return {"build_files_s": made, "rebuild_index_s": time.perf_counter() - started,
            "hard_links": float(linked)}


# ------------------------------------------------------------------ child processes


def _status_rss_mb(pid: str) -> float | None:
    """VmRSS of process ``pid`` ("self" for this one) in MB, None where /proc cannot tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    own = _status_rss_mb("self")
    if own is not None:
        return own
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_rss_mb() -> float:
    """The RSS of this process's children (the poster helper), in MB."""
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return 0.0
    total = 0.0
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(_status_rss_mb(pid) or 0.0 for pid in children)
    return total


def child_sqlite(folder: Path, spawned: float) -> dict[str, float]:
    import sqlite3

    db = sqlite3.connect(folder / "data" / "jobs.sqlite3")
    keys = [r[0] for r in db.execute("SELECT video_rel FROM results ORDER BY saved_at DESC")]
    marks = ",".join("?" for _ in keys[:120])
    rows = db.execute(f"SELECT * FROM results WHERE video_rel IN ({marks})",  # noqa: S608
                      keys[:120]).fetchall()
    assert len(rows) == min(120, len(keys))
    return {"ready_s": time.time() - spawned, "rss_mb": _rss_mb()}


def child_qt(spawned: float, core: bool = False) -> dict[str, float]:
    if core:   # what the app's window has imported before any tab exists
        import kling_desktop.engine.library
        import kling_desktop.engine.store  # noqa: F401
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("floor"))
    window.resize(1400, 900)
    result: dict[str, float] = {}

    class Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_paint_s" not in result:
                result["first_paint_s"] = time.time() - spawned
                QTimer.singleShot(0, app.quit)
            return False

    watch = Watch()
    window.installEventFilter(watch)
    window.show()
    app.exec()
    result["rss_mb"] = _rss_mb()
    return result


def child_gallery(folder: Path, spawned: float, scroll: bool) -> dict[str, float]:
    os.environ["KLING_DATA_DIR"] = str(folder / "data")
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from kling_desktop.engine.library import Library
    from kling_desktop.engine.store import JobStore
    from kling_desktop.ui.gallery import GalleryWidget
    from kling_desktop.ui.gallery.view import GalleryDelegate

    result: dict[str, float] = {"imports_s": time.time() - spawned}
    app = QApplication(sys.argv[:1])
    store = JobStore(folder / "data" / "jobs.sqlite3")
    library = Library(folder / "library", store)
    window = QMainWindow()
    window.resize(1400, 900)
    gallery = GalleryWidget(library, store, cache_dir=folder / "cache")
    window.setCentralWidget(gallery)
    result["constructed_s"] = time.time() - spawned
    painted = [0]
    original_paint = GalleryDelegate.paint

    def counting_paint(self: GalleryDelegate, *args: object) -> None:
        painted[0] += 1
        original_paint(self, *args)  # type: ignore[arg-type]

    GalleryDelegate.paint = counting_paint  # type: ignore[method-assign, assignment]

    class Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_paint_s" not in result:
                QTimer.singleShot(0, check_first)
            return False

    def check_first() -> None:
        if painted[0] and "first_paint_s" not in result:
            result["first_paint_s"] = time.time() - spawned
            result["items_on_first_screen"] = float(painted[0])
            result["rss_first_mb"] = _rss_mb()
            QTimer.singleShot(0, after_first)

    watch = Watch()
    gallery.view.viewport().installEventFilter(watch)

    def after_first() -> None:
        waited = time.time()

        def ready() -> None:   # the start check of the folder, then posters of screen one
            busy = gallery.syncs_done < 1 or not gallery.thumbnails.idle()
            if busy and time.time() - waited < 120:
                QTimer.singleShot(20, ready)
                return
            result["start_check_s"] = time.time() - waited
            result["posters_made"] = float(gallery.thumbnails.made)
            result["posters_from_disk"] = float(gallery.thumbnails.from_disk)
            if scroll:
                start_scroll()
            else:
                finish()

        ready()

    def finish() -> None:
        # counted before quitting: the gallery shuts down (and lets go of the index)
        # when the application is about to quit
        result["rows"] = float(gallery.model.rowCount())
        app.quit()

    heartbeat = QElapsedTimer()
    gaps: list[float] = []

    def beat() -> None:
        if heartbeat.isValid():
            gaps.append(heartbeat.nsecsElapsed() / 1e6)
        heartbeat.restart()

    def start_scroll() -> None:
        from kling_desktop.ui.app import freeze_startup_objects

        freeze_startup_objects()  # as the app does once its window is up
        result["rss_before_scroll_mb"] = _rss_mb()
        result["helper_rss_mb"] = _children_rss_mb()   # the poster helper, alive now
        bar = gallery.view.verticalScrollBar()
        bar.setValue(0)
        beat_timer = QTimer()
        beat_timer.setInterval(5)
        beat_timer.timeout.connect(beat)
        step_timer = QTimer()
        step_timer.setInterval(16)
        started = time.perf_counter()

        def step() -> None:
            if bar.value() >= bar.maximum():
                step_timer.stop()
                beat_timer.stop()
                result["scroll_s"] = time.perf_counter() - started
                result["scroll_max_stall_ms"] = max(gaps) - 5 if gaps else 0.0
                ordered = sorted(gaps)
                result["scroll_p99_gap_ms"] = ordered[int(len(ordered) * 0.99)] if gaps else 0
                result["scroll_steps"] = float(len(gaps))
                result["rows_pages_loaded"] = float(gallery.model.pages_loaded)
                result["rss_after_scroll_mb"] = _rss_mb()
                result["posters_in_memory_mb"] = gallery.thumbnails.memory_bytes() / 2**20
                result["posters_made_in_all"] = float(gallery.thumbnails.made)
                finish()
                return
            bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep() // 2))

        step_timer.timeout.connect(step)
        beat_timer.start()
        step_timer.start()
        app._keep = (beat_timer, step_timer)  # type: ignore[attr-defined]

    window.show()
    app.exec()
    gallery.shutdown()
    store.close()
    return result


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over ``samples`` (the keys every sample has)."""
    keys = set(samples[0]).intersection(*samples[1:])
    return {key: statistics.median(sample[key] for sample in samples) for key in keys}


def run_child(kind: str, folder: Path, *extra: str) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bench-runtime-"))
    os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--folder", str(folder),
         "--spawned", repr(time.time()), *extra],
        capture_output=True, text=True, check=False, timeout=600, env=env)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            parsed: dict[str, float] = json.loads(line)
            return parsed
    raise RuntimeError(f"{kind} child failed ({done.returncode}):\n{done.stderr[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the library here")
    parser.add_argument("--runs", type=int, default=5, help="samples of each first paint")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--no-scroll", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "sqlite":
            out = child_sqlite(args.folder, args.spawned)
        elif args.child in ("qt", "qt-core"):
            out = child_qt(args.spawned, core=args.child == "qt-core")
        else:
            out = child_gallery(args.folder, args.spawned, scroll=not args.no_scroll)
        print(json.dumps(out), flush=True)
        return 0

    # An installed app starts from bytecode (pip compiles it at install, the frozen app
    # carries it); with PYTHONDONTWRITEBYTECODE set, a changed module would otherwise be
    # compiled again in every child and the first paint would measure the compiler.
    compileall.compile_dir(str(ROOT / "kling_desktop"), quiet=1)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-gallery-"))
    try:
        built: dict[str, float] = {}
        if not (folder / "data" / "jobs.sqlite3").exists():
            print(f"building {args.count:,} results in {folder} …", flush=True)
            built = build_library(folder, args.count)
        # The first paints are medians of --runs samples taken in turn, so that drift
        # hits every kind alike; one more cold start then scrolls to the bottom.
        runs: dict[str, list[dict[str, float]]] = {
            "sqlite": [], "qt": [], "core": [], "cold": [], "warm": []}
        for _ in range(args.runs):
            runs["sqlite"].append(run_child("sqlite", folder))
            runs["qt"].append(run_child("qt", folder))
            runs["core"].append(run_child("qt-core", folder))
            shutil.rmtree(folder / "cache", ignore_errors=True)
            runs["cold"].append(run_child("gallery", folder, "--no-scroll"))  # no posters yet
            runs["warm"].append(run_child("gallery", folder, "--no-scroll"))  # from disk
        sqlite_floor, qt_floor, core_floor, cold_start, warm = (
            medians(runs[kind]) for kind in ("sqlite", "qt", "core", "cold", "warm"))
        shutil.rmtree(folder / "cache", ignore_errors=True)
        cold = run_child("gallery", folder)                  # empty poster cache + scroll

        print()
        print(f"Gallery benchmark: {int(cold.get('rows', 0)):,} results; first paints: "
              f"median of {args.runs}")
        if built:
            print(f"  library built in {built['build_files_s']:.1f} s "
                  f"({'hard links' if built['hard_links'] else 'copies'}); "
                  f"index rebuilt from sidecars in {built['rebuild_index_s']:.2f} s")
        print(f"  {'':34}{'time':>10}{'RSS':>10}")
        print(f"  {'floor: SQLite first screen + keys':34}{sqlite_floor['ready_s']:>9.3f}s"
              f"{sqlite_floor['rss_mb']:>8.0f}MB")
        print(f"  {'floor: bare QMainWindow painted':34}{qt_floor['first_paint_s']:>9.3f}s"
              f"{qt_floor['rss_mb']:>8.0f}MB")
        print(f"  {'floor: + the app core imported':34}{core_floor['first_paint_s']:>9.3f}s"
              f"{core_floor['rss_mb']:>8.0f}MB")
        print(f"  {'gallery first paint (cold cache)':34}{cold_start['first_paint_s']:>9.3f}s"
              f"{cold_start['rss_first_mb']:>8.0f}MB")
        print(f"  {'gallery first paint (warm cache)':34}{warm['first_paint_s']:>9.3f}s"
              f"{warm['rss_first_mb']:>8.0f}MB")
        spread = sorted(c["first_paint_s"] - q["first_paint_s"]
                        for c, q in zip(runs["cold"], runs["qt"], strict=True))
        over = cold_start["first_paint_s"] - qt_floor["first_paint_s"]
        print(f"  gallery start, cold: modules imported at {cold_start['imports_s']:.3f} s, "
              f"widget built at {cold_start['constructed_s']:.3f} s, painted at "
              f"{cold_start['first_paint_s']:.3f} s")
        print(f"  first paint above the Qt floor (cold cache): {over:.3f} s (target ≤ "
              f"{FIRST_PAINT_TARGET_S} s: {'ok' if over <= FIRST_PAINT_TARGET_S else 'MISSED'}); "
              f"run by run {spread[0]:.3f}-{spread[-1]:.3f} s")
        print(f"  first paint above the Qt + app-core floor (the gallery's own cost): "
              f"{cold_start['first_paint_s'] - core_floor['first_paint_s']:.3f} s")
        print(f"  start check of the folder (sync_index on a worker) + first posters: "
              f"{cold_start['start_check_s']:.2f} s; posters made "
              f"{int(cold_start['posters_made'])}, "
              f"second start from disk {int(warm['posters_from_disk'])} "
              f"(made {int(warm['posters_made'])})")
        print(f"  scroll top to bottom: {cold['scroll_s']:.1f} s, "
              f"{int(cold['scroll_steps'])} heartbeats, longest stall "
              f"{cold['scroll_max_stall_ms']:.1f} ms, p99 gap {cold['scroll_p99_gap_ms']:.1f} ms "
              f"(target ≤ 50 ms: {'ok' if cold['scroll_max_stall_ms'] <= 50 else 'MISSED'}); "
              f"row pages read {int(cold['rows_pages_loaded'])}")
        rss = cold["rss_after_scroll_mb"]
        print(f"  RSS after the scroll: {rss:.0f} MB (bare Qt window {qt_floor['rss_mb']:.0f} "
              f"MB; target ≤ {RSS_TARGET_MB} MB: {'ok' if rss <= RSS_TARGET_MB else 'MISSED'})")
        print(f"  RSS before the scroll (first screen's posters made): "
              f"{cold['rss_before_scroll_mb']:.0f} MB; the poster helper process then: "
              f"{cold['helper_rss_mb']:.0f} MB (it ends {HELPER_IDLE_S:.0f} s after its "
              f"last clip); posters in memory after the scroll "
              f"{cold['posters_in_memory_mb']:.1f} MB, made in all "
              f"{int(cold['posters_made_in_all'])}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
