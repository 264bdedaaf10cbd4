"""User settings: a forgiving reader, an atomic writer, and never the key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kling_desktop.api.models import DEFAULT_BASE_URL, Mode, Model
from kling_desktop.engine.settings import (
    DEFAULT_ACCOUNT_PAGE_URL,
    DEFAULT_PRICING_PAGE_URL,
    Settings,
    load_settings,
    rate_key,
    save_settings,
)
from kling_desktop.paths import app_paths
from tests.conftest import TEST_KEY


@pytest.fixture
def path(isolated_env: Path) -> Path:
    return app_paths().settings_file


def test_missing_file_gives_defaults(path: Path) -> None:
    settings = load_settings(path)
    assert settings == Settings()
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.max_concurrent_jobs == 5
    assert (settings.poll_min_interval, settings.poll_max_interval) == (5.0, 60.0)
    assert settings.proxy == ""
    assert settings.library_dir is None
    assert settings.rates == {}
    assert settings.confirm_before_generate
    assert settings.keep_inputs
    assert settings.notify_when_done
    assert settings.validate() == []
    assert not path.exists()  # reading never creates files


def test_round_trip_and_atomic_write(path: Path, tmp_path: Path) -> None:
    chosen = Settings(
        base_url="https://reseller.example/",
        library_dir=str(tmp_path / "My Videos"),
        max_concurrent_jobs=7,
        poll_min_interval=2.5,
        poll_max_interval=30,
        proxy="http://proxy.example:3128",
        rates={rate_key(Model.V3, Mode.PRO): 0.12, rate_key(Model.V3, Mode.STD): 0.07},
        confirm_before_generate=False,
        keep_inputs=False,
        notify_when_done=False,
    )
    save_settings(chosen, path)
    assert load_settings(path) == chosen
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    chosen.max_concurrent_jobs = 2
    save_settings(chosen, path)
    assert load_settings(path).max_concurrent_jobs == 2
    assert chosen.rate_for(Model.V3, Mode.PRO) == 0.12
    assert chosen.rate_for("kling-v3-motion-control", "std") == 0.07
    assert chosen.rate_for(Model.V2_6, Mode.PRO) is None
    assert chosen.library_path(app_paths()) == tmp_path / "My Videos"
    assert Settings().library_path(app_paths()) == app_paths().default_library_dir


def test_unknown_keys_ignored_and_wrong_types_fall_back(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "base_url": "https://ok.example",
        "max_concurrent_jobs": "five",     # wrong type
        "poll_min_interval": True,         # a bool is not a number here
        "poll_max_interval": 90,           # int is fine for a float field
        "proxy": None,                     # wrong type
        "notify_when_done": "yes",         # wrong type
        "keep_inputs": False,
        "rates": {"kling-v3-motion-control/pro": 0.2, "bad": "cheap"},
        "window_geometry": [1, 2, 3],      # unknown: ignored
        "api_key": "should never be here",  # unknown: ignored, never saved back
    }), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="kling_desktop.engine.settings"):
        settings = load_settings(path)
    assert settings.base_url == "https://ok.example"
    assert settings.max_concurrent_jobs == 5
    assert settings.poll_min_interval == 5.0
    assert settings.poll_max_interval == 90.0
    assert settings.proxy == ""
    assert settings.notify_when_done is True
    assert settings.keep_inputs is False
    assert settings.rates == {"kling-v3-motion-control/pro": 0.2}
    warned = caplog.text
    for name in ("max_concurrent_jobs", "poll_min_interval", "proxy", "notify_when_done", "bad"):
        assert name in warned
    assert "should never be here" not in warned
    save_settings(settings, path)
    assert "api_key" not in path.read_text(encoding="utf-8")


def test_out_of_range_concurrency_is_clamped(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('{"max_concurrent_jobs": 50}', encoding="utf-8")
    assert load_settings(path).max_concurrent_jobs == 20
    path.write_text('{"max_concurrent_jobs": 0}', encoding="utf-8")
    assert load_settings(path).max_concurrent_jobs == 1


@pytest.mark.parametrize("content", [b'{"base_url": "https://x', b"\xff\xfe garbage", b"[1, 2]"])
def test_damaged_file_is_kept_aside(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert load_settings(path) == Settings()
    assert not path.exists()
    kept = list(path.parent.glob("settings.json.bad-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == content
    # a second damaged file on the same second does not overwrite the first copy
    path.write_bytes(content)
    load_settings(path)
    assert len(list(path.parent.glob("settings.json.bad-*"))) == 2


def test_validate_reports_problems_in_plain_words(tmp_path: Path) -> None:
    bad = Settings(
        base_url="http://api.example.com",
        max_concurrent_jobs=21,
        poll_min_interval=10,
        poll_max_interval=5,
        proxy="proxy.example:8080",
        rates={"kling-v3-motion-control/std": -1.0},
        library_dir="relative/folder",
    )
    problems = bad.validate()
    assert len(problems) == 6
    assert any("https://" in p for p in problems)
    assert any("between 1 and 20" in p for p in problems)
    assert any("proxy" in p for p in problems)
    assert any("negative" in p for p in problems)
    assert any("full path" in p for p in problems)
    assert Settings(base_url="http://127.0.0.1:8123", proxy="socks5://127.0.0.1:9050",
                    library_dir=str(tmp_path)).validate() == []


def test_settings_file_never_contains_the_key(path: Path) -> None:
    save_settings(Settings(rates={"kling-v3-motion-control/pro": 0.1}), path)
    text = path.read_text(encoding="utf-8")
    assert TEST_KEY not in text
    assert "key" not in json.loads(text)
    assert not any("key" in name for name in json.loads(text))


def test_currency_and_provider_pages_round_trip(path: Path) -> None:
    defaults = Settings()
    assert defaults.currency == "USD"
    # The default provider's pages while its address is in use; none for another one.
    assert defaults.account_page() == DEFAULT_ACCOUNT_PAGE_URL
    assert defaults.pricing_page() == DEFAULT_PRICING_PAGE_URL
    assert DEFAULT_ACCOUNT_PAGE_URL.startswith("https://api.foxapi.cc/")
    other = Settings(base_url="https://api.reseller.example")
    assert other.account_page() is None
    assert other.pricing_page() is None
    chosen = Settings(base_url="https://api.reseller.example", currency="CNY",
                      account_page_url="https://reseller.example/keys",
                      pricing_page_url="https://reseller.example/prices")
    save_settings(chosen, path)
    loaded = load_settings(path)
    assert loaded == chosen
    assert loaded.account_page() == "https://reseller.example/keys"
    assert loaded.pricing_page() == "https://reseller.example/prices"


@pytest.mark.parametrize("page", ["http://reseller.example/keys", "file:///etc/passwd",
                                  "javascript:alert(1)", "reseller.example"])
def test_only_https_pages_are_offered(page: str) -> None:
    settings = Settings(account_page_url=page, pricing_page_url=page)
    assert settings.account_page() is None
    assert settings.pricing_page() is None
    problems = settings.validate()
    assert any("account page" in p and "https://" in p for p in problems)
    assert any("price page" in p for p in problems)


def test_an_unknown_currency_falls_back_to_the_default(
        path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"currency": "GBP", "rates": {"a/b": 0.1}}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="kling_desktop"):
        settings = load_settings(path)
    assert settings.currency == "USD"
    assert settings.rates == {"a/b": 0.1}
    assert "currency" in caplog.text
    assert Settings(currency="GBP").validate() != []
