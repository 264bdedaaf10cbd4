"""``generate --trim START-END`` and ``--fix``: the inputs made acceptable before planning.

The core decides which fixes apply (:mod:`kling_desktop.engine.fixes`), the one step
carries them out (:mod:`kling_desktop.convert`, the same the window calls); this module
asks for them, says what was done ("motion.webm → MP4 MPEG-4, 7.5 s, 12.3 MB") and hands
the converted files to the job service, which checks them again like any input.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from kling_desktop.api.models import GenerationOptions
from kling_desktop.cli.output import eprint
from kling_desktop.engine.fix_origins import origin_of, source_facts
from kling_desktop.engine.fixes import (
    ConversionError,
    ConversionPlan,
    Converted,
    Trim,
    TrimError,
    describe,
    plan_picture,
    plan_video,
)
from kling_desktop.engine.library import converted_dir
from kling_desktop.engine.media import MediaError
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.runner import Engine
from kling_desktop.i18n import _
from kling_desktop.sources import canonical, is_link, local_path

__all__ = ["Fixed", "fix_inputs", "fixable"]

log = logging.getLogger(__name__)

@dataclass
class Fixed:
    """The inputs to plan with, and where the converted ones came from (by canonical
    source: the jobs remember it)."""

    images: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    origins: dict[str, Origin] = field(default_factory=dict)


def fix_inputs(engine: Engine, images: Sequence[str], videos: Sequence[str],
               options: GenerationOptions, *, trim: Trim | None, auto: bool) -> Fixed:
    """The inputs to plan with: each one that needs (or was asked for) a fix is converted
    and replaced by its result; the others are kept as given."""
    output_dir = converted_dir(engine.library.root)
    fixed = Fixed()
    done: dict[str, str] = {}    # a file named twice is converted once
    fixed.images = [_fixed(source, done, fixed.origins, output_dir, lambda path: plan_picture(
        path, auto=auto)) for source in images]
    for source in videos:
        if trim is not None and is_link(source):
            raise TrimError(
                _("--trim needs a clip on this computer; “{source}” is a link.").format(
                    source=source),
                fix=_("Download the clip, then give its file to --video."))
        fixed.videos.append(_fixed(source, done, fixed.origins, output_dir, lambda path: plan_video(
            path, orientation=options.orientation,
            keep_audio=options.keep_original_sound, trim=trim, auto=auto)))
    return fixed


def fixable(images: Sequence[str], videos: Sequence[str], options: GenerationOptions) -> bool:
    """Would ``--fix`` convert any of these local inputs? (Probes headers only.)"""
    def local(source: str) -> Path | None:
        if is_link(source):
            return None
        try:
            return local_path(source)
        except (OSError, RuntimeError, ValueError):
            return None

    def needs(path: Path | None, planner: Callable[[Path], ConversionPlan | None]) -> bool:
        try:
            return path is not None and planner(path) is not None
        except MediaError:
            return False            # missing or broken: no conversion helps

    return any(needs(local(source), plan_picture) for source in images) or any(
        needs(local(source), lambda path: plan_video(
            path, orientation=options.orientation, keep_audio=options.keep_original_sound))
        for source in videos)


def _fixed(source: str, done: dict[str, str], origins: dict[str, Origin], output_dir: Path,
           planner: object) -> str:
    if is_link(source) or not callable(planner):
        return source
    try:
        path = local_path(source)
    except (OSError, RuntimeError, ValueError):
        return source                         # the checks say it was not found
    key = str(path)
    if key in done:
        return done[key]
    try:
        plan = planner(path)
    except MediaError:
        return source                         # missing or broken: the checks say so
    if not isinstance(plan, ConversionPlan):
        return source
    facts = source_facts(plan)
    converted = _convert(plan, output_dir)
    done[key] = str(converted.path)
    origins[canonical(done[key])] = origin_of(plan, converted, facts)
    return done[key]


def _convert(plan: ConversionPlan, output_dir: Path) -> Converted:
    from kling_desktop.convert import convert  # Qt is loaded only when there is work

    eprint(_("Converting {name}…").format(name=plan.source.name))
    cancel = threading.Event()
    progress: _Progress | None = None
    try:
        with _cancel_on_interrupt(cancel), _quiet_decoder() as terminal:
            progress = _Progress(terminal) if terminal.isatty() else None
            result = convert(plan, output_dir=output_dir, progress=progress, cancel=cancel)
    except OSError as exc:
        raise ConversionError(
            _("The converted file could not be written to {folder} ({reason}).").format(
                folder=output_dir, reason=exc.strerror or exc),
            fix=_("Check that the library folder exists and has room.")) from None
    finally:
        if progress is not None:
            progress.end()
    eprint("  " + describe(result))
    return result


class _Progress:
    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total > 0 else 0
        if percent != self.shown:
            self.shown = percent
            self.terminal.write(f"\r  {percent:3d} %")
            self.terminal.flush()

    def end(self) -> None:
        if self.shown >= 0:
            self.terminal.write("\r" + " " * 8 + "\r")
            self.terminal.flush()


@contextlib.contextmanager
def _cancel_on_interrupt(cancel: threading.Event) -> Iterator[None]:
    """Ctrl-C stops the conversion (no partial file is left), then the command."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: cancel.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if cancel.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def _quiet_decoder() -> Iterator[TextIO]:
    """The bundled FFmpeg writes its own notes straight to file descriptor 2; they go to
    a scratch file while converting (logged). Yields the terminal, for the progress."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:
        yield sys.stderr
        return
    terminal = os.fdopen(os.dup(saved), "w", encoding="utf-8", errors="replace")
    with tempfile.TemporaryFile() as scratch, terminal:
        os.dup2(scratch.fileno(), 2)
        try:
            yield terminal
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            notes = scratch.read().decode("utf-8", "replace")
            if notes.strip():
                log.info("decoder notes:\n%s", notes[-4000:])
