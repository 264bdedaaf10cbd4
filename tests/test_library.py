"""The library folder (videos + sidecars, the truth) and its rebuildable index."""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from kling_desktop import i18n
from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.jobs import JobState
from kling_desktop.engine.library import (
    INPUTS_DIR,
    SIDECAR_SCHEMA,
    Library,
    LibraryWriteError,
    SidecarError,
    read_sidecar,
)
from kling_desktop.engine.store import JobStore
from kling_desktop.files import partial_path, safe_filename, write_atomic
from tests.conftest import TEST_KEY
from tests.library_support import BASE, download, finished_job


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    files = {
        "alice": folder / "alice.png",
        "bob": folder / "Bob.JPG",
        "clip": folder / "dance clip.mp4",
    }
    files["alice"].write_bytes(b"\x89PNG alice" + os.urandom(2000))
    files["bob"].write_bytes(b"\xff\xd8 bob" + os.urandom(2000))
    files["clip"].write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(50_000))
    return files


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------ add_result


def test_add_result_writes_sidecar_and_deduplicated_inputs(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    clip = str(inputs["clip"])
    first = finished_job(str(inputs["alice"]), clip, task="task-aaaa-11111111")
    second = finished_job(str(inputs["bob"]), clip, task="task-bbbb-22222222")
    third = finished_job("https://pics.example.com/img/carol%20x.png?sig=1", clip,
                         task="task-cccc-33333333", prompt="")
    entries = []
    for job in (first, second, third):
        video = download(library, job)
        entries.append(library.add_result(job, video))

    entry = entries[0]
    assert entry.video_path.is_file()
    assert entry.sidecar_path == entry.video_path.with_suffix(".json")
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    assert data["schema"] == SIDECAR_SCHEMA
    assert data["video_file"] == entry.video_path.name
    assert (data["task_id"], data["job_id"]) == ("task-aaaa-11111111", first.id)
    assert (data["model"], data["mode"], data["orientation"]) == (
        "kling-v3-motion-control", "pro", "video")
    assert data["prompt"] == "a happy dance"
    assert data["keep_original_sound"] is False
    assert data["demo"] is False
    assert data["billable_seconds"] == 6.0
    assert data["base_url"] == BASE
    assert data["file_size"] == entry.video_path.stat().st_size
    for key in ("created_at", "submitted_at", "completed_at", "saved_at"):
        moment = datetime.fromisoformat(data[key])
        assert moment.utcoffset() is not None
        assert moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert datetime.fromisoformat(data["completed_at"]).timestamp() == pytest.approx(
        first.completed_at, abs=1)
    assert data["inputs"]["image"]["name"] == "alice.png"
    assert data["inputs"]["video"]["name"] == "dance clip.mp4"

    # local inputs copied once per content: 2 pictures + 1 clip
    copies = files_under(library.root / INPUTS_DIR)
    assert len(copies) == 3
    video_copy = library.root / data["inputs"]["video"]["copy"]
    assert video_copy.read_bytes() == inputs["clip"].read_bytes()
    assert entries[1].video.copy == entries[0].video.copy
    assert entries[1].image.copy != entries[0].image.copy
    assert entries[1].image.copy is not None
    assert entries[1].image.copy.endswith(".jpg")
    # a linked input is recorded by name and link, not copied
    assert entries[2].image.name == "carol x.png"
    assert entries[2].image.url is not None
    assert entries[2].image.copy is None

    # what the sidecar says is what read_sidecar gives back
    assert read_sidecar(entry.sidecar_path) == entry
    # and the index has one row per video
    assert store.count_results() == 3
    row = store.get_result(library.relative(entry.video_path))
    assert row is not None
    assert row.sidecar_ok
    assert (row.task_id, row.job_id, row.model, row.mode) == (
        "task-aaaa-11111111", first.id, "kling-v3-motion-control", "pro")
    assert row.duration == 6.0


def test_sidecars_never_hold_the_key(library: Library, store: JobStore,
                                     inputs: dict[str, Path]) -> None:
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]),
                       base_url=f"https://user:{TEST_KEY}@api.example.com/")
    library.add_result(job, download(library, job))
    for path in files_under(library.root):
        assert TEST_KEY.encode() not in path.read_bytes(), path


