"""The options of the next job(s): model, quality, sound, orientation and prompt.

One :class:`~kling_desktop.api.models.GenerationOptions` value comes out (``options``)
and goes in (``apply_options``); the form checks it with the inputs.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
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

from kling_desktop.api.models import MAX_PROMPT_CHARS, GenerationOptions, Mode, Model, Orientation
from kling_desktop.i18n import _
from kling_desktop.ui.problems import ProblemList
from kling_desktop.ui.widgets import (
    action_orientation,
    muted_color,
    orientation_label,
    warning_color,
)


class OptionsPanel(QWidget):
    """Model and Quality (and the sound box, when the row has room), orientation, prompt.

    Signals: ``changed()`` whenever an option changes; ``action_requested(str)`` when
    the user clicks the fix of a prompt problem.
    """

    changed = Signal()
    action_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sound_inline = True         # "Keep the clip's own sound" beside Quality
        self._build()
        self._update_prompt_counter()

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self._options_grid = grid
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)

        self.model_combo = QComboBox(self)
        for model in Model:
            self.model_combo.addItem(model.label, model.value)
        self.model_combo.setToolTip(
            _("Which Kling model animates the character. V3 is the newer."))
        self.model_combo.setAccessibleName(_("Model"))
        self.model_combo.currentIndexChanged.connect(self.on_option_changed)
        model_label = QLabel(_("&Model"), self)
        model_label.setBuddy(self.model_combo)

        self.mode_combo = QComboBox(self)
        for mode in Mode:
            self.mode_combo.addItem(mode.label, mode.value)
        self.mode_combo.setToolTip(
            _("Standard renders 720p. Pro renders 1080p and costs more per second."))
        self.mode_combo.setAccessibleName(_("Quality"))
        self.mode_combo.currentIndexChanged.connect(self.on_option_changed)
        mode_label = QLabel(_("&Quality"), self)
        mode_label.setBuddy(self.mode_combo)

        self.keep_sound_check = QCheckBox(_("Keep the clip's own &sound"), self)
        self.keep_sound_check.setChecked(True)
        self.keep_sound_check.setToolTip(
            _("Keep the reference clip's audio in the result. Untick for a silent video."))
        self.keep_sound_check.toggled.connect(self.on_option_changed)

        self.orientation_group = QButtonGroup(self)
        self.orientation_buttons: dict[Orientation, QRadioButton] = {}
        orientation_row = QHBoxLayout()
        orientation_row.setSpacing(18)
        tips = {
            Orientation.IMAGE: _("The character keeps the direction it faces in the picture. "
                                 "The clip may be up to {seconds} seconds long.").format(
                seconds=f"{Orientation.IMAGE.max_video_seconds:g}"),
            Orientation.VIDEO: _("The character turns and faces the way the person in the "
                                 "clip does. The clip may be up to {seconds} seconds long."
                                 ).format(seconds=f"{Orientation.VIDEO.max_video_seconds:g}"),
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
        orientation_label_widget = QLabel(_("Character faces"), self)
        orientation_label_widget.setToolTip(tips[Orientation.IMAGE] + "\n" +
                                            tips[Orientation.VIDEO])

        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setPlaceholderText(
            _("Optional: describe the scene, the lighting or the style (English or Chinese)"))
        self.prompt_edit.setToolTip(
            _("Optional words for the model, up to {limit} characters (a Chinese character "
              "counts as one), in English or Chinese.").format(
                limit=QLocale().toString(MAX_PROMPT_CHARS)))
        self.prompt_edit.setAccessibleName(_("Prompt"))
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        line = self.prompt_edit.fontMetrics().lineSpacing()
        self.prompt_edit.setFixedHeight(line * 3 + 16)
        self.prompt_edit.textChanged.connect(self.on_prompt_edit_textChanged)
        prompt_label = QLabel(_("&Prompt"), self)
        prompt_label.setBuddy(self.prompt_edit)
        prompt_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.prompt_counter = QLabel(self)
        self.prompt_counter.setAccessibleName(_("Prompt length"))
        self.prompt_counter.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.prompt_problems = ProblemList(self)   # the form places it (its message area)
        self.prompt_problems.setAccessibleName(_("Prompt problems"))
        self.prompt_problems.action_requested.connect(self.action_requested)

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

        # The counter sits under the label, beside the box: no line of its own (a short
        # window, 1024 × 700, has none to spare).
        prompt_label_box = QVBoxLayout()
        prompt_label_box.setSpacing(2)
        prompt_label_box.addWidget(prompt_label)
        prompt_label_box.addStretch(1)
        prompt_label_box.addWidget(self.prompt_counter)

        grid.addWidget(model_label, 0, 0)
        grid.addLayout(top, 0, 1)
        grid.addWidget(orientation_label_widget, 1, 0)
        grid.addLayout(orientation_row, 1, 1)
        # row 2: the sound box, when the form is too narrow for it beside Quality
        grid.addLayout(prompt_label_box, 3, 0)
        grid.addWidget(self.prompt_edit, 3, 1)
        # prompt_problems: shown by the form in its footer's message area (fixed height)
        grid.setColumnStretch(1, 1)
        self._options_label_width = max(
            w.sizeHint().width() for w in (model_label, orientation_label_widget, prompt_label))

    # -- fitting the width ----------------------------------------------------------------------

    def fit_to_width(self, width: int) -> None:
        """The sound box follows Model and Quality when ``width`` has room, else its own row."""
        self._place_sound_check(inline=width >= self._inline_width())

    def _inline_width(self) -> int:
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

    # -- the options as one value -----------------------------------------------------------------

    def options(self) -> GenerationOptions:
        return GenerationOptions(
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

    def apply_options(self, options: GenerationOptions) -> None:
        """Show these options ("use these settings again"); the inputs stay as they are."""
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(options.model.value)))
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(options.mode.value)))
        self.orientation_buttons[options.orientation].setChecked(True)
        self.keep_sound_check.setChecked(options.keep_original_sound)
        if self.prompt_edit.toPlainText() != options.prompt:
            self.prompt_edit.setPlainText(options.prompt)

    @Slot(str)
    def apply_action(self, action: str) -> bool:
        """Apply a Problem's one-click fix, e.g. ``orientation=video``. False if unknown."""
        name, _, value = action.partition("=")
        if name == "orientation":
            orientation = action_orientation(action)
            if orientation is None:
                return False
            self.orientation_buttons[orientation].setChecked(True)
            return True
        combo = {"mode": self.mode_combo, "model": self.model_combo}.get(name)
        index = combo.findData(value) if combo is not None and value else -1
        if combo is not None and index >= 0:
            combo.setCurrentIndex(index)
            return True
        return False

    # -- reacting to the user -------------------------------------------------------------------

    @Slot()
    def on_option_changed(self) -> None:
        self.changed.emit()

    @Slot(object, bool)
    def on_orientation_group_buttonToggled(self, _button: object, checked: bool) -> None:
        if checked:
            self.changed.emit()

    @Slot()
    def on_prompt_edit_textChanged(self) -> None:
        self._update_prompt_counter()
        self.changed.emit()

    def _update_prompt_counter(self) -> None:
        # Characters, as the provider counts them: a Chinese character is one, like "a".
        count = len(self.prompt_edit.toPlainText())
        locale = QLocale()
        self.prompt_counter.setText(_("{count} / {limit}").format(
            count=locale.toString(count), limit=locale.toString(MAX_PROMPT_CHARS)))
        palette = self.prompt_counter.palette()
        color = (warning_color(self.palette()) if count > MAX_PROMPT_CHARS
                 else muted_color(self.palette()))
        palette.setColor(QPalette.ColorRole.WindowText, color)
        self.prompt_counter.setPalette(palette)
        font = self.prompt_counter.font()
        font.setBold(count > MAX_PROMPT_CHARS)
        self.prompt_counter.setFont(font)

