"""The poster helper: clips are decoded in a child process, never in the window's.

A clip that crashes or hangs the decoder costs its own poster and nothing else; the
helper ends when idle (its memory goes back) and a new one starts for the next clip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QImageReader
from pytestqt.qtbot import QtBot

from kling_desktop.paths import sample_character, sample_motion
from kling_desktop.ui.poster_helper import helper_command, parse_request, request_line
from kling_desktop.ui.posters import THUMB_MAX, _PosterProcess

WAIT_MS = 20_000


def request(number: int, video: Path, target: Path, fallback: Path | None = None) -> str:
    return request_line(number, video, fallback, target, THUMB_MAX).rstrip("\n")


def test_the_helper_answers_each_clip_in_order_and_nothing_else(tmp_path: Path) -> None:
    not_a_clip = tmp_path / "broken.mp4"
    not_a_clip.write_bytes(b"\x00" * 4096)
    lines = [
        request(1, sample_motion(), tmp_path / "one.jpg"),
        request(2, tmp_path / "gone.mp4", tmp_path / "two.jpg", fallback=sample_character()),
        "{ not json",
        json.dumps({"id": "3", "video": 5, "target": []}),
        "x" * 100_000,
        request(4, not_a_clip, tmp_path / "four.jpg"),
    ]
    program, arguments = helper_command()
    done = subprocess.run([program, *arguments], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"id": 1, "ok": True}, {"id": 2, "ok": True}, {"id": 4, "ok": False}]
    one = QImageReader(str(tmp_path / "one.jpg")).size()
    assert max(one.width(), one.height()) == THUMB_MAX     # the clip's frame, fitted
    assert QImageReader(str(tmp_path / "two.jpg")).canRead()   # the kept picture instead
    assert not (tmp_path / "four.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "one.jpg", "two.jpg"]


def test_requests_that_are_not_the_windows_are_refused() -> None:
    assert parse_request('{"id": 1, "video": "a.mp4", "target": "a.jpg"}') is not None
    for bad in ('{"id": 1, "video": "", "target": "a.jpg"}',
                '{"id": 1, "video": "a.mp4", "target": "a.jpg", "max": 100000}',
                '{"id": true, "video": "a.mp4"}', "[]", "null", "",
                '{"id": 1, "video": "a.mp4", "target": "' + "a" * 20_000 + '"}'):
        assert parse_request(bad) is None, bad


def grabbed(qtbot: QtBot, helper: _PosterProcess, key: str, video: Path,
            target: Path) -> tuple[str, list[object]]:
    """Ask for one poster; ("done" | "failed", the signal's arguments)."""
    seen: list[tuple[str, list[object]]] = []
    helper.done.connect(lambda *args: seen.append(("done", list(args))))
    helper.failed.connect(lambda *args: seen.append(("failed", list(args))))
    helper.grab(key, video, None, target)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    helper.done.disconnect()
    helper.failed.disconnect()
    return seen[0]


def test_a_helper_that_dies_costs_one_poster_and_the_next_clip_gets_a_new_one(
        qtbot: QtBot, tmp_path: Path) -> None:
    helper = _PosterProcess()
    try:
        seen: list[str] = []
        helper.failed.connect(seen.append)
        helper.grab("crashes", sample_motion(), None, tmp_path / "a.jpg")
        helper._process.kill()      # as a decoder crash on a hostile clip would end it
        qtbot.waitUntil(lambda: seen == ["crashes"], timeout=WAIT_MS)
        helper.failed.disconnect()
        assert not helper.running()
        assert grabbed(qtbot, helper, "next", sample_motion(), tmp_path / "b.jpg") == (
            "done", ["next", str(tmp_path / "b.jpg")])
        assert helper.started == 2
        assert QImageReader(str(tmp_path / "b.jpg")).canRead()
    finally:
        assert helper.shutdown(5000)


def test_a_helper_that_does_not_answer_in_time_is_stopped(qtbot: QtBot,
                                                          tmp_path: Path) -> None:
    helper = _PosterProcess(timeout_ms=50)   # a stuck decoder: no answer in time
    try:
        assert grabbed(qtbot, helper, "stuck", sample_motion(), tmp_path / "a.jpg") == (
            "failed", ["stuck"])
        qtbot.waitUntil(lambda: not helper.running(), timeout=WAIT_MS)
        assert helper.started == 1
    finally:
        assert helper.shutdown(5000)


def test_the_helper_ends_when_idle_and_starts_again_when_needed(qtbot: QtBot,
                                                                tmp_path: Path) -> None:
    helper = _PosterProcess(idle_ms=100)
    try:
        assert grabbed(qtbot, helper, "a", sample_motion(), tmp_path / "a.jpg")[0] == "done"
        qtbot.waitUntil(lambda: not helper.running(), timeout=WAIT_MS)   # its memory back
        assert grabbed(qtbot, helper, "b", sample_motion(), tmp_path / "b.jpg")[0] == "done"
        assert helper.started == 2
    finally:
        assert helper.shutdown(5000)


def test_the_window_shows_a_clips_poster_without_decoding_it_itself(tmp_path: Path) -> None:
    # A fresh process, as the window is: Thumbnails makes the sample clip's poster, and
    # neither Qt Multimedia nor FFmpeg is ever loaded in it.
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QSize, QTimer
        from PySide6.QtWidgets import QApplication
        from kling_desktop.paths import sample_motion
        from kling_desktop.ui.posters import Thumbnails
        from kling_desktop.ui.tasks import TaskRunner
        app = QApplication([])
        tasks = TaskRunner()
        thumbs = Thumbnails(Path({str(tmp_path)!r}), tasks, box=QSize(100, 100))
        def ask():
            if thumbs.pixmap("k", sample_motion()) is None and not thumbs.has_failed("k"):
                QTimer.singleShot(50, ask)
            else:
                app.quit()
        ask()
        QTimer.singleShot(30_000, app.quit)
        app.exec()
        poster = thumbs.cached("k")
        thumbs.shutdown(); tasks.shutdown(5000)
        maps = Path("/proc/self/maps").read_text() if sys.platform == "linux" else ""
        print(poster is not None and max(poster.width(), poster.height()) == 100,
              thumbs.made, "PySide6.QtMultimedia" in sys.modules, "libavcodec" in maps)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "1", "False", "False"]
    assert len(list((tmp_path / "thumbnails").glob("*.jpg"))) == 1


