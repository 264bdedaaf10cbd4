"""A result made from a trimmed or converted input: its sidecar records the original's name,
path, the span kept and what was done; older sidecars still read, hostile ones never crash."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kling_desktop.engine.library import Library, LibraryEntry, SidecarError, read_sidecar
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.store import JobStore
from tests.library_support import download, finished_job
from tests.test_library_hostile import everything_finishes, plant

CLIP = Origin("dance.mp4", "/clips/dance.mp4", (2.0, 9.5))
PICTURE = Origin("banner.png", "/pics/banner.png", steps=("padded",))


def converted_result(library: Library, tmp_path: Path, *,
                     video_origin: Origin | None = CLIP) -> LibraryEntry:
    folder = tmp_path / "converted"
    folder.mkdir(exist_ok=True)
    image, clip = folder / "banner.png", folder / "dance 2-9.5s.mp4"
    image.write_bytes(b"\x89PNG" + b"\x01" * 300)
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x02" * 900)
    job = finished_job(str(image), str(clip), prompt="")
    job = replace(job, spec=replace(job.spec, image_origin=PICTURE, video_origin=video_origin))
    return library.add_result(job, download(library, job))


def test_the_sidecar_records_where_each_input_came_from(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entry = converted_result(library, tmp_path)
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    video = data["inputs"]["video"]
    assert video["name"] == "dance 2-9.5s.mp4"          # the copy that was sent ...
    assert video["origin"] == {"name": "dance.mp4", "path": "/clips/dance.mp4",  # ... from
                               "trim": [2.0, 9.5], "from_format": None, "steps": []}
    assert data["inputs"]["image"]["origin"]["steps"] == ["padded"]
    read = read_sidecar(entry.sidecar_path)
    assert read == entry
    assert (read.video.origin, read.image.origin) == (CLIP, PICTURE)
    # the index keeps it, a mark rewrites it unchanged, an export carries it
    row = store.get_result(library.relative(entry.video_path))
    assert row is not None
    from_index = library.entry_from_record(row)
    assert from_index is not None
    assert from_index.video.origin == CLIP
    marked = library.set_mark(read, "keeper")
    assert read_sidecar(marked.sidecar_path).video.origin == CLIP
    report = library.export_results([marked], tmp_path / "export")
    assert read_sidecar(report.sidecars[0]).video.origin == CLIP


def test_an_input_of_its_own_writes_no_origin_and_older_sidecars_read(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    entry = converted_result(library, tmp_path, video_origin=None)
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    # the keys an older version wrote, and no more: it reads the file as before
    assert set(data["inputs"]["video"]) == {"name", "url", "copy", "sha256"}
    del data["inputs"]["image"]["origin"]
    entry.sidecar_path.write_text(json.dumps(data), encoding="utf-8")
    old = read_sidecar(entry.sidecar_path)
    assert (old.image.origin, old.video.origin) == (None, None)
    assert library.rebuild_index().unreadable == []


# A hostile folder: an origin that is not an object makes the sidecar unreadable (like
# any field of the wrong type); inside one, an unusable value is left out.
REFUSED: dict[str, object] = {
    "a list": ["dance.mp4"],
    "text": "dance.mp4",
    "a number": 3,
    "true": True,
    "nested deep": {"name": "a.mp4", "path": {"x": [[[[[]]]]]}, "trim": [[1], [2]]},
}
IGNORED: dict[str, dict[str, Any]] = {
    "no name": {"path": "/clips/dance.mp4", "trim": [2.0, 9.5]},
    "a name up a folder": {"name": "../../dance.mp4", "trim": [2.0, 9.5]},
    "a name of 10,000 characters": {"name": "x" * 10_000},
}
LEFT_OUT: dict[str, dict[str, Any]] = {
    "in after out": {"trim": [9.5, 2.0]},
    "a span of a century": {"trim": [0, 3.2e9]},
    "a span as text": {"trim": "2-9.5"},
    "a path to another file": {"path": "/etc/shadow"},
    "a link as the path": {"path": "https://evil.example/dance.mp4"},
    "an unknown step": {"steps": ["rm -rf", "scaled_down"]},
    "an unknown format": {"from_format": "<script>"},
}


def spoiled_sidecar(library: Library, tmp_path: Path, origin: object) -> Path:
    data = json.loads(converted_result(library, tmp_path).sidecar_path.read_bytes())
    data["inputs"]["video"]["origin"] = origin
    _video, sidecar = plant(library, "spoiled", data)
    return sidecar


@pytest.mark.parametrize("origin", REFUSED.values(), ids=REFUSED.keys())
def test_an_origin_that_is_not_an_object_makes_an_unreadable_sidecar(
        origin: object, library: Library, store: JobStore, tmp_path: Path) -> None:
    sidecar = spoiled_sidecar(library, tmp_path, origin)
    if isinstance(origin, dict):         # an object: read, its unusable values left out
        entry = read_sidecar(sidecar)
        assert entry.video.origin == Origin("a.mp4")
    else:
        with pytest.raises(SidecarError, match="origin is not an object"):
            read_sidecar(sidecar)
    index = everything_finishes(library, store)
    assert index["spoiled.mp4"].sidecar_ok is isinstance(origin, dict)


@pytest.mark.parametrize("origin", IGNORED.values(), ids=IGNORED.keys())
def test_an_origin_without_a_usable_name_is_ignored(
        origin: dict[str, Any], library: Library, store: JobStore, tmp_path: Path) -> None:
    entry = read_sidecar(spoiled_sidecar(library, tmp_path, origin))
    assert entry.video.origin is None
    assert entry.video.name == "dance 2-9.5s.mp4"
    assert everything_finishes(library, store)["spoiled.mp4"].sidecar_ok


@pytest.mark.parametrize("change", LEFT_OUT.values(), ids=LEFT_OUT.keys())
def test_an_unusable_value_of_an_origin_is_left_out(
        change: dict[str, Any], library: Library, store: JobStore, tmp_path: Path) -> None:
    good = {"name": "dance.mp4", "path": "/clips/dance.mp4", "trim": [2.0, 9.5],
            "from_format": "webm", "steps": ["scaled_down"]}
    entry = read_sidecar(spoiled_sidecar(library, tmp_path, {**good, **change}))
    origin = entry.video.origin
    assert origin is not None
    assert origin.name == "dance.mp4"
    (key,) = change
    kept = origin.to_json()
    assert kept[key] != change[key]
    assert {k: v for k, v in kept.items() if k != key} == {
        k: v for k, v in good.items() if k != key}
    assert everything_finishes(library, store)["spoiled.mp4"].sidecar_ok


def test_numbers_json_cannot_hold_make_an_unreadable_sidecar(
        library: Library, store: JobStore, tmp_path: Path) -> None:
    sidecar = spoiled_sidecar(library, tmp_path, {"name": "a.mp4", "trim": [0, 1]})
    good = sidecar.read_bytes()
    assert good.count(b'"trim": [0, 1]') == 1
    for spoiled in (b"[0, NaN]", b"[0, Infinity]", b"[0, 1e999]", b"[0, " + b"9" * 5000 + b"]"):
        sidecar.write_bytes(good.replace(b'"trim": [0, 1]', b'"trim": ' + spoiled))
        with pytest.raises(SidecarError):
            read_sidecar(sidecar)
        assert not everything_finishes(library, store)["spoiled.mp4"].sidecar_ok
