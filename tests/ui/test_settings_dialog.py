"""The settings dialog: real file, real keyring, real simulator, real widgets (offscreen)."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QObject, QPoint, QRect, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import DEFAULT_BASE_URL, Mode, Model
from kling_desktop.engine.batch import rate_key
from kling_desktop.engine.secrets import (
    KeyringUnavailableError,
    delete_api_key,
    forget_session_keys,
    get_api_key,
    keyring_status,
    store_api_key,
    stored_providers,
)
from kling_desktop.engine.settings import (
    DEFAULT_ACCOUNT_PAGE_URL,
    DEFAULT_PRICING_PAGE_URL,
    Settings,
    load_settings,
    save_settings,
)
from kling_desktop.paths import app_paths
from kling_desktop.ui.settings_dialog import SettingsDialog
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import format_cost
from tests.conftest import TEST_KEY
from tests.ui.conftest import fake_xdg_mime

# The dialog is a window whose layout fixes its minimum size as messages appear; the
# offscreen platform cannot apply window size hints and says so. Real platforms can.
pytestmark = pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")

WAIT_MS = 15_000
NEW_KEY = "sk-live-0a1b2c3d4e5f6a7b8c9d"
OLD_KEY = "sk-old-reseller-5e1d2c3b4a59"
RESELLER = "https://api.reseller.example"
SECRETS = (NEW_KEY, OLD_KEY, TEST_KEY)


@pytest.fixture(autouse=True)
def no_key_left_behind(isolated_env: Path, tmp_path: Path) -> Iterator[None]:
    """Every key a test stored is forgotten, and none ever reached a file."""
    yield
    forget_session_keys()
    with contextlib.suppress(KeyringUnavailableError):
        for origin in stored_providers():
            delete_api_key(origin)
    for file in (f for f in tmp_path.rglob("*") if f.is_file()):
        data = file.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"a key leaked into {file}"


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


@pytest.fixture
def keyring_ok() -> None:
    status = keyring_status()
    if not status.ok:
        pytest.skip(f"no usable keyring ({status.backend}): {status.message}")


def open_dialog(qtbot: QtBot, tasks: TaskRunner, settings: Settings | None = None,
                path: Path | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or Settings(), path or app_paths().settings_file,
                            tasks=tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # The key's source is read from the keyring in the background.
    qtbot.waitUntil(lambda: "…" not in dialog.key_source_text(), timeout=WAIT_MS)
    return dialog


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("keyring_ok")
def test_save_round_trip_keeps_the_key_in_the_keyring_only(
        qtbot: QtBot, tasks: TaskRunner, tmp_path: Path, isolated_env: Path) -> None:
    path = app_paths().settings_file
    dialog = open_dialog(qtbot, tasks)
    assert "No key yet" in dialog.key_source_text()

    QTest.keyClicks(dialog.key_edit, NEW_KEY)
    dialog.base_url_edit.setText("https://api.reseller.example")
    dialog.proxy_custom_radio.setChecked(True)
    dialog.proxy_edit.setText("http://proxy.example:8080")
    dialog.rate_spins[rate_key(Model.V3, Mode.PRO)].setValue(0.15)
    dialog.rate_spins[rate_key(Model.V2_6, Mode.STD)].setValue(0.05)
    library = tmp_path / "My Videos"
    dialog.library_edit.setText(str(library))
    dialog.jobs_spin.setValue(5)
    dialog.poll_min_spin.setValue(3)
    dialog.poll_max_spin.setValue(90)
    dialog.confirm_check.setChecked(False)
    dialog.notify_check.setChecked(False)
    assert dialog.save_button.isEnabled()

    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS) as saved:
        dialog.save_button.click()
    expected = Settings(
        base_url="https://api.reseller.example",
        proxy="http://proxy.example:8080",
        rates={rate_key(Model.V3, Mode.PRO): 0.15, rate_key(Model.V2_6, Mode.STD): 0.05},
        library_dir=str(library),
        max_concurrent_jobs=5,
        poll_min_interval=3.0,
        poll_max_interval=90.0,
        confirm_before_generate=False,
        notify_when_done=False,
    )
    assert saved.args == [expected]
    assert load_settings(path) == expected
    assert not dialog.isVisible()

    assert get_api_key(RESELLER) == NEW_KEY     # the key of the address saved with it
    assert get_api_key() is None                # not the default provider's
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert path in files
    for file in files:
        assert NEW_KEY.encode() not in file.read_bytes(), f"the key leaked into {file}"

    again = open_dialog(qtbot, tasks, load_settings(path))
    assert again.key_provider_text() == "Key for api.reseller.example"
    assert "saved in the system's password store" in again.key_source_text()
    assert again.key_edit.text() == ""          # never shown back, not even masked
    assert again.forget_key_button.isVisible()
    assert again.proxy_edit.text() == "http://proxy.example:8080"
    assert again.rate_spins[rate_key(Model.V3, Mode.STD)].text() == "not set"


@pytest.mark.usefixtures("keyring_ok")
def test_cancel_saves_nothing(qtbot: QtBot, tasks: TaskRunner) -> None:
    path = app_paths().settings_file
    save_settings(Settings(max_concurrent_jobs=2), path)
    before = path.read_bytes()
    dialog = open_dialog(qtbot, tasks, load_settings(path))
    QTest.keyClicks(dialog.key_edit, NEW_KEY)
    dialog.jobs_spin.setValue(9)
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.reject()
    assert path.read_bytes() == before
    assert get_api_key() is None


def test_the_key_field_hides_and_shows(qtbot: QtBot, tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, tasks)
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password
    dialog.show_key_action.trigger()
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.show_key_action.text() == "Hide the key"
    dialog.show_key_action.trigger()
    assert dialog.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_a_key_from_the_environment_is_named(qtbot: QtBot, tasks: TaskRunner,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_API_KEY", "sk-from-the-shell")
    dialog = open_dialog(qtbot, tasks)
    assert "KLING_API_KEY" in dialog.key_source_text()
    assert not dialog.forget_key_button.isVisible()


def test_an_insecure_provider_address_is_refused_inline(qtbot: QtBot,
                                                        tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, tasks)
    assert dialog.base_url_edit.text() == DEFAULT_BASE_URL
    dialog.base_url_edit.setText("http://api.reseller.example")
    assert dialog.base_url_label.isVisible()
    assert "https://" in dialog.base_url_label.text()
    assert not dialog.save_button.isEnabled()
    assert not dialog.test_key_button.isEnabled()

    dialog.base_url_edit.setText("https://api.reseller.example")
    assert not dialog.base_url_label.isVisible()
    dialog.poll_min_spin.setValue(30)
    dialog.poll_max_spin.setValue(10)
    assert "longest wait" in dialog.problems_label.text()
    assert not dialog.save_button.isEnabled()
    dialog.poll_max_spin.setValue(60)
    assert dialog.save_button.isEnabled()


def test_test_key_against_the_simulator(qtbot: QtBot, tasks: TaskRunner, sim: object,
                                        api_key: str) -> None:
    base_url = sim.base_url  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, tasks, Settings(base_url=base_url))

    QTest.keyClicks(dialog.key_edit, api_key)
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: dialog.key_test_text().startswith("✓"), timeout=WAIT_MS)
    assert "Valid" in dialog.key_test_text()

    dialog.key_edit.setText("sk-not-the-right-one")
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: dialog.key_test_text().startswith("✗"), timeout=WAIT_MS)
    assert "Invalid key" in dialog.key_test_text()
    assert "sk-not-the-right-one" not in dialog.key_test_text()


@pytest.mark.usefixtures("keyring_ok")
def test_test_key_uses_the_stored_key_when_none_is_typed(
        qtbot: QtBot, tasks: TaskRunner, sim: object, api_key: str) -> None:
    store_api_key(api_key, sim.base_url)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, tasks, Settings(base_url=sim.base_url))  # type: ignore[attr-defined]
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: "Valid" in dialog.key_test_text(), timeout=WAIT_MS)


def test_test_key_when_the_provider_cannot_be_reached(qtbot: QtBot,
                                                      tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, tasks, Settings(base_url=f"http://127.0.0.1:{closed_port()}"))
    QTest.keyClicks(dialog.key_edit, NEW_KEY)
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: dialog.key_test_text().startswith("✗"), timeout=WAIT_MS)
    assert "Can't reach the provider" in dialog.key_test_text()


def test_test_connection(qtbot: QtBot, tasks: TaskRunner, sim: object) -> None:
    dialog = open_dialog(qtbot, tasks, Settings(base_url=sim.base_url))  # type: ignore[attr-defined]
    dialog.test_connection_button.click()
    qtbot.waitUntil(lambda: "Connected" in dialog.connection_test_text(), timeout=WAIT_MS)

    dialog.base_url_edit.setText(f"http://127.0.0.1:{closed_port()}")
    dialog.test_connection_button.click()
    qtbot.waitUntil(lambda: "Can't reach" in dialog.connection_test_text(), timeout=WAIT_MS)


# -- keys belong to a provider -------------------------------------------------------------


def wait_for_provider(qtbot: QtBot, dialog: SettingsDialog, host: str) -> None:
    """The key row follows the address field (after a short pause, off the main thread)."""
    qtbot.waitUntil(lambda: dialog.key_provider_text() == f"Key for {host}"
                    and "…" not in dialog.key_source_text(), timeout=WAIT_MS)


@pytest.mark.usefixtures("keyring_ok")
def test_the_key_shown_is_the_key_of_the_address_shown(qtbot: QtBot,
                                                       tasks: TaskRunner) -> None:
    store_api_key(OLD_KEY, DEFAULT_BASE_URL)
    store_api_key(NEW_KEY, RESELLER + "/v1")
    dialog = open_dialog(qtbot, tasks)
    assert dialog.key_provider_text() == "Key for api.foxapi.cc"
    assert "saved in the system's password store" in dialog.key_source_text()
    assert dialog.forget_key_button.isVisible()
    assert dialog.stored_providers_shown() == [DEFAULT_BASE_URL, RESELLER]

    dialog.base_url_edit.setText("https://api.third.example")
    wait_for_provider(qtbot, dialog, "api.third.example")
    assert "No key yet" in dialog.key_source_text()
    assert not dialog.forget_key_button.isVisible()

    dialog.base_url_edit.setText("https://API.reseller.example:443/v1")
    wait_for_provider(qtbot, dialog, "api.reseller.example")
    assert "saved in the system's password store" in dialog.key_source_text()
    assert dialog.forget_key_button.isVisible()

    dialog.base_url_edit.setText("http://127.0.0.1:8123")
    wait_for_provider(qtbot, dialog, "127.0.0.1:8123")
    assert "No key yet" in dialog.key_source_text()

    dialog.base_url_edit.setText("not an address")
    qtbot.waitUntil(lambda: dialog.key_provider_text() == "API key"
                    and "…" not in dialog.key_source_text(), timeout=WAIT_MS)
    assert "address" in dialog.key_source_text()
    assert not dialog.forget_key_button.isVisible()


@pytest.mark.usefixtures("keyring_ok")
def test_forget_one_provider_keeps_the_others(qtbot: QtBot, tasks: TaskRunner) -> None:
    store_api_key(OLD_KEY, DEFAULT_BASE_URL)
    store_api_key(NEW_KEY, RESELLER)
    dialog = open_dialog(qtbot, tasks)
    dialog.forget_button_for(RESELLER).click()
    qtbot.waitUntil(lambda: dialog.stored_providers_shown() == [DEFAULT_BASE_URL],
                    timeout=WAIT_MS)
    assert get_api_key(RESELLER) is None
    assert get_api_key(DEFAULT_BASE_URL) == OLD_KEY
    # the address shown kept its key
    assert "saved in the system's password store" in dialog.key_source_text()

    dialog.forget_key_button.click()        # the key of the address shown
    qtbot.waitUntil(lambda: dialog.stored_providers_shown() == [], timeout=WAIT_MS)
    assert "No key yet" in dialog.key_source_text()
    assert get_api_key(DEFAULT_BASE_URL) is None


@pytest.mark.usefixtures("keyring_ok")
def test_test_key_never_sends_another_providers_key(
        qtbot: QtBot, tasks: TaskRunner, sim: object, api_key: str) -> None:
    base_url = sim.base_url  # type: ignore[attr-defined]
    store_api_key(api_key, DEFAULT_BASE_URL)           # the default provider's key only
    dialog = open_dialog(qtbot, tasks, Settings(base_url=base_url))
    assert dialog.key_provider_text() == f"Key for {base_url.removeprefix('http://')}"
    assert "No key yet" in dialog.key_source_text()
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: dialog.key_test_text() != "", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Testing" not in dialog.key_test_text(), timeout=WAIT_MS)
    assert "Paste a key" in dialog.key_test_text()
    assert sim.requests == []  # type: ignore[attr-defined]

    store_api_key(api_key, base_url)
    dialog.base_url_edit.setText(DEFAULT_BASE_URL)
    wait_for_provider(qtbot, dialog, "api.foxapi.cc")
    dialog.base_url_edit.setText(base_url)
    wait_for_provider(qtbot, dialog, base_url.removeprefix("http://"))
    dialog.test_key_button.click()
    qtbot.waitUntil(lambda: "Valid" in dialog.key_test_text(), timeout=WAIT_MS)


@pytest.mark.usefixtures("keyring_ok")
def test_a_typed_key_is_saved_for_the_address_shown(qtbot: QtBot, tasks: TaskRunner) -> None:
    store_api_key(OLD_KEY, DEFAULT_BASE_URL)
    dialog = open_dialog(qtbot, tasks)
    dialog.base_url_edit.setText(RESELLER)
    wait_for_provider(qtbot, dialog, "api.reseller.example")
    QTest.keyClicks(dialog.key_edit, NEW_KEY)
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        dialog.save_button.click()
    assert get_api_key(RESELLER) == NEW_KEY
    assert get_api_key(DEFAULT_BASE_URL) == OLD_KEY       # the other reseller keeps its key
    assert stored_providers() == [DEFAULT_BASE_URL, RESELLER]


@pytest.mark.usefixtures("keyring_ok")
def test_a_key_with_impossible_characters_is_refused_with_a_fix(qtbot: QtBot,
                                                               tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, tasks)
    dialog.key_edit.setText("sk-with space-1234")
    with qtbot.assertNotEmitted(dialog.saved):
        dialog.save_button.click()
        qtbot.waitUntil(lambda: "cannot have" in dialog.problems_label.text(), timeout=WAIT_MS)
    assert "sk-with space" not in dialog.problems_label.text()
    assert stored_providers() == []


def test_the_environment_key_is_named_only_for_its_provider(
        qtbot: QtBot, tasks: TaskRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_API_KEY", "sk-from-the-shell")
    dialog = open_dialog(qtbot, tasks)
    assert "KLING_API_KEY" in dialog.key_source_text()
    dialog.base_url_edit.setText(RESELLER)
    wait_for_provider(qtbot, dialog, "api.reseller.example")
    text = dialog.key_source_text()
    assert "No key yet" in text
    assert "KLING_API_KEY" in text        # set, but for another provider:
    assert "api.foxapi.cc" in text


@pytest.mark.parametrize(("currency", "expected"), [
    ("USD", "$0.40"), ("CNY", "¥0.40"), ("EUR", "€0.40"), ("credits", "0.40 credits")])
def test_costs_are_written_in_the_chosen_currency(currency: str, expected: str) -> None:
    # Tests run in the C locale: money is then written the en-US way.
    assert format_cost(0.4, currency) == expected
    assert "1,234.50" in format_cost(1234.5, currency)
    assert format_cost(0.004) == "$0.0040"      # tiny amounts keep their digits


def test_costs_follow_the_locale() -> None:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        assert format_cost(1234.5, "EUR") == "1.234,50\xa0€"
        assert format_cost(0.4, "credits") == "0,40 credits"
    finally:
        QLocale.setDefault(previous)


# -- a test result moves nothing ---------------------------------------------------------------


def _places(dialog: SettingsDialog) -> dict[str, QRect]:
    """Where the clickable things of the provider section are, in the dialog (once the
    layout has taken in every text set so far)."""
    QApplication.processEvents()
    widgets: dict[str, QWidget] = {
        "key": dialog.key_edit, "test key": dialog.test_key_button,
        "system proxy": dialog.proxy_system_radio, "custom proxy": dialog.proxy_custom_radio,
        "test connection": dialog.test_connection_button, "save": dialog.save_button,
    }
    return {name: QRect(w.mapTo(dialog, QPoint(0, 0)), w.size())
            for name, w in widgets.items()}


def test_a_test_result_moves_neither_the_buttons_nor_the_focus(
        qtbot: QtBot, tasks: TaskRunner, sim: object) -> None:
    dialog = open_dialog(qtbot, tasks, Settings(base_url=sim.base_url))  # type: ignore[attr-defined]
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=WAIT_MS)
    QTest.keyClicks(dialog.key_edit, "sk-not-the-right-one")
    before = _places(dialog)

    dialog.test_key_button.setFocus(Qt.FocusReason.MouseFocusReason)
    QTest.mouseClick(dialog.test_key_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.key_test_text().startswith("✗"), timeout=WAIT_MS)
    assert _places(dialog) == before
    assert QApplication.focusWidget() is dialog.test_key_button
    assert not dialog.base_url_edit.hasSelectedText()

    # A long failure (nothing listens at the address) under Test connection.
    dialog.base_url_edit.setText(f"http://127.0.0.1:{closed_port()}")
    qtbot.waitUntil(lambda: "…" not in dialog.key_source_text(), timeout=WAIT_MS)
    before = _places(dialog)
    dialog.test_connection_button.setFocus(Qt.FocusReason.MouseFocusReason)
    QTest.mouseClick(dialog.test_connection_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Can't reach" in dialog.connection_test_text(), timeout=WAIT_MS)
    assert _places(dialog) == before
    assert QApplication.focusWidget() is dialog.test_connection_button
    assert not dialog.base_url_edit.hasSelectedText()


# -- money in plain sight ---------------------------------------------------------------------


class _Browser(QObject):
    """Stands in for the desktop's browser: records the https links handed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Browser]:
    # The desktop names a browser (Linux: the opener asks xdg-mime first).
    fake_xdg_mime(tmp_path / "desktop-tools", monkeypatch, "echo browser.desktop", only=False)
    handler = _Browser()
    for scheme in ("https", "http", "file"):
        QDesktopServices.setUrlHandler(scheme, handler, "open")  # type: ignore[arg-type]
    yield handler
    for scheme in ("https", "http", "file"):
        QDesktopServices.unsetUrlHandler(scheme)


