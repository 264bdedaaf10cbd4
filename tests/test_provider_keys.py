"""A key is a credential for ONE provider: one keyring entry per provider origin.

Found by a hostile tester: jobs remember the address they were created at, but
resuming them sent the key set *now*, so after a switch of reseller the new
reseller's key went to the old address on every poll. These tests pin the rule
down against the real keyring (tests/run.sh starts a private one).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.engine.keys_cli import default_provider, run_key_command
from kling_desktop.engine.secrets import (
    InvalidKeyError,
    KeyringUnavailableError,
    delete_api_key,
    forget_session_keys,
    get_api_key,
    key_source,
    keyring_status,
    migrate_legacy_key,
    provider_name,
    provider_origin,
    service_name,
    store_api_key,
    stored_providers,
    use_key_for_session,
)
from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.paths import app_paths
from tests.conftest import TEST_KEY

OLD = "https://api.foxapi.cc"              # the default provider
NEW = "https://api.reseller.example"       # another reseller
OLD_KEY = "sk-old-reseller-5e1d2c3b4a59"
NEW_KEY = "sk-new-reseller-9a8b7c6d5e4f"
SECRETS = (TEST_KEY, OLD_KEY, NEW_KEY)


@pytest.fixture
def keys(isolated_env: Path, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The real keyring (or a skip saying why); afterwards every entry made is gone,
    no secret is in any file of the data folder, and none was logged."""
    status = keyring_status()
    if not status.ok:
        pytest.skip(f"no usable keyring ({status.backend}): {status.message}")
    caplog.set_level(logging.DEBUG, logger="kling_desktop")
    try:
        yield
    finally:
        forget_session_keys()
        for origin in stored_providers():
            delete_api_key(origin)
        with contextlib.suppress(Exception):
            keyring.delete_password(service_name(), "api-key")
        assert stored_providers() == []
        assert_no_secret_in_files(isolated_env)
        for secret in SECRETS:
            assert secret not in caplog.text, "a key was logged"


