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
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation
from kling_desktop.engine.batch import BatchReport, JobOptions, check_batch, estimate_cost
from kling_desktop.ui.media_slot import MediaKind, MediaSlot, is_link
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
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
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 16, 16, 12)
        outer.setSpacing(14)

        inputs = QHBoxLayout()
        inputs.setSpacing(16)
        self.image_slot = MediaSlot(MediaKind.IMAGE, self._tasks, self)
        self.video_slot = MediaSlot(MediaKind.VIDEO, self._tasks, self)
        for slot in (self.image_slot, self.video_slot):
            slot.inputs_changed.connect(self.on_slot_inputs_changed)
            slot.action_requested.connect(self.apply_action)
            inputs.addWidget(slot, 1)
        inputs.addWidget(self._build_checklist(), 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(inputs, 1)

        outer.addWidget(self._separator())
        outer.addLayout(self._build_options())
        outer.addWidget(self._separator())
        outer.addLayout(self._build_footer())

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

    def _separator(self) -> QFrame:
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        return line

    def _build_checklist(self) -> QWidget:
        box = QFrame(self)
        box.setObjectName("checklist")
        box.setFixedWidth(220)
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
        note = QLabel("The service can't check these, and results suffer when they're off.",
                      box)
        note.setWordWrap(True)
        self._mute(note)
        layout.addWidget(note)
        for item in CHECKLIST:
            label = QLabel(f"•  {item}", box)
            label.setWordWrap(True)
            layout.addWidget(label)
        self.checklist = box
        return box

    def _build_options(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(10)

        self.model_combo = QComboBox(self)
        for model in Model:
            self.model_combo.addItem(model.label, model.value)
        self.model_combo.setToolTip("Which Kling model animates the character. V3 is the newer.")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.currentIndexChanged.connect(self.on_option_changed)
        model_label = QLabel("&Model", self)
        model_label.setBuddy(self.model_combo)

        self.mode_combo = QComboBox(self)
        for mode in Mode:
            self.mode_combo.addItem(mode.label, mode.value)
        self.mode_combo.setToolTip(
            "Standard renders 720p. Pro renders 1080p and costs more per second.")
        self.mode_combo.setAccessibleName("Quality")
        self.mode_combo.currentIndexChanged.connect(self.on_option_changed)
        mode_label = QLabel("&Quality", self)
        mode_label.setBuddy(self.mode_combo)

        self.keep_sound_check = QCheckBox("Keep the clip's own &sound", self)
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
            button = QRadioButton(orientation_label(orientation), self)
            button.setToolTip(tips[orientation])
            self.orientation_group.addButton(button)
            self.orientation_buttons[orientation] = button
            orientation_row.addWidget(button)
        orientation_row.addStretch(1)
        self.orientation_buttons[Orientation.IMAGE].setChecked(True)
        self.orientation_group.buttonToggled.connect(self.on_orientation_group_buttonToggled)
        orientation_label_widget = QLabel("Character faces", self)
        orientation_label_widget.setToolTip(tips[Orientation.IMAGE] + "\n" +
                                            tips[Orientation.VIDEO])

        self.prompt_edit = QPlainTextEdit(self)
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
        prompt_label = QLabel("&Prompt", self)
        prompt_label.setBuddy(self.prompt_edit)
        prompt_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.prompt_counter = QLabel(self)
        self.prompt_counter.setAccessibleName("Prompt length")
        self.prompt_counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.prompt_problems = ProblemList(self)
        self.prompt_problems.setAccessibleName("Prompt problems")
        self.prompt_problems.action_requested.connect(self.apply_action)

        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.model_combo)
        top.addSpacing(12)
        top.addWidget(mode_label)
        top.addWidget(self.mode_combo)
        top.addSpacing(24)
        top.addWidget(self.keep_sound_check)
        top.addStretch(1)

        grid.addWidget(model_label, 0, 0)
        grid.addLayout(top, 0, 1)
        grid.addWidget(orientation_label_widget, 1, 0)
        grid.addLayout(orientation_row, 1, 1)
        grid.addWidget(prompt_label, 2, 0)
        grid.addWidget(self.prompt_edit, 2, 1)
        grid.addWidget(self.prompt_counter, 3, 1)
        grid.addWidget(self.prompt_problems, 4, 1)
        grid.setColumnStretch(1, 1)
        return grid

    def _build_footer(self) -> QHBoxLayout:
        footer = QHBoxLayout()
        footer.setSpacing(12)
        self.options_problems = ProblemList(self)
        self.options_problems.setAccessibleName("Batch problems")
        self.options_problems.action_requested.connect(self.apply_action)
        self.summary_label = QLabel(self)
        self.summary_label.setAccessibleName("Billable length")
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.summary_label.setToolTip(
            "The result is as long as the motion clip, and the provider bills per second of it.")
        self.cost_label = QLabel(self)
        self.cost_label.setAccessibleName("Estimated cost")
        self.cost_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._mute(self.cost_label)
        summary = QVBoxLayout()
        summary.setSpacing(0)
        summary.addWidget(self.summary_label)
        summary.addWidget(self.cost_label)
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setDefault(True)
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setMinimumWidth(160)
        self.generate_button.setMinimumHeight(38)
        self.generate_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.generate_button.setStyleSheet(
            "#generateButton { background: palette(highlight); color: palette(highlighted-text);"
            " border: none; border-radius: 5px; padding: 6px 18px; }"
            "#generateButton:hover { background: palette(link); }"
            "#generateButton:disabled { background: palette(button); color: palette(mid);"
            " border: 1px solid palette(mid); }")
        font = self.generate_button.font()
        font.setBold(True)
        self.generate_button.setFont(font)
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