def test_missing_local_input_is_noted_not_fatal(library: Library, store: JobStore,
                                                tmp_path: Path) -> None:
    job = finished_job(str(tmp_path / "gone.png"), str(tmp_path / "gone.mp4"))
    entry = library.add_result(job, download(library, job))
    assert entry.image.name == "gone.png"
    assert entry.image.copy is None
    assert entry.sidecar_path.is_file()


def test_add_result_refuses_a_video_outside_the_library(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]))
    with pytest.raises(ValueError, match="not inside"):
        library.add_result(job, inputs["clip"])


def test_unwritable_sidecar_is_a_known_error_and_keeps_the_video(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]))
    video = download(library, job)
    video.with_suffix(".json").mkdir()  # something that is not a file is in the way
    with pytest.raises(LibraryWriteError) as caught:
        library.add_result(job, video)
    assert caught.value.fix
    assert video.is_file()
    assert store.count_results() == 0
    full = LibraryWriteError.from_os_error(OSError(errno.ENOSPC, "No space"), video)
    assert "full" in full.message
    assert "space" in full.fix


# --------------------------------------------------------------------------- naming


def test_two_jobs_with_the_same_title_never_share_a_file(library: Library) -> None:
    # Both are downloading at once: neither file exists yet, so the name must be
    # reserved when it is given, or the second download overwrites the first's video.
    first = finished_job("/x/hero.png", "/x/dance.mp4", prompt="")
    second = finished_job("/x/hero.png", "/x/dance.mp4", prompt="",
                          completed_at=first.completed_at)
    one, two = library.target_path(first), library.target_path(second)
    assert one != two
    assert not one.exists()
    assert not two.exists()


def test_target_path_is_readable_unique_and_portable(library: Library, store: JobStore) -> None:
    job = finished_job("/x/hero shot.png", "/x/clip.mp4",
                       prompt='She spins: "left/right" <fast>? * | and\nthen bows ' * 20)
    path = library.target_path(job)
    name = path.name
    local = datetime.fromtimestamp(job.completed_at or 0)
    # named by what the artist chose (picture, the prompt's first words), never the task id
    assert name.startswith(f"{local:%Y-%m-%d %H-%M} hero shot — She spins")
    assert name.endswith("(Kling V3 Pro).mp4")
    assert "uyujaw3d" not in name
    assert "task" not in name
    assert not set('<>:"/\\|?*\n') & set(name)
    assert len(name.encode("utf-8")) <= 200
    assert path.parent == library.root

    path.parent.mkdir(parents=True, exist_ok=True)   # reserving the name made it
    path.write_bytes(b"taken")
    second = library.target_path(job)
    assert second.name == path.name.replace(".mp4", " (2).mp4")

    untitled = finished_job("/x/hero shot.png", "/x/clip.mp4", prompt="", task="")
    assert library.target_path(untitled).name == (
        f"{datetime.fromtimestamp(untitled.completed_at or 0):%Y-%m-%d %H-%M} "
        "hero shot + clip (Kling V3 Pro).mp4")

    kept = replace(job, output_path=str(library.root / "chosen.mp4"))
    assert library.target_path(kept) == library.root / "chosen.mp4"


class Killed(BaseException):
    """The process dies here (kill -9): nothing after this line of the step runs."""


def _die(_path: object) -> None:
    raise Killed


def test_a_process_killed_before_recording_its_results_name_leaves_no_stray_file(
        library: Library) -> None:
    # Seen in CI (test_cli_kill[downloading]): the name was claimed on disk (its empty
    # partial file) and the process was killed before the job recorded it; the next run
    # took "… (2).mp4" and the first claim stayed in the library for good.
    job = finished_job("/x/hero.png", "/x/dance.mp4", prompt="")
    with pytest.raises(Killed):
        library.claim_target(job, _die)
    recorded: list[Path] = []
    target = library.claim_target(job, recorded.append)
    assert recorded == [target]
    assert " (2)" not in target.name
    assert [p.name for p in library.root.iterdir()] == [partial_path(target).name]


