"""Qt's own threads can let go of every Qt Multimedia object the app makes while the window's
thread holds Python's interpreter lock (kling_desktop/convert/qt_threads.py): the freeze CI
met (selecting a result in the library while Qt Multimedia's audio renderer was being let
go of) is made on purpose by tests/qt_thread_probe.py, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media import ffmpeg_available, make_video

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the probe reaches Qt through its Linux library names")


def _probe(*args: str, hang_s: int = 20) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KLING_PROBE_HANG_S=str(hang_s),
               QT_LOGGING_RULES="qt.multimedia*=false")
    return subprocess.run([sys.executable, "-m", "tests.qt_thread_probe", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=hang_s + 60,
                          check=False)


def _settled(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("settled: ") for line in result.stdout.splitlines()
            if line.startswith("settled: ")]


def test_the_probe_makes_the_freeze_with_an_object_made_as_before() -> None:
    result = _probe("bare", hang_s=3)
    assert result.returncode != 0
    assert "Timeout" in result.stderr
    assert _settled(result) == []


def test_the_library_players_objects_never_wait_for_python() -> None:
    result = _probe("gallery-player")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _settled(result) == ["VideoPlayer.player", "VideoPlayer.audio", "VideoPlayer.video"]


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test clip")
def test_the_poster_grabbers_objects_never_wait_for_python(tmp_path: Path) -> None:
    clip = make_video(tmp_path, seconds=1, width=160, height=120, name="dance.mp4")
    result = _probe("poster-grabber", str(clip))
    assert result.returncode == 0, result.stderr[-2000:]
    assert _settled(result) == ["PosterGrabber player", "PosterGrabber sink"]


def test_every_kind_of_object_the_conversion_step_makes_never_waits_for_python() -> None:
    result = _probe("helper")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _settled(result) == ["QMediaPlayer", "QVideoSink", "QAudioOutput",
                                "QMediaCaptureSession", "QVideoFrameInput", "QAudioBufferInput",
                                "QAudioBufferOutput", "QMediaRecorder"]
