"""Private data stays private (POSIX): the data folder is the owner's alone.

The jobs database, settings, logs and cache live in folders only the owner may
open (0700) and files only the owner may read (0600); existing installs are
tightened at every start. The library folder holds the user's own videos and
keeps their normal permissions. Mode bits are checked with ``stat`` (this works
as root too, where access refusal cannot be tested).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.log_file import PrivateRotatingFileHandler
from kling_desktop.paths import AppPaths, app_paths, make_private
from kling_desktop.simulator import Simulator

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The most permissive umask: anything not made private on purpose shows."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_make_private_files_and_folders(tmp_path: Path, loose_umask: None) -> None:
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o777)
    file = folder / "file"
    file.write_bytes(b"secret")
    file.chmod(0o755)
    make_private(folder)
    make_private(file)
    assert mode(folder) == 0o700
    assert mode(file) == 0o600
    make_private(file)            # already private: nothing to do, no error
    assert mode(file) == 0o600


def test_make_private_never_raises_for_a_vanished_file(tmp_path: Path) -> None:
    make_private(tmp_path / "gone")
    make_private(tmp_path / "no such folder" / "gone")


def test_make_private_does_not_follow_links(tmp_path: Path, loose_umask: None) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not ours to change")
    target.chmod(0o644)
    link = tmp_path / "link"
    link.symlink_to(target)
    make_private(link)
    assert mode(target) == 0o644


def test_a_new_data_folder_is_owner_only(isolated_env: Path, loose_umask: None) -> None:
    paths = app_paths().ensure()
    for folder in (paths.data_dir, paths.logs_dir, paths.cache_dir, paths.settings_file.parent,
                   paths.database.parent):
        assert mode(folder) == 0o700, folder


def test_an_existing_install_is_tightened_on_start(isolated_env: Path,
                                                   loose_umask: None) -> None:
    paths = app_paths()
    for folder in (paths.data_dir, paths.logs_dir, paths.cache_dir):
        folder.mkdir(parents=True, exist_ok=True, mode=0o777)
        folder.chmod(0o755)
    old_files = [paths.database, paths.database.with_name(paths.database.name + "-wal"),
                 paths.settings_file, paths.settings_file.with_name("settings.json.bad-1"),
                 paths.logs_dir / "kling-desktop.log", paths.logs_dir / "kling-desktop.log.1"]
    for file in old_files:
        file.write_bytes(b"private")
        file.chmod(0o644)
    library = paths.default_library_dir
    library.mkdir(mode=0o755)
    library.chmod(0o755)
    video = library / "mine.mp4"
    video.write_bytes(b"video")
    video.chmod(0o644)

    paths.ensure()

    for folder in (paths.data_dir, paths.logs_dir, paths.cache_dir):
        assert mode(folder) == 0o700, folder
    for file in old_files:
        assert mode(file) == 0o600, file
    # the library holds the user's own videos: their permissions stay as they were
    assert mode(library) == 0o755
    assert mode(video) == 0o644


def test_ensure_survives_a_folder_it_cannot_change(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may change any file's mode")
    foreign = Path("/")   # not ours: chmod is refused
    paths = AppPaths(data_dir=tmp_path / "d", database=tmp_path / "d" / "db",
                     settings_file=tmp_path / "d" / "settings.json", logs_dir=foreign,
                     cache_dir=tmp_path / "d" / "cache", default_library_dir=tmp_path / "lib")
    paths.ensure()
    assert mode(paths.data_dir) == 0o700


def test_settings_are_written_owner_only(isolated_env: Path, loose_umask: None) -> None:
    path = app_paths().settings_file
    save_settings(Settings(proxy="http://user:pw@proxy.example:8080"), path)
    assert mode(path) == 0o600
    path.chmod(0o644)              # written again: private again
    save_settings(Settings(), path)
    assert mode(path) == 0o600


def test_log_files_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "logs" / "kling-desktop.log"
    path.parent.mkdir()
    handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
    logger = logging.getLogger("kling-test-private-log")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(20):       # enough to roll over twice
            logger.warning("line %d %s", n, "x" * 40)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(path.parent.iterdir())
    assert len(files) == 3
    for file in files:
        assert mode(file) == 0o600, file


def test_an_existing_log_file_is_tightened_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "kling-desktop.log"
    path.write_text("old line\n", encoding="utf-8")
    path.chmod(0o644)
    handler = PrivateRotatingFileHandler(path, maxBytes=10_000, backupCount=1, encoding="utf-8")
    handler.close()
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "old line\n"   # appended to, not truncated


def test_library_files_keep_the_users_normal_permissions(tmp_path: Path) -> None:
    from kling_desktop.engine.library import Library
    from tests.library_support import download, finished_job

    old = os.umask(0o022)
    try:
        inputs = tmp_path / "inputs"
        inputs.mkdir()
        image, clip = inputs / "a.png", inputs / "b.mp4"
        image.write_bytes(b"\x89PNG" + b"\x00" * 100)
        clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
        library = Library(tmp_path / "library")
        job = finished_job(str(image), str(clip))
        entry = library.add_result(job, download(library, job))
        library.set_mark(entry, "keeper")
        assert entry.image.copy is not None
        for path in (entry.sidecar_path, library.root / entry.image.copy):
            assert mode(path) == 0o644, path
        report = library.export_results([entry], tmp_path / "export")
        for path in (*report.videos, *report.sidecars, *report.inputs):
            assert mode(path) == 0o644, path
    finally:
        os.umask(old)


@pytest.mark.parametrize(("umask", "file_mode", "folder_mode"),
                         [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_a_downloaded_result_and_its_exports_follow_the_umask(
        tmp_path: Path, sim: Simulator, umask: int, file_mode: int, folder_mode: int) -> None:
    """The whole way a result takes: the real download into the library, its sidecar and
    kept inputs, an export; a shared library is as readable as the user's umask says,
    while the job database next to it stays the owner's alone."""
    from kling_desktop.api.client import KlingClient
    from kling_desktop.engine.library import Library
    from kling_desktop.engine.store import JobStore
    from tests.conftest import TEST_KEY
    from tests.library_support import finished_job
    from tests.media import make_image, make_video

    old = os.umask(umask)
    try:
        image = make_image(tmp_path / "in", width=64, height=64)
        clip = make_video(tmp_path / "in", seconds=1, width=64, height=64)
        with JobStore(tmp_path / "data" / "jobs.sqlite3") as store, \
                KlingClient(sim.base_url, TEST_KEY) as client:
            library = Library(tmp_path / "shared library", store)
            job = finished_job(str(image), str(clip))
            target = library.target_path(job)
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download(client.upload_file(clip).url, target)
            entry = library.add_result(job, target)
            assert entry.image.copy is not None
            assert entry.video.copy is not None
            report = library.export_results([entry], tmp_path / "export")
            for path in (target, entry.sidecar_path, library.root / entry.image.copy,
                         library.root / entry.video.copy, *report.videos, *report.sidecars,
                         *report.inputs):
                assert mode(path) == file_mode, path
            for folder in (library.root, library.root / ".inputs", tmp_path / "export"):
                assert mode(folder) == folder_mode, folder
            assert mode(tmp_path / "data" / "jobs.sqlite3") == 0o600
    finally:
        os.umask(old)
