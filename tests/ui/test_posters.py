"""The posters' limits: the pixmaps in memory are bounded by bytes, the disk cache is
pruned by age and size, and pruning never touches anything outside the cache folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPixmap
from pytestqt.qtbot import QtBot

from kling_desktop.ui import posters
from kling_desktop.ui.posters import Thumbnails, pixmap_bytes, prune_disk_cache
from kling_desktop.ui.tasks import TaskRunner


def poster(width: int = 100, height: int = 50) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    return image


def test_the_memory_cache_evicts_the_least_recently_painted_by_bytes(
        qtbot: QtBot, tmp_path: Path) -> None:
    tasks = TaskRunner()
    thumbs = Thumbnails(tmp_path, tasks, box=QSize(100, 100))
    try:
        sample = QPixmap.fromImage(poster())
        one = pixmap_bytes(sample)
        assert one == 100 * 50 * sample.depth() // 8
        thumbs.memory_limit = one * 3    # room for three posters
        for key in ("a", "b", "c"):
            thumbs._remember(key, poster())
        assert thumbs.memory_bytes() == one * 3
        assert thumbs.cached("a") is not None      # "a" was painted again: now the newest
        thumbs._remember("d", poster())
        assert thumbs.cached("b") is None           # the least recently painted went
        assert [k for k in "acd" if thumbs.cached(k) is not None] == ["a", "c", "d"]
        assert thumbs.memory_bytes() <= thumbs.memory_limit
        thumbs._remember("big", poster(100, 100))   # two posters' worth: two more go
        assert thumbs.memory_bytes() <= thumbs.memory_limit
        assert thumbs.cached("big") is not None
        assert thumbs.cached("a") is None
        assert thumbs.cached("c") is None
        thumbs.forget("big")
        assert thumbs.memory_bytes() == one
    finally:
        thumbs.shutdown()
        tasks.shutdown(5000)


def test_the_limits_are_in_one_place() -> None:
    assert posters.MEMORY_BYTES == 32 * 1024 * 1024   # ~280 tiles: ten screens back
    assert posters.DISK_BYTES > posters.MEMORY_BYTES
    assert posters.DISK_MAX_AGE > 0


def make(path: Path, size: int, age: float, now: float) -> Path:
    path.write_bytes(b"\xff" * size)
    os.utime(path, (now - age, now - age))
    return path


def test_pruning_removes_the_oldest_beyond_the_size_and_age_limits(tmp_path: Path) -> None:
    cache = tmp_path / "thumbnails"
    cache.mkdir()
    now = 1_000_000_000.0
    too_old = make(cache / "old.jpg", 10, age=100, now=now)
    older = make(cache / "older.jpg", 10, age=30, now=now)
    newer = make(cache / "newer.jpg", 10, age=20, now=now)
    newest = make(cache / "newest.jpg", 10, age=10, now=now)

    removed = prune_disk_cache(cache, max_bytes=20, max_age=50, now=now)

    assert removed == 2
    assert not too_old.exists()                 # past the age limit
    assert not older.exists()                   # the oldest of the rest, past the size
    assert newer.exists()
    assert newest.exists()
    assert prune_disk_cache(cache, max_bytes=20, max_age=50, now=now) == 0


def test_pruning_never_touches_anything_but_its_own_posters(tmp_path: Path) -> None:
    cache = tmp_path / "thumbnails"
    cache.mkdir()
    now = 1_000_000_000.0
    outside = make(tmp_path / "outside.jpg", 10, age=1000, now=now)
    other = make(cache / "notes.txt", 10, age=1000, now=now)
    sub = cache / "sub"
    sub.mkdir()
    nested = make(sub / "nested.jpg", 10, age=1000, now=now)
    (cache / "link.jpg").symlink_to(outside)
    mine = make(cache / "mine.jpg", 10, age=1000, now=now)

    assert prune_disk_cache(cache, max_bytes=0, max_age=1, now=now) == 1

    assert not mine.exists()
    assert outside.exists()
    assert other.exists()
    assert nested.exists()
    assert sub.is_dir()
    assert (cache / "link.jpg").is_symlink()
    assert prune_disk_cache(tmp_path / "missing", max_bytes=0, max_age=0, now=now) == 0


def test_a_poster_read_back_counts_as_used(qtbot: QtBot, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a clip")
    cache = tmp_path / "thumbnails"
    cache.mkdir()
    name = posters.cache_name(video)
    assert name is not None
    target = cache / name
    assert poster().save(str(target))   # the format from the name
    os.utime(target, (1000.0, 1000.0))
    found, image = posters._read_cached(cache, video, QSize(50, 50))
    assert found == name
    assert image is not None
    assert not image.isNull()
    assert target.stat().st_mtime > 1000.0


def test_pruning_removes_posters_half_written_by_a_stopped_helper(tmp_path: Path) -> None:
    cache = tmp_path / "thumbnails"
    cache.mkdir()
    now = 1_000_000_000.0
    name = "0123456789abcdef0123456789abcdef01234567.jpg"
    stale = make(cache / f".{name}.4242.tmp", 10, age=7200, now=now)
    fresh = make(cache / f".{name}.4243.tmp", 10, age=60, now=now)   # being written now
    other = make(cache / ".notes.tmp", 10, age=7200, now=now)

    prune_disk_cache(cache, now=now)

    assert not stale.exists()
    assert fresh.exists()
    assert other.exists()
