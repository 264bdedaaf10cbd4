"""The form an artist fills in: picture(s), clip(s), options, prompt -> Generate.

Every rule about the inputs lives in the engine (``engine.batch.check_batch``);
this form runs that check on the TaskRunner whenever something changes
(debounced), shows its problems next to the input they are about, offers a
problem's one-click fix, and enables Generate only for a batch without problems.
The slots (:mod:`.media_slot`), the options (:mod:`.options`), the checklist
(:mod:`.checklist`), the footer with Generate (:mod:`.footer`) and its words
(:mod:`.summary`), and the fixes with the conversions they run (:mod:`.fix_actions`)
are rooms of their own.

The form remembers what it held for the next start (:mod:`.memory`), except in the
demo, which starts with the samples; there, picking one's own picture brings a note
that the demo answers with the sample result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kling_desktop import paths
from kling_desktop.api.models import GenerationOptions, Orientation
from kling_desktop.engine.settings import DEFAULT_CURRENCY
from kling_desktop.files import same_bytes
from kling_desktop.i18n import N_, _, ngettext
from kling_desktop.sources import canonical
from kling_desktop.ui.form.checklist import CHECKLIST_SIDE_WIDTH, checklist_box, checklist_strip
from kling_desktop.ui.form.conversion import by_canonical_source
from kling_desktop.ui.form.fix_actions import FixActions
from kling_desktop.ui.form.footer import FORM_MARGIN, FormFooter, separator
from kling_desktop.ui.form.kinds import MediaKind
from kling_desktop.ui.form.media_slot import MediaSlot
from kling_desktop.ui.form.offers import find_offers, parse_action
from kling_desktop.ui.form.options import OptionsPanel
from kling_desktop.ui.form.recall import FormRecall
from kling_desktop.ui.form.summary import summary_text
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog

    from kling_desktop.engine.batch import BatchReport
    from kling_desktop.engine.checks import Problem
    from kling_desktop.engine.origins import Origin
    from kling_desktop.engine.settings import Settings

log = logging.getLogger(__name__)

CHECK_DEBOUNCE_MS = 150
DEMO_NOTE = N_("The demo returns the sample result; a real key animates your own character.")

# The checklist stands beside the slots only when each slot keeps at least this much room;
# below, it is one wrapped line under the slots.
SLOT_ROOM_FOR_SIDE_CHECKLIST = 400
# Below this height (a 1024 × 700 window) the slots keep less room for their messages.
SHORT_FORM_HEIGHT = 640
INPUTS_SPACING = 16

_Snapshot = tuple[tuple[str, ...], tuple[str, ...], GenerationOptions]




class GenerateForm(QWidget):
    """Inputs and options of the next job(s), checked live by the engine.

    Signals:
      ``generate_requested(object)``: a ``(BatchReport, GenerationOptions)`` tuple, once per
        click; Generate stays disabled until the parent calls ``generation_accepted()``
        or ``generation_done()``.
      ``checked(object)``: a fresh ``BatchReport`` for the current inputs and options.
    """

    generate_requested = Signal(object)
    checked = Signal(object)

    def __init__(self, tasks: TaskRunner, settings: Settings | None = None,
                 parent: QWidget | None = None, *, demo: bool = False,
                 remember: bool | None = None) -> None:
        """``demo``: the window runs the demo (the form then says when the picture is not
        the sample's). ``remember``: keep the form for the next start (default: not in
        the demo)."""
        super().__init__(parent)
        self._tasks = tasks
        self._settings = settings
        self._demo = demo
        self._logged_refusals: tuple[str, ...] = ()
        self._report: BatchReport | None = None      # the latest check, for _report_for
        self._report_for: _Snapshot | None = None
        self._last_ok = False                         # the previous check had no problems
        self._awaiting_parent = False                 # generate emitted, not yet acknowledged
        self._generate_when_checked = False           # clicked while a check was running
        self._check_key = f"form-check-{id(self)}"
        self._offers_key = f"form-offers-{id(self)}"
        self._conversion_dir: Path | None = None
        self.trim_dialog: QDialog | None = None      # the editor or pad/crop dialog open

        # What the form held at the last start comes back (not in the demo).
        self._recall = FormRecall(self, tasks, remember=(not demo) if remember is None
                                  else remember)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(CHECK_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.on_debounce_timeout)


        self._build()
        self._fixes = FixActions(self, tasks, changed=self._on_conversions_changed,
                                 folder=self.conversion_dir)
        self._update_summary()
        self._update_generate_button()
        self._schedule_check()

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self._checklist_beside = True     # the box beside the slots (else the strip below)
        self._short = False               # a short window: less room for slot messages
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        # No scroll area: inside one, the inline player (a native window container) would
        # turn the whole form native. The previews give up height first instead.
        body = QWidget(self)
        body.setObjectName("formBody")
        self._body_layout = QVBoxLayout(body)
        self._body_layout.setContentsMargins(FORM_MARGIN, FORM_MARGIN, FORM_MARGIN, 10)
        self._body_layout.setSpacing(10)

        self._inputs_row = QHBoxLayout()
        self._inputs_row.setSpacing(INPUTS_SPACING)
        self.image_slot = MediaSlot(MediaKind.IMAGE, self._tasks, body)
        self.video_slot = MediaSlot(MediaKind.VIDEO, self._tasks, body)
        for slot in (self.image_slot, self.video_slot):
            slot.inputs_changed.connect(self.on_slot_inputs_changed)
            slot.batch_changed.connect(self.on_slot_batch_changed)
            slot.action_requested.connect(self.apply_action)
            slot.conversion_cancel_requested.connect(
                partial(self.cancel_conversion, slot.kind.value))
            self._inputs_row.addWidget(slot, 1)
        self._body_layout.addLayout(self._inputs_row, 1)
        self.checklist = checklist_box(body)
        self.checklist_strip = checklist_strip(body)
        self._body_layout.addWidget(self.checklist_strip)
        self._inputs_row.addWidget(self.checklist, 0, Qt.AlignmentFlag.AlignTop)

        self._body_layout.addWidget(separator(body))
        self._body_layout.addWidget(self._build_options(body))
        outer.addWidget(body, 1)

        footer = FormFooter(self.prompt_problems, self)
        # The footer's parts, by the names the window and the tests know them.
        self.footer_messages = footer.messages
        self.options_problems = footer.problems
        self.options_problems.action_requested.connect(self.apply_action)
        self.form_note = footer.note
        self.summary_label = footer.summary_label
        self.cost_label = footer.cost_label
        self.generate_button = footer.generate_button
        self.generate_button.clicked.connect(self.on_generate_button_clicked)
        self.footer = footer
        outer.addWidget(footer)
        self._place_checklist(beside=False)

        shortcut_keys = (
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Return),
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Enter),
        )
        self._shortcuts = []
        for keys in shortcut_keys:
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.on_generate_shortcut_activated)
            self._shortcuts.append(shortcut)

    def _place_checklist(self, *, beside: bool) -> None:
        if beside == self._checklist_beside:
            return
        self._checklist_beside = beside
        self.checklist.setVisible(beside)
        self.checklist_strip.setVisible(not beside)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_to_width(event.size().width())
        short = event.size().height() < SHORT_FORM_HEIGHT
        if short != self._short:
            self._short = short
            for slot in (self.image_slot, self.video_slot):
                slot.set_short(short)

    def _fit_to_width(self, width: int) -> None:
        inner = width - 2 * FORM_MARGIN
        slot = (inner - CHECKLIST_SIDE_WIDTH - 2 * INPUTS_SPACING) // 2
        self._place_checklist(beside=slot >= SLOT_ROOM_FOR_SIDE_CHECKLIST)
        # The sound box follows Model and Quality when the row has room, else its own row.
        self.options_panel.fit_to_width(inner)

    def _build_options(self, parent: QWidget) -> OptionsPanel:
        panel = OptionsPanel(parent)
        panel.changed.connect(self.on_option_changed)
        panel.action_requested.connect(self.apply_action)
        self.options_panel = panel
        # The options' fields, by the names the window and the tests know them.
        self.model_combo = panel.model_combo
        self.mode_combo = panel.mode_combo
        self.keep_sound_check = panel.keep_sound_check
        self.orientation_group = panel.orientation_group
        self.orientation_buttons = panel.orientation_buttons
        self.prompt_edit = panel.prompt_edit
        self.prompt_counter = panel.prompt_counter
        self.prompt_problems = panel.prompt_problems
        return panel

    # -- public API ------------------------------------------------------------------------------

    def set_settings(self, settings: Settings | None) -> None:
        """The rates (for the cost estimate) come from here."""
        self._settings = settings
        self._update_summary()

    def options(self) -> GenerationOptions:
        return self.options_panel.options()

    def orientation(self) -> Orientation:
        return self.options_panel.orientation()

    def apply_options(self, options: GenerationOptions) -> None:
        """Show these options ("use these settings again"); the inputs stay as they are."""
        self.options_panel.apply_options(options)

    def set_inputs(self, images: Sequence[str], videos: Sequence[str],
                   origins: Mapping[str, Origin] | None = None) -> None:
        """``origins``: the inputs that are converted copies, listed under their original."""
        self.image_slot.set_inputs(list(images), origins)
        self.video_slot.set_inputs(list(videos), origins)

    def origins(self) -> dict[str, Origin]:
        """Where the trimmed or converted inputs came from, by canonical source."""
        return by_canonical_source((self.image_slot, self.video_slot))

    def images(self) -> list[str]:
        return self.image_slot.inputs()

    def videos(self) -> list[str]:
        return self.video_slot.inputs()

    def report(self) -> BatchReport | None:
        """The check of the current inputs and options, or None while it runs."""
        return self._report if self._report_for == self._snapshot() else None

    def is_ready(self) -> bool:
        """A fresh check found no problems and no generation is awaiting the parent."""
        report = self.report()
        return report is not None and report.ok and not self._awaiting_parent

    def generation_accepted(self) -> None:
        """The parent queued the jobs: Generate may be used again (the inputs stay)."""
        self._awaiting_parent = False
        self._update_generate_button()

    def generation_done(self) -> None:
        """The parent is done with the request (e.g. the user declined to confirm)."""
        self._awaiting_parent = False
        self._update_generate_button()

    @Slot(str)
    def apply_action(self, action: str) -> bool:
        """Apply a Problem's one-click fix, e.g. ``orientation=video``, or a conversion
        offered beside it (``fix:trim:<source>``, see :mod:`.offers`). False if unknown."""
        fix = parse_action(action)
        if fix is not None:
            return self._fixes.start(*fix)
        return self.options_panel.apply_action(action)

    # -- conversions -----------------------------------------------------------------------------

    def set_conversion_dir(self, folder: Path) -> None:
        """Where converted inputs are written (default: ``<library>/.inputs/converted``)."""
        self._conversion_dir = folder

    def conversion_dir(self) -> Path:
        if self._conversion_dir is not None:
            return self._conversion_dir
        from kling_desktop.engine.library import converted_dir  # the library: after paint

        app = paths.app_paths()
        root = (self._settings.library_path(app) if self._settings is not None
                else app.default_library_dir)
        return converted_dir(root)

    def is_converting(self) -> bool:
        return self._fixes.is_converting()

    @Slot(str)
    def cancel_conversion(self, kind: str) -> None:
        """Stop the slot's conversion: nothing is left of it and the input stays."""
        self._fixes.cancel(kind)

    def _on_conversions_changed(self) -> None:
        self._update_generate_button()
        self._update_note()

    def shutdown(self) -> None:
        self._recall.flush()     # the last change, kept before the window goes
        self._debounce.stop()
        self._tasks.cancel(self._check_key)
        self.image_slot.shutdown()
        self.video_slot.shutdown()

    # -- reacting to the user --------------------------------------------------------------------

    @Slot(list)
    def on_slot_inputs_changed(self, _sources: list[str]) -> None:
        self._schedule_check()
        self._recall.changed()
        self._update_note()

    @Slot(bool)
    def on_slot_batch_changed(self, _on: bool) -> None:
        self._recall.changed()

    @Slot()
    def on_option_changed(self) -> None:
        self._schedule_check()
        self._recall.changed()

    @Slot()
    def on_generate_button_clicked(self) -> None:
        self._request_generate()

    @Slot()
    def on_generate_shortcut_activated(self) -> None:
        if self.generate_button.isEnabled():
            self._request_generate()

    # -- checking --------------------------------------------------------------------------------

    def _snapshot(self) -> _Snapshot:
        return tuple(self.images()), tuple(self.videos()), self.options()

    def _schedule_check(self) -> None:
        self._debounce.start()

    @Slot()
    def on_debounce_timeout(self) -> None:
        snapshot = self._snapshot()
        images, videos, options = snapshot
        self._tasks.run(_check_batch, list(images), list(videos), options,
                        key=self._check_key,
                        on_done=partial(self._on_check_done, snapshot),
                        on_failed=self._on_check_failed)

    def _on_check_done(self, snapshot: _Snapshot, report: object) -> None:
        from kling_desktop.engine.batch import BatchReport  # loaded by the check

        if not isinstance(report, BatchReport) or snapshot != self._snapshot():
            return  # the form changed since; a newer check is on its way
        self._report = report
        self._report_for = snapshot
        self._last_ok = report.ok
        self._log_refusals(report)
        self._show_problems(report)
        self._update_summary()
        self._update_generate_button()
        self._find_offers(snapshot, report)
        self.checked.emit(report)
        if self._generate_when_checked:
            self._generate_when_checked = False
            self._request_generate()

    def _find_offers(self, snapshot: _Snapshot, report: BatchReport) -> None:
        """The conversions that fix this check's refusals, found on the TaskRunner."""
        if not any(p.field in ("image", "video") for p in report.problems):
            self._tasks.cancel(self._offers_key)
            self.image_slot.set_offers([])
            self.video_slot.set_offers([])
            return
        images, videos, options = snapshot
        self._tasks.run(find_offers, list(images), list(videos), options,
                        key=self._offers_key,
                        on_done=partial(self._on_offers_found, snapshot),
                        on_failed=lambda error: log.warning("fixes not offered: %r", error))

    def _on_offers_found(self, snapshot: _Snapshot, offers: object) -> None:
        if snapshot != self._snapshot() or not isinstance(offers, tuple):
            return
        self.image_slot.set_offers(offers)
        self.video_slot.set_offers(offers)

    def _on_check_failed(self, error: BaseException) -> None:
        # A bug in a check must not leave the button enabled on unchecked inputs.
        self._report = None
        self._report_for = None
        self._last_ok = False
        self._generate_when_checked = False
        self.options_problems.set_problems([_bug_problem(error)])
        self._update_generate_button()

    def _log_refusals(self, report: BatchReport) -> None:
        """A refusal is an expected outcome: one INFO line when it changes, no traceback."""
        refused = tuple(p.message for p in report.problems)
        if refused and refused != self._logged_refusals:
            log.info("inputs refused: %s", " | ".join(refused))
        self._logged_refusals = refused

    def _show_problems(self, report: BatchReport) -> None:
        by_field: dict[str, list[Problem]] = {"image": [], "video": [], "prompt": [],
                                             "options": []}
        for problem in report.problems:
            by_field.get(problem.field, by_field["options"]).append(problem)
        # An empty slot speaks for itself (its placeholder says what to do).
        self.image_slot.set_problems(by_field["image"] if self.images() else [])
        self.video_slot.set_problems(by_field["video"] if self.videos() else [])
        self.image_slot.set_infos(dict(report.images))
        self.video_slot.set_infos(dict(report.videos))
        self.prompt_problems.set_problems(by_field["prompt"])
        self.options_problems.set_problems(by_field["options"])

    # -- generating ------------------------------------------------------------------------------

    def _request_generate(self) -> None:
        if self._awaiting_parent:
            return
        report = self.report()
        if report is None:
            if self._last_ok:   # clicked while a check was still running: go when it's back
                self._generate_when_checked = True
                self._debounce.stop()
                self.on_debounce_timeout()
            return
        if not report.ok or self.is_converting():
            return
        self._awaiting_parent = True
        self._update_generate_button()
        self.generate_requested.emit((report, self.options()))

    # -- display ---------------------------------------------------------------------------------

    def _update_generate_button(self) -> None:
        enabled = self._last_ok and not self._awaiting_parent and not self.is_converting()
        self.generate_button.setEnabled(enabled)
        report = self._report
        count = report.job_count if report is not None and report.ok else 1
        self.generate_button.setText(
            ngettext("Generate {n} video", "Generate {n} videos", count).format(n=count)
            if count > 1 else _("Generate"))

    def notes_changed(self) -> None:
        """A note of the form's helpers changed (the recall's, a conversion's)."""
        self._update_note()

    def _update_note(self) -> None:
        gone = self._recall.gone_note
        notes = [gone] if gone else []
        notes.extend(_("Waiting for the conversion of {name}…").format(name=name)
                     for name in self._fixes.waiting_for())
        if self._demo and self._own_picture_chosen():
            notes.append(_(DEMO_NOTE))
        self.footer.show_notes(notes)

    def _own_picture_chosen(self) -> bool:
        """A picture other than the bundled sample (by its bytes: "Use these settings
        again" gives the sample back as a kept copy under another path)."""
        sample = paths.sample_character()
        for source in self.images():
            try:
                path = Path(canonical(source))
            except (OSError, RuntimeError, ValueError):   # "~nobody/a.png"
                return True
            if path != sample and not same_bytes(path, sample):
                return True
        return False

    def _update_summary(self) -> None:
        options = self._report_for[2] if self._report_for else self.options()
        rates = self._settings.rates if self._settings is not None else None
        currency = self._settings.currency if self._settings is not None else DEFAULT_CURRENCY
        text, cost_text = summary_text(self._report, self.images(), self.videos(), options,
                                       rates, currency)
        self.footer.show_summary(text, cost_text)


def _check_batch(images: Sequence[str], videos: Sequence[str],
                 options: GenerationOptions) -> BatchReport:
    """(On the TaskRunner.) The engine's check of the form's batch; the checks are loaded
    here, off the main thread, the first time (they are not needed to paint the form)."""
    from kling_desktop.engine.batch import check_batch

    return check_batch(images, videos, options)


def _bug_problem(error: BaseException) -> Problem:
    from kling_desktop.engine.checks import Problem

    return Problem("options", _("The inputs could not be checked ({error}).").format(
        error=type(error).__name__),
                   _("Change an input to check again; if it keeps happening, see the log."))
