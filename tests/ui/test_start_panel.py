"""The start panel keeps the pasted key for the provider the app uses now, and no other."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.engine.secrets import (
    KeyringUnavailableError,
    delete_api_key,
    forget_session_keys,
    get_api_key,
    key_source,
    keyring_status,
    stored_providers,
)
from kling_desktop.engine.settings import DEFAULT_ACCOUNT_PAGE_URL, Settings, save_settings
from kling_desktop.paths import app_paths
from kling_desktop.ui.start_panel import StartPanel
from kling_desktop.ui.tasks import TaskRunner

WAIT_MS = 15_000
KEY = "sk-pasted-0123456789abcdef"
RESELLER = "https://api.reseller.example"


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


@pytest.fixture(autouse=True)
def no_key_left_behind(tmp_path: Path) -> Iterator[None]:
    yield
    forget_session_keys()
    with contextlib.suppress(KeyringUnavailableError):
        for origin in stored_providers():
            delete_api_key(origin)
    for file in (f for f in tmp_path.rglob("*") if f.is_file()):
        assert KEY.encode() not in file.read_bytes(), f"the key leaked into {file}"


@pytest.fixture
def keyring_ok() -> None:
    status = keyring_status()
    if not status.ok:
        pytest.skip(f"no usable keyring ({status.backend}): {status.message}")


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def make_panel(qtbot: QtBot, tasks: TaskRunner, base_url: str | None) -> StartPanel:
    panel = StartPanel(tasks, base_url=base_url)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def save(qtbot: QtBot, panel: StartPanel) -> None:
    QTest.keyClicks(panel.key_edit, KEY)
    with qtbot.waitSignal(panel.key_ready, timeout=WAIT_MS):
        QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)


@pytest.mark.usefixtures("keyring_ok")
def test_the_key_is_kept_for_the_provider_in_use(qtbot: QtBot, tasks: TaskRunner) -> None:
    panel = make_panel(qtbot, tasks, RESELLER + "/v1")
    assert "api.reseller.example" in panel.provider_text()
    save(qtbot, panel)
    assert get_api_key(RESELLER) == KEY
    assert get_api_key(DEFAULT_BASE_URL) is None
    assert stored_providers() == [RESELLER]


@pytest.mark.usefixtures("keyring_ok")
def test_the_provider_can_change_before_the_key_is_pasted(qtbot: QtBot,
                                                         tasks: TaskRunner) -> None:
    panel = make_panel(qtbot, tasks, DEFAULT_BASE_URL)
    assert "api.foxapi.cc" in panel.provider_text()
    panel.set_provider(RESELLER)
    assert "api.reseller.example" in panel.provider_text()
    save(qtbot, panel)
    assert stored_providers() == [RESELLER]


@pytest.mark.usefixtures("keyring_ok")
def test_without_an_address_the_settings_provider_is_used(qtbot: QtBot,
                                                         tasks: TaskRunner) -> None:
    save_settings(Settings(base_url=RESELLER), app_paths().ensure().settings_file)
    panel = make_panel(qtbot, tasks, None)
    save(qtbot, panel)
    assert stored_providers() == [RESELLER]


@pytest.mark.usefixtures("keyring_ok")
def test_a_key_with_impossible_characters_is_refused_with_a_fix(qtbot: QtBot,
                                                               tasks: TaskRunner) -> None:
    panel = make_panel(qtbot, tasks, RESELLER)
    QTest.keyClicks(panel.key_edit, "sk-with space-1234")
    with qtbot.assertNotEmitted(panel.key_ready):
        QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "cannot have" in panel.message(), timeout=WAIT_MS)
    assert "sk-with space" not in panel.message()
    assert not panel.session_button.isVisible()    # a session would not make it a key
    assert stored_providers() == []


@pytest.mark.usefixtures("no_keyring")
def test_a_session_key_is_for_the_provider_in_use_only(qtbot: QtBot,
                                                      tasks: TaskRunner) -> None:
    panel = make_panel(qtbot, tasks, RESELLER)
    QTest.keyClicks(panel.key_edit, KEY)
    QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.session_button.isVisible, timeout=WAIT_MS)
    # Artist words up front; the backend and the environment variable behind "Details…".
    assert "password store" in panel.message()
    assert "until you close the app" in panel.message()
    for technical in ("KLING_API_KEY", "fail Keyring", "backend"):
        assert technical not in panel.message()
    assert panel.details.isVisible()
    assert not panel.details.label.isVisible()
    panel.details.button.click()
    assert panel.details.label.isVisible()
    assert "KLING_API_KEY" in panel.details.text()
    assert "fail" in panel.details.text().lower()
    with qtbot.waitSignal(panel.key_ready, timeout=WAIT_MS):
        QTest.mouseClick(panel.session_button, Qt.MouseButton.LeftButton)
    assert get_api_key(RESELLER) == KEY
    assert key_source(RESELLER) == "session"
    assert get_api_key(DEFAULT_BASE_URL) is None
    assert "KLING_API_KEY" not in os.environ      # not handed to child processes either
    assert panel.key_edit.text() == ""


def test_get_a_key_links_to_the_providers_console(qtbot: QtBot, tasks: TaskRunner) -> None:
    panel = make_panel(qtbot, tasks, DEFAULT_BASE_URL)
    panel.set_account_page(Settings().account_page())
    assert panel.get_key_link.url() == DEFAULT_ACCOUNT_PAGE_URL
    assert "Get a key" in panel.get_key_link.text()
    panel.set_account_page(Settings(base_url=RESELLER).account_page())
    assert panel.get_key_link.url() is None
    assert "console" in panel.get_key_link.text()