def assert_no_secret_in_files(folder: Path) -> None:
    for path in (p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"a key leaked into {path}"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        keyring.set_keyring(previous)


# ------------------------------------------------------------------------------ origins


@pytest.mark.parametrize(("url", "origin"), [
    ("https://api.foxapi.cc", "https://api.foxapi.cc"),
    ("https://API.FoxAPI.cc/", "https://api.foxapi.cc"),
    ("HTTPS://api.foxapi.cc:443/v1/tasks?x=1#y", "https://api.foxapi.cc"),
    ("  https://api.foxapi.cc  ", "https://api.foxapi.cc"),
    ("https://api.foxapi.cc:8443", "https://api.foxapi.cc:8443"),
    ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
    ("http://localhost:80", "http://localhost"),
    ("http://[::1]:9000/v1", "http://[::1]:9000"),
    ("https://user:secret@api.foxapi.cc", "https://api.foxapi.cc"),
])
def test_provider_origin_normalises(url: str, origin: str) -> None:
    assert provider_origin(url) == origin
    assert provider_name(url) == origin.split("://")[1]


@pytest.mark.parametrize("garbage", [
    "", "   ", "api.foxapi.cc", "ftp://api.foxapi.cc", "https://", "https:///v1",
    "https://api.foxapi.cc:notaport", "https://api.foxapi.cc:99999", "mailto:me@example.com",
    TEST_KEY,
])
def test_provider_origin_refuses_garbage_without_quoting_it(garbage: str) -> None:
    with pytest.raises(ValueError) as caught:
        provider_origin(garbage)
    # the same words whatever was given: it may be a key pasted in the wrong field
    assert str(caught.value) == "not a provider address (it must look like https://api.example.com)"


# ---------------------------------------------------------------- one key per provider


@pytest.mark.usefixtures("keys")
def test_two_providers_keep_two_keys() -> None:
    store_api_key(OLD_KEY, OLD)
    store_api_key(NEW_KEY, NEW + "/v1")
    assert get_api_key(OLD) == OLD_KEY
    assert get_api_key("https://API.foxapi.cc:443/") == OLD_KEY
    assert get_api_key(NEW) == NEW_KEY
    assert key_source(NEW) == "keyring"
    assert get_api_key("https://api.third.example") is None
    assert key_source("https://api.third.example") is None
    assert get_api_key() == OLD_KEY          # no address: the default provider
    assert get_api_key("http://127.0.0.1:8123") is None
    # a job created at the old address keeps getting the old key, whatever is set now
    store_api_key("sk-newer-than-new-0000", NEW)
    assert get_api_key(OLD) == OLD_KEY
    delete_api_key(NEW)
    assert get_api_key(NEW) is None
    assert get_api_key(OLD) == OLD_KEY
    delete_api_key(NEW)                       # nothing stored: still fine


@pytest.mark.usefixtures("keys")
def test_stored_providers_lists_every_origin_with_a_key() -> None:
    assert stored_providers() == []
    store_api_key(NEW_KEY, NEW + "/v1/")
    store_api_key(OLD_KEY)                    # the default provider
    store_api_key("sk-local-simulator-1", "http://127.0.0.1:8123")
    assert stored_providers() == ["http://127.0.0.1:8123", OLD, NEW]
    store_api_key(NEW_KEY, NEW)               # again: listed once
    assert stored_providers() == ["http://127.0.0.1:8123", OLD, NEW]
    delete_api_key("http://127.0.0.1:8123/")
    assert stored_providers() == [OLD, NEW]
    # removed behind our back (a keyring manager): not listed any more
    username = next(u for u in _usernames() if u.endswith(NEW))
    keyring.delete_password(service_name(), username)
    assert stored_providers() == [OLD]


def _usernames() -> list[str]:
    """The entry names the app may use for the providers under test."""
    return [f"api-key@{origin}" for origin in (OLD, NEW)]


@pytest.mark.usefixtures("keys")
def test_the_list_of_providers_holds_no_secret() -> None:
    store_api_key(OLD_KEY, OLD)
    store_api_key(NEW_KEY, NEW)
    entries = {u: keyring.get_password(service_name(), u) for u in ("providers",)}
    assert entries["providers"] is not None
    for secret in SECRETS:
        assert secret not in entries["providers"]
    assert keyring.get_password(service_name(), f"api-key@{OLD}") == OLD_KEY
    assert keyring.get_password(service_name(), "api-key") is None   # no single key any more


# ------------------------------------------------------------------ the environment


@pytest.mark.usefixtures("keys")
def test_environment_key_applies_to_the_default_provider_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store_api_key(NEW_KEY, NEW)
    monkeypatch.setenv("KLING_API_KEY", f" {TEST_KEY} ")
    assert get_api_key() == TEST_KEY
    assert get_api_key(DEFAULT_BASE_URL + "/") == TEST_KEY
    assert key_source(OLD) == "environment"
    assert get_api_key(NEW) == NEW_KEY        # never the environment's key
    assert key_source(NEW) == "keyring"
    assert get_api_key("http://127.0.0.1:8123") is None
    assert key_source("http://127.0.0.1:8123") is None


@pytest.mark.usefixtures("keys")
def test_environment_key_follows_kling_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    store_api_key(OLD_KEY, OLD)
    monkeypatch.setenv("KLING_API_KEY", TEST_KEY)
    monkeypatch.setenv("KLING_BASE_URL", "http://127.0.0.1:8123/")
    assert get_api_key("http://127.0.0.1:8123") == TEST_KEY
    assert get_api_key() == TEST_KEY          # the default provider is KLING_BASE_URL's
    assert get_api_key(OLD) == OLD_KEY        # not the environment's key
    assert key_source(OLD) == "keyring"
    assert get_api_key(NEW) is None


@pytest.mark.usefixtures("no_keyring")
def test_environment_key_with_a_broken_base_url_applies_nowhere() -> None:
    env = {"KLING_API_KEY": TEST_KEY, "KLING_BASE_URL": "not an address",
           "KLING_KEYRING_SERVICE": service_name()}
    assert get_api_key(OLD, env) is None
    assert key_source(OLD, env) is None
    with pytest.raises(ValueError):
        get_api_key(None, env)


@pytest.mark.usefixtures("no_keyring")
def test_environment_key_without_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_API_KEY", TEST_KEY)
    assert get_api_key(OLD) == TEST_KEY
    assert get_api_key(NEW) is None
    assert key_source(NEW) is None


def test_garbage_addresses_are_refused_by_every_call() -> None:
    calls: list[Callable[[], object]] = [
        lambda: get_api_key("nonsense"), lambda: key_source("nonsense"),
        lambda: store_api_key(TEST_KEY, "nonsense"), lambda: delete_api_key("nonsense"),
        lambda: use_key_for_session(TEST_KEY, "nonsense"),
    ]
    for call in calls:
        with pytest.raises(ValueError) as caught:
            call()
        assert TEST_KEY not in f"{caught.value} {caught.value!r}"


# ------------------------------------------------------------------ session-only keys


@pytest.mark.usefixtures("no_keyring")
def test_a_session_key_belongs_to_its_provider_and_stays_in_memory() -> None:
    try:
        use_key_for_session(f" {NEW_KEY} ", NEW + "/v1")
        assert get_api_key(NEW) == NEW_KEY
        assert key_source(NEW) == "session"
        assert get_api_key(OLD) is None
        assert key_source(OLD) is None
    finally:
        forget_session_keys()
    assert get_api_key(NEW) is None


# ------------------------------------------------------------------ refused keys


@pytest.mark.parametrize("bad", ["sk-with space-1234", "sk-ключ-1234", "sk-tab\there",
                                 "sk-nul\x00key", "sk-\u200bzero-width"])
def test_keys_with_characters_a_key_cannot_have_are_refused(bad: str) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        store_api_key(bad, OLD)
    assert isinstance(caught.value, ValueError)
    assert caught.value.fix
    assert bad not in f"{caught.value} {caught.value!r} {caught.value.message}"
    with pytest.raises(InvalidKeyError):
        use_key_for_session(bad, OLD)


def test_an_empty_key_is_refused_with_a_fix() -> None:
    with pytest.raises(InvalidKeyError, match="empty") as caught:
        store_api_key("  \n", OLD)
    assert caught.value.fix


# ------------------------------------------------------------------ the old single key


@pytest.mark.usefixtures("keys")
def test_migration_moves_the_legacy_key_once() -> None:
    keyring.set_password(service_name(), "api-key", f"{OLD_KEY}\n")
    assert get_api_key(OLD) is None           # the old entry is nobody's key until moved
    assert migrate_legacy_key(DEFAULT_BASE_URL + "/v1") is True
    assert get_api_key(OLD) == OLD_KEY
    assert keyring.get_password(service_name(), "api-key") is None
    assert stored_providers() == [OLD]
    assert migrate_legacy_key(DEFAULT_BASE_URL) is False      # idempotent
    assert migrate_legacy_key(NEW) is False                   # nothing left to move
    assert get_api_key(NEW) is None
    assert get_api_key(OLD) == OLD_KEY


@pytest.mark.usefixtures("keys")
def test_migration_goes_to_the_given_provider() -> None:
    keyring.set_password(service_name(), "api-key", NEW_KEY)
    assert migrate_legacy_key(NEW) is True
    assert get_api_key(NEW) == NEW_KEY
    assert get_api_key(OLD) is None


@pytest.mark.usefixtures("keys")
def test_migration_never_overwrites_a_key_already_kept_for_the_provider() -> None:
    store_api_key(NEW_KEY, OLD)
    keyring.set_password(service_name(), "api-key", OLD_KEY)
    assert migrate_legacy_key(OLD) is False
    assert get_api_key(OLD) == NEW_KEY
    assert keyring.get_password(service_name(), "api-key") is None


@pytest.mark.usefixtures("no_keyring")
def test_migration_without_a_keyring_moves_nothing_and_does_not_raise() -> None:
    assert migrate_legacy_key(OLD) is False
    with pytest.raises(ValueError):
        migrate_legacy_key("nonsense")


@pytest.mark.usefixtures("no_keyring")
def test_no_keyring_is_said_in_plain_words() -> None:
    with pytest.raises(KeyringUnavailableError):
        store_api_key(TEST_KEY, NEW)
    assert stored_providers() == []


# ------------------------------------------------------------- `kling-desktop key ...`


def run(action: str, provider: str | None = None, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_key_command(action, provider, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.usefixtures("keys")
def test_key_command_set_status_delete_per_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run("set", NEW + "/v1", f"{NEW_KEY}\n")
    assert code == 0, err
    assert "api.reseller.example" in out
    code, out, err = run("set", None, f"{OLD_KEY}\n")   # the default provider
    assert code == 0, err
    assert get_api_key(NEW) == NEW_KEY
    assert get_api_key(OLD) == OLD_KEY

    monkeypatch.setenv("KLING_API_KEY", TEST_KEY)
    code, out, err = run("status")
    assert code == 0, err
    assert OLD in out
    assert NEW in out
    assert "KLING_API_KEY" in out
    kling_line = next(line for line in out.splitlines() if "KLING_API_KEY" in line)
    assert "api.foxapi.cc" in kling_line
    for secret in SECRETS:
        assert secret not in out + err

    monkeypatch.delenv("KLING_API_KEY")
    code, out, err = run("delete", NEW)
    assert code == 0, err
    assert "removed" in out
    assert get_api_key(NEW) is None
    assert get_api_key(OLD) == OLD_KEY
    code, out, _ = run("status", NEW)
    assert code == 0
    assert NEW not in [line.strip() for line in out.splitlines()]


@pytest.mark.usefixtures("keys")
def test_key_command_default_provider_follows_settings(isolated_env: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(base_url=NEW + "/"), app_paths().ensure().settings_file)
    assert provider_origin(default_provider()) == NEW
    code, _, err = run("set", None, NEW_KEY)
    assert code == 0, err
    assert get_api_key(NEW) == NEW_KEY
    assert get_api_key(OLD) is None
    monkeypatch.setenv("KLING_BASE_URL", OLD)
    assert default_provider() == OLD


@pytest.mark.parametrize(("stdin", "provider", "words"), [
    ("\n", None, "No key given"),
    ("sk-with space-1234\n", None, "cannot have"),
    (f"{TEST_KEY}\n", "not an address", "address"),
])
def test_key_command_refuses_locally(stdin: str, provider: str | None, words: str) -> None:
    code, out, err = run("set", provider, stdin)
    assert code == 2
    assert words in err
    assert TEST_KEY not in out + err
    assert "sk-with space" not in out + err


@pytest.mark.usefixtures("no_keyring")
def test_key_command_without_a_keyring_says_how_to_fix_it() -> None:
    code, out, err = run("set", NEW, f"{TEST_KEY}\n")
    assert code == 2
    assert "Fix:" in err
    assert TEST_KEY not in out + err
    code, out, err = run("status")
    assert code == 0
    assert "Fix:" in out


def test_key_command_refuses_an_unknown_action() -> None:
    code, _, err = run("show")
    assert code == 2
    assert "set, status or delete" in err
