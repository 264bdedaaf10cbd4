"""The worker's side of a fix: what the user asked for, the call, and its result.

:func:`run_fix` runs on the TaskRunner (never touches a widget): the engine plans the
fix, then the one conversion step (:func:`kling_desktop.convert.convert`) carries it out.
Loaded when the first fix starts (:mod:`.fix_actions`), not to show the form.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kling_desktop.api.models import Orientation
from kling_desktop.i18n import _

if TYPE_CHECKING:
    from kling_desktop.engine.fixes import ConversionPlan, Converted, Crop, Pad, Trim
    from kling_desktop.engine.origins import Origin

__all__ = ["Finished", "FixRequest", "plan_fix", "run_conversion", "run_fix"]


@dataclass(frozen=True)
class Finished:
    """A conversion's result and where it came from (the slot lists it under the
    original's name with the origin's note)."""

    converted: Converted
    origin: Origin

    @property
    def note(self) -> str:
        return self.origin.note


@dataclass(frozen=True)
class FixRequest:
    """What the user asked for: the safe fixes of ``source`` (with ``trim`` or ``shape``
    when chosen in the trim editor or the pad/crop dialogs)."""

    field: Literal["image", "video"]
    source: Path
    orientation: Orientation = Orientation.IMAGE
    keep_audio: bool = True
    trim: Trim | None = None
    shape: Pad | Crop | None = None


def plan_fix(request: FixRequest) -> ConversionPlan:
    """The engine's plan for ``request`` (reads headers). Raises ConversionError when
    there is nothing to do."""
    from kling_desktop.engine.fixes import ConversionError, plan_picture, plan_video

    if request.field == "video":
        plan = plan_video(request.source, orientation=request.orientation,
                          keep_audio=request.keep_audio, trim=request.trim)
    else:
        plan = plan_picture(request.source, shape=request.shape)
    if plan is None:
        raise ConversionError(
            _("{name} needs no conversion.").format(name=request.source.name),
            fix=_("It can be sent as it is."))
    return plan


def run_fix(request: FixRequest, output_dir: Path, *,
            progress: Callable[[int, int], None] | None = None,
            cancel: threading.Event | None = None) -> Finished:
    """On a worker: plan ``request`` with the engine, then carry it out."""
    return run_conversion(plan_fix(request), output_dir, progress=progress, cancel=cancel)


def run_conversion(plan: ConversionPlan, output_dir: Path, *,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: threading.Event | None = None) -> Finished:
    """On a worker: carry out ``plan`` into ``output_dir``. Raises ConversionError (nothing
    written) or ConversionCancelled (nothing left)."""
    from kling_desktop.convert import convert
    from kling_desktop.engine.fix_origins import origin_of, source_facts

    facts = source_facts(plan)
    converted = convert(plan, output_dir=output_dir, progress=progress, cancel=cancel)
    return Finished(converted, origin_of(plan, converted, facts))
