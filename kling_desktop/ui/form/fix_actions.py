"""What a fix button does: open the trim editor or the pad/crop dialog, then convert.

The form's :meth:`~.generate_form.GenerateForm.apply_action` hands ``fix:<kind>:<source>``
here. Dialogs open window-modal (``open()``, no nested event loop); what they return
is converted on the TaskRunner (:meth:`FixActions.convert`, one conversion per slot at
a time, with progress and Cancel), and the result takes the input's place in its slot.
The trim editor's module (Qt Multimedia) is imported only when it first opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kling_desktop.i18n import _
from kling_desktop.sources import canonical
from kling_desktop.ui.form.drop import source_name
from kling_desktop.ui.form.kinds import MediaKind
from kling_desktop.ui.form.offers import CONVERT, CROP, PAD, TRIM

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog

    from kling_desktop.ui.form.fix_runs import FixRequest
    from kling_desktop.ui.form.generate_form import GenerateForm
    from kling_desktop.ui.form.media_slot import MediaSlot
    from kling_desktop.ui.tasks import TaskRunner

__all__ = ["FixActions"]

log = logging.getLogger(__name__)


class FixActions:
    """The form's fix buttons, by kind, and the conversions they start.

    ``changed`` is called whenever a conversion starts or ends (the form then updates
    Generate and its note); ``folder`` gives where converted inputs are written.
    """

    def __init__(self, form: GenerateForm, tasks: TaskRunner, *,
                 changed: Callable[[], None], folder: Callable[[], Path]) -> None:
        self.form = form
        self._tasks = tasks
        self._changed = changed
        self._folder = folder
        # A running conversion per slot kind: (the slot, the input being converted).
        self._running: dict[str, tuple[MediaSlot, str]] = {}

    def start(self, kind: str, source: str) -> bool:
        form = self.form
        slot = (form.video_slot if source in form.videos()
                else form.image_slot if source in form.images() else None)
        if slot is None or form.trim_dialog is not None or slot.is_converting():
            return False
        try:
            path = Path(canonical(source))
        except (OSError, RuntimeError, ValueError):
            return False
        from kling_desktop.ui.form.fix_runs import FixRequest  # (not needed to show the form)

        options = form.options()
        field: Literal["image", "video"] = "video" if slot.kind is MediaKind.VIDEO else "image"
        if kind == CONVERT:
            self.convert(slot, source, FixRequest(field, path, options.orientation,
                                                  options.keep_original_sound))
            return True
        if kind == TRIM and field == "video":
            self._trim(slot, source, path)
            return True
        if kind in (PAD, CROP) and field == "image":
            from kling_desktop.ui.form.shape import load_preview

            self._tasks.run(load_preview, path, key=f"form-shape-{id(form)}",
                            on_done=lambda loaded: self._shape(kind, slot, source, path,
                                                               loaded),
                            on_failed=lambda error: slot.show_note(str(error)))
            return True
        return False

    def _trim(self, slot: MediaSlot, source: str, path: Path) -> None:
        from kling_desktop.engine.checks import VideoInfo  # (loaded by the form's check)
        from kling_desktop.ui.form.fix_runs import FixRequest
        from kling_desktop.ui.form.trim import TrimDialog

        form = self.form
        options = form.options()
        origin = slot.origin(source)
        target, selection = path, None
        info = slot.info(source)
        duration = size = None
        original = Path(origin.path) if origin is not None and origin.path else None
        if origin is not None and origin.trim is not None and original is not None and \
                original.is_file():
            target, selection = original, origin.trim   # the original, at the in and out kept
        elif isinstance(info, VideoInfo):   # (the original is gone: the copy, as it is)
            duration, size = info.duration, (info.width, info.height)
        name = source_name(origin.source if origin is not None else source)
        dialog = TrimDialog(target, orientation=options.orientation,
                            keep_audio=options.keep_original_sound, selection=selection,
                            duration=duration, size=size, name=name, parent=form)
        self._open(dialog, lambda: self.convert(slot, source, FixRequest(
            "video", target, options.orientation, options.keep_original_sound,
            trim=dialog.trim())))

    def _shape(self, kind: str, slot: MediaSlot, source: str, path: Path,
               loaded: object) -> None:
        from kling_desktop.ui.form.fix_runs import FixRequest
        from kling_desktop.ui.form.shape import CropDialog, Loaded, PadDialog

        form = self.form
        if not isinstance(loaded, Loaded) or form.trim_dialog is not None:
            return
        if kind == PAD:
            pad = PadDialog(path, loaded, form)
            self._open(pad, lambda: self.convert(slot, source, FixRequest(
                "image", path, shape=pad.pad())))
        else:
            crop = CropDialog(path, loaded, form)
            self._open(crop, lambda: self.convert(slot, source, FixRequest(
                "image", path, shape=crop.crop())))

    def _open(self, dialog: QDialog, on_accepted: object) -> None:
        form = self.form
        form.trim_dialog = dialog
        dialog.accepted.connect(on_accepted)

        def closed(_result: int) -> None:
            form.trim_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(closed)
        dialog.open()

    # -- converting ---------------------------------------------------------------------------

    def is_converting(self) -> bool:
        return bool(self._running)

    def waiting_for(self) -> list[str]:
        """The names of the inputs being converted (Generate waits for them)."""
        names = []
        for slot, source in self._running.values():
            origin = slot.origin(source)
            names.append(source_name(origin.source if origin else source))
        return names

    def convert(self, slot: MediaSlot, source: str, request: FixRequest) -> None:
        """Run ``request`` on the TaskRunner; its result replaces ``source`` in ``slot``."""
        from kling_desktop.ui.form.fix_runs import run_fix

        self._running[slot.kind.value] = (slot, source)
        slot.show_note("")
        origin = slot.origin(source)
        slot.start_conversion(source_name(origin.source if origin else source))
        self._tasks.run(run_fix, request, self._folder(), key=self._key(slot.kind.value),
                        pass_cancel=True, on_progress=slot.conversion_progress,
                        on_done=partial(self._on_converted, slot, source, request),
                        on_failed=partial(self._on_failed, slot))
        self._changed()

    def cancel(self, kind: str) -> None:
        """Stop the slot's conversion: nothing is left of it and the input stays."""
        running = self._running.pop(kind, None)
        if running is None:
            return
        slot, source = running
        self._tasks.cancel(self._key(kind))
        slot.stop_conversion()
        slot.show_note(_("The conversion was stopped; {name} is unchanged.").format(
            name=source_name(source)))
        self._changed()

    def _key(self, kind: str) -> str:
        return f"form-convert-{kind}-{id(self)}"

    def _on_converted(self, slot: MediaSlot, source: str, request: FixRequest,
                      finished: object) -> None:
        self._running.pop(slot.kind.value, None)
        slot.stop_conversion()
        from kling_desktop.ui.form.fix_runs import Finished

        if isinstance(finished, Finished):
            from kling_desktop.engine.fixes import describe  # (loaded by the conversion)

            slot.replace_input(source, str(finished.converted.path), finished.origin)
            slot.show_note(describe(finished.converted))
        self._changed()

    def _on_failed(self, slot: MediaSlot, error: BaseException) -> None:
        self._running.pop(slot.kind.value, None)
        slot.stop_conversion()
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        fix = getattr(error, "fix", None)
        slot.show_note(f"{message} {fix}" if fix else message)
        log.info("conversion failed: %s", message)
        self._changed()
