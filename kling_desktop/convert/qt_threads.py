"""Qt Multimedia objects made from Python, safe for Qt's own threads to let go of.

Qt Multimedia's playback engine runs its renderers, demuxer and decoders on threads of
its own; the audio renderer connects to the player's ``QAudioOutput``, and when media is
replaced or stopped each of those objects is destroyed on its own thread. A ``QObject``
being destroyed tells every object it was connected to (``disconnectNotify``) *while it
holds Qt's connection lock*. An object made from Python is a PySide wrapper whose
``disconnectNotify`` first looks for a Python override, and that lookup takes Python's
interpreter lock. If the window's thread holds the interpreter lock at that moment and
asks for the same connection lock (``QMediaPlayer.stop()`` and ``setSource`` disconnect
the engine's objects), neither ever goes on: the window freezes. It was seen in CI
(selecting a result in the library while an earlier clip was still being let go of).

PySide remembers a lookup that found no override, per object, and never takes the
interpreter lock for it again. :func:`qt_thread_safe` makes both lookups
(``connectNotify`` and ``disconnectNotify``) once, on the thread that made the object
(which holds the interpreter lock anyway), before any Qt thread can need them. Every Qt
Multimedia object the app makes goes through it; ``tests/test_qt_threads.py`` shows the
freeze without it and its absence with it.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

_Made = TypeVar("_Made", bound=QObject)


def _nothing() -> None:
    """The slot that is connected and disconnected at once (never called)."""


def qt_thread_safe(made: _Made) -> _Made:
    """``made``, with its connect/disconnect notifications answered without Python's
    lock from now on (see the module's text). Returns it, to wrap a constructor call."""
    made.destroyed.connect(_nothing)
    made.destroyed.disconnect(_nothing)
    return made