def test_a_process_killed_after_recording_its_results_name_resumes_into_it(
        library: Library, store: JobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from kling_desktop.engine.library import folder

    job = finished_job("/x/hero.png", "/x/dance.mp4", prompt="")
    added = store.add_job(job.spec, base_url=BASE, demo=False)
    store.transition(added.id, JobState.DOWNLOADING)
    job = replace(job, id=added.id)

    def record(path: Path) -> None:
        store.update(added.id, output_path=str(path))

    with monkeypatch.context() as patched:   # killed between recording and claiming on disk
        patched.setattr(folder, "reserve_download", _die)
        with pytest.raises(Killed):
            library.claim_target(job, record)
    chosen = store.get(added.id)
    assert chosen is not None
    assert chosen.output_path is not None
    assert library.claim_target(chosen, record) == Path(chosen.output_path)   # resumed
    # another job with the same title and minute never takes the recorded name
    other = finished_job("/x/hero.png", "/x/dance.mp4", prompt="",
                         completed_at=job.completed_at)
    second = library.claim_target(other, lambda _path: None, claimed=lambda path: (
        store.output_path_claimed(str(path), other_than=other.id)))
    assert second != Path(chosen.output_path)
    assert second.name.endswith(" (2).mp4")


@pytest.mark.parametrize(("model", "mode", "words"), [
    (Model.V3, Mode.PRO, "(Kling V3 Pro)"), (Model.V2_6, Mode.STD, "(Kling V2.6 Standard)")])
def test_a_result_gets_the_same_file_name_and_sidecar_in_every_language(
        library: Library, model: Model, mode: Mode, words: str) -> None:
    job = finished_job("/x/hero.png", "/x/dance.mp4", prompt="")
    job = replace(job, spec=replace(job.spec, options=replace(
        job.spec.options, model=model, mode=mode)))
    english = library.target_path(job).name
    partial_path(library.root / english).unlink()    # give the claimed name back
    try:
        i18n.install("zh_CN")
        assert Model.V3.label != "Kling V3" or Mode.PRO.label != "Pro (1080p)"   # translated
        chinese = library.target_path(job).name
        entry = library.add_result(job, download(library, job))
    finally:
        i18n.install("en")
    assert chinese == english
    assert english.endswith(f"hero + dance {words}.mp4")
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    # facts, not words: the sidecar keeps the codes, the window translates them
    assert (data["model"], data["mode"], data["orientation"]) == (
        model.value, mode.value, Orientation.VIDEO.value)


def test_safe_filename() -> None:
    assert safe_filename("a/b\\c:d*e?f\"g<h>i|j") == "a b c d e f g h i j"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("nul.txt") == "_nul.txt"
    assert safe_filename("  ... ") == "video"
    assert safe_filename("ends with dots...") == "ends with dots"
    long = safe_filename("舞" * 200, max_bytes=100)
    assert len(long.encode("utf-8")) <= 100
    assert set(long) == {"舞"}


def test_write_atomic_replaces_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


# ------------------------------------------------------------------------ the index


def snapshot(store: JobStore) -> set[tuple[object, ...]]:
    return {
        (r.video_rel, r.sidecar_rel, r.task_id, r.job_id, r.model, r.mode, r.prompt, r.mark,
         r.file_size, r.sidecar_ok, r.saved_at)
        for r in store.list_results()
    }


def test_rebuild_after_deleting_the_database_recovers_every_entry(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    db = tmp_path / "data" / "jobs.sqlite3"
    root = tmp_path / "library"
    with JobStore(db) as store:
        library = Library(root, store)
        entries = []
        for n, image in enumerate(("alice", "bob", "alice")):
            job = finished_job(str(inputs[image]), str(inputs["clip"]),
                               prompt=f"take {n}", task=f"task-{n}-abcdefgh{n}")
            entries.append(library.add_result(job, download(library, job)))
        library.set_mark(entries[1], "keeper")
        library.set_mark(entries[2], "reject")
        before = snapshot(store)
    assert len(before) == 3
    for leftover in db.parent.glob("jobs.sqlite3*"):
        leftover.unlink()

    calls: list[tuple[int, int]] = []
    with JobStore(db) as fresh:
        assert fresh.count_results() == 0
        report = Library(root, fresh).rebuild_index(lambda done, total: calls.append((done, total)))
        assert report.indexed == 3
        assert report.unreadable == []
        assert report.orphans == []
        assert snapshot(fresh) == before
        assert {r.mark for r in fresh.list_results()} == {None, "keeper", "reject"}
    assert calls[-1] == (6, 6)  # three sidecars and three videos looked at


def test_damaged_sidecars_are_reported_and_their_videos_kept(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    entries = []
    for n in range(4):
        job = finished_job(str(inputs["alice"]), str(inputs["clip"]), prompt=f"n{n}",
                           task=f"task-{n}-zzzzzzz{n}")
        entries.append(library.add_result(job, download(library, job)))
    entries[0].sidecar_path.write_bytes(b'{"schema": 1, "task_id": "trunc')  # cut short
    entries[1].sidecar_path.write_text(json.dumps({"schema": 99}), encoding="utf-8")
    entries[2].sidecar_path.write_text(json.dumps({"schema": 1, "model": 5}), encoding="utf-8")

    for broken in entries[:3]:
        with pytest.raises(SidecarError) as caught:
            read_sidecar(broken.sidecar_path)
        assert broken.sidecar_path.name in caught.value.message
        assert caught.value.fix
    with pytest.raises(SidecarError, match="newer"):
        read_sidecar(entries[1].sidecar_path)

    report = library.rebuild_index()
    assert sorted(report.unreadable) == sorted(e.sidecar_path for e in entries[:3])
    assert report.orphans == []
    assert report.indexed == 4
    for entry in entries:
        assert entry.video_path.is_file()
        assert entry.sidecar_path.is_file()
    rows = {r.video_rel: r for r in store.list_results()}
    assert [rows[library.relative(e.video_path)].sidecar_ok for e in entries] == [
        False, False, False, True]
    broken_row = rows[library.relative(entries[0].video_path)]
    assert broken_row.file_size == entries[0].video_path.stat().st_size
    assert broken_row.sidecar_rel == library.relative(entries[0].sidecar_path)


def test_sync_finds_dropped_in_files_and_drops_vanished_videos(
    tmp_path: Path, library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    kept = finished_job(str(inputs["alice"]), str(inputs["clip"]), task="task-keep-1")
    gone = finished_job(str(inputs["bob"]), str(inputs["clip"]), task="task-gone-2")
    kept_entry = library.add_result(kept, download(library, kept))
    gone_entry = library.add_result(gone, download(library, gone))
    library.set_mark(kept_entry, "keeper")

    # a result made on another computer: video + sidecar copied in, in a subfolder
    with JobStore(tmp_path / "other.sqlite3") as other_store:
        other = Library(tmp_path / "other-library", other_store)
        job = finished_job(str(inputs["alice"]), str(inputs["clip"]),
                           task="task-from-elsewhere")
        foreign = other.add_result(job, download(other, job))
    sub = library.root / "from laptop"
    sub.mkdir()
    shutil.copy2(foreign.video_path, sub / foreign.video_path.name)
    shutil.copy2(foreign.sidecar_path, sub / foreign.sidecar_path.name)
    # a bare video dropped in, and a partial download that is not a video
    bare = library.root / "my own edit.MOV"
    bare.write_bytes(b"movie" * 100)
    (library.root / "x.mp4.part").write_bytes(b"partial")
    # a result deleted in the file manager
    gone_entry.video_path.unlink()

    report = library.sync_index()
    assert (report.added, report.removed, report.unreadable) == (2, 1, [])
    rows = {r.video_rel: r for r in store.list_results()}
    assert set(rows) == {
        library.relative(kept_entry.video_path),
        f"from laptop/{foreign.video_path.name}",
        "my own edit.MOV",
    }
    assert rows[f"from laptop/{foreign.video_path.name}"].task_id == "task-from-elsewhere"
    orphan = rows["my own edit.MOV"]
    assert not orphan.sidecar_ok
    assert orphan.file_size == 500
    assert orphan.saved_at == pytest.approx(bare.stat().st_mtime)
    assert rows[library.relative(kept_entry.video_path)].mark == "keeper"
    # nothing new: a second sync changes nothing
    again = library.sync_index()
    assert (again.added, again.removed) == (0, 0)
    # rebuild tells the orphan and the sidecar whose video is gone apart
    rebuilt = library.rebuild_index()
    assert rebuilt.orphans == [bare]
    assert rebuilt.missing_videos == [gone_entry.video_path]
    assert rebuilt.indexed == 3


def test_library_without_a_store(tmp_path: Path, inputs: dict[str, Path],
                                 store: JobStore) -> None:
    plain = Library(tmp_path / "plain")
    assert plain.rebuild_index().indexed == 0  # the folder need not exist yet
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]))
    entry = plain.add_result(job, download(plain, job))
    assert plain.entries() == [entry]
    assert plain.rebuild_index().indexed == 1
    assert plain.sync_index().added == 0
    assert store.count_results() == 0



# ------------------------------------------------- what the provider said it did


def test_sidecar_records_real_duration_model_used_and_usage(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    usage = {"reserved": 0.6, "charged": 0.42, "currency": "USD", "units": 5,
             "free": False, "note": None, "nested": {"hidden": 1}, "list": [1, 2],
             "long": "x" * 5000, **{f"k{n}": n for n in range(40)}}
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]), result_duration=4.2,
                       model_used="kling-v2-6-motion-control",
                       provider_usage=json.dumps(usage))
    entry = library.add_result(job, download(library, job))
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    assert (data["model"], data["model_used"]) == (
        "kling-v3-motion-control", "kling-v2-6-motion-control")
    assert entry.model_mismatch
    assert data["duration"] == 4.2               # the saved video, shorter than the clip
    assert data["billable_seconds"] == 6.0
    kept = data["provider_usage"]
    assert {k: kept[k] for k in ("reserved", "charged", "currency", "units", "free", "note")} == {
        "reserved": 0.6, "charged": 0.42, "currency": "USD", "units": 5, "free": False,
        "note": None}
    assert "nested" not in kept
    assert "list" not in kept
    assert len(kept["long"]) <= 200                         # bounded
    assert len(kept) <= 32
    assert read_sidecar(entry.sidecar_path) == entry
    row = store.get_result(library.relative(entry.video_path))
    assert row is not None
    assert row.duration == 4.2
    assert library.entry_from_record(row) == entry


