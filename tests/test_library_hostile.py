"""A library folder that may hold anything: every file in it is treated as hostile.

The folder can be on a shared drive. Whatever sits in it (pipes, links out of
it, device files, link loops, huge or absurd sidecars, names that are not
UTF-8), rebuild, sync, listing, export and trash finish, never block, never
read outside the library, and index every good result. A sidecar that cannot
be used makes its video an "unreadable sidecar" row, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_desktop.engine.library import (
    MAX_SIDECAR_BYTES,
    Library,
    LibraryEntry,
    LibraryWriteError,
    SidecarError,
    read_sidecar,
)
from kling_desktop.engine.store import JobStore, ResultRecord
from tests.library_support import download, finished_job

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
SECRET = b"root:x:0:0:not-a-video-but-a-secret\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A private file outside the library (stands in for /etc/passwd)."""
    path = tmp_path / "private" / "passwd"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def add_good(library: Library, tmp_path: Path, n: int = 0) -> LibraryEntry:
    inputs = tmp_path / "inputs"
    inputs.mkdir(exist_ok=True)
    image, clip = inputs / "hero.png", inputs / "moves.mp4"
    if not image.exists():
        image.write_bytes(b"\x89PNG" + os.urandom(300))
        clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(900))
    job = finished_job(str(image), str(clip), prompt=f"good {n}", task=f"task-good-{n:04d}")
    return library.add_result(job, download(library, job, 1000 + n))


def template(library: Library, tmp_path: Path) -> dict[str, Any]:
    """A valid sidecar's JSON, to be spoiled by a test."""
    entry = add_good(library, tmp_path, 999)
    data: dict[str, Any] = json.loads(entry.sidecar_path.read_bytes())
    entry.video_path.unlink()
    entry.sidecar_path.unlink()
    return data


def plant(library: Library, name: str, sidecar: bytes | dict[str, Any]) -> tuple[Path, Path]:
    """``<name>.mp4`` (a real file) and ``<name>.json`` holding ``sidecar``."""
    video = library.root / f"{name}.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(100))
    if isinstance(sidecar, dict):
        sidecar = json.dumps({**sidecar, "video_file": video.name}).encode()
    side = video.with_suffix(".json")
    side.write_bytes(sidecar)
    return video, side


def rows(store: JobStore) -> dict[str, ResultRecord]:
    return {row.video_rel: row for row in store.list_results()}


def everything_finishes(library: Library, store: JobStore) -> dict[str, ResultRecord]:
    """Every reading entry point, run once; returns the index afterwards."""
    library.rebuild_index()
    after_rebuild = rows(store)
    library.sync_index()
    assert rows(store).keys() == after_rebuild.keys()
    library.entries()
    state = library.folder_state()
    library.sync_changes({})
    library.sync_changes(state)
    for row in store.list_results():
        library.entry_from_record(row)
    return rows(store)


@contextlib.contextmanager
def memory_ceiling(extra: int = 512 << 20) -> Iterator[None]:
    """On Linux, a regression reading an endless file fails with MemoryError, not the machine."""
    try:
        import resource
    except ImportError:
        yield
        return
    if not sys.platform.startswith("linux"):
        yield
        return
    with open("/proc/self/statm", encoding="ascii") as handle:
        current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# ------------------------------------------------------------------ special files


