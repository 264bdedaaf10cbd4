"""The converted inputs (``<library>/.inputs/converted/``), and when they may go.

The trim editor, the one-click fixes and ``generate --fix`` write the inputs they make
there; a job sends that copy. A finished result keeps its own copies of its inputs
(``.inputs/``, see :class:`~.folder.Library`), so a converted file is needed only
while a job may still send it. :func:`prune_converted` removes the ones no job that is
still under way names once they are :data:`KEEP_DAYS` days old (a failed job sent
again after that says its file is gone; the original is still where it was).
Only regular files directly in the folder are ever removed: links, folders and
anything else are left as they are.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from pathlib import Path
from typing import Final

from kling_desktop.engine.store import JobStore
from kling_desktop.sources import is_link, local_path

__all__ = ["KEEP_DAYS", "prune_converted"]

log = logging.getLogger(__name__)

KEEP_DAYS: Final = 30


def prune_converted(folder: Path, store: JobStore, *, keep_days: float = KEEP_DAYS,
                    now: float | None = None) -> list[Path]:
    """Remove the converted inputs in ``folder`` that are older than ``keep_days`` and
    that no job still under way (``state.is_active``) names; what was removed."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []          # no folder yet, or not readable: nothing to tidy
    needed: set[str] = set()
    for job in store.unfinished():
        for source in (job.spec.image, job.spec.video):
            if not is_link(source):
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    needed.add(os.path.normcase(str(local_path(source).absolute())))
    oldest = (time.time() if now is None else now) - keep_days * 86400
    removed: list[Path] = []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        path = Path(entry.path)
        if (not stat.S_ISREG(info.st_mode) or info.st_mtime >= oldest
                or os.path.normcase(str(path.absolute())) in needed):
            continue
        try:
            path.unlink()
        except OSError as exc:
            log.info("converted input not removed: %s (%s)", path.name, exc.strerror or exc)
            continue
        removed.append(path)
    if removed:
        log.info("removed %d converted input(s) older than %g days", len(removed), keep_days)
    return removed
