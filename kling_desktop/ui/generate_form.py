"""The form an artist fills in: picture(s), clip(s), options, prompt -> Generate.

Every rule about the inputs lives in the engine (``engine.batch.check_batch``);
this form runs that check on the TaskRunner whenever something changes
(debounced), shows its problems next to the input they are about, offers a
problem's one-click fix, and enables Generate only for a batch without problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QSizePolicy,
    QSpacerItem,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation
from kling_desktop.engine.batch import BatchReport, JobOptions, check_batch, estimate_cost
from kling_desktop.ui.media_slot import MediaKind, MediaSlot, is_link
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
    PrimaryButton,
    ProblemList,
    format_cost,
    format_seconds,
    muted_color,
    orientation_label,
    warning_color,
)

if TYPE_CHECKING:
    from kling_desktop.engine.checks import Problem
    from kling_desktop.engine.settings import Settings

CHECK_DEBOUNCE_MS = 150

CHECKLIST = (
    "One person in the picture and in the clip",
    "Head and upper body visible and unobstructed in both",
    "One continuous shot: no cuts",
    "The person fills a good part of the frame",
)

# The checklist stands beside the slots only when each slot keeps at least this much room;
# below, it is one wrapped line under the slots.
SLOT_ROOM_FOR_SIDE_CHECKLIST = 400
CHECKLIST_SIDE_WIDTH = 230
INPUTS_SPACING = 16
FORM_MARGIN = 16

_Snapshot = tuple[tuple[str, ...], tuple[str, ...], JobOptions]


class GenerateForm(QWidget):
    """Inputs and options of the next job(s), checked live by the engine.

    Signals:
      ``generate_requested(object)``: a ``(BatchReport, JobOptions)`` tuple, once per
        click; Generate stays disabled until the parent calls ``generation_accepted()``
        or ``generation_done()``.
      ``checked(object)``: a fresh ``BatchReport`` for the current inputs and options.
    """

    generate_requested = Signal(object)
    checked = Signal(object)

    def __init__(self, tasks: TaskRunner, settings: Settings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._settings = settings
        self._report: BatchReport | None = None      # the latest check, for _report_for
        self._report_for: _Snapshot | None = None
        self._last_ok = False                         # the previous check had no problems
        self._awaiting_parent = False                 # generate emitted, not yet acknowledged
        self._generate_when_checked = False           # clicked while a check was running
        self._check_key = f"form-check-{id(self)}"

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(CHECK_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.on_debounce_timeout)

        self._build()
        self._update_prompt_counter()
        self._update_summary()
        self._update_generate_button()
        self._schedule_check()

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self._checklist_beside = True     # the box beside the slots (else the strip below)
        self._sound_inline = True         # "Keep the clip's own sound" beside Quality
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
            slot.action_requested.connect(self.apply_action)
            self._inputs_row.addWidget(slot, 1)
        self._body_layout.addLayout(self._inputs_row, 1)
        self._build_checklist(body)
        self._body_layout.addWidget(self.checklist_strip)
        self._inputs_row.addWidget(self.checklist, 0, Qt.AlignmentFlag.AlignTop)

        self._body_layout.addWidget(self._separator(body))
        self._body_layout.addLayout(self._build_options(body))
        outer.addWidget(body, 1)

        footer = QWidget(self)
        footer.setObjectName("formFooter")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(FORM_MARGIN, 0, FORM_MARGIN, 12)
        footer_layout.setSpacing(10)
        footer_layout.addWidget(self._separator(footer))
        footer_layout.addLayout(self._build_footer(footer))
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

    def _separator(self, parent: QWidget) -> QFrame:
        line = QFrame(parent)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        return line

    def _build_checklist(self, parent: QWidget) -> None:
        """The pre-flight checklist, twice: a box beside the slots (wide forms) and one
        wrapped line under them (narrow forms); ``_place_checklist`` shows one of them."""
        note_text = "The service can't check these, and results suffer when they're off."
        box = QFrame(parent)
        box.setObjectName("checklist")
        box.setFixedWidth(CHECKLIST_SIDE_WIDTH)
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setAccessibleName("Before you generate: checklist")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        title = QLabel("Before you generate", box)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        note = QLabel(note_text, box)
        note.setWordWrap(True)
        self._mute(note)
        layout.addWidget(note)
        for item in CHECKLIST:
            label = QLabel(f"•  {item}", box)
            label.setWordWrap(True)
            layout.addWidget(label)
        self.checklist = box

        strip = QLabel(parent)
        strip.setObjectName("checklistStrip")
        strip.setWordWrap(True)
        strip.setTextFormat(Qt.TextFormat.RichText)
        # Items break between each other, never inside (non-breaking spaces within).
        items = "&nbsp;&nbsp; ".join(
            "•&nbsp;" + item.replace(" ", "&nbsp;") for item in CHECKLIST)
        strip.setText(f"<b>Before you generate:</b>&nbsp;&nbsp; {items}")
        strip.setToolTip(note_text)
        strip.setAccessibleName("Before you generate: checklist")
        strip.setAccessibleDescription(" ".join(CHECKLIST))
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)   # as many lines as its width needs, no more
        strip.setSizePolicy(policy)
        self.checklist_strip = strip

    def _place_checklist(self, *, beside: bool) -> None:
        if beside == self._checklist_beside:
            return
        self._checklist_beside = beside
        self.checklist.setVisible(beside)
        self.checklist_strip.setVisible(not beside)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_to_width(event.size().width())

    def _fit_to_width(self, width: int) -> None:
        inner = width - 2 * FORM_MARGIN
        slot = (inner - CHECKLIST_SIDE_WIDTH - 2 * INPUTS_SPACING) // 2
        self._place_checklist(beside=slot >= SLOT_ROOM_FOR_SIDE_CHECKLIST)
        # The sound box follows Model and Quality when the row has room, else its own row.
        self._place_sound_check(inline=inner >= self._inline_options_width())

    def _inline_options_width(self) -> int:
        top = self._options_top
        needed = self._options_label_width + self._options_grid.horizontalSpacing()
        needed += top.sizeHint().width()
        if not self._sound_inline:
            needed += top.spacing() + 24 + self.keep_sound_check.sizeHint().width()
        return needed

    def _place_sound_check(self, *, inline: bool) -> None:
        if inline == self._sound_inline:
            return
        self._sound_inline = inline
        if inline:
            self._options_grid.removeWidget(self.keep_sound_check)
            self._options_top.insertWidget(self._options_top.count() - 1, self.keep_sound_check)
        else:
            self._options_top.removeWidget(self.keep_sound_check)
            self._options_grid.addWidget(self.keep_sound_check, 2, 1)
        self._sound_spacer.changeSize(24 if inline else 0, 0)
        self._options_top.invalidate()

    def _build_options(self, parent: QWidget) -> QGridLayout:
        grid = QGridLayout()
        self._options_grid = grid
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)

        self.model_combo = QComboBox(parent)
        for model in Model:
            self.model_combo.addItem(model.label, model.value)
        self.model_combo.setToolTip("Which Kling model animates the character. V3 is the newer.")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.currentIndexChanged.connect(self.on_option_changed)
        model_label = QLabel("&Model", parent)
        model_label.setBuddy(self.model_combo)

        self.mode_combo = QComboBox(parent)
        for mode in Mode:
            self.mode_combo.addItem(mode.label, mode.value)
        self.mode_combo.setToolTip(
            "Standard renders 720p. Pro renders 1080p and costs more per second.")
        self.mode_combo.setAccessibleName("Quality")
        self.mode_combo.currentIndexChanged.connect(self.on_option_changed)
        mode_label = QLabel("&Quality", parent)
        mode_label.setBuddy(self.mode_combo)

        self.keep_sound_check = QCheckBox("Keep the clip's own &sound", parent)
        self.keep_sound_check.setChecked(True)
        self.keep_sound_check.setToolTip(
            "Keep the reference clip's audio in the result. Untick for a silent video.")
        self.keep_sound_check.toggled.connect(self.on_option_changed)

        self.orientation_group = QButtonGroup(self)
        self.orientation_buttons: dict[Orientation, QRadioButton] = {}
        orientation_row = QHBoxLayout()
        orientation_row.setSpacing(18)
        tips = {
            Orientation.IMAGE: "The character keeps the direction it faces in the picture. "
                               "The clip may be up to "
                               f"{Orientation.IMAGE.max_video_seconds:g} seconds long.",
            Orientation.VIDEO: "The character turns and faces the way the person in the clip "
                               "does. The clip may be up to "
                               f"{Orientation.VIDEO.max_video_seconds:g} seconds long.",
        }
        for orientation in Orientation:
            button = QRadioButton(orientation_label(orientation), parent)
            button.setToolTip(tips[orientation])
            self.orientation_group.addButton(button)
            self.orientation_buttons[orientation] = button
            orientation_row.addWidget(button)
        orientation_row.addStretch(1)
        self.orientation_buttons[Orientation.IMAGE].setChecked(True)
        self.orientation_group.buttonToggled.connect(self.on_orientation_group_buttonToggled)
        orientation_label_widget = QLabel("Character faces", parent)
        orientation_label_widget.setToolTip(tips[Orientation.IMAGE] + "\n" +
                                            tips[Orientation.VIDEO])

        self.prompt_edit = QPlainTextEdit(parent)
        self.prompt_edit.setPlaceholderText(
            "Optional: describe the scene, the lighting or the style (English or Chinese)")
        self.prompt_edit.setToolTip(
            f"Optional words for the model, up to {MAX_PROMPT_CHARS} characters, "
            "in English or Chinese.")
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        line = self.prompt_edit.fontMetrics().lineSpacing()
        self.prompt_edit.setFixedHeight(line * 3 + 16)
        self.prompt_edit.textChanged.connect(self.on_prompt_edit_textChanged)
        prompt_label = QLabel("&Prompt", parent)
        prompt_label.setBuddy(self.prompt_edit)
        prompt_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.prompt_counter = QLabel(parent)
        self.prompt_counter.setAccessibleName("Prompt length")
        self.prompt_counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.prompt_problems = ProblemList(parent)
        self.prompt_problems.setAccessibleName("Prompt problems")
        self.prompt_problems.action_requested.connect(self.apply_action)

        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.model_combo)
        top.addSpacing(12)
        top.addWidget(mode_label)
        top.addWidget(self.mode_combo)
        self._sound_spacer = QSpacerItem(24, 0, QSizePolicy.Policy.Fixed,
                                         QSizePolicy.Policy.Minimum)
        top.addSpacerItem(self._sound_spacer)
        top.addWidget(self.keep_sound_check)
        top.addStretch(1)
        self._options_top = top

        prompt_box = QVBoxLayout()
        prompt_box.setSpacing(2)
        prompt_box.addWidget(self.prompt_edit)
        prompt_box.addWidget(self.prompt_counter)

        grid.addWidget(model_label, 0, 0)
        grid.addLayout(top, 0, 1)
        grid.addWidget(orientation_label_widget, 1, 0)
        grid.addLayout(orientation_row, 1, 1)
        # row 2: the sound box, when the form is too narrow for it beside Quality
        grid.addWidget(prompt_label, 3, 0)
        grid.addLayout(prompt_box, 3, 1)
        grid.addWidget(self.prompt_problems, 4, 1)
        grid.setColumnStretch(1, 1)
        self._options_label_width = max(
            w.sizeHint().width() for w in (model_label, orientation_label_widget, prompt_label))
        return grid

    def _build_footer(self, parent: QWidget) -> QHBoxLayout:
        footer = QHBoxLayout()
        footer.setSpacing(12)
        self.options_problems = ProblemList(parent)
        self.options_problems.setAccessibleName("Batch problems")
        self.options_problems.action_requested.connect(self.apply_action)
        self.summary_label = QLabel(parent)
        self.summary_label.setAccessibleName("Billable length")
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.summary_label.setToolTip(
            "The result is as long as the motion clip, and the provider bills per second of it.")
        self.cost_label = QLabel(parent)
        self.cost_label.setAccessibleName("Estimated cost")
        self.cost_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._mute(self.cost_label)
        summary = QVBoxLayout()
        summary.setSpacing(0)
        summary.addWidget(self.summary_label)
        summary.addWidget(self.cost_label)
        self.generate_button = PrimaryButton("Generate", parent, object_name="generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Send the job(s) to the provider (Ctrl+Enter)")
        self.generate_button.setAccessibleName("Generate")
        self.generate_button.clicked.connect(self.on_generate_button_clicked)
        footer.addWidget(self.options_problems, 1)
        footer.addStretch(0)
        footer.addSpacing(12)
        footer.addLayout(summary)
        footer.addWidget(self.generate_button, 0, Qt.AlignmentFlag.AlignVCenter)
        return footer

    def _mute(self, label: QLabel) -> None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, muted_color(self.palette()))
        label.setPalette(palette)

    # -- public API ------------------------------------------------------------------------------

    def set_settings(self, settings: Settings | None) -> None:
        """The rates (for the cost estimate) come from here."""
        self._settings = settings
        self._update_summary()

    def options(self) -> JobOptions:
        return JobOptions(
            model=Model(self.model_combo.currentData() or Model.V3),
            mode=Mode(self.mode_combo.currentData() or Mode.STD),
            prompt=self.prompt_edit.toPlainText(),
            orientation=self.orientation(),
            keep_original_sound=self.keep_sound_check.isChecked(),
        )

    def orientation(self) -> Orientation:
        for orientation, button in self.orientation_buttons.items():
            if button.isChecked():
                return orientation
        return Orientation.IMAGE

    def apply_options(self, options: JobOptions) -> None:
        """Show these options ("use these settings again"); the inputs stay as they are."""
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(options.model.value)))
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(options.mode.value)))
        self.orientation_buttons[options.orientation].setChecked(True)
        self.keep_sound_check.setChecked(options.keep_original_sound)
        if self.prompt_edit.toPlainText() != options.prompt:
            self.prompt_edit.setPlainText(options.prompt)

    def set_inputs(self, images: Sequence[str], videos: Sequence[str]) -> None:
        self.image_slot.set_inputs(list(images))
        self.video_slot.set_inputs(list(videos))

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
        """Apply a Problem's one-click fix, e.g. ``orientation=video``. False if unknown."""
        name, _, value = action.partition("=")
        if name == "orientation":
            try:
                orientation = Orientation(value)
            except ValueError:
                return False
            self.orientation_buttons[orientation].setChecked(True)
            return True
        combo = {"mode": self.mode_combo, "model": self.model_combo}.get(name)
        index = combo.findData(value) if combo is not None and value else -1
        if combo is not None and index >= 0:
            combo.setCurrentIndex(index)
            return True
        return False

    def shutdown(self) -> None:
        self._debounce.stop()
        self._tasks.cancel(self._check_key)
        self.image_slot.shutdown()
        self.video_slot.shutdown()

    # -- reacting to the user --------------------------------------------------------------------

    @Slot(list)
    def on_slot_inputs_changed(self, _sources: list[str]) -> None:
        self._schedule_check()

    @Slot()
    def on_option_changed(self) -> None:
        self._schedule_check()

    @Slot(object, bool)
    def on_orientation_group_buttonToggled(self, _button: object, checked: bool) -> None:
        if checked:
            self._schedule_check()

    @Slot()
    def on_prompt_edit_textChanged(self) -> None:
        self._update_prompt_counter()
        self._schedule_check()

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
        self._tasks.run(check_batch, list(images), list(videos), options,
                        key=self._check_key,
                        on_done=partial(self._on_check_done, snapshot),
                        on_failed=self._on_check_failed)

    def _on_check_done(self, snapshot: _Snapshot, report: object) -> None:
        if not isinstance(report, BatchReport) or snapshot != self._snapshot():
            return  # the form changed since; a newer check is on its way
        self._report = report
        self._report_for = snapshot
        self._last_ok = report.ok
        self._show_problems(report)
        self._update_summary()
        self._update_generate_button()
        self.checked.emit(report)
        if self._generate_when_checked:
            self._generate_when_checked = False
            self._request_generate()

    def _on_check_failed(self, error: BaseException) -> None:
        # A bug in a check must not leave the button enabled on unchecked inputs.
        self._report = None
        self._report_for = None
        self._last_ok = False
        self._generate_when_checked = False
        self.options_problems.set_problems([_bug_problem(error)])
        self._update_generate_button()

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
        if not report.ok:
            return
        self._awaiting_parent = True
        self._update_generate_button()
        self.generate_requested.emit((report, self.options()))

    # -- display ---------------------------------------------------------------------------------

    def _update_generate_button(self) -> None:
        enabled = self._last_ok and not self._awaiting_parent
        self.generate_button.setEnabled(enabled)
        report = self._report
        count = report.job_count if report is not None and report.ok else 1
        self.generate_button.setText(f"Generate {count} videos" if count > 1 else "Generate")

    def _update_prompt_counter(self) -> None:
        count = len(self.prompt_edit.toPlainText())
        self.prompt_counter.setText(f"{count} / {MAX_PROMPT_CHARS}")
        palette = self.prompt_counter.palette()
        color = (warning_color(self.palette()) if count > MAX_PROMPT_CHARS
                 else muted_color(self.palette()))
        palette.setColor(QPalette.ColorRole.WindowText, color)
        self.prompt_counter.setPalette(palette)
        font = self.prompt_counter.font()
        font.setBold(count > MAX_PROMPT_CHARS)
        self.prompt_counter.setFont(font)

    def _update_summary(self) -> None:
        report = self._report
        images, videos = self.images(), self.videos()
        cost_text = ""
        if not images or not videos:
            missing = []
            if not images:
                missing.append("a character picture")
            if not videos:
                missing.append("a motion video")
            text = "Add " + " and ".join(missing)
        elif report is None or not report.pairs:
            text = ""
        else:
            jobs = f"{report.job_count} jobs · " if report.job_count > 1 else ""
            seconds = report.total_billable_seconds
            if seconds is None:
                text = jobs + "length unknown for links"
                if not any(is_link(v) for v in videos):
                    text = jobs + "length unknown"
            else:
                text = jobs + f"{format_seconds(seconds)} billable"
            if self._settings is not None:
                options = self._report_for[2] if self._report_for else self.options()
                cost = estimate_cost(report, options, self._settings.rates)
                if cost is not None:
                    cost_text = f"about {format_cost(cost)} at your rate"
        self.summary_label.setText(text)
        self.cost_label.setText(cost_text)
        self.cost_label.setVisible(bool(cost_text))


def _bug_problem(error: BaseException) -> Problem:
    from kling_desktop.engine.checks import Problem

    return Problem("options", f"The inputs could not be checked ({type(error).__name__}).",
                   "Change an input to check again; if it keeps happening, see the log.")
