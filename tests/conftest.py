"""Fixtures every test shares.

- Every data location points into ``tmp_path`` (``KLING_DATA_DIR``), so no test
  touches the real home folder.
- The keyring service name is unique per test, so no test touches the real
  keyring entry; entries a test made are deleted afterwards.
- ``KLING_API_KEY`` and ``KLING_BASE_URL`` from the developer's shell never leak in.
- Messages are English (``LANGUAGE=en``), whatever the machine's language.
- No non-daemon thread a test started may outlive it.
- After every test that talked to the simulator, the key's bytes are in no file
  under the data folder and in no output of `jobs`, `jobs --json` and
  `library list --json` (run in process, as a script would see them).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop import i18n
from kling_desktop.engine import secrets
from kling_desktop.engine.library import Library
from kling_desktop.engine.store import JobStore
from kling_desktop.simulator import Simulator, SimulatorConfig

# Before pytest-qt creates the QApplication (tests/run.sh exports it too).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TEST_KEY = "sk-test-3f9a1c0b7e2d4a6b"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "kling-data"
    monkeypatch.setenv("KLING_DATA_DIR", str(data))
    service = f"kling-desktop-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("KLING_KEYRING_SERVICE", service)
    monkeypatch.delenv("KLING_API_KEY", raising=False)
    monkeypatch.delenv("KLING_BASE_URL", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    # Tests read English unless they ask for another language (a Chinese machine too):
    # LANGUAGE comes first for gettext and the command line; the locale's formats stay.
    monkeypatch.setenv("LANGUAGE", "en")
    i18n.install("en")
    yield data
    # No usable keyring here means nothing can have been stored.
    with contextlib.suppress(secrets.KeyringUnavailableError):
        for origin in secrets.stored_providers():
            secrets.delete_api_key(origin)
        secrets.delete_api_key()
    secrets.forget_session_keys()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and not t.daemon
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads outlived the test: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def key_never_leaks(request: pytest.FixtureRequest, isolated_env: Path) -> Iterator[None]:
    yield
    if "sim" not in request.fixturenames or not isolated_env.exists():
        return
    needle = TEST_KEY.encode()
    leaks = [path for path in isolated_env.rglob("*")
             if path.is_file() and not path.is_symlink() and needle in path.read_bytes()]
    assert not leaks, f"the API key was written to {leaks}"
    from kling_desktop.cli import run_command
    from kling_desktop.main import build_parser

    for argv in (["jobs"], ["jobs", "--json"], ["library", "list", "--json"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run_command(build_parser().parse_args(argv))
        assert TEST_KEY not in out.getvalue() + err.getvalue(), f"the key is in `{argv}`"


@pytest.fixture
def api_key() -> str:
    return TEST_KEY


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A real job store (SQLite, WAL) in the test's folder."""
    with JobStore(tmp_path / "data" / "jobs.sqlite3") as opened:
        yield opened


@pytest.fixture
def library(tmp_path: Path, store: JobStore) -> Library:
    """A real library folder in the test's folder, indexed into ``store``."""
    return Library(tmp_path / "library", store)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    """A provider simulator on a free loopback port that accepts only ``TEST_KEY``."""
    simulator = Simulator(SimulatorConfig(api_key=TEST_KEY), storage_dir=tmp_path / "sim")
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
