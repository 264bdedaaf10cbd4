"""Giving freed memory back to the system after a burst of work.

glibc keeps what a thread freed in that thread's malloc arena, for reuse: after a
one-off burst on a worker (the library folder's full check reads every sidecar, some
40 MB at 10,000 results) the window kept ~20 MB it no longer used, for as long as it
ran. ``malloc_trim(0)`` hands the free pages of every arena back. The C libraries of
macOS and Windows return memory their own way: nothing to do there.
"""

from __future__ import annotations

import sys


def release_free_memory() -> bool:
    """Hand memory freed by any thread back to the system (glibc); True if some was.

    Cheap (a walk over the free lists, a few ms at 100 MB); call it on a worker after
    a burst that freed a lot, never in a loop.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: the gallery imports this module before its first paint

    try:
        trim = ctypes.CDLL(None).malloc_trim   # glibc only (musl has none)
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
