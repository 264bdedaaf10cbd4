"""The window speaks the language chosen: Settings → Language (or ``--lang``, or the
system's) installed at start-up, Qt's own buttons included; the choice round-trips and
applies at the next start; nothing of the window's frame escapes translation
(pseudo-language walk over the start panel, the main window, the demo banner, Settings,
About and Keyboard shortcuts)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMenu
from pytestqt.qtbot import QtBot

from kling_desktop import APP_NAME, i18n
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.settings import Settings, load_settings, save_settings
from kling_desktop.paths import app_paths
from kling_desktop.ui import language as window_language
from kling_desktop.ui.about import build_about_box
from kling_desktop.ui.app import start_language
from kling_desktop.ui.demo import DemoSession
from kling_desktop.ui.keyboard_help import build_shortcuts_dialog
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.settings_dialog import SettingsDialog
from kling_desktop.ui.tasks import TaskRunner
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory, fast_settings
from tests.ui.i18n_support import untranslated

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]

# Texts that are not ours to translate: the app's name, a key's shape, addresses.
NOT_WORDS = (APP_NAME, "sk-…", "http://proxy.example:8080", "https://api.foxapi.cc/v1",
             "api.foxapi.cc/console/token", "api.foxapi.cc/pricing",
             "https://api.foxapi.cc/console/token", "https://api.foxapi.cc/pricing")
# Qt's own words: its standard buttons come from its catalog (none in the pseudo-language).
QT_OWN = ("Save", "&Save", "Cancel", "&Cancel", "Close", "&Close")


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    """Each test starts in English and leaves English (Qt's catalogs removed too)."""
    yield
    window_language.install_window_language("en", "")


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


def _menus(window: MainWindow) -> list[QAction]:
    return [menu for menu in window.menuBar().actions() if not menu.isSeparator()]


def _items(menu_action: QAction) -> list[QAction]:
    menu = menu_action.menu()
    assert isinstance(menu, QMenu)
    return list(menu.actions())


def _open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    window.open_settings()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


# -- choosing the language -------------------------------------------------------------------

def test_the_language_comes_from_lang_then_settings_then_the_system() -> None:
    choose = window_language.choose_language
    assert choose(None, "", ["zh-Hans-CN", "en-US"]) == "zh_CN"
    assert choose(None, "", ["fr-FR", "en-GB"]) == "en"
    assert choose(None, "en", ["zh-Hans-CN"]) == "en"          # Settings beats the system
    assert choose(None, "zh_CN", ["en-US"]) == "zh_CN"
    assert choose("en", "zh_CN", ["zh-CN"]) == "en"             # --lang beats Settings
    assert choose("pseudo", "zh_CN", []) == "pseudo"


def test_the_language_setting_round_trips_and_refuses_strangers() -> None:
    path = app_paths().settings_file
    save_settings(Settings(language="zh_CN"), path)
    assert load_settings(path).language == "zh_CN"
    path.write_text('{"language": "klingon"}', encoding="utf-8")
    assert load_settings(path).language == ""                   # the default: the system's
    assert Settings(language="fr").validate() != []
    assert Settings(language="").validate() == []


def test_settings_language_applies_at_the_next_start(qtbot: QtBot,
                                                     windows: WindowFactory) -> None:
    # First start (English): choose 简体中文 in Settings → Language and save.
    assert start_language() == ("en", False)
    window = windows.window(Engine(settings=fast_settings()))
    dialog = _open_settings(qtbot, window)
    names = [dialog.language_combo.itemText(i) for i in range(dialog.language_combo.count())]
    assert names == ["System", "English", "简体中文"]        # each in its own words
    note = dialog.findChild(QLabel, "languageNote")
    assert note is not None
    assert note.text() == "Applies the next time the app starts."
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh_CN"))
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        dialog.save_button.click()
    assert window.menuBar().actions()[0].text() == "&File"     # not live: the next start
    assert load_settings(app_paths().settings_file).language == "zh_CN"
    windows.close_all()

    # Second start: the window is Chinese, numbers follow Chinese too.
    assert start_language() == ("zh_CN", False)
    assert QLocale().name() == "zh_CN"
    window = windows.window(Engine(settings=fast_settings()))
    assert [menu.text() for menu in _menus(window)] == ["文件(&F)", "视图(&V)", "帮助(&H)"]
    assert window.tabs.tabText(0) == "创作"
    assert window.tabs.tabText(1) == "作品库"
    qtbot.waitUntil(window.is_start_panel_shown, timeout=WAIT_MS)
    assert window.start_panel.demo_button.text() == "试用演示模式"
    assert window.start_panel.save_button.text() == "保存密钥"

    # Qt's own standard buttons come from its catalog (qtbase_zh_CN.qm).
    dialog = _open_settings(qtbot, window)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.text().replace("(&C)", "").replace("&", "") == "取消"
    assert dialog.windowTitle() == "设置"
    assert dialog.prices.title() == "每秒视频的价格"
    dialog.reject()
    windows.close_all()

    # --lang for one run beats the setting.
    assert start_language("en") == ("en", False)
    assert QLocale().name() == "en_US"


def test_no_chinese_font_means_english_and_a_word_about_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(window_language, "has_chinese_font", lambda: False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert window_language.install_window_language(None, "zh_CN") == ("en", True)
    assert i18n.current_language() == "en"
    _title, text = window_language.missing_font_text()
    assert "fonts-noto-cjk" in text
    monkeypatch.setattr(window_language, "has_chinese_font", lambda: True)
    assert window_language.install_window_language(None, "zh_CN") == ("zh_CN", False)


def test_a_chinese_font_is_found_here() -> None:
    # fonts-noto-cjk is installed where the tests run: Qt's font database sees it.
    assert window_language.has_chinese_font()


# -- the pseudo-language: nothing of the frame escapes translation ---------------------------

def test_pseudo_language_walk_over_the_windows_frame(qtbot: QtBot, windows: WindowFactory,
                                                     tasks: TaskRunner) -> None:
    window_language.install_window_language("pseudo", "")
    window = windows.window(Engine(settings=fast_settings()))
    qtbot.waitUntil(window.is_start_panel_shown, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.start_panel.key_edit.placeholderText().startswith(
        "Looking"), timeout=WAIT_MS)
    assert untranslated(window, allowed=NOT_WORDS) == []
    actions = [a for menu in _menus(window) for a in [menu, *_items(menu)]
               if not a.isSeparator()]
    assert [a.text() for a in actions if "⟦" not in a.text()] == []

    dialog = _open_settings(qtbot, window)
    qtbot.waitUntil(lambda: "⟦" in dialog.key_source_text(), timeout=WAIT_MS)
    own_words = tuple(i18n.LANGUAGES.values())               # English, 简体中文 as such
    folder = str(app_paths().default_library_dir)             # a path, shown as is
    assert untranslated(dialog, allowed=(*NOT_WORDS, *QT_OWN, *own_words, folder,
                                         "https://api.foxapi.cc")) == []
    dialog.reject()

    about = build_about_box(window, window.icon, window.engine.paths)
    about.show()
    assert untranslated(about, allowed=NOT_WORDS + QT_OWN) == []
    about_text = about.findChild(QLabel, "qt_msgbox_label")
    assert about_text is not None
    assert "⟦" in about_text.text()
    about.close()

    shortcuts = build_shortcuts_dialog(window, window.menus.actions())
    shortcuts.show()
    assert untranslated(shortcuts, allowed=NOT_WORDS + QT_OWN) == []
    listing = shortcuts.findChild(QLabel, "shortcutsText")
    assert listing is not None
    assert listing.text().count("⟦") >= 25
    shortcuts.close()


def test_pseudo_language_walk_over_the_demo_banner(qtbot: QtBot,
                                                   windows: WindowFactory) -> None:
    window_language.install_window_language("pseudo", "")
    session = DemoSession(polls_until_done=2, latency=0.0).start()
    try:
        window = windows.window(session.create_engine(), demo_session=session)
        assert window.banner is not None
        assert untranslated(window.banner) == []
        assert "⟦" in window.windowTitle()
        windows.close_all()
    finally:
        session.stop()


def test_settings_fit_a_small_screen_in_one_scrolling_column(qtbot: QtBot,
                                                             tasks: TaskRunner) -> None:
    dialog = SettingsDialog(Settings(), app_paths().settings_file, tasks=tasks)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 640)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.two_columns()
    assert dialog.minimumSizeHint().width() <= 1000
    dialog.resize(1120, 800)
    qtbot.waitUntil(dialog.two_columns, timeout=WAIT_MS)
    dialog.reject()


def test_the_shortcuts_dialog_names_menu_commands_without_their_mnemonic() -> None:
    from kling_desktop.ui.keyboard_help import command_text

    assert command_text("&Settings…") == "Settings"
    assert command_text("设置(&S)…") == "设置"
    assert command_text("Save && close") == "Save & close"
