"""The log file's handler: a rotating file only the user may read (POSIX 0600).

Log lines name files, folders and provider addresses (never the API key): that
is the user's business alone, like the rest of the data folder.
"""

from __future__ import annotations

import contextlib
import logging.handlers
import os
from io import TextIOWrapper
from pathlib import Path
from typing import cast

from kling_desktop.paths import PRIVATE_FILE_MODE, make_private

__all__ = ["PrivateRotatingFileHandler"]


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, PRIVATE_FILE_MODE)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A :class:`~logging.handlers.RotatingFileHandler` whose files are created 0600.

    An existing file (from an older version) is tightened when it is opened;
    files rotated aside keep the mode they had (private).
    """

    def _open(self) -> TextIOWrapper:
        opener = getattr(self, "_builtin_open", open)   # kept by logging for shutdown
        stream = opener(self.baseFilename, self.mode, encoding=self.encoding,
                        errors=self.errors, opener=_private_opener)
        with contextlib.suppress(OSError):   # another owner's file: the log still works
            make_private(Path(self.baseFilename))
        return cast(TextIOWrapper, stream)
