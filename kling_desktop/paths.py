"""Every location the app reads or writes, in one place.

``KLING_DATA_DIR`` moves all of them (database, library, logs, settings,
cache) into one folder: tests and portable use rely on it. Otherwise the
platform's conventional folders are used (via platformdirs), and the default
library lives under the user's Videos folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from kling_desktop import APP_ID, APP_NAME

ENV_DATA_DIR = "KLING_DATA_DIR"

log = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_private(path: Path) -> None:
    """Let only the owner use ``path``: 0600 for a file, 0700 for a folder (POSIX).

    A no-op on Windows (the profile folders are already per user). A symbolic
    link is left alone (its target is not ours to change), and so is a path
    that does not exist (any more). Other failures (a file owned by someone
    else) raise ``OSError``.
    """
    if os.name != "posix":
        return
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISDIR(info.st_mode):
        wanted = PRIVATE_DIR_MODE
    elif stat.S_ISREG(info.st_mode):
        wanted = PRIVATE_FILE_MODE
    else:
        return   # links, pipes, sockets, devices: never chmod through them
    if stat.S_IMODE(info.st_mode) == wanted:
        return
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, wanted)   # not a link (checked above)


@dataclass(frozen=True)
class AppPaths:
    """Resolved locations. Nothing here creates folders; callers use ``ensure()``.

    Everything but the library is private to the user (jobs, settings, logs,
    cache): :meth:`ensure` creates those folders owner-only and tightens an
    existing install on every start. The library holds the user's own videos
    and keeps the permissions they give it.
    """

    data_dir: Path
    database: Path
    settings_file: Path
    logs_dir: Path
    cache_dir: Path
    default_library_dir: Path

    def private_folders(self) -> tuple[Path, ...]:
        """The folders holding private data (the database's, the settings', logs, cache)."""
        folders: list[Path] = []
        for folder in (self.data_dir, self.database.parent, self.settings_file.parent,
                       self.logs_dir, self.cache_dir):
            if folder not in folders:
                folders.append(folder)
        return tuple(folders)

    def ensure(self) -> AppPaths:
        """Create the private folders (0700) and tighten what an older version left open.

        Files tightened (0600): the database and its companions (``-wal``,
        ``-shm``, ``-journal``), the settings file and the copies kept aside,
        and every file directly in the logs folder. The cache's files are
        not walked (there may be thousands): its folder is closed instead.
        Never touches the library. A folder or file whose mode cannot be
        changed is logged, not fatal.
        """
        for folder in self.private_folders():
            folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        if os.name != "posix":
            return self
        targets: list[Path] = [folder.resolve() for folder in self.private_folders()]
        targets += _matching(self.database.parent, self.database.name)
        targets += _matching(self.settings_file.parent, self.settings_file.name)
        targets += _matching(self.logs_dir, "")
        for target in targets:
            try:
                make_private(target)
            except OSError as exc:
                log.warning("paths: could not make %s private: %s", target, exc)
        return self


def _matching(folder: Path, prefix: str) -> list[Path]:
    """Files directly in ``folder`` whose name starts with ``prefix`` (none if unreadable)."""
    found: list[Path] = []
    try:
        with os.scandir(folder) as listing:
            for item in listing:
                if item.name.startswith(prefix) and item.is_file(follow_symlinks=False):
                    found.append(Path(item.path))
    except OSError as exc:
        log.warning("paths: could not look into %s: %s", folder, exc)
    return found


def app_paths(environ: os._Environ[str] | dict[str, str] | None = None) -> AppPaths:
    env = os.environ if environ is None else environ
    override = env.get(ENV_DATA_DIR, "").strip()
    if override:
        root = Path(override).expanduser().resolve()
        return AppPaths(
            data_dir=root,
            database=root / "jobs.sqlite3",
            settings_file=root / "settings.json",
            logs_dir=root / "logs",
            cache_dir=root / "cache",
            default_library_dir=root / "library",
        )
    data = Path(platformdirs.user_data_dir(APP_ID, appauthor=False))
    return AppPaths(
        data_dir=data,
        database=data / "jobs.sqlite3",
        settings_file=Path(platformdirs.user_config_dir(APP_ID, appauthor=False))
        / "settings.json",
        logs_dir=Path(platformdirs.user_log_dir(APP_ID, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_ID, appauthor=False)),
        default_library_dir=Path(platformdirs.user_videos_dir()) / APP_NAME,
    )


def resources_dir() -> Path:
    """The bundled resources (sample inputs, icons): next to the package, or in the frozen app."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_character() -> Path:
    return resources_dir() / "samples" / "character.png"


def sample_motion() -> Path:
    return resources_dir() / "samples" / "motion.mp4"


def sample_result() -> Path:
    """The demo's result: the sample character dancing the sample motion."""
    return resources_dir() / "samples" / "result.mp4"
