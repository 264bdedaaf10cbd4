"""The API key lives in the environment or the real OS keyring, never in a file.

Round trips run against the real keyring (under ``dbus-run-session`` with
``gnome-keyring-daemon --unlock --components=secrets`` on Linux); they are
skipped, saying why, only when no usable backend exists at all.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest

from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.engine import secrets
from kling_desktop.engine.jobs import JobSpec, JobState
from kling_desktop.engine.library import Library
from kling_desktop.engine.secrets import (
    KeyringUnavailableError,
    delete_api_key,
    get_api_key,
    key_source,
    keyring_status,
    service_name,
    store_api_key,
)
from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.engine.store import JobStore
from kling_desktop.paths import app_paths
from tests.conftest import TEST_KEY

LINUX_FIX = ("To keep the key for next time, unlock or install your desktop's password store "
             "(GNOME Keyring or KDE Wallet), then start the app again.")
SESSION_COLLECTION = "/org/freedesktop/secrets/collection/session"


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def real_keyring(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """The real OS keyring, or a skip that says why there is none."""
    backend: Any = keyring.get_keyring()
    status = keyring_status()
    patched = False
    if not status.ok and type(backend).__module__ == "keyring.backends.SecretService":
        # gnome-keyring unlocked with an empty password has no default ("login")
        # collection and cannot show the prompt that creates one when headless.
        # Its in-memory "session" collection is still the real Secret Service over D-Bus.
        backend.preferred_collection = SESSION_COLLECTION
        patched = True
        status = keyring_status()
    try:
        if not status.ok:
            pytest.skip(f"no usable keyring backend ({status.backend}): {status.message}")
        caplog.set_level(logging.DEBUG, logger="kling_desktop")
        yield status.backend
        delete_api_key()
    finally:
        if patched:
            backend.preferred_collection = None
    assert TEST_KEY not in caplog.text, "the key was logged"


class _ExplicitOnly(keyring.backend.KeyringBackend):
    """Test backends are registered with keyring on definition: never let it pick them."""

    viable = False
    priority = 1


class _RaisingBackend(_ExplicitOnly):
    """A real-looking backend whose every call fails, quoting the key in its error."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(f"D-Bus said no to {TEST_KEY}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"could not store {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError(f"could not delete {TEST_KEY}")


class _AltFileBackend(_ExplicitOnly):
    """Stands in for keyrings.alt's plain-file keyring (recognised by its module)."""
    stored: dict[tuple[str, str], str] = {}  # noqa: RUF012 - class-level on purpose

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


_AltFileBackend.__module__ = "keyrings.alt.file"


def make(backend_class: Any) -> Any:
    """An instance of a keyring backend class (their constructors are untyped)."""
    return backend_class()


def assert_refused(exc: KeyringUnavailableError) -> None:
    text = f"{exc} {exc!r} {exc.message} {exc.fix} {exc.detail}"
    assert TEST_KEY not in text
    assert exc.message
    # Words for people up front; the backend and the variable only in the details.
    for technical in ("KLING_API_KEY", "keyring.backends", "fail Keyring", "backend"):
        assert technical not in f"{exc.message} {exc.fix}"
    assert "KLING_API_KEY" in exc.detail
    assert "Keyring backend:" in exc.detail
    if sys.platform.startswith("linux"):
        assert exc.fix == LINUX_FIX


# -------------------------------------------------------------------- the real keyring


def test_round_trip_in_the_real_keyring(real_keyring: str) -> None:
    assert service_name().startswith("kling-desktop-test-")  # conftest's private service
    assert get_api_key() is None
    assert key_source() is None
    store_api_key(f"  {TEST_KEY}\n")
    assert get_api_key() == TEST_KEY
    assert key_source() == "keyring"
    # one entry per provider origin; no address means the default provider
    assert keyring.get_password(service_name(), f"api-key@{DEFAULT_BASE_URL}") == TEST_KEY
    assert keyring.get_password(service_name(), "api-key") is None
    store_api_key("sk-replaced")
    assert get_api_key() == "sk-replaced"
    # the environment wins over the keyring (for the provider it applies to)
    assert get_api_key(environ={"KLING_API_KEY": " sk-from-env ",
                                "KLING_KEYRING_SERVICE": service_name()}) == "sk-from-env"
    delete_api_key()
    assert get_api_key() is None
    delete_api_key()  # nothing stored: still fine
    status = keyring_status()
    assert status.ok
    assert status.fix == ""
    assert status.message == "Your key is saved in the system's password store."
    assert status.backend in status.detail


