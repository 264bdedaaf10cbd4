"""Settings: the provider (address, key, proxy), prices, library, job pacing and the
window's language (applied at the next start).

The dialog lays out its sections (:mod:`.provider`, :mod:`.general`), checks the
values entered and saves them. The API key goes to the OS keyring
(``engine.secrets``) and nowhere else: it is never written to the settings file,
QSettings or a log; saving stores a typed key for the address saved with it.
Everything else is saved with ``engine.settings.save_settings`` (atomic). The
rules for valid values live in ``Settings.validate`` and ``validate_base_url``;
this dialog only shows their words. Keyring and network calls run on the TaskRunner.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QSize, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.engine.settings import Settings
from kling_desktop.errors import error_text
from kling_desktop.i18n import _
from kling_desktop.ui.settings_dialog.fields import message_label, show_message
from kling_desktop.ui.settings_dialog.general import JobsSection, LanguageSection, PricesSection
from kling_desktop.ui.settings_dialog.keys import save_all
from kling_desktop.ui.settings_dialog.provider import ProviderSection
from kling_desktop.ui.tasks import TaskRunner

# Two columns (provider | prices, jobs, language) from this width on; one scrolling
# column below it, so the dialog fits a 1024-pixel-wide screen.
TWO_COLUMNS_WIDTH = 1060
PREFERRED_WIDTH = 1120
MINIMUM_WIDTH = 560


class SettingsDialog(QDialog):
    """Edit and save the settings. ``saved(Settings)`` after both key and file are stored."""

    saved = Signal(object)

    def __init__(self, settings: Settings, settings_path: Path,
                 parent: QWidget | None = None, *, tasks: TaskRunner) -> None:
        super().__init__(parent)
        self._settings = settings
        self._path = Path(settings_path)
        self._tasks = tasks
        self._saving = False
        self._save_task = f"settings-save-{id(self)}"
        self.setWindowTitle(_("Settings"))
        self.setMinimumWidth(MINIMUM_WIDTH)
        self.setObjectName("settingsDialog")
        self._build()
        self._load(settings)
        self._validate()
        self.resize(self._fitting_size())
        self.provider.start()

    # -- construction ----------------------------------------------------------------------

    def _build(self) -> None:
        outer = self._outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 14)
        outer.setSpacing(14)
        # The sections scroll (and stack in one column) when the screen is small.
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("settingsScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget(self.scroll_area)
        self.columns = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.body)
        self.columns.setContentsMargins(0, 0, 0, 0)
        self.columns.setSpacing(18)
        self.provider = ProviderSection(self._tasks, self.body)
        self.prices = PricesSection(self.body)
        self.jobs = JobsSection(self.body)
        self.language = LanguageSection(self.body)
        for section in (self.provider, self.prices, self.jobs, self.language):
            section.changed.connect(self.on_field_changed)
        self._name_fields()
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self.provider)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(14)
        right.addWidget(self.prices)
        right.addWidget(self.jobs)
        right.addWidget(self.language)
        right.addStretch(1)
        self.columns.addLayout(left, 1)
        self.columns.addLayout(right, 1)
        self.scroll_area.setWidget(self.body)
        outer.addWidget(self.scroll_area, 1)

        self.problems_label = message_label(self)
        outer.addWidget(self.problems_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

    def _name_fields(self) -> None:
        """The sections' fields, by the names the window and the tests know them."""
        p, j = self.provider, self.jobs
        self.base_url_edit, self.base_url_label = p.base_url_edit, p.base_url_label
        self.key_edit, self.show_key_action = p.key_edit, p.show_key_action
        self.test_key_button, self.forget_key_button = p.test_key_button, p.forget_key_button
        self.proxy_system_radio, self.proxy_custom_radio = (p.proxy_system_radio,
                                                            p.proxy_custom_radio)
        self.proxy_edit, self.test_connection_button = p.proxy_edit, p.test_connection_button
        self.rate_spins = self.prices.rate_spins
        self.currency_combo, self.pricing_edit = (self.prices.currency_combo,
                                                  self.prices.pricing_edit)
        self.pricing_link = self.prices.pricing_link
        self.account_link, self.account_edit = p.account_link, p.account_edit
        self.keyring_details = p.keyring_details
        self.library_edit, self.browse_button, self.jobs_spin = (j.library_edit,
                                                                 j.browse_button, j.jobs_spin)
        self.poll_min_spin, self.poll_max_spin = j.poll_min_spin, j.poll_max_spin
        self.confirm_check, self.notify_check = j.confirm_check, j.notify_check
        self.keep_inputs_check = j.keep_inputs_check
        self.language_combo = self.language.language_combo

    def _fitting_size(self) -> QSize:
        """As wide as two columns want (at most the screen), as tall as the content (at
        most the screen): the rest scrolls."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry().size() if screen else QSize(1440, 900)
        width = max(MINIMUM_WIDTH, min(PREFERRED_WIDTH, available.width() - 40))
        self._reflow(width)
        margins = self._outer.contentsMargins()
        chrome = (margins.top() + margins.bottom() + self.buttons.sizeHint().height()
                  + self.problems_label.sizeHint().height() + 2 * 14)
        body = self.body.heightForWidth(width - margins.left() - margins.right())
        height = max(body, self.body.sizeHint().height()) + chrome
        return QSize(width, min(height, available.height() - 60))

    def _reflow(self, width: int) -> None:
        direction = (QBoxLayout.Direction.LeftToRight if width >= TWO_COLUMNS_WIDTH
                     else QBoxLayout.Direction.TopToBottom)
        if self.columns.direction() != direction:
            self.columns.setDirection(direction)

    def two_columns(self) -> bool:
        return self.columns.direction() == QBoxLayout.Direction.LeftToRight

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._reflow(event.size().width())
        super().resizeEvent(event)

    # -- values ----------------------------------------------------------------------------

    def _load(self, settings: Settings) -> None:
        self.provider.load(settings)
        self.prices.load(settings)
        self.jobs.load(settings)
        self.language.load(settings)

    def values(self) -> Settings:
        """The settings as currently entered (not yet saved)."""
        settings = dataclasses.replace(
            self._settings,
            base_url=self.provider.base_url(),
            proxy=self.provider.proxy(),
            rates=self.prices.rates(self._settings.rates),
            currency=self.prices.currency(),
            account_page_url=self.provider.account_page_url(),
            pricing_page_url=self.prices.pricing_page_url(),
            language=self.language.language(),
        )
        return self.jobs.values(settings)

    def _validate(self) -> bool:
        # The address is reported next to its field; the rest below.
        url_problem = self.provider.check_address()
        values = self.values()
        # Where keys are made and prices listed, for the provider as typed now.
        self.provider.show_account_page(values.account_page())
        self.prices.show_pricing_page(values.pricing_page(), values.base_url)
        others = dataclasses.replace(values, base_url=DEFAULT_BASE_URL).validate()
        show_message(self.problems_label, "\n".join(others))
        ok = not url_problem and not others
        self.save_button.setEnabled(ok and not self._saving)
        return ok

    @Slot()
    def on_field_changed(self) -> None:
        self._validate()

    # -- what the provider section knows -----------------------------------------------------

    def key_source_text(self) -> str:
        return self.provider.key_source_text()

    def key_provider_text(self) -> str:
        """What the key row is called: "Key for api.foxapi.cc" (or "API key" with no address)."""
        return self.provider.key_provider_text()

    def stored_providers_shown(self) -> list[str]:
        """The origins listed as having a key in the keyring."""
        return self.provider.stored_providers_shown()

    def forget_button_for(self, origin: str) -> QPushButton:
        return self.provider.forget_button_for(origin)

    def key_test_text(self) -> str:
        return self.provider.key_test_text()

    def connection_test_text(self) -> str:
        return self.provider.connection_test_text()

    # -- saving ------------------------------------------------------------------------------

    @Slot()
    def on_buttons_accepted(self) -> None:
        if self._saving or not self._validate():
            return
        key_problem = self.key_edit.key_problem()
        if key_problem:
            show_message(self.problems_label,
                         _("Not saved: {problem}").format(problem=key_problem))
            return
        self._saving = True
        self.save_button.setEnabled(False)
        show_message(self.problems_label, _("Saving…"), "info")
        key = self.key_edit.key() or None
        self._tasks.run(save_all, self.values(), self._path, key, key=self._save_task,
                        on_done=self._on_saved, on_failed=self._on_save_failed)

    def _on_saved(self, settings: object) -> None:
        self._saving = False
        if not isinstance(settings, Settings):
            return
        self._settings = settings
        self.key_edit.clear()
        show_message(self.problems_label, "")
        self.saved.emit(settings)
        self.accept()

    def _on_save_failed(self, error: BaseException) -> None:
        self._saving = False
        if isinstance(error, KlingError):
            text = _("Not saved: {problem}").format(problem=error_text(error))
        elif isinstance(error, OSError):
            reason = error.strerror or str(error)
            text = _("Not saved: the settings file could not be written ({reason}). "
                     "Check that the disk has room and the folder is writable.").format(
                         reason=reason)
        else:
            text = _("Not saved ({kind}); see the log.").format(kind=type(error).__name__)
        show_message(self.problems_label, text.strip())
        self.save_button.setEnabled(True)

    # -- closing -----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        if self._saving and result == QDialog.DialogCode.Rejected.value:
            return   # let the save finish: the key may already be in the keyring
        self.provider.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._saving:
            event.ignore()
            return
        super().closeEvent(event)
