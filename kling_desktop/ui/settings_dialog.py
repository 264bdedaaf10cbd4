"""Settings: the provider (address, key, proxy), prices, library and job pacing.

A key belongs to one provider: the key row always says which one ("Key for
api.foxapi.cc") and follows the address field, so typing another address shows
whether a key is kept for that one. Keys of other resellers stay in the keyring
and are listed, each with its own Forget. Saving stores a typed key for the
address saved with it; Test key uses the key of the address shown (Test
connection sends no real key at all).

The API key goes to the OS keyring (``engine.secrets``) and nowhere else: it is
never written to the settings file, QSettings or a log. Everything else is
saved with ``engine.settings.save_settings`` (atomic). The rules for valid
values live in ``Settings.validate`` and ``validate_base_url``; this dialog only
shows their words. Keyring and network calls run on the TaskRunner.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.client import KlingClient, make_http_client, validate_base_url
from kling_desktop.api.errors import (
    AuthenticationError,
    KlingError,
    MalformedResponseError,
    NetworkError,
)
from kling_desktop.api.models import DEFAULT_BASE_URL, Mode, Model
from kling_desktop.engine.batch import rate_key
from kling_desktop.engine.secrets import (
    ENV_KEY,
    KeyringStatus,
    KeyringUnavailableError,
    delete_api_key,
    environment_origin,
    get_api_key,
    key_source,
    keyring_status,
    provider_name,
    provider_origin,
    store_api_key,
    stored_providers,
)
from kling_desktop.engine.settings import MAX_CONCURRENT_JOBS, Settings, save_settings
from kling_desktop.paths import app_paths
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
    error_color,
    eye_icon,
    muted_color,
    ok_color,
    set_text_color,
)

PROBE_KEY = "connection-test"   # a stand-in bearer: "Test connection" needs no real key
FOLLOW_ADDRESS_MS = 250         # pause after typing in the address before asking the keyring


def origin_or_none(base_url: str) -> str | None:
    """The provider origin of ``base_url`` (no I/O), or None when it is no address."""
    try:
        return provider_origin(base_url)
    except ValueError:
        return None


# -- background work (no widgets here) -------------------------------------------------------

@dataclass(frozen=True)
class KeyState:
    """What the keyring says about the key of one provider address."""

    origin: str | None                  # None: the address is not one
    source: str | None                  # "environment" | "session" | "keyring" | None
    keyring: KeyringStatus
    stored: tuple[str, ...]             # every origin with a key in the keyring
    env_origin: str | None              # where KLING_API_KEY applies, when it is set
    env_set: bool


def read_key_state(base_url: str) -> KeyState:
    """Where the key of ``base_url``'s provider comes from, and every provider with a key.

    Talks to the keyring (D-Bus): run it on the TaskRunner.
    """
    origin = origin_or_none(base_url)
    source = key_source(origin) if origin is not None else None
    status = keyring_status()
    try:
        stored = tuple(stored_providers()) if status.ok else ()
    except KeyringUnavailableError:
        stored = ()
    env_set = bool(os.environ.get(ENV_KEY, "").strip())
    return KeyState(origin, source, status, stored,
                    environment_origin() if env_set else None, env_set)


def test_key(base_url: str, key: str | None, proxy: str) -> None:
    """One cheap authenticated call with ``key``, else the key of ``base_url``'s provider.

    Raises AuthenticationError / NetworkError / KlingError. Never uses another
    provider's key.
    """
    key = key or get_api_key(base_url)
    if not key:
        raise AuthenticationError("There is no API key to test yet.",
                                  fix="Paste the key from your provider's dashboard above.")
    http = make_http_client(proxy=proxy or None)
    try:
        with KlingClient(base_url, key, http=http) as client:
            client.check_key()
    finally:
        http.close()


def test_connection(base_url: str, proxy: str) -> None:
    """Reach the provider (through the proxy, if any); a refused stand-in key still proves it."""
    http = make_http_client(proxy=proxy or None)
    try:
        with KlingClient(base_url, PROBE_KEY, http=http) as client:
            client.check_key()
    except AuthenticationError:
        return
    finally:
        http.close()


def save_all(settings: Settings, path: Path, key: str | None) -> Settings:
    """The key into the keyring first, for the address saved with it (a failure there
    saves nothing), then the file."""
    if key:
        store_api_key(key, settings.base_url)
    save_settings(settings, path)
    return settings


def _stacked(*items: QWidget | QLayout) -> QVBoxLayout:
    """A field and the messages under it; hidden messages take no room."""
    column = QVBoxLayout()
    column.setSpacing(4)
    for item in items:
        if isinstance(item, QWidget):
            column.addWidget(item)
        else:
            column.addLayout(item)
    return column


# -- the dialog --------------------------------------------------------------------------------

class SettingsDialog(QDialog):
    """Edit and save the settings. ``saved(Settings)`` after both key and file are stored."""

    saved = Signal(object)

    def __init__(self, settings: Settings, settings_path: Path,
                 parent: QWidget | None = None, *, tasks: TaskRunner) -> None:
        super().__init__(parent)
        self._settings = settings
        self._path = Path(settings_path)
        self._tasks = tasks
        self._source: str | None = None
        self._origin: str | None = None
        self._shown_providers: list[str] = []
        self._forget_buttons: dict[str, QPushButton] = {}
        self._saving = False
        self._task_prefix = f"settings-{id(self)}"
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(FOLLOW_ADDRESS_MS)
        self._follow_timer.timeout.connect(self.on_follow_timer_timeout)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(980)
        self.setObjectName("settingsDialog")
        self._build()
        self._load(settings)
        self._validate()
        self._follow_timer.stop()
        self._refresh_key_state()

    # -- construction ----------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 16, 18, 14)
        outer.setSpacing(14)
        columns = QHBoxLayout()
        columns.setSpacing(18)
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self._build_provider())
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(14)
        right.addWidget(self._build_prices())
        right.addWidget(self._build_jobs())
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        outer.addLayout(columns)

        self.problems_label = self._message_label()
        outer.addWidget(self.problems_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

    def _buddy(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _message_label(self) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setVisible(False)
        return label

    def _show(self, label: QLabel, text: str, kind: str = "error") -> None:
        colors = {"error": error_color, "ok": ok_color, "info": muted_color}
        set_text_color(label, colors[kind](self.palette()))
        label.setText(text)
        label.setVisible(bool(text))

    def _build_provider(self) -> QGroupBox:
        box = QGroupBox("Provider", self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)

        self.base_url_edit = QLineEdit(box)
        self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URL)
        self.base_url_edit.setAccessibleName("Provider address")
        self.base_url_edit.setToolTip("The web address of your provider's API. It must start "
                                      "with https://.")
        self.base_url_edit.textChanged.connect(self.on_field_changed)
        self.base_url_edit.textChanged.connect(self.on_base_url_edit_textChanged)
        self.base_url_label = self._message_label()
        form.addRow(self._buddy("Provider &address", self.base_url_edit),
                    _stacked(self.base_url_edit, self.base_url_label))

        self.key_edit = QLineEdit(box)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setMinimumWidth(240)
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setToolTip("Your key from this provider's dashboard. It is kept in the "
                                 "system keyring, never in a file, and used only for this "
                                 "provider.")
        self.key_edit.textChanged.connect(self.on_key_edit_textChanged)
        self.show_key_action = QAction("Show the key", self.key_edit)
        self.show_key_action.setCheckable(True)
        self.show_key_action.setToolTip("Show or hide what you typed")
        self.show_key_action.toggled.connect(self.on_show_key_action_toggled)
        self.key_edit.addAction(self.show_key_action, QLineEdit.ActionPosition.TrailingPosition)
        self.on_show_key_action_toggled(False)
        self.test_key_button = QPushButton("Test key", box)
        self.test_key_button.setToolTip("Ask the provider at this address whether it accepts "
                                        "its key (free: no video is made)")
        self.test_key_button.clicked.connect(self.on_test_key_button_clicked)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.test_key_button)

        self.key_source_label = QLabel("Looking for a stored key…", box)
        self.key_source_label.setWordWrap(True)
        set_text_color(self.key_source_label, muted_color(self.palette()))
        self.forget_key_button = QPushButton("Forget stored key", box)
        self.forget_key_button.setToolTip("Remove this provider's key from the system keyring")
        self.forget_key_button.setVisible(False)
        self.forget_key_button.clicked.connect(self.on_forget_key_button_clicked)
        source_row = QHBoxLayout()
        source_row.addWidget(self.key_source_label, 1)
        source_row.addWidget(self.forget_key_button, 0, Qt.AlignmentFlag.AlignTop)
        self.keyring_label = self._message_label()
        self.key_result_label = self._message_label()
        self.key_result_label.setAccessibleName("Key test result")
        self.key_label = self._buddy("API &key", self.key_edit)
        form.addRow(self.key_label,
                    _stacked(key_row, source_row, self.keyring_label, self.key_result_label))

        self.providers_box = QWidget(box)
        self.providers_box.setAccessibleName("Keys kept for other providers")
        providers_layout = QVBoxLayout(self.providers_box)
        providers_layout.setContentsMargins(0, 0, 0, 0)
        providers_layout.setSpacing(2)
        providers_title = QLabel("Keys kept in the keyring, one per provider:", self.providers_box)
        set_text_color(providers_title, muted_color(self.palette()))
        providers_layout.addWidget(providers_title)
        self.providers_rows = QVBoxLayout()
        self.providers_rows.setSpacing(2)
        providers_layout.addLayout(self.providers_rows)
        self.providers_box.setVisible(False)
        form.addRow("", self.providers_box)

        self.proxy_system_radio = QRadioButton("The system's proxy settings", box)
        self.proxy_custom_radio = QRadioButton("This proxy:", box)
        self.proxy_group = QButtonGroup(box)
        self.proxy_group.addButton(self.proxy_system_radio)
        self.proxy_group.addButton(self.proxy_custom_radio)
        self.proxy_edit = QLineEdit(box)
        self.proxy_edit.setPlaceholderText("http://proxy.example:8080")
        self.proxy_edit.setAccessibleName("Proxy address")
        self.proxy_edit.setToolTip("An http://, https:// or socks5:// proxy address")
        self.proxy_edit.textChanged.connect(self.on_field_changed)
        self.proxy_custom_radio.toggled.connect(self.on_proxy_custom_radio_toggled)
        self.test_connection_button = QPushButton("Test connection", box)
        self.test_connection_button.setToolTip("Try to reach the provider with these settings")
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
        self.connection_label = self._message_label()
        self.connection_label.setAccessibleName("Connection test result")
        proxy_box.addWidget(self.connection_label)
        form.addRow("Connect through", proxy_box)
        return box

    def _build_prices(self) -> QGroupBox:
        box = QGroupBox("Prices per second of video", self)
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.rate_spins: dict[str, QDoubleSpinBox] = {}
        for column, mode in enumerate(Mode, start=1):
            header = QLabel(mode.label, box)
            grid.addWidget(header, 0, column)
        for row, model in enumerate(Model, start=1):
            grid.addWidget(QLabel(model.label, box), row, 0)
            for column, mode in enumerate(Mode, start=1):
                spin = QDoubleSpinBox(box)
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
                      "provider's price page. They are used only for estimates.", box)
        note.setWordWrap(True)
        set_text_color(note, muted_color(self.palette()))
        grid.addWidget(note, len(Model) + 1, 0, 1, len(Mode) + 1)
        return box

    def _build_jobs(self) -> QGroupBox:
        box = QGroupBox("Jobs and library", self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(8)

        self.library_edit = QLineEdit(box)
        self.library_edit.setPlaceholderText(str(app_paths().default_library_dir))
        self.library_edit.setAccessibleName("Library folder")
        self.library_edit.setToolTip("Where finished videos are saved, each with a small "
                                     "file describing how it was made. Empty: the default.")
        self.library_edit.textChanged.connect(self.on_field_changed)
        self.browse_button = QPushButton("Browse…", box)
        self.browse_button.clicked.connect(self.on_browse_button_clicked)
        library_row = QHBoxLayout()
        library_row.addWidget(self.library_edit, 1)
        library_row.addWidget(self.browse_button)
        form.addRow(self._buddy("&Library folder", self.library_edit), library_row)

        self.jobs_spin = QSpinBox(box)
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

        self.poll_min_spin = QDoubleSpinBox(box)
        self.poll_max_spin = QDoubleSpinBox(box)
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
        poll_row.addWidget(QLabel("to", box))
        poll_row.addWidget(self.poll_max_spin)
        poll_row.addStretch(1)
        form.addRow("Check status every", poll_row)

        self.confirm_check = QCheckBox("Ask before generating (shows length and cost)", box)
        self.notify_check = QCheckBox("Notify me when a video is done", box)
        self.keep_inputs_check = QCheckBox("Keep the picture and clip with each result",
                                           box)
        self.keep_inputs_check.setToolTip("Saved in the library next to the video, so a result "
                                          "can be made again later")
        for check in (self.confirm_check, self.notify_check, self.keep_inputs_check):
            check.toggled.connect(self.on_field_changed)
            form.addRow("", check)
        return box

    # -- values ----------------------------------------------------------------------------

    def _load(self, settings: Settings) -> None:
        self.base_url_edit.setText(settings.base_url)
        custom = bool(settings.proxy)
        self.proxy_edit.setText(settings.proxy)
        (self.proxy_custom_radio if custom else self.proxy_system_radio).setChecked(True)
        self.proxy_edit.setEnabled(custom)
        for key, spin in self.rate_spins.items():
            spin.setValue(float(settings.rates.get(key, 0.0)))
        self.library_edit.setText(settings.library_dir or "")
        self.jobs_spin.setValue(settings.max_concurrent_jobs)
        self.poll_min_spin.setValue(settings.poll_min_interval)
        self.poll_max_spin.setValue(settings.poll_max_interval)
        self.confirm_check.setChecked(settings.confirm_before_generate)
        self.notify_check.setChecked(settings.notify_when_done)
        self.keep_inputs_check.setChecked(settings.keep_inputs)

    def values(self) -> Settings:
        """The settings as currently entered (not yet saved)."""
        rates = dict(self._settings.rates)
        for key, spin in self.rate_spins.items():
            if spin.value() > 0:
                rates[key] = round(spin.value(), 6)
            else:
                rates.pop(key, None)
        return dataclasses.replace(
            self._settings,
            base_url=self.base_url_edit.text().strip() or DEFAULT_BASE_URL,
            proxy=self.proxy_edit.text().strip() if self.proxy_custom_radio.isChecked() else "",
            rates=rates,
            library_dir=self.library_edit.text().strip() or None,
            max_concurrent_jobs=self.jobs_spin.value(),
            poll_min_interval=self.poll_min_spin.value(),
            poll_max_interval=self.poll_max_spin.value(),
            confirm_before_generate=self.confirm_check.isChecked(),
            notify_when_done=self.notify_check.isChecked(),
            keep_inputs=self.keep_inputs_check.isChecked(),
        )

    def _validate(self) -> bool:
        candidate = self.values()
        url_problem = ""
        try:
            validate_base_url(candidate.base_url)
        except KlingError as exc:
            url_problem = f"{exc.message} {exc.fix}".strip()
        self._show(self.base_url_label, url_problem)
        # The address is reported above, next to its field; the rest below.
        others = dataclasses.replace(candidate, base_url=DEFAULT_BASE_URL).validate()
        self._show(self.problems_label, "\n".join(others))
        ok = not url_problem and not others
        self.save_button.setEnabled(ok and not self._saving)
        self.test_key_button.setEnabled(not url_problem)
        self.test_connection_button.setEnabled(not url_problem)
        return ok

    # -- key state ---------------------------------------------------------------------------

    def _shown_base_url(self) -> str:
        return self.base_url_edit.text().strip() or DEFAULT_BASE_URL

    def _show_provider(self) -> None:
        """Name the provider the key row is about (no I/O: the address field only)."""
        origin = origin_or_none(self._shown_base_url())
        self._origin = origin
        if origin is None:
            self.key_label.setText("API &key")
            self.key_label.setToolTip("")
        else:
            self.key_label.setText(f"&Key for {provider_name(origin)}")
            self.key_label.setToolTip(f"The key used for {origin}, and only for it")
        self.key_edit.setAccessibleName(self.key_provider_text())

    def _refresh_key_state(self) -> None:
        self._show_provider()
        self._tasks.run(read_key_state, self._shown_base_url(),
                        key=f"{self._task_prefix}-key-state",
                        on_done=self._on_key_state, on_failed=self._on_key_state_failed)

    def _on_key_state(self, result: object) -> None:
        if not isinstance(result, KeyState) or result.origin != self._origin:
            return      # an answer about an address no longer shown
        source = result.source
        self._source = source
        name = provider_name(result.origin) if result.origin else ""
        if result.origin is None:
            text = "Type the provider's address above to see whether a key is kept for it."
            placeholder = "Paste your API key"
        elif source == "environment":
            text = (f"Using the key in {ENV_KEY} (from the environment) for {name}; it is used "
                    "instead of the keyring while it is set.")
            placeholder = f"Set by {ENV_KEY}"
        elif source == "session":
            text = f"Using a key given for this session only for {name} (not stored)."
            placeholder = "Given for this session (hidden)"
        elif source == "keyring":
            text = (f"A key for {name} is stored in the keyring ({result.keyring.backend}). "
                    "Type here to replace it.")
            placeholder = "Stored in the keyring (hidden)"
        else:
            text = f"No key yet for {name}: paste the key from this provider's dashboard."
            placeholder = "Paste your API key"
        if result.origin is not None and source != "environment" and result.env_set:
            if result.env_origin is None:
                text += (f" ({ENV_KEY} is set, but KLING_BASE_URL is not an address, so it "
                         "is used for no provider.)")
            else:
                text += (f" ({ENV_KEY} is set, but it is the key for "
                         f"{provider_name(result.env_origin)}.)")
        self.key_source_label.setText(text)
        self.key_edit.setPlaceholderText(placeholder)
        self.forget_key_button.setVisible(source == "keyring")
        self.forget_key_button.setEnabled(True)
        self._show_stored(result.stored)
        if not result.keyring.ok:
            self._show(self.keyring_label,
                       f"{result.keyring.message} {result.keyring.fix}".strip())
        else:
            self._show(self.keyring_label, "")

    def _show_stored(self, origins: tuple[str, ...]) -> None:
        """One row per provider with a key in the keyring: its name and a Forget button."""
        while self.providers_rows.count():
            item = self.providers_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._forget_buttons = {}
        self._shown_providers = list(origins)
        for origin in origins:
            row = QWidget(self.providers_box)
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            name = provider_name(origin)
            label = QLabel(f"{name}  (this address)" if origin == self._origin else name, row)
            label.setToolTip(origin)
            button = QPushButton("Forget", row)
            button.setAccessibleName(f"Forget the key for {name}")
            button.setToolTip(f"Remove the key for {origin} from the system keyring")
            button.clicked.connect(lambda _checked=False, o=origin: self._forget(o))
            layout.addWidget(label, 1)
            layout.addWidget(button)
            self.providers_rows.addWidget(row)
            self._forget_buttons[origin] = button
        self.providers_box.setVisible(bool(origins))

    def _on_key_state_failed(self, error: BaseException) -> None:
        message = error.message if isinstance(error, KlingError) else str(error)
        self.key_source_label.setText("The keyring could not be read.")
        self._show(self.keyring_label, message)

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

    # -- reacting to the user ------------------------------------------------------------------

    @Slot()
    def on_field_changed(self) -> None:
        self._validate()

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
        self._show(self.key_result_label, "")
        self.key_source_label.setText("Looking for a stored key…")
        self._follow_timer.start()

    @Slot()
    def on_follow_timer_timeout(self) -> None:
        self._refresh_key_state()

    @Slot(str)
    def on_key_edit_textChanged(self, _text: str) -> None:
        self._show(self.key_result_label, "")

    @Slot(bool)
    def on_show_key_action_toggled(self, shown: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown
                                  else QLineEdit.EchoMode.Password)
        color = muted_color(self.palette())
        self.show_key_action.setIcon(eye_icon(color, crossed=shown))
        self.show_key_action.setText("Hide the key" if shown else "Show the key")
        self.show_key_action.setToolTip(self.show_key_action.text())

    @Slot(bool)
    def on_proxy_custom_radio_toggled(self, checked: bool) -> None:
        self.proxy_edit.setEnabled(checked)
        if checked:
            self.proxy_edit.setFocus()
        self._validate()

    @Slot()
    def on_browse_button_clicked(self) -> None:
        start = self.library_edit.text().strip() or self.library_edit.placeholderText()
        folder = QFileDialog.getExistingDirectory(self, "Choose the library folder", start)
        if folder:
            self.library_edit.setText(folder)

    @Slot()
    def on_test_key_button_clicked(self) -> None:
        typed = self.key_edit.text().strip()
        if not typed and self._source is None:
            self._show(self.key_result_label, "Paste a key above first, then test it.")
            return
        candidate = self.values()
        self.test_key_button.setEnabled(False)
        self._show(self.key_result_label, "Testing the key…", "info")
        self._tasks.run(test_key, candidate.base_url, typed or None,
                        candidate.proxy, key=f"{self._task_prefix}-test-key",
                        on_done=self._on_key_tested, on_failed=self._on_key_test_failed)

    def _on_key_tested(self, _result: object) -> None:
        self.test_key_button.setEnabled(True)
        self._show(self.key_result_label, "✓ Valid: the provider accepted the key.", "ok")

    def _on_key_test_failed(self, error: BaseException) -> None:
        self.test_key_button.setEnabled(True)
        if isinstance(error, AuthenticationError):
            # Its usual fix ("open Settings…") points where the user already is.
            hint = (error.fix if error.fix != AuthenticationError.default_fix
                    else "Check that the whole key was copied.")
            text = f"✗ Invalid key: {error.message}\n{hint}"
        elif isinstance(error, NetworkError | MalformedResponseError):
            text = f"✗ Can't reach the provider: {error.message} {error.fix}"
        elif isinstance(error, KlingError):
            text = f"✗ Can't confirm the key: {error.message} {error.fix}"
        else:
            text = f"✗ The key could not be tested ({type(error).__name__}); see the log."
        self._show(self.key_result_label, text.strip())

    def key_test_text(self) -> str:
        return self.key_result_label.text()

    @Slot()
    def on_test_connection_button_clicked(self) -> None:
        candidate = self.values()
        self.test_connection_button.setEnabled(False)
        self._show(self.connection_label, "Connecting…", "info")
        self._tasks.run(test_connection, candidate.base_url, candidate.proxy,
                        key=f"{self._task_prefix}-test-connection",
                        on_done=self._on_connection_tested,
                        on_failed=self._on_connection_test_failed)

    def _on_connection_tested(self, _result: object) -> None:
        self.test_connection_button.setEnabled(True)
        self._show(self.connection_label, "✓ Connected: the provider answered.", "ok")

    def _on_connection_test_failed(self, error: BaseException) -> None:
        self.test_connection_button.setEnabled(True)
        if isinstance(error, KlingError):
            text = f"✗ Can't reach the provider: {error.message} {error.fix}"
        else:
            text = f"✗ The connection could not be tested ({type(error).__name__}); see the log."
        self._show(self.connection_label, text.strip())

    def connection_test_text(self) -> str:
        return self.connection_label.text()

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

    # -- saving ------------------------------------------------------------------------------

    @Slot()
    def on_buttons_accepted(self) -> None:
        if self._saving or not self._validate():
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self._show(self.problems_label, "Saving…", "info")
        key = self.key_edit.text().strip() or None
        self._tasks.run(save_all, self.values(), self._path, key,
                        key=f"{self._task_prefix}-save",
                        on_done=self._on_saved, on_failed=self._on_save_failed)

    def _on_saved(self, settings: object) -> None:
        self._saving = False
        if not isinstance(settings, Settings):
            return
        self._settings = settings
        self.key_edit.clear()
        self._show(self.problems_label, "")
        self.saved.emit(settings)
        self.accept()

    def _on_save_failed(self, error: BaseException) -> None:
        self._saving = False
        if isinstance(error, KlingError):
            text = f"Not saved: {error.message} {error.fix}"
        elif isinstance(error, OSError):
            reason = error.strerror or str(error)
            text = (f"Not saved: the settings file could not be written ({reason}). "
                    "Check that the disk has room and the folder is writable.")
        else:
            text = f"Not saved ({type(error).__name__}); see the log."
        self._show(self.problems_label, text.strip())
        self.save_button.setEnabled(True)

    # -- closing -----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        if self._saving and result == QDialog.DialogCode.Rejected.value:
            return   # let the save finish: the key may already be in the keyring
        self._follow_timer.stop()
        for name in ("key-state", "test-key", "test-connection", "forget"):
            self._tasks.cancel(f"{self._task_prefix}-{name}")
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._saving:
            event.ignore()
            return
        super().closeEvent(event)