def test_key_bytes_appear_in_no_file_of_the_data_folder(
    real_keyring: str, isolated_env: Path, tmp_path: Path
) -> None:
    paths = app_paths().ensure()
    store_api_key(TEST_KEY)
    # everything the app writes into its data folder during normal use
    save_settings(Settings(), paths.settings_file)
    with JobStore(paths.database) as store:
        image = tmp_path / "me.png"
        clip = tmp_path / "clip.mp4"
        image.write_bytes(b"png")
        clip.write_bytes(b"mp4")
        job = store.add_job(JobSpec(image=str(image), video=str(clip)),
                            base_url="https://api.example.com", demo=False)
        job = store.transition(job.id, JobState.DOWNLOADING, task_id="task-1")
        library = Library(Settings().library_path(paths), store)
        video = library.target_path(job)
        video.parent.mkdir(parents=True, exist_ok=True)
        video.write_bytes(b"result")
        library.add_result(job, video)
    assert get_api_key() == TEST_KEY
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert len(files) >= 5
    for path in files:
        assert TEST_KEY.encode() not in path.read_bytes(), path


# ----------------------------------------------------------- the environment variable


def test_environment_variable_wins_and_is_stripped(
    monkeypatch: pytest.MonkeyPatch, restore_keyring: None
) -> None:
    keyring.set_keyring(make(keyring.backends.fail.Keyring))  # the keyring is never asked
    monkeypatch.setenv("KLING_API_KEY", f"  {TEST_KEY}\n")
    assert get_api_key() == TEST_KEY
    assert key_source() == "environment"
    assert get_api_key(environ={"KLING_API_KEY": "sk-other"}) == "sk-other"
    assert key_source(environ={"KLING_API_KEY": "sk-other"}) == "environment"
    monkeypatch.setenv("KLING_API_KEY", "   ")
    assert get_api_key() is None
    assert key_source() is None


def test_service_name_from_the_environment() -> None:
    assert service_name({}) == "kling-desktop"
    assert service_name({"KLING_KEYRING_SERVICE": " other "}) == "other"


# ---------------------------------------------------------------- refused backends


def test_fail_backend_is_refused_in_plain_words(restore_keyring: None) -> None:
    keyring.set_keyring(make(keyring.backends.fail.Keyring))
    with pytest.raises(KeyringUnavailableError) as caught:
        store_api_key(TEST_KEY)
    assert_refused(caught.value)
    assert caught.value.message == (
        "This computer has no password store we can use, so the key can only be used "
        "until you close the app.")
    assert "fail" in caught.value.detail.lower()        # which backend was refused
    status = keyring_status()
    assert not status.ok
    assert status.message == caught.value.message
    assert status.fix == caught.value.fix
    assert status.detail == caught.value.detail
    assert get_api_key() is None
    assert key_source() is None
    with pytest.raises(KeyringUnavailableError):
        delete_api_key()


@pytest.mark.parametrize(
    "backend",
    [make(keyring.backends.null.Keyring), make(_AltFileBackend)],
    ids=["null", "keyrings.alt"],
)
def test_backends_that_keep_nothing_or_write_files_are_refused(
    backend: Any, restore_keyring: None
) -> None:
    keyring.set_keyring(backend)
    with pytest.raises(KeyringUnavailableError) as caught:
        store_api_key(TEST_KEY)
    assert_refused(caught.value)
    assert _AltFileBackend.stored == {}
    assert not keyring_status().ok


def test_chainer_without_a_safe_backend_is_refused(restore_keyring: None) -> None:
    class OnlyUnsafe(keyring.backends.chainer.ChainerBackend):
        viable = False
        backends = [make(_AltFileBackend), make(keyring.backends.fail.Keyring)]  # noqa: RUF012

    keyring.set_keyring(make(OnlyUnsafe))
    with pytest.raises(KeyringUnavailableError) as caught:
        store_api_key(TEST_KEY)
    assert_refused(caught.value)
    assert _AltFileBackend.stored == {}


def test_backend_errors_never_carry_the_key(
    restore_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kling_desktop")
    keyring.set_keyring(make(_RaisingBackend))
    for call in (lambda: store_api_key(TEST_KEY), get_api_key, delete_api_key):
        with pytest.raises(KeyringUnavailableError) as caught:
            call()
        assert_refused(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
    assert key_source() is None
    assert not keyring_status().ok
    assert TEST_KEY not in caplog.text


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        store_api_key("   ")


def test_module_never_writes_files() -> None:
    """secrets.py has no file-writing code path at all."""
    source = Path(secrets.__file__).read_text(encoding="utf-8")
    for forbidden in ("open(", "write_text", "write_bytes", "write_atomic"):
        assert forbidden not in source
