"""The settings dialog's general sections: prices per second, and jobs and library."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.batch import rate_key
from kling_desktop.engine.settings import MAX_CONCURRENT_JOBS, Settings
from kling_desktop.paths import app_paths
from kling_desktop.ui.settings_dialog.fields import buddy
from kling_desktop.ui.widgets import mute


class PricesSection(QGroupBox):
    """The user's own price per second of output, per model and quality (for estimates).

    ``changed()`` whenever a price changes.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Prices per second of video", parent)
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.rate_spins: dict[str, QDoubleSpinBox] = {}
        for column, mode in enumerate(Mode, start=1):
            header = QLabel(mode.label, self)
            grid.addWidget(header, 0, column)
        for row, model in enumerate(Model, start=1):
            grid.addWidget(QLabel(model.label, self), row, 0)
            for column, mode in enumerate(Mode, start=1):
                spin = QDoubleSpinBox(self)
                spin.setRange(0.0, 1000.0)
                spin.setDecimals(4)
                spin.setSingleStep(0.01)
                spin.setSpecialValueText("not set")
                spin.setAccessibleName(f"Price per second, {model.label}, {mode.label}")
                spin.setToolTip("What your provider charges per second of output. "
                                "0 leaves it unset (no cost estimate).")
                spin.valueChanged.connect(self.on_field_changed)
                grid.addWidget(spin, row, column)
                self.rate_spins[rate_key(model, mode)] = spin
        note = QLabel("Prices differ between resellers and change; copy them from your "
                      "provider's price page. They are used only for estimates.", self)
        note.setWordWrap(True)
        mute(note)
        grid.addWidget(note, len(Model) + 1, 0, 1, len(Mode) + 1)

    def load(self, settings: Settings) -> None:
        for key, spin in self.rate_spins.items():
            spin.setValue(float(settings.rates.get(key, 0.0)))

    @Slot()
    def on_field_changed(self) -> None:
        self.changed.emit()

    def rates(self, previous: dict[str, float]) -> dict[str, float]:
        """``previous`` with the prices entered here (0: not set, dropped)."""
        rates = dict(previous)
        for key, spin in self.rate_spins.items():
            if spin.value() > 0:
                rates[key] = round(spin.value(), 6)
            else:
                rates.pop(key, None)
        return rates


class JobsSection(QGroupBox):
    """The library folder, how many tasks at once, how often to ask, and the habits.

    ``changed()`` whenever a value changes.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Jobs and library", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)

        self.library_edit = QLineEdit(self)
        self.library_edit.setPlaceholderText(str(app_paths().default_library_dir))
        self.library_edit.setAccessibleName("Library folder")
        self.library_edit.setToolTip("Where finished videos are saved, each with a small "
                                     "file describing how it was made. Empty: the default.")
        self.library_edit.textChanged.connect(self.on_field_changed)
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.on_browse_button_clicked)
        library_row = QHBoxLayout()
        library_row.addWidget(self.library_edit, 1)
        library_row.addWidget(self.browse_button)
        form.addRow(buddy("&Library folder", self.library_edit, self), library_row)

        self.jobs_spin = QSpinBox(self)
        self.jobs_spin.setRange(1, MAX_CONCURRENT_JOBS)
        self.jobs_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.jobs_spin.setMinimumWidth(80)
        self.jobs_spin.setAccessibleName("Tasks at the provider at once")
        self.jobs_spin.setToolTip(
            "How many videos may be generating at the provider at the same time. More jobs wait "
            "in line here and are sent as soon as one finishes. Plans allow 5 (trial) to 20 "
            "(standard) at once; going over makes the provider refuse new tasks.")
        self.jobs_spin.valueChanged.connect(self.on_field_changed)
        form.addRow("&Tasks at the provider at once", self.jobs_spin)

        self.poll_min_spin = QDoubleSpinBox(self)
        self.poll_max_spin = QDoubleSpinBox(self)
        for spin, name in ((self.poll_min_spin, "Shortest wait"),
                           (self.poll_max_spin, "Longest wait")):
            spin.setRange(1.0, 3600.0)
            spin.setDecimals(0)
            spin.setSuffix(" s")
            spin.setMinimumWidth(80)
            spin.setAccessibleName(f"{name} between status checks")
            spin.valueChanged.connect(self.on_field_changed)
        self.poll_min_spin.setToolTip("The shortest wait between two status checks of a video")
        self.poll_max_spin.setToolTip("The longest wait between two status checks of a video")
        poll_row = QHBoxLayout()
        poll_row.addWidget(self.poll_min_spin)
        poll_row.addWidget(QLabel("to", self))
        poll_row.addWidget(self.poll_max_spin)
        poll_row.addStretch(1)
        form.addRow("Check status every", poll_row)

        self.confirm_check = QCheckBox("Ask before generating (shows length and cost)", self)
        self.notify_check = QCheckBox("Notify me when a video is done", self)
        self.keep_inputs_check = QCheckBox("Keep the picture and clip with each result",
                                           self)
        self.keep_inputs_check.setToolTip("Saved in the library next to the video, so a result "
                                          "can be made again later")
        for check in (self.confirm_check, self.notify_check, self.keep_inputs_check):
            check.toggled.connect(self.on_field_changed)
            form.addRow("", check)

    def load(self, settings: Settings) -> None:
        self.library_edit.setText(settings.library_dir or "")
        self.jobs_spin.setValue(settings.max_concurrent_jobs)
        self.poll_min_spin.setValue(settings.poll_min_interval)
        self.poll_max_spin.setValue(settings.poll_max_interval)
        self.confirm_check.setChecked(settings.confirm_before_generate)
        self.notify_check.setChecked(settings.notify_when_done)
        self.keep_inputs_check.setChecked(settings.keep_inputs)

    @Slot()
    def on_field_changed(self) -> None:
        self.changed.emit()

    def values(self, settings: Settings) -> Settings:
        """``settings`` with the values entered here."""
        return dataclasses.replace(
            settings,
            library_dir=self.library_edit.text().strip() or None,
            max_concurrent_jobs=self.jobs_spin.value(),
            poll_min_interval=self.poll_min_spin.value(),
            poll_max_interval=self.poll_max_spin.value(),
            confirm_before_generate=self.confirm_check.isChecked(),
            notify_when_done=self.notify_check.isChecked(),
            keep_inputs=self.keep_inputs_check.isChecked(),
        )

    @Slot()
    def on_browse_button_clicked(self) -> None:
        start = self.library_edit.text().strip() or self.library_edit.placeholderText()
        folder = QFileDialog.getExistingDirectory(self, "Choose the library folder", start)
        if folder:
            self.library_edit.setText(folder)
