"""The user's language: chosen from the system or the user, the same rules for every layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop import i18n
from kling_desktop.api.errors import AuthenticationError, CancelledError
from kling_desktop.api.models import Mode, Model
from kling_desktop.selftest import Context, check_languages


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    yield
    i18n.install("en")


@pytest.mark.parametrize(("raw", "expected"), [
    ("zh_CN.UTF-8", "zh_CN"),
    ("zh-Hans-CN", "zh_CN"),
    ("zh", "zh_CN"),
    ("zh_TW.UTF-8", "zh_CN"),          # Simplified rather than English for a Chinese reader
    ("en_GB.UTF-8", "en"),
    ("C.UTF-8", "en"),
    ("POSIX", "en"),
    ("fr_FR.UTF-8", "en"),
    ("fr:zh_CN", "zh_CN"),             # LANGUAGE lists fall through, as gettext does
    ("de:en:zh_CN", "en"),
    ("pseudo", "pseudo"),
    ("", "en"),
])
def test_a_language_is_matched_like_gettext_would(raw: str, expected: str) -> None:
    assert i18n.match_language([raw]) == expected


def test_the_command_line_follows_language_then_lc_all_then_lang() -> None:
    assert i18n.language_from_environment({"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.language_from_environment({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert i18n.language_from_environment(
        {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.language_from_environment({"LANGUAGE": "zh_CN", "LC_ALL": "en_US"}) == "zh_CN"
    assert i18n.language_from_environment({}) == "en"


def test_english_is_the_text_itself() -> None:
    assert i18n.install("en_US.UTF-8") == "en"
    assert i18n._("Generate") == "Generate"
    assert i18n.ngettext("{n} job", "{n} jobs", 2) == "{n} jobs"


def test_the_pseudo_language_marks_every_text_and_lengthens_it() -> None:
    assert i18n.install("pseudo") == "pseudo"
    text = i18n._("Generate")
    assert text.startswith("⟦Generate")
    assert text.endswith("⟧")
    assert len(text) >= len("Generate") * 1.4
    plural = i18n.ngettext("{n} job", "{n} jobs", 3)
    assert "{n} jobs" in plural
    assert plural.startswith("⟦")


def test_marking_does_not_translate() -> None:
    i18n.install("pseudo")
    assert i18n.N_("Generate") == "Generate"


def test_the_chinese_catalog_is_shipped_and_loads() -> None:
    assert (i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").is_file()
    assert i18n.install("zh_CN.UTF-8") == "zh_CN"
    assert i18n.current_language() == "zh_CN"


def test_dates_are_written_in_full_in_each_language() -> None:
    moment = 1_795_000_000.0          # a fixed instant; the local zone decides the day
    i18n.install("en")
    english = i18n.format_datetime(moment)
    i18n.install("zh_CN")
    chinese = i18n.format_datetime(moment)
    assert english[:4] == chinese[:4]                  # the same year, in full
    assert "年" in chinese
    assert "月" in chinese
    assert "日" in chinese
    assert i18n.format_number(2500) == "2,500"


def test_the_self_test_reports_the_languages_it_can_load(tmp_path: Path) -> None:
    line = check_languages(Context(scratch=tmp_path, frozen=False))
    assert line.startswith("en, zh_CN (zh_CN: ")
    count = int(line.split("zh_CN: ")[1].split(" messages")[0])
    assert count >= 200
    # Qt's own words for its standard buttons, which the window loads for 简体中文.
    assert "qtbase_zh_CN" in line


def test_an_error_made_in_chinese_reads_chinese_and_its_class_keeps_the_english() -> None:
    i18n.install("zh_CN")
    error = AuthenticationError()
    assert error.message == "API 密钥被拒绝（无效、已过期或缺失）。"
    assert error.fix.startswith("请打开“设置”")
    assert AuthenticationError.default_message.startswith("The API key was refused")
    i18n.install("en")
    assert AuthenticationError().message == AuthenticationError.default_message
    assert CancelledError().fix == ""


def test_the_chinese_catalog_uses_the_glossary_words() -> None:
    i18n.install("zh_CN")
    assert Mode.PRO.label == "高品质模式 (1080p)"
    assert Mode.STD.short_label == "标准模式 720p"
    assert Model.V3.label == "可灵 V3"
    assert i18n._("the provider") == "服务商"