def test_usage_that_is_not_an_object_is_not_kept(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    for n, text in enumerate(["[1, 2]", "not json", "NaN", "{" * 100_000, ""]):
        job = finished_job(str(inputs["alice"]), str(inputs["clip"]), provider_usage=text,
                           task=f"task-usage-{n}")
        entry = library.add_result(job, download(library, job))
        assert entry.provider_usage is None
        assert json.loads(entry.sidecar_path.read_bytes())["provider_usage"] is None


def test_duration_falls_back_to_the_clip_and_model_used_may_be_unknown(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]))
    entry = library.add_result(job, download(library, job))
    assert entry.duration == 6.0
    assert entry.model_used is None
    assert not entry.model_mismatch
    same = finished_job(str(inputs["alice"]), str(inputs["clip"]), task="task-same-1",
                        model_used="kling-v3-motion-control")
    assert not library.add_result(same, download(library, same)).model_mismatch


def test_older_sidecars_without_the_new_fields_still_read(
    library: Library, store: JobStore, inputs: dict[str, Path]
) -> None:
    job = finished_job(str(inputs["alice"]), str(inputs["clip"]), model_used="m2",
                       provider_usage='{"charged": 1}')
    entry = library.add_result(job, download(library, job))
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    for key in ("model_used", "provider_usage"):
        del data[key]
    entry.sidecar_path.write_text(json.dumps(data), encoding="utf-8")
    old = read_sidecar(entry.sidecar_path)
    assert (old.model_used, old.provider_usage) == (None, None)
    assert library.rebuild_index().unreadable == []
    row = store.get_result(library.relative(entry.video_path))
    assert row is not None
    assert row.sidecar_ok


