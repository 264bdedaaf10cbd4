"""Python's cyclic garbage collector, run on the window's main thread only.

Left to the interpreter, a collection runs in whichever thread allocates past a
threshold; in the window that is most often a worker (httpx, SQLite, the library's
reads). A Qt object in an unreachable cycle (a window that was closed and dropped, a
dialog, a cache of pixmaps) is then destroyed on that worker, which Qt does not allow:
"QObject::~QObject: Timers cannot be stopped from another thread", and at worst a crash
(``benchmarks/bench_stall.py`` ended in a segmentation fault that way).

So in the window's process the interpreter's own collector is off, and a timer on the
main thread runs the collections it would have run: the same generations, by the same
thresholds (``gc.get_threshold()``), at most once per tick. Garbage waits at most a
tick; nothing else changes (``gc.collect()`` still works anywhere).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from shiboken6 import isValid

#: How often the main thread looks at the collector's counts (the interpreter looks at
#: every allocation). With 201 jobs in flight (benchmarks/bench_stall.py) a collection
#: was due at most every tick; the longest took 2.4 ms (the youngest generation), 5.8 ms
#: (the middle one), 16.5 ms (a full one, once).
TICK_MS = 250


def due_generation(counts: tuple[int, int, int],
                   thresholds: tuple[int, int, int]) -> int | None:
    """The generation the interpreter would collect now (it collects that one and every
    younger one), or None: none is due, or collection is switched off (a first
    threshold of 0)."""
    if thresholds[0] <= 0 or counts[0] <= thresholds[0]:
        return None
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            return generation
    return 0


class MainThreadCollector(QObject):
    """Runs the due collection on each tick of a timer on the main thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def active(self) -> bool:
        return self._timer.isActive()

    @Slot()
    def collect_due(self) -> None:
        counts = gc.get_count()
        generation = due_generation(counts, gc.get_threshold())
        if generation is not None:
            gc.collect(generation)


_collector: MainThreadCollector | None = None


def collect_on_main_thread() -> None:
    """From now on, collect on the main thread only (the application's, which must exist
    and be the caller's thread). Called again, it keeps the one collector (a new one if
    the application it belonged to is gone)."""
    global _collector
    if _collector is None or not isValid(_collector):
        _collector = MainThreadCollector(QCoreApplication.instance())
    _collector.start()


def collecting_on_main_thread() -> bool:
    return _collector is not None and isValid(_collector) and _collector.active()


def stop_collecting_on_main_thread() -> None:
    """Hand collection back to the interpreter (the windows are gone: at quit), after one
    full collection (counting from zero: none at its next allocation)."""
    if _collector is not None and isValid(_collector):
        _collector.stop()
    if not gc.isenabled():
        gc.collect()
        gc.enable()
