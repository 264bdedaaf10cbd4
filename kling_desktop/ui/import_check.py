"""PySide's check of every module imported after it, answered without ``inspect``.

Once ``PySide6.QtCore`` is imported, PySide looks at every module imported after it, once,
to decide whether ``from __feature__ import ...`` may change how that module sees Qt's
classes: it asks whether the module's source mentions ``PySide6``, by
``"PySide6" in inspect.getsource(module)``. ``inspect`` finds the file, reads and decodes
it, splits it into lines and keeps them in ``linecache`` (for the life of the process):
for the ~100 modules the window imports after Qt, that is 19 M instructions of the
launch to the first paint (~2 %; 4-9 ms timed in the process, launches ~4 ms apart in a
paired comparison on this machine), and their text stays in memory.

:func:`install` puts :func:`mentions_pyside` in its place: the same question, read as
bytes from the module's file and kept nowhere; the same answer for every module with a
source file (a file that cannot be read, or a module without one, is "no", as PySide's
own check says; a source that is not a file of its own, in a zip, counts as "no" where
``inspect`` could have asked the zip: no module of this program is one). Nothing in this
program selects a ``__feature__``, so the answer changes nothing but the time it takes;
it is kept exact all the same. Where a PySide release no longer has that check (it is
PySide's internal module), :func:`install` leaves everything as it is.
"""

from __future__ import annotations

import sys
from types import ModuleType

#: PySide's module holding the check (embedded in shiboken; present once QtCore is loaded).
FEATURE_MODULE = "shibokensupport.feature"
CHECK_NAME = "_mod_uses_pyside"
MARKER = b"PySide6"


def mentions_pyside(module: ModuleType) -> bool:
    """Whether ``module``'s source file mentions ``PySide6`` (False when it has none)."""
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
    if not isinstance(origin, str) or not origin.endswith(".py"):
        return False    # built-in, extension, frozen or namespace: no source to read
    try:
        with open(origin, "rb") as source:
            return MARKER in source.read()
    except OSError:
        return False


def load_qt() -> None:
    """Load Qt's core (PySide's check comes with it) and answer the check from now on.
    Call it before any other module of the window: this one, imported before Qt, is not
    looked at either."""
    import PySide6.QtCore  # noqa: F401

    install()


def install() -> bool:
    """Answer PySide's check with :func:`mentions_pyside` from now on; False (and nothing
    changed) when PySide is not loaded yet or has no such check."""
    feature = sys.modules.get(FEATURE_MODULE)
    if feature is None or not callable(getattr(feature, CHECK_NAME, None)):
        return False
    setattr(feature, CHECK_NAME, mentions_pyside)
    return True
