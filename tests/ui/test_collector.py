"""Python's cyclic collector in the window's process: Qt objects are destroyed on the
main thread only.

Left to the interpreter, a collection runs in whichever thread allocates past a
threshold; in the window that is often a worker (httpx, SQLite). A Qt object in an
unreachable cycle (a window, a dialog, a cache of pixmaps) was then destroyed on that
worker: Qt printed "QObject::~QObject: Timers cannot be stopped from another thread" and
``benchmarks/bench_stall.py`` ended in a segmentation fault.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt, QTimer
from pytestqt.qtbot import QtBot

from kling_desktop.ui import app as app_module
from kling_desktop.ui.collector import due_generation, stop_collecting_on_main_thread
from tests.ui.conftest import WAIT_MS


@pytest.fixture
def window_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collector as the app leaves it once its window is painted and listed."""
    monkeypatch.setattr(app_module, "_frozen", False)   # (once per process otherwise)
    gc.disable()                                        # as the launch does
    try:
        app_module.freeze_startup_objects()
        yield
    finally:
        stop_collecting_on_main_thread()   # (the interpreter collects again)
        gc.unfreeze()


class Cyclic(QObject):
    """A QObject in a reference cycle, with a running timer (as windows have)."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self
        self.timer = QTimer(self)
        self.timer.start(60_000)


def test_qt_garbage_is_destroyed_on_the_main_thread_when_a_worker_allocates(
        qtbot: QtBot, window_process: None) -> None:
    destroyed_on: list[int] = []
    gc.collect()     # the counts from zero: the worker's allocations cross the threshold
    garbage = Cyclic()
    garbage.destroyed.connect(lambda: destroyed_on.append(threading.get_ident()),
                              Qt.ConnectionType.DirectConnection)
    del garbage
    kept: list[list[int]] = []
    # A worker's ordinary work: many new containers, kept (a page of parsed JSON, rows).
    worker = threading.Thread(target=lambda: kept.extend([] for _ in range(20_000)))
    worker.start()
    worker.join()
    assert destroyed_on in ([], [threading.get_ident()])   # never on the worker
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=WAIT_MS)
    assert destroyed_on == [threading.get_ident()]


def test_the_collector_runs_the_generation_the_interpreter_would() -> None:
    due = due_generation   # (short, for the table below)
    thresholds = (700, 10, 10)
    assert due((700, 3, 3), thresholds) is None            # not past the first threshold
    assert due((701, 3, 3), thresholds) == 0
    assert due((701, 11, 3), thresholds) == 1
    assert due((701, 11, 11), thresholds) == 2
    assert due((701, 3, 11), thresholds) == 2               # the oldest one due
    assert due((5_000, 0, 0), (0, 10, 10)) is None          # collection switched off
