"""The library folder: one video plus one sidecar JSON per result.

The folder is the truth. :mod:`.sidecar` is the sidecar format (read, validate,
write), :mod:`.folder` the actions on the folder (add, export, trash, mark) and
:mod:`.index` the store's results index kept in step with it
(:meth:`Library.rebuild_index` recreates it from the folder at any time).
"""

from __future__ import annotations

from kling_desktop.engine.library.converted import prune_converted
from kling_desktop.engine.library.folder import (
    CONVERTED_DIR,
    INPUTS_DIR,
    ExportCancelled,
    ExportReport,
    Library,
    LibraryWriteError,
    converted_dir,
)
from kling_desktop.engine.library.index import RebuildReport, SyncReport
from kling_desktop.engine.library.sidecar import (
    MAX_SIDECAR_BYTES,
    SIDECAR_SCHEMA,
    VIDEO_SUFFIXES,
    InputRef,
    LibraryEntry,
    SidecarError,
    read_sidecar,
)

__all__ = [
    "CONVERTED_DIR",
    "INPUTS_DIR",
    "MAX_SIDECAR_BYTES",
    "SIDECAR_SCHEMA",
    "VIDEO_SUFFIXES",
    "ExportCancelled",
    "ExportReport",
    "InputRef",
    "Library",
    "LibraryEntry",
    "LibraryWriteError",
    "RebuildReport",
    "SidecarError",
    "SyncReport",
    "converted_dir",
    "prune_converted",
    "read_sidecar",
]