def test_the_helper_ends_when_the_window_is_gone_in_the_middle_of_a_clip(
        tmp_path: Path) -> None:
    # The window quit (or crashed) while its clip was being read: the answer has nowhere
    # to go, and the helper must not stay behind.
    program, arguments = helper_command()
    helper = subprocess.Popen([program, *arguments], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert helper.stdin is not None
    assert helper.stdout is not None
    helper.stdin.write((request(1, sample_motion(), tmp_path / "a.jpg") + "\n").encode())
    helper.stdin.close()
    helper.stdout.close()
    try:
        assert helper.wait(timeout=60) is not None
    finally:
        helper.kill()


def test_the_frozen_window_starts_the_helper_from_its_own_installation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kling_desktop.ui import poster_helper

    window = tmp_path / "kling-desktop.exe"
    window.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(window))
    monkeypatch.setattr(sys, "platform", "linux")
    assert helper_command() == (str(window), ["--poster-helper"])
    monkeypatch.setattr(sys, "platform", "win32")
    assert helper_command() == (str(window), ["--poster-helper"])   # no twin: itself
    twin = tmp_path / "kling-desktop-cli.exe"
    twin.write_bytes(b"")
    assert helper_command() == (str(twin), ["--poster-helper"])     # the console twin
    monkeypatch.setattr(sys, "executable", str(twin))                # the self-test's
    assert helper_command() == (str(twin), ["--poster-helper"])
    assert poster_helper.HELPER_FLAG == "--poster-helper"
