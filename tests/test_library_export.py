"""Export, trash and incremental sync of the library, and the gallery's index queries."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kling_desktop.engine.library import (
    Library,
    LibraryEntry,
    LibraryWriteError,
    read_sidecar,
)
from kling_desktop.engine.store import UNMARKED, JobStore, ResultFilter, ResultRecord
from tests.conftest import TEST_KEY
from tests.library_support import download, finished_job


def make(library: Library, store: JobStore, tmp_path: Path, count: int, *,
         base_url: str = "https://api.example.com") -> list[LibraryEntry]:
    inputs = tmp_path / "inputs"
    inputs.mkdir(exist_ok=True)
    image, clip = inputs / "hero.png", inputs / "moves.mp4"
    image.write_bytes(b"\x89PNG" + os.urandom(500))
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(3000))
    entries = []
    for n in range(count):
        job = finished_job(str(image), str(clip), prompt=f"dance {n}",
                           task=f"task-{n:04d}-abcdefgh", base_url=base_url,
                           billable_seconds=5.0, batch_id=None)
        target = download(library, job, 2000 + n)
        entries.append(library.add_result(job, target))
    return entries


# ------------------------------------------------------------------------- export


def test_export_copies_videos_sidecars_and_inputs_once(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entries = make(library, store, tmp_path, 2,
                   base_url=f"https://user:{TEST_KEY}@api.example.com")
    unreadable = entries[1]
    unreadable.sidecar_path.write_text("{ broken", encoding="utf-8")
    out = tmp_path / "out"
    progress: list[tuple[int, int]] = []
    report = library.export_results([entries[0], unreadable.video_path], out,
                                    progress=lambda d, t: progress.append((d, t)))
    assert sorted(p.name for p in report.videos) == sorted(
        e.video_path.name for e in entries)
    assert report.without_description == [out / unreadable.video_path.name]
    assert len(report.inputs) == 2   # picture and clip, shared, copied once
    exported = read_sidecar(out / entries[0].sidecar_path.name)
    assert exported.prompt == entries[0].prompt
    assert Library(out).input_path(exported.image) is not None   # a small library of its own
    assert (out / entries[0].video_path.name).read_bytes() == entries[0].video_path.read_bytes()
    assert progress[-1][0] == progress[-1][1] == report.bytes_copied
    for path in out.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes()
    # nothing is overwritten: a second export next to the first gets new names
    again = library.export_results([entries[0]], out)
    assert again.videos[0].name.endswith(" (2).mp4")
    assert read_sidecar(again.sidecars[0]).video_path == again.videos[0]
    assert again.inputs == []   # same content already there


def test_export_refuses_inputs_outside_the_library(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entry = make(library, store, tmp_path, 1)[0]
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    data["inputs"]["image"]["copy"] = "../secret.txt"
    entry.sidecar_path.write_text(json.dumps(data), encoding="utf-8")
    hacked = read_sidecar(entry.sidecar_path)
    assert library.input_path(hacked.image) is None
    report = library.export_results([hacked], tmp_path / "out")
    assert not any("secret" in p.name for p in (tmp_path / "out").rglob("*"))
    assert len(report.inputs) == 1


# -------------------------------------------------------------------------- trash


def test_delete_result_uses_the_trash_callable_and_drops_the_row(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entries = make(library, store, tmp_path, 2)
    trashed: list[Path] = []
    bin_ = tmp_path / "bin"
    bin_.mkdir()

    def trash(path: Path) -> bool:
        trashed.append(path)
        path.rename(bin_ / path.name)
        return True

    library.delete_result(entries[0], trash)
    assert trashed == [entries[0].video_path, entries[0].sidecar_path]
    assert store.get_result(library.relative(entries[0].video_path)) is None
    assert library.input_path(entries[0].image) is not None   # inputs are shared: kept
    with pytest.raises(LibraryWriteError):
        library.delete_result(entries[1], lambda _p: False)
    assert entries[1].video_path.exists()
    assert store.get_result(library.relative(entries[1].video_path)) is not None


# ---------------------------------------------------------------- incremental sync


def test_sync_changes_reads_only_what_changed(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entries = make(library, store, tmp_path, 3)
    before = library.folder_state()
    assert len(before) == 6
    after, report, looked = library.sync_changes(before)
    assert (report.added, report.removed, looked) == (0, 0, [])
    # rewritten in place, removed, and a new bare video
    entries[0].sidecar_path.write_text("not json", encoding="utf-8")
    os.utime(entries[0].sidecar_path, ns=(time.time_ns(), time.time_ns() + 10**9))
    entries[1].video_path.unlink()
    (library.root / "dropped.mp4").write_bytes(b"\x00" * 100)
    state, report, looked = library.sync_changes(after)
    assert sorted(looked) == sorted([library.relative(entries[0].video_path),
                                     library.relative(entries[1].video_path), "dropped.mp4"])
    assert (report.added, report.removed) == (1, 1)
    assert report.unreadable == [entries[0].sidecar_path]
    row = store.get_result(library.relative(entries[0].video_path))
    assert row is not None
    assert not row.sidecar_ok
    assert store.count_results() == 3
    assert state == library.folder_state()


# --------------------------------------------------------------- gallery queries


def rec(name: str, **values: object) -> ResultRecord:
    base: dict[str, object] = {"video_rel": f"{name}.mp4", "sidecar_ok": True,
                               "model": "kling-v3-motion-control", "mode": "std",
                               "orientation": "image", "saved_at": 100.0, "duration": 5.0}
    base.update(values)
    return ResultRecord(**base)  # type: ignore[arg-type]


def test_gallery_filters_sorts_and_pages(store: JobStore) -> None:
    store.upsert_result(rec("a", saved_at=10.0, duration=3.0, orientation="video", demo=True))
    store.upsert_result(rec("b", saved_at=20.0, duration=9.0, mark="keeper"))
    store.upsert_result(rec("c", saved_at=30.0, duration=None, sidecar_ok=False, model=None))
    store.upsert_result(rec("d", saved_at=40.0, duration=6.0, mark="reject"))
    assert store.result_keys() == ["d.mp4", "c.mp4", "b.mp4", "a.mp4"]
    assert store.result_keys(order_by="duration") == ["b.mp4", "d.mp4", "a.mp4", "c.mp4"]
    assert store.result_keys(order_by="duration", newest_first=False) == [
        "a.mp4", "d.mp4", "b.mp4", "c.mp4"]   # unknown lengths last either way
    assert store.result_keys(ResultFilter(orientation="video")) == ["a.mp4"]
    assert store.result_keys(ResultFilter(demo=True)) == ["a.mp4"]
    assert store.result_keys(ResultFilter(demo=False)) == ["d.mp4", "c.mp4", "b.mp4"]
    assert store.result_keys(ResultFilter(since=20.0, until=40.0)) == ["c.mp4", "b.mp4"]
    assert store.result_keys(ResultFilter(mark=UNMARKED)) == ["c.mp4", "a.mp4"]
    assert len(store.result_keys(ResultFilter(mark="keeper"))) == 1
    assert store.count_results() == 4
    assert store.result_keys(ResultFilter(orientation="image"), order_by="date")[:1] == [
        "d.mp4"]
    got = store.get_results(["b.mp4", "zzz.mp4", "a.mp4"])
    assert sorted(got) == ["a.mp4", "b.mp4"]
    assert got["b.mp4"].mark == "keeper"
