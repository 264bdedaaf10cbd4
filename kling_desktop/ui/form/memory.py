"""What the form held, kept for the next start: the inputs, the batch switches, the options.

A small JSON file beside the settings (``form.json``, private, written atomically
through :func:`kling_desktop.files.write_atomic`); never the key, only what the
artist chose. Reading it tells which remembered files are gone: they are dropped,
and the form says so quietly. A damaged or foreign file is simply ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.files import read_capped, write_atomic
from kling_desktop.paths import app_paths
from kling_desktop.sources import display_name, is_link, local_path

_E = TypeVar("_E", Model, Mode, Orientation)

VERSION = 1
MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class FormMemory:
    images: tuple[str, ...] = ()
    videos: tuple[str, ...] = ()
    batch_images: bool = False
    batch_videos: bool = False
    options: GenerationOptions = field(default_factory=GenerationOptions)
    gone: tuple[str, ...] = ()      # remembered files no longer there (names, for a note)


def memory_file() -> Path:
    return app_paths().settings_file.parent / "form.json"


def save_memory(memory: FormMemory, path: Path | None = None) -> None:
    """Write ``memory`` (any thread)."""
    options = memory.options
    data = {
        "version": VERSION,
        "images": list(memory.images),
        "videos": list(memory.videos),
        "batch_images": memory.batch_images,
        "batch_videos": memory.batch_videos,
        "options": {
            "model": str(options.model),
            "mode": str(options.mode),
            "prompt": options.prompt,
            "orientation": str(options.orientation),
            "keep_original_sound": options.keep_original_sound,
        },
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    write_atomic(path or memory_file(), text.encode("utf-8"), private=True)


def load_memory(path: Path | None = None) -> FormMemory | None:
    """The remembered form, its vanished files left out (any thread); None if nothing
    usable is kept."""
    try:
        data = json.loads(read_capped(path or memory_file(), MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    gone: list[str] = []
    images = _sources(data.get("images"), gone)
    videos = _sources(data.get("videos"), gone)
    raw = data.get("options")
    raw = raw if isinstance(raw, dict) else {}
    defaults = GenerationOptions()
    options = GenerationOptions(
        model=_enum(Model, raw.get("model"), defaults.model),
        mode=_enum(Mode, raw.get("mode"), defaults.mode),
        prompt=raw["prompt"] if isinstance(raw.get("prompt"), str) else "",
        orientation=_enum(Orientation, raw.get("orientation"), defaults.orientation),
        keep_original_sound=raw.get("keep_original_sound") is not False,
    )
    return FormMemory(images, videos, data.get("batch_images") is True,
                      data.get("batch_videos") is True, options, tuple(gone))


def _sources(value: object, gone: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    kept: list[str] = []
    for source in value:
        if not isinstance(source, str) or not source:
            continue
        if is_link(source):
            kept.append(source)
            continue
        try:
            there = local_path(source).is_file()
        except (OSError, RuntimeError, ValueError):
            there = False
        if there:
            kept.append(source)
        else:
            gone.append(display_name(source))
    return tuple(kept)


def _enum(kind: type[_E], value: object, default: _E) -> _E:
    if not isinstance(value, str):
        return default
    try:
        return kind(value)
    except ValueError:
        return default
