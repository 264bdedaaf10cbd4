"""What a fix button does: open the trim editor or the pad/crop dialog, or convert.

The form's :meth:`~.generate_form.GenerateForm.apply_action` hands ``fix:<kind>:<source>``
here. Dialogs open window-modal (``open()``, no nested event loop); what they return
goes to the form's :meth:`convert`, which runs it on the TaskRunner. The trim editor's
module (Qt Multimedia) is imported only when it first opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtWidgets import QDialog

from kling_desktop.engine.checks import VideoInfo
from kling_desktop.sources import canonical
from kling_desktop.ui.form.conversion import FixRequest
from kling_desktop.ui.form.drop import source_name
from kling_desktop.ui.form.kinds import MediaKind
from kling_desktop.ui.form.offers import CONVERT, CROP, PAD, TRIM

if TYPE_CHECKING:
    from kling_desktop.ui.form.generate_form import GenerateForm
    from kling_desktop.ui.form.media_slot import MediaSlot

__all__ = ["FixActions"]


class FixActions:
    """The form's fix buttons, by kind."""

    def __init__(self, form: GenerateForm) -> None:
        self.form = form

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
        options = form.options()
        field: Literal["image", "video"] = "video" if slot.kind is MediaKind.VIDEO else "image"
        if kind == CONVERT:
            form.convert(slot, source, FixRequest(field, path, options.orientation,
                                                  options.keep_original_sound))
            return True
        if kind == TRIM and field == "video":
            self._trim(slot, source, path)
            return True
        if kind in (PAD, CROP) and field == "image":
            from kling_desktop.ui.form.shape import load_preview

            form._tasks.run(load_preview, path, key=f"form-shape-{id(form)}",
                            on_done=lambda loaded: self._shape(kind, slot, source, path,
                                                               loaded),
                            on_failed=lambda error: slot.show_note(str(error)))
            return True
        return False

    def _trim(self, slot: MediaSlot, source: str, path: Path) -> None:
        from kling_desktop.ui.form.trim import TrimDialog

        form = self.form
        options = form.options()
        origin = slot.origin(source)
        target, selection = path, None
        info = slot.info(source)
        duration = size = None
        if origin is not None and origin.trim is not None:
            target, selection = Path(origin.source), origin.trim   # the in and out chosen
        elif isinstance(info, VideoInfo):
            duration, size = info.duration, (info.width, info.height)
        name = source_name(origin.source if origin is not None else source)
        dialog = TrimDialog(target, orientation=options.orientation,
                            keep_audio=options.keep_original_sound, selection=selection,
                            duration=duration, size=size, name=name, parent=form)
        self._open(dialog, lambda: form.convert(slot, source, FixRequest(
            "video", target, options.orientation, options.keep_original_sound,
            trim=dialog.trim())))

    def _shape(self, kind: str, slot: MediaSlot, source: str, path: Path,
               loaded: object) -> None:
        from kling_desktop.ui.form.shape import CropDialog, Loaded, PadDialog

        form = self.form
        if not isinstance(loaded, Loaded) or form.trim_dialog is not None:
            return
        if kind == PAD:
            pad = PadDialog(path, loaded, form)
            self._open(pad, lambda: form.convert(slot, source, FixRequest(
                "image", path, shape=pad.pad())))
        else:
            crop = CropDialog(path, loaded, form)
            self._open(crop, lambda: form.convert(slot, source, FixRequest(
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