def test_prices_have_a_currency_and_links_to_where_keys_and_prices_are(
        qtbot: QtBot, tasks: TaskRunner, browser: _Browser) -> None:
    path = app_paths().settings_file
    dialog = open_dialog(qtbot, tasks, Settings(), path)
    assert dialog.currency_combo.currentData() == "USD"
    assert dialog.pricing_link.url() == DEFAULT_PRICING_PAGE_URL
    assert dialog.account_link.url() == DEFAULT_ACCOUNT_PAGE_URL
    assert "api.foxapi.cc/pricing" in dialog.pricing_link.text()
    assert "Get one at" in dialog.account_link.text()
    dialog.pricing_link.linkActivated.emit(DEFAULT_PRICING_PAGE_URL)
    qtbot.waitUntil(lambda: browser.opened == [DEFAULT_PRICING_PAGE_URL], timeout=5000)

    # Another reseller: no page is known until the user gives one (https only).
    dialog.base_url_edit.setText(RESELLER)
    assert dialog.pricing_link.url() is None
    assert dialog.account_link.url() is None
    assert "paste the address" in dialog.pricing_link.text()
    dialog.pricing_edit.setText("http://reseller.example/prices")
    assert not dialog.save_button.isEnabled()
    assert "https://" in dialog.problems_label.text()
    dialog.pricing_link.linkActivated.emit("http://reseller.example/prices")
    dialog.pricing_link.linkActivated.emit("file:///etc/passwd")
    assert browser.opened == [DEFAULT_PRICING_PAGE_URL]          # nothing else was opened
    dialog.pricing_edit.setText("https://reseller.example/prices")
    dialog.account_edit.setText("https://reseller.example/console")
    assert dialog.pricing_link.url() == "https://reseller.example/prices"
    assert dialog.account_link.url() == "https://reseller.example/console"

    dialog.currency_combo.setCurrentIndex(dialog.currency_combo.findData("EUR"))
    spin = dialog.rate_spins[rate_key(Model.V3, Mode.STD)]
    spin.setValue(0.1)
    assert spin.text().startswith("€")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        dialog.save_button.click()
    saved = load_settings(path)
    assert (saved.currency, saved.pricing_page(), saved.account_page()) == (
        "EUR", "https://reseller.example/prices", "https://reseller.example/console")


def test_settings_say_how_finished_jobs_are_told(qtbot: QtBot, tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, tasks)
    label = dialog.jobs.notify_channel_label
    assert label.isVisible()
    # The offscreen platform has no tray: the window's banner tells.
    assert label.text().startswith("Desktop notifications are not available on this desktop")
    assert "banner" in label.text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg-mime: Linux's question")
def test_a_link_without_a_browser_says_so(qtbot: QtBot, tasks: TaskRunner, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake_xdg_mime(tmp_path / "desktop-tools", monkeypatch, "exit 0")   # no browser
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, title, text: told.append(f"{title}: {text}"))
    dialog = open_dialog(qtbot, tasks, Settings(), app_paths().settings_file)
    dialog.pricing_link.linkActivated.emit(DEFAULT_PRICING_PAGE_URL)
    qtbot.waitUntil(lambda: told != [], timeout=5000)
    assert told == [f"Could not open: No web browser on this computer opened "
                    f"{DEFAULT_PRICING_PAGE_URL}.\n\nCopy the address into a browser yourself."]