@posix_only
@pytest.mark.timeout(20, method="signal")
def test_a_fifo_named_like_a_sidecar_never_blocks(library: Library, store: JobStore,
                                                  tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    os.mkfifo(library.root / "x.json")
    (library.root / "x.mp4").write_bytes(b"\x00" * 64)
    os.mkfifo(library.root / "y.mp4")           # a pipe is not a video
    os.mkfifo(library.root / "z.mov")
    with pytest.raises(SidecarError):
        read_sidecar(library.root / "x.json")
    report = library.rebuild_index()
    assert library.root / "x.json" in report.unreadable
    index = everything_finishes(library, store)
    assert set(index) == {library.relative(good.video_path), "x.mp4"}
    assert not index["x.mp4"].sidecar_ok
    assert [e.video_path for e in library.entries()] == [good.video_path]
    assert "y.mp4" not in library.folder_state()


@posix_only
@pytest.mark.timeout(20, method="signal")
def test_a_sidecar_linked_to_an_endless_device_is_refused_without_reading(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    _video, sidecar = plant(library, "zero", b"{}")
    sidecar.unlink()
    sidecar.symlink_to("/dev/zero")
    (library.root / "null.json").symlink_to("/dev/null")
    with memory_ceiling():
        tracemalloc.start()
        try:
            with pytest.raises(SidecarError):
                read_sidecar(sidecar)
            index = everything_finishes(library, store)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20
    assert set(index) == {library.relative(good.video_path), "zero.mp4"}
    assert not index["zero.mp4"].sidecar_ok


@posix_only
@pytest.mark.timeout(20, method="signal")
def test_a_socket_named_like_a_sidecar_or_video(library: Library, store: JobStore,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    good = add_good(library, tmp_path)
    monkeypatch.chdir(library.root)      # AF_UNIX paths are short: bind relative names
    with socket.socket(socket.AF_UNIX) as first, socket.socket(socket.AF_UNIX) as second:
        first.bind("s.json")
        second.bind("s.mp4")
        index = everything_finishes(library, store)
    assert set(index) == {library.relative(good.video_path)}


# ------------------------------------------------------------------ links out


@posix_only
def test_a_video_linked_out_of_the_library_is_not_a_result(
        library: Library, store: JobStore, tmp_path: Path, outside: Path) -> None:
    good = add_good(library, tmp_path)
    bare = library.root / "passwd.mp4"              # a link, no sidecar
    bare.symlink_to(outside)
    described = library.root / "described.mp4"      # a link with a good-looking sidecar
    described.symlink_to(outside)
    data = json.loads(good.sidecar_path.read_bytes())
    data["video_file"] = described.name
    described.with_suffix(".json").write_text(json.dumps(data), encoding="utf-8")

    report = library.rebuild_index()
    index = everything_finishes(library, store)
    assert set(index) == {library.relative(good.video_path)}
    assert bare not in report.orphans
    assert [e.video_path for e in library.entries()] == [good.video_path]
    assert "passwd.mp4" not in library.folder_state()

    out = tmp_path / "export"
    linked_entry = read_sidecar(described.with_suffix(".json"))
    exported = library.export_results([bare, linked_entry, good], out)
    assert [p.name for p in exported.videos] == [good.video_path.name]
    assert sorted(exported.refused) == sorted([bare, described])
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_bytes(), path

    trashed: list[Path] = []

    def trash(path: Path) -> bool:
        trashed.append(path)
        return True

    with pytest.raises(LibraryWriteError):
        library.delete_result(bare, trash)
    with pytest.raises(LibraryWriteError):
        library.delete_result(outside, trash)
    assert trashed == []
    assert outside.read_bytes() == SECRET


@posix_only
def test_a_sidecar_linked_from_outside_is_not_read(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(good.sidecar_path.read_bytes())
    good.sidecar_path.unlink()
    good.sidecar_path.symlink_to(elsewhere)
    with pytest.raises(SidecarError):
        read_sidecar(good.sidecar_path)
    index = everything_finishes(library, store)
    assert not index[library.relative(good.video_path)].sidecar_ok


@posix_only
def test_kept_inputs_linked_out_are_not_exported(
        library: Library, store: JobStore, tmp_path: Path, outside: Path) -> None:
    good = add_good(library, tmp_path)
    assert good.image.copy is not None
    copy = library.root / good.image.copy
    copy.unlink()
    copy.symlink_to(outside)
    assert library.input_path(good.image) is None
    report = library.export_results([good], tmp_path / "export")
    assert len(report.videos) == 1
    for path in (tmp_path / "export").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_bytes(), path


@posix_only
@pytest.mark.timeout(20, method="signal")
def test_folder_links_and_loops_are_not_followed(library: Library, store: JobStore,
                                                 tmp_path: Path, outside: Path) -> None:
    good = add_good(library, tmp_path)
    sub = library.root / "sub"
    sub.mkdir()
    (sub / "loop").symlink_to("..")                  # back up: an endless walk if followed
    (library.root / "self").symlink_to("self")        # a link to itself
    (library.root / "out").symlink_to(outside.parent)  # a whole folder outside
    (outside.parent / "far.mp4").write_bytes(b"\x00" * 10)
    index = everything_finishes(library, store)
    assert set(index) == {library.relative(good.video_path)}


@pytest.mark.skipif(sys.platform != "linux", reason="Linux accepts any bytes in names")
def test_names_that_are_not_utf8_do_not_break_the_index(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    raw = os.fsencode(library.root) + b"/bad \xff name.mp4"
    try:
        with open(raw, "wb") as handle:
            handle.write(b"\x00" * 10)
        os.mkdir(os.fsencode(library.root) + b"/folder \xfe")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    index = everything_finishes(library, store)
    assert library.relative(good.video_path) in index


# ------------------------------------------------------------------ absurd sidecars


def test_a_huge_sidecar_is_refused_without_reading_it(library: Library, store: JobStore,
                                                      tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    _video, sidecar = plant(library, "huge", b"")
    with sidecar.open("wb") as handle:       # 100 MB, sparse: costs no disk
        handle.truncate(100 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(SidecarError, match="large"):
            read_sidecar(sidecar)
        index = everything_finishes(library, store)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    assert not index["huge.mp4"].sidecar_ok
    assert index[library.relative(good.video_path)].sidecar_ok


def test_a_sidecar_just_under_the_cap_is_still_read(library: Library,
                                                    tmp_path: Path) -> None:
    data = template(library, tmp_path)
    data["prompt"] = "x"
    text = json.dumps(data)
    data["prompt"] = "x" * (MAX_SIDECAR_BYTES - len(text) - 200)
    _video, sidecar = plant(library, "big", data)
    assert sidecar.stat().st_size < MAX_SIDECAR_BYTES
    assert read_sidecar(sidecar).prompt == data["prompt"]


def test_deep_nesting_is_an_unreadable_sidecar(library: Library, store: JobStore,
                                               tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    depth = 200_000
    plant(library, "deep-list", b"[" * depth + b"]" * depth)
    data = template(library, tmp_path)
    nested = b"[" * depth + b"]" * depth
    text = json.dumps({**data, "video_file": "deep-field.mp4", "prompt": 0}).encode()
    plant(library, "deep-field", text.replace(b'"prompt": 0', b'"prompt": ' + nested))
    for name in ("deep-list", "deep-field"):
        with pytest.raises(SidecarError):
            read_sidecar(library.root / f"{name}.json")
    index = everything_finishes(library, store)
    assert {rel: row.sidecar_ok for rel, row in index.items()} == {
        library.relative(good.video_path): True, "deep-list.mp4": False,
        "deep-field.mp4": False}


SPOILED: dict[str, Any] = {
    "job_id above 2**63": {"job_id": 2**63},
    "job_id below -2**63": {"job_id": -(2**63) - 1},
    "width above 2**64": {"width": 2**64},
    "file_size above 2**63": {"file_size": 2**63 + 5},
    "negative file_size": {"file_size": -1},
    "job_id of 5000 digits": {"job_id": "DIGITS"},
    "NaN duration": {"duration": "NAN"},
    "infinite billable seconds": {"billable_seconds": "INF"},
    "1e999 duration": {"duration": "BIGFLOAT"},
    "negative duration": {"duration": -3.0},
    "duration as text": {"duration": "5"},
    "job_id as text": {"job_id": "12"},
    "width as a bool": {"width": True},
    "inputs as a list": {"inputs": []},
    "image without a name": {"inputs": {"image": {}, "video": {"name": "v.mp4"}}},
    "prompt as a list": {"prompt": ["a", "b"]},
    "a lone surrogate in the prompt": {"prompt": "SURROGATE"},
    "mark not allowed": {"mark": "best"},
    "time as a number": {"created_at": 5},
    "time not a time": {"created_at": "yesterday"},
    "schema as a float": {"schema": 1.0},
    "video_file up a folder": {"video_file": "../elsewhere.mp4"},
    "video_file not a video": {"video_file": "passwd"},
    "usage as a list": {"provider_usage": [1, 2]},
    "model_used as a number": {"model_used": 3},
}


def _encode(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=True)
    return (text.replace('"DIGITS"', "1" * 5000).replace('"NAN"', "NaN")
            .replace('"INF"', "Infinity").replace('"BIGFLOAT"', "1e999")
            .replace('"SURROGATE"', '"\\ud800 x"')).encode()


@pytest.mark.parametrize("change", SPOILED.values(), ids=SPOILED.keys())
def test_absurd_values_make_an_unreadable_sidecar(
        change: dict[str, Any], library: Library, store: JobStore, tmp_path: Path) -> None:
    good = add_good(library, tmp_path)
    data = {**template(library, tmp_path), "video_file": "spoiled.mp4", **change}
    _video, sidecar = plant(library, "spoiled", b"")
    sidecar.write_bytes(_encode(data))
    with pytest.raises(SidecarError) as caught:
        read_sidecar(sidecar)
    assert caught.value.fix
    index = everything_finishes(library, store)
    assert {rel: row.sidecar_ok for rel, row in index.items()} == {
        library.relative(good.video_path): True, "spoiled.mp4": False}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
KEYS = ["schema", "video_file", "task_id", "job_id", "model", "model_used", "mode", "prompt",
        "orientation", "keep_original_sound", "inputs", "created_at", "saved_at", "demo",
        "billable_seconds", "file_size", "duration", "width", "height", "batch_id", "mark",
        "provider_usage", "app_version"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=JSON_VALUES)
def test_any_value_in_any_field_reads_or_is_refused(
        key: str, value: object, tmp_path: Path) -> None:
    root = tmp_path / "fuzz-library"
    root.mkdir(exist_ok=True)
    sidecar = root / "fuzz.json"
    data = {"schema": 1, "video_file": "fuzz.mp4", "model": "m", "mode": "std",
            "orientation": "image", "keep_original_sound": True, "demo": False,
            "file_size": 3, "inputs": {"image": {"name": "a.png"}, "video": {"name": "b.mp4"}},
            key: value}
    sidecar.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
    try:
        entry = read_sidecar(sidecar)
    except SidecarError:
        return
    # what was read is fit for the index: SQLite integers, finite numbers, UTF-8 text
    record = Library(root)._record(entry)
    for name in ("job_id", "width", "height", "file_size"):
        number = getattr(record, name)
        assert number is None or -(2**63) <= number < 2**63
    for name in ("duration", "created_at", "completed_at", "saved_at"):
        number = getattr(record, name)
        assert number is None or math.isfinite(number)
    assert record.sidecar_json is not None
    record.sidecar_json.encode("utf-8")
    assert json.loads(record.sidecar_json) == entry.to_json()


# ------------------------------------------------------------------ all at once


@posix_only
@pytest.mark.timeout(30, method="signal")
def test_rebuild_over_a_folder_with_every_hostile_file_indexes_the_good_results(
        library: Library, store: JobStore, tmp_path: Path, outside: Path) -> None:
    good = [add_good(library, tmp_path, n) for n in range(3)]
    data = template(library, tmp_path)
    root = library.root
    os.mkfifo(root / "fifo.json")
    os.mkfifo(root / "fifo.mp4")
    (root / "zero.json").symlink_to("/dev/zero")
    (root / "passwd.mp4").symlink_to(outside)
    (root / "loop").symlink_to(".")
    (root / "out").symlink_to(outside.parent)
    plant(library, "deep", b"[" * 100_000 + b"]" * 100_000)
    plant(library, "big-int", {**data, "job_id": 2**64})
    plant(library, "nan", _encode({**data, "video_file": "nan.mp4", "duration": "NAN"}))
    _video, huge = plant(library, "huge", b"")
    with huge.open("wb") as handle:
        handle.truncate(100 << 20)
    (root / "not json.json").write_bytes(b"\xff\xfe garbage")

    with memory_ceiling():
        report = library.rebuild_index()
    assert report.indexed == 3 + 4
    index = everything_finishes(library, store)
    assert {rel for rel, row in index.items() if row.sidecar_ok} == {
        library.relative(e.video_path) for e in good}
    assert {rel for rel, row in index.items() if not row.sidecar_ok} == {
        "deep.mp4", "big-int.mp4", "nan.mp4", "huge.mp4"}
    assert sorted(e.video_path for e in library.entries()) == sorted(e.video_path for e in good)
    exported = library.export_results(
        [*good, *(root / rel for rel, row in index.items() if not row.sidecar_ok),
         root / "passwd.mp4", root / "fifo.mp4"], tmp_path / "export")
    assert len(exported.videos) == 7
    assert sorted(exported.refused) == sorted([root / "passwd.mp4", root / "fifo.mp4"])
