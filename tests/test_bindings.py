"""Guards against binding bugs that would crash the app in long sessions."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_do_not_leak_references_to_none() -> None:
    # PySide6 6.12.0 under Python 3.11 dropped one reference to None per void call,
    # aborting the interpreter ("deallocating None") after a few thousand calls.
    from PySide6.QtCore import QObject, QTimer

    obj = QObject()
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(500):
        obj.setObjectName("probe")
        timer.setInterval(5)
    drift = sys.getrefcount(None) - before
    assert abs(drift) < 50, f"None's reference count drifted by {drift}"
