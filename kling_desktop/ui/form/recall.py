"""The form kept for the next start, and brought back (never in the demo).

What the form holds (:class:`~.memory.FormMemory`: the inputs, the batch switches, the
options) is saved on the TaskRunner a moment after the artist's last change, and once
more when the window closes; at start it is read on the TaskRunner and put back,
unless the artist (or the window) filled the form first. Remembered files that are
gone are left out, and the form says so quietly (:attr:`FormRecall.gone_note`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from kling_desktop.i18n import _
from kling_desktop.ui.form.memory import FormMemory, load_memory, save_memory

if TYPE_CHECKING:
    from kling_desktop.ui.form.generate_form import GenerateForm
    from kling_desktop.ui.tasks import TaskRunner

SAVE_DEBOUNCE_MS = 700


class FormRecall(QObject):
    """Keeps ``form`` for the next start when ``remember`` (see the module)."""

    def __init__(self, form: GenerateForm, tasks: TaskRunner, *, remember: bool) -> None:
        super().__init__(form)
        self._form = form
        self._tasks = tasks
        self.remember = remember
        self._recalled = not remember       # the remembered form arrived (or there is none)
        self.gone_note = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DEBOUNCE_MS)
        self._timer.timeout.connect(self.on_timer_timeout)
        if remember:
            tasks.run(load_memory, key=f"form-memory-{id(self)}", on_done=self._on_loaded,
                      on_failed=lambda _error: self._on_loaded(None))

    def changed(self) -> None:
        """The artist changed something: kept in a moment."""
        if self.remember:
            self._recalled = True   # the artist is at work: a late recall must not undo it
            self._timer.start()

    def flush(self) -> None:
        """The window closes: the last change is kept now (or not at all: no harm done)."""
        if self._timer.isActive():
            self._timer.stop()
            with contextlib.suppress(OSError):
                save_memory(self._memory())

    def _memory(self) -> FormMemory:
        form = self._form
        return FormMemory(tuple(form.images()), tuple(form.videos()),
                          form.image_slot.is_batch(), form.video_slot.is_batch(),
                          form.options())

    @Slot()
    def on_timer_timeout(self) -> None:
        self._tasks.run(save_memory, self._memory(), key=f"form-memory-save-{id(self)}",
                        on_failed=lambda _error: None)   # not kept this time; no harm done

    def _on_loaded(self, memory: object) -> None:
        if self._recalled:
            return   # the user (or the window) filled the form first
        self._recalled = True
        if not isinstance(memory, FormMemory):
            return
        form = self._form
        form.options_panel.apply_options(memory.options)
        form.image_slot.set_batch(memory.batch_images)
        form.video_slot.set_batch(memory.batch_videos)
        form.set_inputs(memory.images, memory.videos)
        if memory.gone:
            # TRANSLATORS: {files} is a list of file names.
            self.gone_note = _("No longer where it was, so left out: {files}.").format(
                files=_(", ").join(memory.gone))
            form.notes_changed()
        self._timer.stop()   # what was just read needs no writing