def test_credentials_in_input_links_never_reach_a_sidecar(
    library: Library, store: JobStore, inputs: dict[str, Path], tmp_path: Path
) -> None:
    job = finished_job(f"https://user:{TEST_KEY}@pics.example.com/a.png",
                       f"https://{TEST_KEY}@clips.example.com/b.mp4?x=1",
                       base_url=f"https://u:{TEST_KEY}@api.example.com")
    entry = library.add_result(job, download(library, job))
    assert entry.image.url == "https://pics.example.com/a.png"
    assert entry.video.url == "https://clips.example.com/b.mp4?x=1"
    # a hand-edited sidecar with credentials: rewriting it (a mark) drops them
    data = json.loads(entry.sidecar_path.read_text(encoding="utf-8"))
    data["inputs"]["image"]["url"] = f"https://me:{TEST_KEY}@pics.example.com/a.png"
    entry.sidecar_path.write_text(json.dumps(data), encoding="utf-8")
    library.set_mark(read_sidecar(entry.sidecar_path), "keeper")
    library.export_results([read_sidecar(entry.sidecar_path)], tmp_path / "out")
    for path in [*files_under(library.root), *files_under(tmp_path / "out")]:
        assert TEST_KEY.encode() not in path.read_bytes(), path


def test_reusing_a_kept_input_keeps_its_original_name(library: Library, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    image, clip = inputs / "Hero Final.PNG", inputs / "dance take 2.mp4"
    image.write_bytes(b"\x89PNG" + b"\x01" * 100)
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x02" * 100)
    job = finished_job(str(image), str(clip), prompt="")
    entry = library.add_result(job, download(library, job))
    assert entry.image.copy is not None
    assert "Hero" not in entry.image.copy            # kept by content hash...

    picture = library.reuse_path(entry.image)
    motion = library.reuse_path(entry.video)
    assert picture is not None
    assert motion is not None
    assert picture.name == "Hero Final.png"          # ...reused under the artist's name
    assert motion.name == "dance take 2.mp4"
    assert picture.read_bytes() == image.read_bytes()
    assert picture.is_relative_to(library.root)
    assert library.reuse_path(entry.image) == picture   # asked again: the same file

    # a job made from it is called by that name, and so is its result
    again = finished_job(str(picture), str(motion), prompt="")
    assert again.spec.title == "Hero Final + dance take 2"
    second = library.add_result(again, download(library, again))
    assert second.image.name == "Hero Final.png"
    assert second.image.copy == entry.image.copy     # still stored once
    assert "Hero Final + dance take 2" in second.video_path.name


def test_a_hostile_input_name_cannot_leave_the_library(library: Library,
                                                       tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG" + b"\x03" * 100)
    job = finished_job(str(image), str(image), prompt="")
    entry = library.add_result(job, download(library, job))
    for name in ("../../../outside.png", "..", "C:\\evil\\x.png", "/etc/passwd"):
        path = library.reuse_path(replace(entry.image, name=name))
        assert path is not None
        assert path.is_relative_to(library.root / INPUTS_DIR / "named")
        assert path.read_bytes() == image.read_bytes()
    assert library.reuse_path(replace(entry.image, copy=None)) is None
