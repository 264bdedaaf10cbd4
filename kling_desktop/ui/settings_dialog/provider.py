"""The settings dialog's Provider section: the address, its key, the keys kept, the proxy.

A key belongs to one provider: the key row always says which one ("Key for
api.foxapi.cc") and follows the address field, so typing another address shows
whether a key is kept for that one. Keys of other resellers stay in the keyring
and are listed, each with its own Forget. Test key uses the key of the address
shown (Test connection sends no real key at all). Keyring and network calls run
on the TaskRunner (:mod:`.keys`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.errors import (
    AuthenticationError,
    KlingError,
    MalformedResponseError,
    NetworkError,
)
from kling_desktop.api.links import validate_base_url
from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.engine.provider_checks import test_connection, test_key
from kling_desktop.engine.secrets import ENV_KEY, delete_api_key, provider_name
from kling_desktop.engine.settings import DEFAULT_ACCOUNT_PAGE_URL, Settings
from kling_desktop.errors import error_text
from kling_desktop.i18n import _
from kling_desktop.ui.key_entry import KeyEntry
from kling_desktop.ui.settings_dialog.fields import (
    ReservedMessage,
    buddy,
    message_label,
    message_text,
    show_message,
    stacked,
)
from kling_desktop.ui.settings_dialog.keys import KeyState, origin_or_none, read_key_state
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import Details, WebLink, clear_layout, mute, page_name

FOLLOW_ADDRESS_MS = 250         # pause after typing in the address before asking the keyring


class ProviderSection(QGroupBox):
    """Where the provider is, its key (typed, tested, forgotten) and the way to reach it.

    ``changed()`` whenever the address or the proxy changes (the dialog validates).
    """

    changed = Signal()

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(_("Provider"), parent)
        self._tasks = tasks
        self._source: str | None = None
        self._origin: str | None = None
        self._shown_providers: list[str] = []
        self._forget_buttons: dict[str, QPushButton] = {}
        self._task_prefix = f"settings-{id(self)}"
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(FOLLOW_ADDRESS_MS)
        self._follow_timer.timeout.connect(self.on_follow_timer_timeout)
        self._build()

    def _build(self) -> None:
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)

        self.base_url_edit = QLineEdit(self)
        self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URL)
        self.base_url_edit.setAccessibleName(_("Provider address"))
        self.base_url_edit.setToolTip(_("The web address of your provider's API. It must "
                                        "start with https://."))
        self.base_url_edit.textChanged.connect(self.on_field_changed)
        self.base_url_edit.textChanged.connect(self.on_base_url_edit_textChanged)
        self.base_url_label = message_label(self)
        form.addRow(buddy(_("Provider &address"), self.base_url_edit, self),
                    stacked(self.base_url_edit, self.base_url_label))

        self.key_edit = KeyEntry(self)
        self.key_edit.setMinimumWidth(240)
        self.key_edit.setToolTip(_("Your key from this provider's console. It is saved in "
                                   "the system's password store, never in a file, and used "
                                   "only for this provider."))
        self.key_edit.textChanged.connect(self.on_key_edit_textChanged)
        self.show_key_action = self.key_edit.show_key_action
        self.test_key_button = QPushButton(_("Test key"), self)
        self.test_key_button.setToolTip(_("Ask the provider at this address whether it "
                                          "accepts its key (free: no video is made)"))
        self.test_key_button.clicked.connect(self.on_test_key_button_clicked)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.test_key_button)

        self.key_source_label = QLabel(_("Looking for a stored key…"), self)
        self.key_source_label.setWordWrap(True)
        mute(self.key_source_label)
        self.forget_key_button = QPushButton(_("Forget stored key"), self)
        self.forget_key_button.setToolTip(_("Remove this provider's key from the system's "
                                            "password store"))
        self.forget_key_button.setVisible(False)
        self.forget_key_button.clicked.connect(self.on_forget_key_button_clicked)
        source_row = QHBoxLayout()
        source_row.addWidget(self.key_source_label, 1)
        source_row.addWidget(self.forget_key_button, 0, Qt.AlignmentFlag.AlignTop)
        self.keyring_label = message_label(self)
        self.keyring_details = Details(self)
        self.keyring_details.setAccessibleName(_("Password store details"))
        self.account_link = WebLink(self)
        self.account_link.setObjectName("accountLink")
        # Room kept for the result, so Test connection and the proxy choice never move
        # under the pointer when it appears.
        self.key_result_label = ReservedMessage(
            self, lines=3, placeholder=_("Test key asks the provider whether it accepts the "
                                    "key; it is free (no video is made)."))
        self.key_result_label.setAccessibleName(_("Key test result"))
        self.key_label = buddy(_("API &key"), self.key_edit, self)
        form.addRow(self.key_label,
                    stacked(key_row, source_row, self.account_link, self.keyring_label,
                            self.keyring_details, self.key_result_label))

        self.account_edit = QLineEdit(self)
        self.account_edit.setAccessibleName(_("Console page of this provider"))
        self.account_edit.setToolTip(_("The web page where this provider's keys are made "
                                       "(https:// only). Empty: the default provider's "
                                       "console."))
        self.account_edit.textChanged.connect(self.on_field_changed)
        form.addRow(buddy(_("Con&sole page"), self.account_edit, self), self.account_edit)

        self.providers_box = QWidget(self)
        self.providers_box.setAccessibleName(_("Keys kept for other providers"))
        providers_layout = QVBoxLayout(self.providers_box)
        providers_layout.setContentsMargins(0, 0, 0, 0)
        providers_layout.setSpacing(2)
        providers_title = QLabel(_("Keys saved in the password store, one per provider:"),
                                 self.providers_box)
        mute(providers_title)
        providers_layout.addWidget(providers_title)
        self.providers_rows = QVBoxLayout()
        self.providers_rows.setSpacing(2)
        providers_layout.addLayout(self.providers_rows)
        self.providers_box.setVisible(False)
        form.addRow("", self.providers_box)

        self.proxy_system_radio = QRadioButton(_("The system's proxy settings"), self)
        self.proxy_custom_radio = QRadioButton(_("This proxy:"), self)
        self.proxy_group = QButtonGroup(self)
        self.proxy_group.addButton(self.proxy_system_radio)
        self.proxy_group.addButton(self.proxy_custom_radio)
        self.proxy_edit = QLineEdit(self)
        self.proxy_edit.setPlaceholderText("http://proxy.example:8080")
        self.proxy_edit.setAccessibleName(_("Proxy address"))
        self.proxy_edit.setToolTip(_("An http://, https:// or socks5:// proxy address"))
        self.proxy_edit.textChanged.connect(self.on_field_changed)
        self.proxy_custom_radio.toggled.connect(self.on_proxy_custom_radio_toggled)
        self.test_connection_button = QPushButton(_("Test connection"), self)
        self.test_connection_button.setToolTip(_("Try to reach the provider with these settings"))
        self.test_connection_button.clicked.connect(self.on_test_connection_button_clicked)
        proxy_box = QVBoxLayout()
        proxy_box.setSpacing(4)
        proxy_box.addWidget(self.proxy_system_radio)
        custom_row = QHBoxLayout()
        custom_row.addWidget(self.proxy_custom_radio)
        custom_row.addWidget(self.proxy_edit, 1)
        proxy_box.addLayout(custom_row)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_connection_button)
        test_row.addStretch(1)
        proxy_box.addLayout(test_row)
        self.connection_label = ReservedMessage(
            self, lines=3, placeholder=_("Test connection checks that the provider can be "
                                    "reached this way; no key is sent."))
        self.connection_label.setAccessibleName(_("Connection test result"))
        proxy_box.addWidget(self.connection_label)
        form.addRow(_("Connect through"), proxy_box)

    # -- for the dialog -------------------------------------------------------------------------

    def load(self, settings: Settings) -> None:
        self.account_edit.setText(settings.account_page_url)
        self.base_url_edit.setText(settings.base_url)
        custom = bool(settings.proxy)
        self.proxy_edit.setText(settings.proxy)
        (self.proxy_custom_radio if custom else self.proxy_system_radio).setChecked(True)
        self.proxy_edit.setEnabled(custom)

    def start(self) -> None:
        """Look up the key of the address loaded (once, not after a pause)."""
        self._follow_timer.stop()
        self._refresh_key_state()

    def base_url(self) -> str:
        return self.base_url_edit.text().strip() or DEFAULT_BASE_URL

    def account_page_url(self) -> str:
        return self.account_edit.text().strip()

    def show_account_page(self, url: str | None) -> None:
        """Say where a key for the provider shown is made (a link), when that is known."""
        self.account_edit.setPlaceholderText(
            DEFAULT_ACCOUNT_PAGE_URL if url == DEFAULT_ACCOUNT_PAGE_URL
            else _("https://… (where this provider's keys are made)"))
        if url:
            self.account_link.set_link(_("No key yet? Get one at "), url, page_name(url))
        else:
            self.account_link.set_link("", None, "", fallback=_(
                "Get a key from your provider's console (its address can be kept below)."))

    def proxy(self) -> str:
        return self.proxy_edit.text().strip() if self.proxy_custom_radio.isChecked() else ""

    def check_address(self) -> str:
        """Say next to the address what is wrong with it ("" when nothing); the tests
        need a valid one."""
        problem = ""
        try:
            validate_base_url(self.base_url())
        except KlingError as exc:
            problem = error_text(exc)
        show_message(self.base_url_label, problem)
        self.test_key_button.setEnabled(not problem)
        self.test_connection_button.setEnabled(not problem)
        return problem

    def shutdown(self) -> None:
        """Stop following the address and drop the background work still running."""
        self._follow_timer.stop()
        for name in ("key-state", "test-key", "test-connection", "forget"):
            self._tasks.cancel(f"{self._task_prefix}-{name}")

    # -- key state ------------------------------------------------------------------------------

    def _show_provider(self) -> None:
        """Name the provider the key row is about (no I/O: the address field only)."""
        origin = origin_or_none(self.base_url())
        self._origin = origin
        if origin is None:
            self.key_label.setText(_("API &key"))
            self.key_label.setToolTip("")
        else:
            self.key_label.setText(_("&Key for {provider}").format(
                provider=provider_name(origin)))
            self.key_label.setToolTip(_("The key used for {address}, and only for it").format(
                address=origin))
        self.key_edit.setAccessibleName(self.key_provider_text())

    def _refresh_key_state(self) -> None:
        self._show_provider()
        self._tasks.run(read_key_state, self.base_url(),
                        key=f"{self._task_prefix}-key-state",
                        on_done=self._on_key_state, on_failed=self._on_key_state_failed)

    def _on_key_state(self, result: object) -> None:
        if not isinstance(result, KeyState) or result.origin != self._origin:
            return      # an answer about an address no longer shown
        source = result.source
        self._source = source
        name = provider_name(result.origin) if result.origin else ""
        if result.origin is None:
            text = _("Type the provider's address above to see whether a key is kept for it.")
            placeholder = _("Paste your API key")
        elif source == "environment":
            text = _("Using the key in {variable} (from the environment) for {provider}; it is "
                     "used instead of the password store while it is set.").format(
                         variable=ENV_KEY, provider=name)
            placeholder = _("Set by {variable}").format(variable=ENV_KEY)
        elif source == "session":
            text = _("Using a key given for this session only for {provider} (not "
                     "stored).").format(provider=name)
            placeholder = _("Given for this session (hidden)")
        elif source == "keyring":
            text = _("Your key for {provider} is saved in the system's password store. "
                     "Type here to replace it.").format(provider=name)
            placeholder = _("Saved in the password store (hidden)")
        else:
            text = _("No key yet for {provider}: paste the key from this provider's "
                     "console.").format(provider=name)
            placeholder = _("Paste your API key")
        if result.origin is not None and source != "environment" and result.env_set:
            if result.env_origin is None:
                text += " " + _("({variable} is set, but KLING_BASE_URL is not an address, so "
                                "it is used for no provider.)").format(variable=ENV_KEY)
            else:
                text += " " + _("({variable} is set, but it is the key for "
                                "{provider}.)").format(
                                    variable=ENV_KEY,
                                    provider=provider_name(result.env_origin))
        self.key_source_label.setText(text)
        self.key_edit.setPlaceholderText(placeholder)
        self.forget_key_button.setVisible(source == "keyring")
        self.forget_key_button.setEnabled(True)
        self._show_stored(result.stored)
        # The password store matters only while no key can be used: say nothing otherwise.
        if not result.keyring.ok and source is None and result.origin is not None:
            show_message(self.keyring_label,
                         f"{result.keyring.message} {result.keyring.fix}".strip())
            self.keyring_details.set_text(result.keyring.detail)
        else:
            show_message(self.keyring_label, "")
            self.keyring_details.set_text("")

    def _show_stored(self, origins: tuple[str, ...]) -> None:
        """One row per provider with a key in the keyring: its name and a Forget button."""
        clear_layout(self.providers_rows)
        self._forget_buttons = {}
        self._shown_providers = list(origins)
        for origin in origins:
            row = QWidget(self.providers_box)
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            name = provider_name(origin)
            label = QLabel(_("{provider}  (this address)").format(provider=name)
                           if origin == self._origin else name, row)
            label.setToolTip(origin)
            button = QPushButton(_("Forget"), row)
            button.setAccessibleName(_("Forget the key for {provider}").format(provider=name))
            button.setToolTip(_("Remove the key for {address} from the system's password "
                                "store").format(address=origin))
            button.clicked.connect(lambda _checked=False, o=origin: self._forget(o))
            layout.addWidget(label, 1)
            layout.addWidget(button)
            self.providers_rows.addWidget(row)
            self._forget_buttons[origin] = button
        self.providers_box.setVisible(bool(origins))

    def _on_key_state_failed(self, error: BaseException) -> None:
        message = error_text(error) if isinstance(error, KlingError) else str(error)
        self.key_source_label.setText(_("The system's password store could not be read."))
        show_message(self.keyring_label, message)
        self.keyring_details.set_text(getattr(error, "detail", ""))

    def key_source_text(self) -> str:
        return self.key_source_label.text()

    def key_provider_text(self) -> str:
        """What the key row is called: "Key for api.foxapi.cc" (or "API key" with no address)."""
        return self.key_label.text().replace("&", "")

    def stored_providers_shown(self) -> list[str]:
        """The origins listed as having a key in the keyring."""
        return list(self._shown_providers)

    def forget_button_for(self, origin: str) -> QPushButton:
        return self._forget_buttons[origin]


    # -- reacting to the user -------------------------------------------------------------------

    @Slot()
    def on_field_changed(self) -> None:
        self.changed.emit()

    @Slot(str)
    def on_base_url_edit_textChanged(self, _text: str) -> None:
        """The key row follows the address: named now, looked up after a short pause."""
        previous = self._origin
        self._show_provider()
        if self._origin == previous:
            return
        self._tasks.cancel(f"{self._task_prefix}-key-state")
        self._source = None
        self.forget_key_button.setVisible(False)
        show_message(self.key_result_label, "")
        self.key_source_label.setText(_("Looking for a stored key…"))
        self._follow_timer.start()

    @Slot()
    def on_follow_timer_timeout(self) -> None:
        self._refresh_key_state()

    @Slot(str)
    def on_key_edit_textChanged(self, _text: str) -> None:
        show_message(self.key_result_label, "")


    @Slot(bool)
    def on_proxy_custom_radio_toggled(self, checked: bool) -> None:
        self.proxy_edit.setEnabled(checked)
        if checked:
            self.proxy_edit.setFocus()
        self.changed.emit()


    @Slot()
    def on_test_key_button_clicked(self) -> None:
        typed = self.key_edit.key()
        if not typed and self._source is None:
            show_message(self.key_result_label, _("Paste a key above first, then test it."))
            return
        # The button stays enabled (and focused): disabling it would push the focus to
        # the next field. Pressing it again supersedes the running test.
        show_message(self.key_result_label, _("Testing the key…"), "info")
        self._tasks.run(test_key, self.base_url(), typed or None,
                        self.proxy(), key=f"{self._task_prefix}-test-key",
                        on_done=self._on_key_tested, on_failed=self._on_key_test_failed)

    def _on_key_tested(self, _result: object) -> None:
        show_message(self.key_result_label, _("✓ Valid: the provider accepted the key."),
                     "ok")

    def _on_key_test_failed(self, error: BaseException) -> None:
        if isinstance(error, AuthenticationError):
            # Its usual fix ("open Settings…") points where the user already is.
            hint = (error.fix if error.fix != AuthenticationError.default_fix
                    else _("Check that the whole key was copied."))
            text = _("✗ Invalid key: {problem}").format(problem=error.message) + "\n" + hint
        elif isinstance(error, NetworkError | MalformedResponseError):
            text = _("✗ Can't reach the provider: {problem}").format(problem=error_text(error))
        elif isinstance(error, KlingError):
            text = _("✗ Can't confirm the key: {problem}").format(problem=error_text(error))
        else:
            text = _("✗ The key could not be tested ({kind}); see the log.").format(
                kind=type(error).__name__)
        show_message(self.key_result_label, text.strip())

    def key_test_text(self) -> str:
        return message_text(self.key_result_label)

    @Slot()
    def on_test_connection_button_clicked(self) -> None:
        show_message(self.connection_label, _("Connecting…"), "info")
        self._tasks.run(test_connection, self.base_url(), self.proxy(),
                        key=f"{self._task_prefix}-test-connection",
                        on_done=self._on_connection_tested,
                        on_failed=self._on_connection_test_failed)

    def _on_connection_tested(self, _result: object) -> None:
        show_message(self.connection_label, _("✓ Connected: the provider answered."), "ok")

    def _on_connection_test_failed(self, error: BaseException) -> None:
        if isinstance(error, KlingError):
            text = _("✗ Can't reach the provider: {problem}").format(problem=error_text(error))
        else:
            text = _("✗ The connection could not be tested ({kind}); see the log.").format(
                kind=type(error).__name__)
        show_message(self.connection_label, text.strip())

    def connection_test_text(self) -> str:
        return message_text(self.connection_label)

    @Slot()
    def on_forget_key_button_clicked(self) -> None:
        if self._origin is not None:
            self._forget(self._origin)

    def _forget(self, origin: str) -> None:
        """Remove the key of ``origin`` (only that provider's) from the keyring."""
        self.forget_key_button.setEnabled(False)
        for button in self._forget_buttons.values():
            button.setEnabled(False)
        self._tasks.run(delete_api_key, origin, key=f"{self._task_prefix}-forget",
                        on_done=self._on_key_forgotten, on_failed=self._on_forget_failed)

    def _on_key_forgotten(self, _result: object) -> None:
        self.forget_key_button.setEnabled(True)
        self._refresh_key_state()

    def _on_forget_failed(self, error: BaseException) -> None:
        self._on_key_state_failed(error)
        self._refresh_key_state()
