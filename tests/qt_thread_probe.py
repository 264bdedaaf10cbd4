"""Run as ``python -m tests.qt_thread_probe WHAT [CLIP]`` (Linux): would the window freeze if
one of Qt's own threads let go of a Qt Multimedia object the app made while the window's
thread holds Python's interpreter lock? (See kling_desktop/convert/qt_threads.py.)

The freeze, made on purpose and every time, the way Qt Multimedia's audio renderer makes it:

1. a plain C++ ``QObject`` (made through ctypes: no Python wrapper of its own) living in a
   ``QThread`` is connected to the probed object's ``destroyed`` signal;
2. 100 ms later, in that thread, it is deleted: its destructor takes Qt's connection lock
   for it and tells the probed object (``disconnectNotify``);
3. meanwhile this thread keeps the interpreter lock (a busy loop, with Python's switch
   interval raised so nothing takes it away), then makes a connection that needs the same
   Qt lock (another plain object whose lock is the receiver's: Qt keeps 131 locks, chosen
   by address), through ctypes.PyDLL, which keeps the interpreter lock as PySide does
   around ``QMediaPlayer.stop()``.

If the probed object's ``disconnectNotify`` needs the interpreter lock, step 3 never
returns; faulthandler ends the process with exit status 1 after :data:`HANG_S` seconds.
Otherwise it prints ``settled: <name>`` for each object and exits 0.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import PySide6
import shiboken6
from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QApplication

HANG_S = int(os.environ.get("KLING_PROBE_HANG_S", "8"))
_LOCKS = 131          # Qt's connection locks (qobject.cpp), chosen by the low 32 bits of an address
_SIGNAL = b"2objectNameChanged(QString)"
_SLOT = b"1deleteLater()"

_core = ctypes.CDLL(str(Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Core.so.6"))
_held = ctypes.PyDLL(_core._name)         # calls that keep the interpreter lock
_new = ctypes.CDLL("libstdc++.so.6")._Znwm
_new.restype = ctypes.c_void_p
_new.argtypes = [ctypes.c_size_t]
_construct = _core._ZN7QObjectC2EPS_
_construct.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_connect = _core._ZN7QObject7connectEPKS_PKcS1_S3_N2Qt14ConnectionTypeE
_connect_held = _held._ZN7QObject7connectEPKS_PKcS1_S3_N2Qt14ConnectionTypeE
for _fn in (_connect, _connect_held):
    _fn.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_int]
_drop_handle = _core._ZN11QMetaObject10ConnectionD1Ev
_drop_handle.argtypes = [ctypes.c_void_p]
_move = _core._ZN7QObject12moveToThreadEP7QThreadN2Qt15Disambiguated_tE
_move.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_single_shot = _core._ZN6QTimer10singleShotEiPK7QObjectPKc
_single_shot.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p]


def _plain_object(lock_of: int | None = None) -> int:
    """A C++ QObject (never a Python wrapper); with ``lock_of``, one sharing that address's lock."""
    while True:
        address = _new(16)      # sizeof(QObject): its vtable and its d-pointer
        assert address
        if lock_of is None or (address & 0xFFFFFFFF) % _LOCKS == (lock_of & 0xFFFFFFFF) % _LOCKS:
            break
    _construct(address, None)
    return int(address)


def _link(connect: Callable[..., object], sender: int, receiver: int) -> None:
    handle = ctypes.create_string_buffer(16)   # the QMetaObject::Connection returned
    connect(handle, sender, _SIGNAL, receiver, _SLOT, 0)
    _drop_handle(handle)


def probe(made: QObject, thread: QThread) -> None:
    """Returns if a Qt thread can let go of ``made`` while Python's lock is held; hangs if not."""
    sender = shiboken6.getCppPointer(made)[0]
    receiver = _plain_object()
    _link(_connect, sender, receiver)
    _move(receiver, shiboken6.getCppPointer(thread)[0], 0)
    # made now: a call through ctypes.CDLL lets go of the interpreter lock, which would let
    # the receiver's thread through
    same_lock = _plain_object(lock_of=receiver)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        _single_shot(100, receiver, _SLOT)          # deleted in the thread in 100 ms
        until = time.monotonic() + 0.4
        while time.monotonic() < until:             # the interpreter lock, held
            pass
        _link(_connect_held, sender, same_lock)
    finally:
        sys.setswitchinterval(interval)


def _objects(what: str, clip: Path | None) -> Iterator[tuple[str, QObject]]:
    if what == "bare":      # as the app made them before kling_desktop.convert.qt_threads
        from PySide6.QtMultimedia import QAudioOutput

        yield "QAudioOutput", QAudioOutput()
    elif what == "gallery-player":
        from kling_desktop.ui.gallery.player import VideoPlayer

        player = VideoPlayer()
        yield "VideoPlayer.player", player.player
        yield "VideoPlayer.audio", player.audio
        yield "VideoPlayer.video", player.video
    elif what == "poster-grabber":
        from kling_desktop.ui.poster_grabber import PosterGrabber

        assert clip is not None
        grabber = PosterGrabber()
        grabber.grab(str(clip))
        yield "PosterGrabber player", grabber._player  # type: ignore[misc]
        yield "PosterGrabber sink", grabber._sink  # type: ignore[misc]
        grabber.cancel()
    elif what == "helper":   # every kind of object the conversion step makes
        from PySide6 import QtMultimedia

        from kling_desktop.convert.qt_threads import qt_thread_safe

        for name in ("QMediaPlayer", "QVideoSink", "QAudioOutput", "QMediaCaptureSession",
                     "QVideoFrameInput", "QAudioBufferInput", "QAudioBufferOutput",
                     "QMediaRecorder"):
            yield name, qt_thread_safe(getattr(QtMultimedia, name)())
    else:
        raise SystemExit(f"unknown: {what}")


def main(argv: list[str]) -> int:
    faulthandler.dump_traceback_later(HANG_S, exit=True)
    app = QApplication.instance() or QApplication([])
    thread = QThread()
    thread.start()
    time.sleep(0.2)   # its run() is looked up in Python once: let it start first
    clip = Path(argv[1]) if len(argv) > 1 else None
    try:
        for name, made in _objects(argv[0], clip):
            assert made is not None, name
            probe(made, thread)
            print(f"settled: {name}", flush=True)
    finally:
        thread.quit()
        thread.wait()
    faulthandler.cancel_dump_traceback_later()
    del app
    os._exit(0)   # the probes' plain objects are never freed: no teardown to run into


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
