"""The settings dialog's general sections: prices per second, jobs and library, and the
window's language."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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
from kling_desktop.engine.settings import (
    CURRENCIES,
    DEFAULT_CURRENCY,
    DEFAULT_PRICING_PAGE_URL,
    MAX_CONCURRENT_JOBS,
    Settings,
)
from kling_desktop.i18n import LANGUAGES, _
from kling_desktop.paths import app_paths
from kling_desktop.ui.notifications import CHANNEL_WORDS, Notifier
from kling_desktop.ui.settings_dialog.fields import buddy
from kling_desktop.ui.widgets import (
    CURRENCY_LABELS,
    CURRENCY_SYMBOLS,
    WebLink,
    mute,
    page_name,
)


class PricesSection(QGroupBox):
    """The user's own price per second of output, per model and quality (for estimates).

    ``changed()`` whenever a price changes.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Prices per second of video"), parent)
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)

        self.currency_combo = QComboBox(self)
        for code in CURRENCIES:
            self.currency_combo.addItem(_(CURRENCY_LABELS[code]), code)
        self.currency_combo.setAccessibleName(_("Currency of the prices"))
        self.currency_combo.setToolTip(_("What your provider's prices are in; every cost "
                                         "estimate is shown in it."))
        self.currency_combo.currentIndexChanged.connect(self.on_currency_combo_changed)
        currency_row = QHBoxLayout()
        currency_row.addWidget(self.currency_combo)
        currency_row.addStretch(1)
        grid.addWidget(buddy(_("&Currency"), self.currency_combo, self), 0, 0)
        grid.addLayout(currency_row, 0, 1, 1, len(Mode))

        self.rate_spins: dict[str, QDoubleSpinBox] = {}
        for column, mode in enumerate(Mode, start=1):
            header = QLabel(mode.label, self)
            grid.addWidget(header, 1, column)
        for row, model in enumerate(Model, start=2):
            grid.addWidget(QLabel(model.label, self), row, 0)
            for column, mode in enumerate(Mode, start=1):
                spin = QDoubleSpinBox(self)
                spin.setRange(0.0, 1000.0)
                spin.setDecimals(4)
                spin.setSingleStep(0.01)
                spin.setSpecialValueText(_("not set"))
                spin.setAccessibleName(_("Price per second, {model}, {quality}").format(
                    model=model.label, quality=mode.label))
                spin.setToolTip(_("What your provider charges per second of output. "
                                  "0 leaves it unset (no cost estimate)."))
                spin.valueChanged.connect(self.on_field_changed)
                grid.addWidget(spin, row, column)
                self.rate_spins[rate_key(model, mode)] = spin
        below = len(Model) + 2
        self.pricing_link = WebLink(self)
        self.pricing_link.setObjectName("pricingLink")
        grid.addWidget(self.pricing_link, below, 0, 1, len(Mode) + 1)
        self.pricing_edit = QLineEdit(self)
        self.pricing_edit.setAccessibleName(_("Price list page"))
        self.pricing_edit.setToolTip(_("The web page where your provider lists its prices "
                                       "(https:// only). Empty: the default provider's page."))
        self.pricing_edit.textChanged.connect(self.on_field_changed)
        grid.addWidget(buddy(_("Price &list"), self.pricing_edit, self), below + 1, 0)
        grid.addWidget(self.pricing_edit, below + 1, 1, 1, len(Mode))
        note = QLabel(_("Prices differ between resellers and change: copy them from your "
                        "provider's price list. They are used only for estimates; \u201cnot "
                        "set\u201d shows the billable seconds alone."), self)
        note.setWordWrap(True)
        mute(note)
        grid.addWidget(note, below + 2, 0, 1, len(Mode) + 1)

    def currency(self) -> str:
        code = self.currency_combo.currentData()
        return code if isinstance(code, str) else DEFAULT_CURRENCY

    def pricing_page_url(self) -> str:
        return self.pricing_edit.text().strip()

    def show_pricing_page(self, url: str | None, base_url: str) -> None:
        """Say where the prices of the provider at ``base_url`` are listed (a link)."""
        self.pricing_edit.setPlaceholderText(
            DEFAULT_PRICING_PAGE_URL if url == DEFAULT_PRICING_PAGE_URL
            else _("https://… (your provider's price list)"))
        if url:
            self.pricing_link.set_link(_("Your provider's prices: "), url, page_name(url))
        else:
            self.pricing_link.set_link(
                "", None, "", fallback=_(
                    "Your provider's website lists its prices per second; paste the address "
                    "of that page below to keep it at hand."))

    @Slot(int)
    def on_currency_combo_changed(self, _index: int) -> None:
        symbol = CURRENCY_SYMBOLS.get(self.currency(), "")
        for spin in self.rate_spins.values():
            spin.setPrefix(symbol)
            spin.setSuffix("" if symbol else _(" cr"))
        self.changed.emit()

    def load(self, settings: Settings) -> None:
        for key, spin in self.rate_spins.items():
            spin.setValue(float(settings.rates.get(key, 0.0)))
        index = self.currency_combo.findData(settings.currency)
        self.currency_combo.setCurrentIndex(max(0, index))
        self.on_currency_combo_changed(self.currency_combo.currentIndex())
        self.pricing_edit.setText(settings.pricing_page_url)

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
        super().__init__(_("Jobs and library"), parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)

        self.library_edit = QLineEdit(self)
        self.library_edit.setPlaceholderText(str(app_paths().default_library_dir))
        self.library_edit.setAccessibleName(_("Library folder"))
        self.library_edit.setToolTip(_("Where finished videos are saved, each with a small "
                                       "file describing how it was made. Empty: the "
                                       "default."))
        self.library_edit.textChanged.connect(self.on_field_changed)
        self.browse_button = QPushButton(_("Browse…"), self)
        self.browse_button.clicked.connect(self.on_browse_button_clicked)
        library_row = QHBoxLayout()
        library_row.addWidget(self.library_edit, 1)
        library_row.addWidget(self.browse_button)
        form.addRow(buddy(_("&Library folder"), self.library_edit, self), library_row)

        self.jobs_spin = QSpinBox(self)
        self.jobs_spin.setRange(1, MAX_CONCURRENT_JOBS)
        self.jobs_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.jobs_spin.setMinimumWidth(80)
        self.jobs_spin.setAccessibleName(_("Tasks at the provider at once"))
        self.jobs_spin.setToolTip(_(
            "How many videos may be generating at the provider at the same time. More jobs wait "
            "in line here and are sent as soon as one finishes. Plans allow 5 (trial) to 20 "
            "(standard) at once; going over makes the provider refuse new tasks."))
        self.jobs_spin.valueChanged.connect(self.on_field_changed)
        form.addRow(_("&Tasks at the provider at once"), self.jobs_spin)

        self.poll_min_spin = QDoubleSpinBox(self)
        self.poll_max_spin = QDoubleSpinBox(self)
        for spin, name in ((self.poll_min_spin, _("Shortest wait between status checks")),
                           (self.poll_max_spin, _("Longest wait between status checks"))):
            spin.setRange(1.0, 3600.0)
            spin.setDecimals(0)
            spin.setSuffix(_(" s"))
            spin.setMinimumWidth(80)
            spin.setAccessibleName(name)
            spin.valueChanged.connect(self.on_field_changed)
        self.poll_min_spin.setToolTip(_("The shortest wait between two status checks of a video"))
        self.poll_max_spin.setToolTip(_("The longest wait between two status checks of a video"))
        poll_row = QHBoxLayout()
        poll_row.addWidget(self.poll_min_spin)
        poll_row.addWidget(QLabel(_("to"), self))
        poll_row.addWidget(self.poll_max_spin)
        poll_row.addStretch(1)
        form.addRow(_("Check status every"), poll_row)

        self.confirm_check = QCheckBox(_("Ask before generating (shows length and cost)"), self)
        self.notify_check = QCheckBox(_("Notify me when a video is done"), self)
        self.keep_inputs_check = QCheckBox(_("Keep the picture and clip with each result"),
                                           self)
        self.keep_inputs_check.setToolTip(_("Saved in the library next to the video, so a "
                                            "result can be made again later"))
        for check in (self.confirm_check, self.notify_check, self.keep_inputs_check):
            check.toggled.connect(self.on_field_changed)
            form.addRow("", check)
            if check is self.notify_check:
                # What this desktop can do: its own notifications, or the window's banner.
                self.notify_channel_label = QLabel(_(CHANNEL_WORDS[Notifier.channel()]), self)
                self.notify_channel_label.setObjectName("notifyChannel")
                self.notify_channel_label.setWordWrap(True)
                mute(self.notify_channel_label)
                form.addRow("", self.notify_channel_label)

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
        folder = QFileDialog.getExistingDirectory(self, _("Choose the library folder"), start)
        if folder:
            self.library_edit.setText(folder)


