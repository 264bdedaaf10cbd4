"""The gallery: real results (ffmpeg clips, sidecars, SQLite index), real widgets, no network.

Every test here runs with ``KLING_BASE_URL`` pointing at a closed loopback port
and with ``socket.socket.connect`` guarded: the gallery reads only the library
folder, so any attempt to connect anywhere fails the test.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLoggingCategory
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.library import Library, LibraryEntry, read_sidecar
from kling_desktop.engine.store import JobStore
from kling_desktop.ui.gallery import GalleryWidget
from kling_desktop.ui.gallery.model import GalleryModel
from tests.media import make_large_png
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, fake_xdg_mime
from tests.ui.gallery_support import Made, add_results

pytestmark = [
    pytest.mark.qt_log_ignore(
        *QT_LOG_IGNORES,
        # A headless machine has no sound server and no sound card: QtMultimedia says so
        # when a player with an audio output is created. A desktop never prints these.
        r"^PulseAudioService: pa_context_connect\(\) failed$",
        r"^No audio device detected$",
        # The offscreen platform cannot raise a window (the full-screen video).
        r"^This plugin does not support raise\(\)$",
    ),
]

PLAYING = QMediaPlayer.PlaybackState.PlayingState


# ----------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True, scope="module")
def quiet_decoder_notes() -> Iterator[None]:
    """Silence QtMultimedia's per-clip "No HW decoder found" note (an info message).

    The poster thread decodes clips in the background; pytest-qt swaps the Qt message
    handler between a test's phases, and a message arriving from another thread at
    that instant made PySide6 call a null handler (a crash seen under gdb, in the
    poster thread, on this note). Every real warning still reaches the handler and
    still fails the test.
    """
    QLoggingCategory.setFilterRules("qt.multimedia.playbackengine.codec.info=false")
    yield
    QLoggingCategory.setFilterRules("")



@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """A closed provider port, and a record of every non-Unix connection attempt."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()   # nothing listens there any more
    monkeypatch.setenv("KLING_BASE_URL", f"http://127.0.0.1:{port}")
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if self.family != getattr(socket, "AF_UNIX", None):
            attempts.append(address)
            raise ConnectionRefusedError(f"the gallery must not connect to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_ex(self: socket.socket, address: object) -> object:
        if self.family != getattr(socket, "AF_UNIX", None):
            attempts.append(address)
            return 111
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    yield attempts
    assert attempts == [], f"something tried to connect: {attempts}"


@pytest.fixture
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The XDG trash QFile.moveToTrash uses on Linux, inside tmp_path."""
    home = tmp_path / "home"
    data = home / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data / "Trash"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


GalleryFactory = Callable[..., GalleryWidget]


@pytest.fixture
def gallery(qtbot: QtBot, tmp_path: Path, library: Library,
            store: JobStore) -> Iterator[GalleryFactory]:
    made: list[GalleryWidget] = []

    def build(lib: Library | None = None, st: JobStore | None = None,
              **kwargs: object) -> GalleryWidget:
        widget = GalleryWidget(lib or library, st or store, cache_dir=tmp_path / "cache",
                               **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(widget)
        made.append(widget)
        widget.resize(1300, 820)
        widget.show()
        qtbot.waitExposed(widget)
        qtbot.waitUntil(lambda: widget.syncs_done >= 1, timeout=WAIT_MS)
        return widget

    yield build
    for widget in made:
        assert widget.shutdown(10_000), "gallery workers outlived the test"


def keys(model: GalleryModel) -> list[str]:
    return model.keys()


def rel(library: Library, entry: LibraryEntry) -> str:
    return library.relative(entry.video_path)


VARIETY = [
    Made("hip-hop routine in the street", mark="keeper", seconds=3),
    Made("ballet pirouette", model=Model.V2_6, mode=Mode.STD, width=240, height=320,
         orientation=Orientation.IMAGE),
    Made("robot dance", demo=True, mark="reject", age_days=2, seconds=1),
    Made("slow tai chi", age_days=40, seconds=2),
]


# -------------------------------------------------------------------------- grid


def test_grid_shows_results_newest_first_with_cached_posters(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, tmp_path: Path) -> None:
    entries = add_results(library, store, media, VARIETY)
    widget = gallery()
    model = widget.model
    assert model.rowCount() == 4
    # newest first: the aged ones last, oldest at the end
    assert keys(model)[-1] == rel(library, entries[3])
    assert keys(model)[-2] == rel(library, entries[2])
    assert widget.filter_bar.count_label.text() == "4 results"
    qtbot.waitUntil(lambda: widget.thumbnails.made == 4, timeout=WAIT_MS)
    for entry in entries:
        assert widget.thumbnails.cached(rel(library, entry)) is not None
    cached = list((tmp_path / "cache" / "thumbnails").glob("*.jpg"))
    assert len(cached) == 4
    # a second start reads them back from the disk cache: nothing decoded again
    widget.shutdown()
    again = gallery()
    qtbot.waitUntil(lambda: again.thumbnails.from_disk == 4, timeout=WAIT_MS)
    assert again.thumbnails.made == 0


def test_search_filters_and_sort_narrow_the_grid(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, VARIETY)
    widget = gallery()
    bar, model = widget.filter_bar, widget.model

    def pick(box_name: str, data: object) -> None:
        box = getattr(bar, box_name)
        box.setCurrentIndex(box.findData(data))

    bar.search.setText("DANCE")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT_MS)   # debounced
    assert keys(model) == [rel(library, entries[2])]
    assert bar.count_label.text() == "1 of 4"
    bar.search.clear()
    bar.emit_query()
    assert model.rowCount() == 4

    pick("model_box", str(Model.V2_6))
    assert keys(model) == [rel(library, entries[1])]
    bar.reset()
    pick("mode_box", str(Mode.STD))
    assert keys(model) == [rel(library, entries[1])]
    bar.reset()
    pick("orientation_box", str(Orientation.VIDEO))
    assert model.rowCount() == 3
    bar.reset()
    pick("demo_box", True)
    assert keys(model) == [rel(library, entries[2])]
    pick("demo_box", False)
    assert model.rowCount() == 3
    bar.reset()
    pick("mark_box", "keeper")
    assert keys(model) == [rel(library, entries[0])]
    pick("mark_box", "unmarked")
    assert sorted(keys(model)) == sorted(rel(library, e) for e in (entries[1], entries[3]))
    bar.reset()
    pick("date_box", "week")
    assert rel(library, entries[3]) not in keys(model)
    assert model.rowCount() == 3
    bar.reset()
    assert not bar.reset_button.isVisible()
    pick("sort_box", "longest")
    assert keys(model)[0] == rel(library, entries[0])    # 3 s
    assert keys(model)[-1] == rel(library, entries[2])   # 1 s
    pick("sort_box", "oldest")
    assert keys(model)[0] == rel(library, entries[3])
    bar.search.setText("nothing like this")
    bar.emit_query()
    assert model.rowCount() == 0
    assert widget.view.empty_text == "Nothing matches these filters."


def test_search_finds_titles_and_names_and_a_hidden_result_leaves_the_detail_pane(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, VARIETY)
    widget = gallery()
    bar, model = widget.filter_bar, widget.model

    def search(text: str) -> list[str]:
        bar.search.setText(text)
        bar.emit_query()
        return keys(model)

    ballet = rel(library, entries[1])
    assert search("character 2") == [ballet]                 # the picture's name
    assert search("motion 2.mp4") == [ballet]                # the clip's name
    assert search(entries[1].title) == [ballet]              # its title, as shown
    assert entries[1].title == "character 2 — ballet pirouette"
    assert search("0002-abcdefgh") == [ballet]               # the task id

    # the selected result is filtered out: the pane no longer shows it
    search("")
    assert widget.select_key(ballet)
    assert widget.detail.title.text() == entries[1].title
    assert search("robot") == [rel(library, entries[2])]
    assert widget.detail.title.text() != entries[1].title
    assert search("nothing like this") == []
    assert widget.detail.pages.currentWidget() is widget.detail.empty
    assert widget.detail.targets() == []


# ------------------------------------------------------------------------ detail


def test_selecting_shows_every_parameter_and_use_again(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, VARIETY[:2])
    widget = gallery()
    assert widget.select_key(rel(library, entries[1]))
    detail = widget.detail
    values = detail.values
    assert values["prompt"].text() == "ballet pirouette"
    assert values["model"].text() == "Kling V2.6"
    assert values["mode"].text() == "Standard (720p)"
    assert values["orientation"].text().startswith("Match the picture")
    assert values["resolution"].text() == "240 × 320"
    assert values["size"].text().endswith("KB")
    assert detail.task_value.text() == entries[1].task_id
    detail.copy_task_button.click()
    assert QGuiApplication.clipboard().text() == entries[1].task_id
    assert detail.player.source() == entries[1].video_path
    assert "character 2.png" in detail.image_caption.text()
    qtbot.waitUntil(lambda: detail.image_preview.pixmap() is not None
                    and not detail.image_preview.pixmap().isNull(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: detail.clip_preview.pixmap() is not None
                    and not detail.clip_preview.pixmap().isNull(), timeout=WAIT_MS)
    with qtbot.waitSignal(widget.use_settings_again, timeout=WAIT_MS) as signal:
        detail.again_button.click()
    used = signal.args[0]
    assert isinstance(used, LibraryEntry)
    assert (used.prompt, used.model, used.task_id) == ("ballet pirouette", str(Model.V2_6),
                                                       entries[1].task_id)

    # the player: play, pause, one frame forward, loop and mute switches
    player = detail.player
    player.play_button.click()
    qtbot.waitUntil(lambda: player.is_playing() and player.position() > 200, timeout=WAIT_MS)
    player.play_button.click()
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=WAIT_MS)
    before = player.position()
    player.forward_button.click()
    qtbot.waitUntil(lambda: player.position() >= before + 40, timeout=WAIT_MS)
    player.loop_button.click()
    assert player.player.loops() == QMediaPlayer.Loops.Once
    player.mute_button.click()
    assert player.audio.isMuted()

    # two selected: what works on both
    widget.view.selectAll()
    assert detail.pages.currentWidget() is detail.multi


def test_a_huge_kept_picture_is_not_decoded_for_the_detail_pane(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, [Made("huge character")])
    kept = library.input_path(entries[0].image)
    assert kept is not None
    # A kept copy that is 8000 × 8000 (a library from before the 40-megapixel check).
    shutil.copyfile(make_large_png(media, width=8000, height=8000), kept)
    widget = gallery()
    assert widget.select_key(rel(library, entries[0]))
    detail = widget.detail
    qtbot.waitUntil(lambda: detail.image_preview.text() == "No preview", timeout=WAIT_MS)
    assert "too large to preview" in detail.image_preview.toolTip()
    assert detail.image_preview.pixmap().isNull()


def test_compare_starts_both_players_in_sync(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, [Made("side by side", seconds=3)])
    widget = gallery()
    widget.select_key(rel(library, entries[0]))
    widget.act_compare.trigger()
    compare = widget.compare
    assert widget.is_comparing()
    reference, result = compare.players()
    assert reference.source() == library.input_path(entries[0].video)
    assert result.source() == entries[0].video_path
    qtbot.waitUntil(lambda: reference.player.playbackState() == PLAYING
                    and result.player.playbackState() == PLAYING, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: result.position() > 400 and reference.position() > 400,
                    timeout=WAIT_MS)
    assert abs(result.position() - reference.position()) < 300
    compare.play_button.click()   # one pause for both
    qtbot.waitUntil(lambda: not reference.is_playing() and not result.is_playing(),
                    timeout=WAIT_MS)
    compare.slider.setValue(1500)   # one scrub for both
    qtbot.waitUntil(lambda: abs(result.position() - 1500) < 100
                    and abs(reference.position() - 1500) < 100, timeout=WAIT_MS)
    compare.play_button.click()
    qtbot.waitUntil(lambda: result.is_playing() and reference.is_playing()
                    and result.position() > 1600, timeout=WAIT_MS)
    compare.back_button.click()
    assert not widget.is_comparing()
    assert not result.is_playing()


# ----------------------------------------------------------------------- actions


def test_marks_go_to_sidecar_and_index(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, VARIETY[3:])
    widget = gallery()
    key = rel(library, entries[0])
    widget.select_key(key)
    widget.act_keeper.trigger()
    qtbot.waitUntil(lambda: (store.get_result(key) or None) is not None
                    and store.get_result(key).mark == "keeper", timeout=WAIT_MS)  # type: ignore[union-attr]
    assert read_sidecar(entries[0].sidecar_path).mark == "keeper"
    qtbot.waitUntil(lambda: widget.detail.keeper_button.isChecked(), timeout=WAIT_MS)
    widget.detail.reject_button.click()
    qtbot.waitUntil(lambda: read_sidecar(entries[0].sidecar_path).mark == "reject",
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: store.get_result(key).mark == "reject",  # type: ignore[union-attr]
                    timeout=WAIT_MS)


def test_open_without_a_video_player_says_so_at_once(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linux: Qt reports success as soon as xdg-open starts, which then fails silently;
    the desktop is asked first (xdg-mime) and its "nothing" is said in the window."""
    if not sys.platform.startswith("linux"):
        pytest.skip("xdg-mime: the Linux desktop's question")
    [entry] = add_results(library, store, media, VARIETY[:1])   # (ffmpeg: before PATH)
    fake_xdg_mime(tmp_path / "tools", monkeypatch, "exit 0")     # no handler
    widget = gallery()
    widget.select_key(rel(library, entry))
    said: list[str] = []
    widget.status_message.connect(said.append)
    widget.act_open.trigger()
    assert said == [f"Opening “{entry.video_path.name}”…"]     # at once, before any answer
    qtbot.waitUntil(lambda: len(said) == 2, timeout=5000)
    assert said[1].startswith(f"No video player on this computer opened "
                              f"“{entry.video_path.name}”.")
    assert "No video player" in widget.notice.text()


def test_a_problem_is_shown_as_plain_text(gallery: GalleryFactory) -> None:
    """A file name in the library folder may be anything, markup included."""
    widget = gallery()
    widget.show_problem("No program on this computer opened “<img src=x><b>a</b>.mp4”.")
    assert "<b>" not in widget.notice.text()
    assert "&lt;img src=x&gt;&lt;b&gt;a&lt;/b&gt;.mp4" in widget.notice.text()


def test_delete_moves_to_the_trash_and_the_index_follows(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, trash: Path, answer_box: Callable[[str], None]) -> None:
    entries = add_results(library, store, media, VARIETY[:2])
    widget = gallery()
    gone, kept = entries
    widget.select_key(rel(library, gone))
    answer_box("keepResult")            # first: change of mind
    widget.act_delete.trigger()
    assert gone.video_path.exists()
    answer_box("confirmDelete")
    with qtbot.waitSignal(widget.status_message, timeout=WAIT_MS) as said:
        widget.act_delete.trigger()
    assert "trash" in said.args[0]
    assert not gone.video_path.exists()
    assert not gone.sidecar_path.exists()
    trashed = sorted(p.name for p in (trash / "files").iterdir())
    assert trashed == sorted([gone.video_path.name, gone.sidecar_path.name])
    assert store.get_result(rel(library, gone)) is None
    assert widget.model.keys() == [rel(library, kept)]
    # the kept inputs stay (other results may share them)
    assert library.input_path(gone.image) is not None
    # the next one is selected, as when reviewing one by one
    assert widget.selected_rows() == [0]


def test_the_trash_is_done_on_a_worker(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, trash: Path, answer_box: Callable[[str], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving to the trash may be a copy (another disk) or a slow network folder: the
    window goes on while it runs, and says so when it is done."""
    from kling_desktop.ui.gallery import actions

    threads: list[str] = []

    def recorded(path: Path) -> bool:
        threads.append(threading.current_thread().name)
        return actions.move_to_trash(path)

    monkeypatch.setattr(actions, "system_trash", recorded)
    entries = add_results(library, store, media, VARIETY[:3])
    widget = gallery()
    widget.view.selectAll()
    answer_box("confirmDelete")
    with qtbot.waitSignal(widget.status_message, timeout=WAIT_MS) as said:
        widget.act_delete.trigger()
    assert said.args[0] == "Moved 3 results to the trash."
    assert len(threads) == 6          # each video and its description
    assert threading.main_thread().name not in threads
    assert widget.model.keys() == []
    assert not any(entry.video_path.exists() for entry in entries)


def test_save_copy_and_export_run_on_workers(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kling_desktop.ui.gallery import actions

    entries = add_results(library, store, media, VARIETY[:2])
    widget = gallery()
    copy_to = tmp_path / "elsewhere" / "copy.mp4"
    copy_to.parent.mkdir()
    monkeypatch.setattr(actions, "ask_save_path", lambda *_a: copy_to)
    widget.select_key(rel(library, entries[0]))
    with qtbot.waitSignal(widget.status_message, timeout=WAIT_MS):
        widget.act_save.trigger()
    assert copy_to.read_bytes() == entries[0].video_path.read_bytes()

    out = tmp_path / "export"
    monkeypatch.setattr(actions, "ask_folder", lambda *_a: out)
    widget.view.selectAll()
    with qtbot.waitSignal(widget.status_message, timeout=WAIT_MS) as said:
        widget.act_export.trigger()
    assert said.args[0].startswith("Exported 2 results")
    for entry in entries:
        assert read_sidecar(out / entry.sidecar_path.name).prompt == entry.prompt
        assert (out / entry.video_path.name).is_file()
    assert len(list((out / ".inputs").iterdir())) == 4


# ------------------------------------------------------------- the folder is the truth


def test_files_dropped_into_the_folder_appear_and_disappear(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path, tmp_path: Path) -> None:
    add_results(library, store, media, VARIETY[:1])
    widget = gallery()
    assert widget.model.rowCount() == 1
    assert str(library.root) in widget.watched_folders()
    # results made elsewhere (another machine's library) copied in by hand
    with JobStore(tmp_path / "other" / "jobs.sqlite3") as other_store:
        other = Library(tmp_path / "other" / "library", other_store)
        outside = add_results(other, other_store, tmp_path / "other-media", VARIETY[1:3])
    for entry in outside:
        shutil.copyfile(entry.video_path, library.root / entry.video_path.name)
        shutil.copyfile(entry.sidecar_path, library.root / entry.sidecar_path.name)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 3, timeout=WAIT_MS)
    added = store.get_result(outside[0].video_path.name)
    assert added is not None
    assert added.sidecar_ok
    # a bare video with no description shows too
    shutil.copyfile(outside[0].video_path, library.root / "loose clip.mp4")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 4, timeout=WAIT_MS)
    loose = store.get_result("loose clip.mp4")
    assert loose is not None
    assert not loose.sidecar_ok
    # removed outside the app: gone from the grid (once its poster is made: a clip
    # deleted while being decoded makes FFmpeg warn, which fails a Qt test)
    qtbot.waitUntil(widget.thumbnails.idle, timeout=WAIT_MS)
    (library.root / "loose clip.mp4").unlink()
    (library.root / outside[1].video_path.name).unlink()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 2, timeout=WAIT_MS)


def test_a_corrupt_sidecar_is_shown_as_such_and_the_video_kept(
        qtbot: QtBot, gallery: GalleryFactory, library: Library, store: JobStore,
        media: Path) -> None:
    entries = add_results(library, store, media, VARIETY[:2])
    widget = gallery(quick_check_every_ms=200)   # rewritten in place: no watcher event
    broken = entries[0]
    key = rel(library, broken)
    widget.select_key(key)
    broken.sidecar_path.write_text('{"schema": 1, "video_file": ', encoding="utf-8")
    qtbot.waitUntil(lambda: not (store.get_result(key) or broken).sidecar_ok,  # type: ignore[union-attr]
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: widget.model.entry_at(widget.model.row_of(key) or 0) is None,
                    timeout=WAIT_MS)
    assert widget.model.rowCount() == 2
    assert broken.video_path.is_file()
    detail = widget.detail
    qtbot.waitUntil(lambda: "not valid JSON" in detail.warning.text(), timeout=WAIT_MS)
    assert detail.warning.isVisible()
    assert not detail.again_button.isEnabled()
    assert not widget.act_compare.isEnabled()
    # it can still be marked: the index keeps the mark (the sidecar cannot hold it)
    widget.act_keeper.trigger()
    qtbot.waitUntil(lambda: store.get_result(key).mark == "keeper",  # type: ignore[union-attr]
                    timeout=WAIT_MS)
    assert broken.sidecar_path.read_text(encoding="utf-8") == '{"schema": 1, "video_file": '
    # fixed by hand: readable again
    broken.sidecar_path.write_text(json.dumps(broken.to_json()), encoding="utf-8")
    qtbot.waitUntil(lambda: store.get_result(key).sidecar_ok,  # type: ignore[union-attr]
                    timeout=WAIT_MS)


def test_a_deleted_database_is_rebuilt_from_the_sidecars_with_progress(
        qtbot: QtBot, gallery: GalleryFactory, tmp_path: Path, media: Path) -> None:
    db = tmp_path / "db" / "jobs.sqlite3"
    with JobStore(db) as first:
        made = add_results(Library(tmp_path / "library", first), first, media, VARIETY)
    for path in db.parent.iterdir():
        path.unlink()   # the database (and its WAL files) lost
    with JobStore(db) as fresh:
        library = Library(tmp_path / "library", fresh)
        assert fresh.count_results() == 0
        seen: list[int] = []
        widget = GalleryWidget(library, fresh, cache_dir=tmp_path / "cache")
        qtbot.addWidget(widget)
        widget.rebuild_progress.valueChanged.connect(seen.append)
        widget.show()
        qtbot.waitUntil(lambda: widget.syncs_done >= 1, timeout=WAIT_MS)
        try:
            assert widget.model.rowCount() == len(made)
            assert fresh.count_results() == len(made)
            assert seen
            assert seen[-1] == widget.rebuild_progress.maximum() == 2 * len(made)
            assert not widget.rebuild_bar.isVisible()
            marks = {r.video_rel: r.mark for r in fresh.list_results()}
            assert marks[library.relative(made[0].video_path)] == "keeper"
        finally:
            assert widget.shutdown(10_000)


def test_an_empty_library_says_where_results_will_appear(
        gallery: GalleryFactory, library: Library) -> None:
    widget = gallery()
    assert widget.model.rowCount() == 0
    assert str(library.root) in widget.view.empty_text
    assert not widget.detail.again_button.isVisible()


def test_a_shut_down_gallery_no_longer_reads_the_index(
        qtbot: QtBot, tmp_path: Path, media: Path) -> None:
    """After shutdown() the store may close while the widget is still on screen.

    Seen in CI: a paint after the test's store closed read rows from the closed
    database (a ProgrammingError in the paint).
    """
    db = tmp_path / "db" / "jobs.sqlite3"
    with JobStore(db) as store:
        made = add_results(Library(tmp_path / "library", store), store, media, VARIETY)
        widget = GalleryWidget(Library(tmp_path / "library", store), store,
                               cache_dir=tmp_path / "cache")
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitUntil(lambda: widget.syncs_done >= 1, timeout=WAIT_MS)
        assert widget.model.rowCount() == len(made)
        assert widget.shutdown(10_000)
    assert widget.isVisible()
    widget.view.viewport().repaint()     # rows not read before must not be read now
    widget.model.reload()
    assert widget.model.rowCount() == 0
    assert widget.model.record_at(0) is None
