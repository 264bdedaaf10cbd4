"""Every location the app reads or writes, in one place.

``KLING_DATA_DIR`` moves all of them (database, library, logs, settings,
cache) into one folder: tests and portable use rely on it. Otherwise the
platform's conventional folders are used (via platformdirs), and the default
library lives under the user's Videos folder.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from kling_desktop import APP_ID, APP_NAME

ENV_DATA_DIR = "KLING_DATA_DIR"


@dataclass(frozen=True)
class AppPaths:
    """Resolved locations. Nothing here creates folders; callers use ``ensure()``."""

    data_dir: Path
    database: Path
    settings_file: Path
    logs_dir: Path
    cache_dir: Path
    default_library_dir: Path

    def ensure(self) -> AppPaths:
        for folder in (self.data_dir, self.logs_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


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