class LanguageSection(QGroupBox):
    """The window's language: the system's, or one the user picks (each named in its own
    words); it applies the next time the app starts. ``changed()`` on a new choice."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Language"), parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        self.language_combo = QComboBox(self)
        self.language_combo.setObjectName("languageCombo")
        # "System" in the language shown now; the others in their own words.
        self.language_combo.addItem(_("System"), "")
        for code, name in LANGUAGES.items():
            self.language_combo.addItem(name, code)
        self.language_combo.setAccessibleName(_("Language of the app"))
        self.language_combo.setToolTip(_("The language of the window; “System” follows "
                                         "your computer's language."))
        self.language_combo.currentIndexChanged.connect(self.on_language_combo_changed)
        row = QHBoxLayout()
        row.addWidget(self.language_combo)
        row.addStretch(1)
        form.addRow(buddy(_("Lan&guage"), self.language_combo, self), row)
        self.note = QLabel(_("Applies the next time the app starts."), self)
        self.note.setObjectName("languageNote")
        self.note.setWordWrap(True)
        mute(self.note)
        form.addRow("", self.note)

    def load(self, settings: Settings) -> None:
        index = self.language_combo.findData(settings.language)
        self.language_combo.setCurrentIndex(max(0, index))

    def language(self) -> str:
        code = self.language_combo.currentData()
        return code if isinstance(code, str) else ""

    @Slot(int)
    def on_language_combo_changed(self, _index: int) -> None:
        self.changed.emit()
