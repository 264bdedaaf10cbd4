"""The one conversion step: the core's decisions (no Qt) and the real conversions with Qt
Multimedia and Qt's image classes, on media made by ffmpeg."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import kling_desktop.convert
from kling_desktop.api.models import Orientation
from kling_desktop.convert import convert
from kling_desktop.convert.clips import read_facts
from kling_desktop.engine.checks import check_image, check_video
from kling_desktop.engine.fixes import (
    ConversionCancelled,
    ConversionError,
    ConversionPlan,
    Crop,
    FitLength,
    FitSize,
    Pad,
    ScaleDown,
    ToPng,
    Transcode,
    Trim,
    TrimError,
    describe,
    parse_trim,
    plan_picture,
    plan_video,
    standard_frame_rate,
    video_target,
)
from tests.media import ffmpeg_available, make_image, make_video

# The machine's sound server is not there (headless): Qt Multimedia says so.
# Decoded frames carry no rate of their own: the recorder's is used (clips.py).
pytestmark = pytest.mark.qt_log_ignore("Couldn't load pipewire.*", "Couldn't resolve pipewire.*",
                                       "Invalid frameRate 0.*")

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media")


def stream_durations(path: Path) -> dict[str, float]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "json",
         str(path)], capture_output=True, text=True, check=True, timeout=60)
    return {s["codec_type"]: float(s["duration"]) for s in json.loads(done.stdout)["streams"]}


# -- the decisions (no Qt) ---------------------------------------------------------------


def test_parse_trim_reads_spans_and_refuses_nonsense() -> None:
    assert parse_trim("2.5-9.5") == Trim(2.5, 9.5)
    assert parse_trim("4-") == Trim(4.0, None)
    for bad in ("9.5-2.5", "abc", "2.5", "1-2", "-1-5", "nan-5"):
        with pytest.raises(TrimError):
            parse_trim(bad)


def test_standard_frame_rates_are_kept_and_odd_ones_replaced() -> None:
    assert standard_frame_rate(25.0) == 25.0
    assert standard_frame_rate(30000 / 1001) == pytest.approx(29.97, abs=0.01)
    assert standard_frame_rate(60.0) == 30.0
    assert standard_frame_rate(120.0) == 30.0
    assert standard_frame_rate(14.7) == 24.0
    assert standard_frame_rate(0.0) == 30.0


def test_fitting_a_size_lowers_the_bit_rate_to_the_injected_limit() -> None:
    # The 4K/120 MB case, with a smaller limit injected: 8 MB for 10 s of 3840 × 2160.
    plan = ConversionPlan("video", Path("big.mp4"), (Transcode(), FitSize(8 * 2**20)),
                          limit_bytes=8 * 2**20)
    target = video_target(plan, width=3840, height=2160, fps=60, duration=10.0,
                          has_audio=True)
    assert target.fps == 30.0
    assert target.estimated_bytes() <= 8 * 2**20
    assert (target.width, target.height) == (1920, 1080)   # starved of bits: 1080p
    roomy = video_target(ConversionPlan("video", Path("big.mp4"), (Transcode(),)),
                         width=3840, height=2160, fps=60, duration=10.0, has_audio=True)
    assert roomy.video_bits_per_second > target.video_bits_per_second
    assert (roomy.width, roomy.height) == (3840, 2160)


def test_a_clip_over_the_limit_is_trimmed_from_the_start_and_scaled(tmp_path: Path) -> None:
    plan = ConversionPlan("video", Path("x.mp4"), (FitLength(10.0), Transcode()))
    target = video_target(plan, width=4000, height=3000, fps=24, duration=14.2,
                          has_audio=False)
    assert (target.start, target.end) == (0.0, 10.0)
    assert (target.width, target.height) == (4000, 3000)  # no ScaleDown asked


@needs_ffmpeg
def test_plan_video_names_the_fixes_a_long_clip_and_a_webm_need(tmp_path: Path) -> None:
    long_clip = make_video(tmp_path, seconds=14, width=360, height=360, audio=False)
    plan = plan_video(long_clip, orientation=Orientation.IMAGE)
    assert plan is not None
    assert FitLength(10.0) in plan.fixes
    assert plan_video(long_clip, orientation=Orientation.VIDEO) is None
    assert plan_video(long_clip, orientation=Orientation.VIDEO, auto=False) is None
    webm = make_video(tmp_path, seconds=3.5, width=360, height=360, fmt="webm", audio=False)
    plan = plan_video(webm, orientation=Orientation.IMAGE)
    assert plan is not None
    assert Transcode() in plan.fixes


# -- the conversions (Qt) --------------------------------------------------------------


@needs_ffmpeg
def test_trim_keeps_the_span_with_the_sound_in_step(qapp: object, tmp_path: Path) -> None:
    source = make_video(tmp_path / "in", seconds=14, width=360, height=360, fps=24)
    before = source.read_bytes()
    plan = plan_video(source, orientation=Orientation.IMAGE, trim=parse_trim("2.0-9.5"))
    assert plan is not None
    reports: list[tuple[int, int]] = []
    result = convert(plan, output_dir=tmp_path / "out",
                     progress=lambda done, total: reports.append((done, total)))
    frame = 1 / 24
    assert result.duration == pytest.approx(7.5, abs=frame)
    streams = stream_durations(result.path)
    assert streams["video"] == pytest.approx(7.5, abs=frame)
    assert streams["audio"] == pytest.approx(streams["video"], abs=frame)
    info, problems = check_video(str(result.path), Orientation.IMAGE)
    assert problems == []
    assert info is not None
    assert info.has_audio
    assert result.trim == (2.0, 9.5)
    assert reports
    assert reports[-1][1] == 7500
    assert source.read_bytes() == before                 # the original is never changed
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.path.name]
    assert "7.5 s" in describe(result)
    played = read_facts(result.path)            # QMediaPlayer loads it: picture and sound
    assert played.has_audio
    assert played.duration == pytest.approx(7.5, abs=0.1)


@needs_ffmpeg
def test_a_webm_becomes_an_accepted_mp4(qapp: object, tmp_path: Path) -> None:
    webm = make_video(tmp_path, seconds=4, width=480, height=360, fmt="webm", fps=30)
    assert check_video(str(webm), Orientation.IMAGE)[1]        # refused as it is
    plan = plan_video(webm, orientation=Orientation.IMAGE)
    assert plan is not None
    result = convert(plan, output_dir=tmp_path / "out")
    info, problems = check_video(str(result.path), Orientation.IMAGE)
    assert problems == []
    assert info is not None
    assert info.container == "mp4"
    assert info.has_audio
    assert result.duration == pytest.approx(4.0, abs=0.1)


@needs_ffmpeg
def test_a_clip_is_fitted_under_an_injected_size_limit(qapp: object, tmp_path: Path) -> None:
    source = make_video(tmp_path, seconds=4, width=640, height=480, fps=30, audio=False)
    limit = 600 * 1024      # the clip as it is: ~1.4 MB
    plan = ConversionPlan("video", source, (Transcode(), FitSize(limit)), keep_audio=False,
                          limit_bytes=limit)
    result = convert(plan, output_dir=tmp_path / "out")
    assert result.size_bytes <= limit
    assert check_video(str(result.path), Orientation.IMAGE)[1] == []


@needs_ffmpeg
def test_cancel_mid_conversion_leaves_no_partial_file(qapp: object, tmp_path: Path) -> None:
    source = make_video(tmp_path / "in", seconds=8, width=360, height=360)
    plan = plan_video(source, orientation=Orientation.IMAGE, trim=Trim(0.0, 8.0))
    assert plan is not None
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 1000:
            cancel.set()

    out = tmp_path / "out"
    with pytest.raises(ConversionCancelled):
        convert(plan, output_dir=out, progress=progress, cancel=cancel)
    assert list(out.iterdir()) == []


@needs_ffmpeg
def test_a_webp_becomes_an_accepted_png(tmp_path: Path) -> None:
    webp = make_image(tmp_path, width=600, height=800, fmt="webp")
    assert check_image(str(webp))[1]
    plan = plan_picture(webp)
    assert plan is not None
    assert ToPng() in plan.fixes
    result = convert(plan, output_dir=tmp_path / "out")
    info, problems = check_image(str(result.path))
    assert problems == []
    assert info is not None
    assert (info.format, info.width, info.height) == ("png", 600, 800)


@needs_ffmpeg
def test_a_one_to_four_banner_is_padded_to_an_accepted_shape(tmp_path: Path) -> None:
    banner = make_image(tmp_path, width=1600, height=400, fmt="png")
    assert check_image(str(banner))[1]
    plan = plan_picture(banner)
    assert plan is not None
    assert Pad() in plan.fixes
    result = convert(plan, output_dir=tmp_path / "out")
    info, problems = check_image(str(result.path))
    assert problems == []
    assert info is not None
    assert (info.width, info.height) == (1600, 640)       # 2.5:1, the picture kept whole
    assert plan_picture(result.path) is None              # nothing more to fix


def test_the_conversion_step_never_imports_widgets() -> None:
    folder = Path(kling_desktop.convert.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any("QtWidgets" in n or n.startswith("kling_desktop.ui") for n in names), \
                path


@needs_ffmpeg
def test_a_large_fast_clip_is_scaled_down_to_a_standard_rate(qapp: object,
                                                               tmp_path: Path) -> None:
    # A smaller side limit injected in place of 3,850 px; 60 fps as a screen recording.
    source = make_video(tmp_path, seconds=3.5, width=640, height=480, fps=60, audio=False)
    plan = ConversionPlan("video", source, (Transcode(), ScaleDown(400)), keep_audio=False)
    result = convert(plan, output_dir=tmp_path / "out")
    assert (result.width, result.height) == (400, 300)
    assert read_facts(result.path).fps == pytest.approx(30.0, abs=0.5)
    assert result.duration == pytest.approx(3.5, abs=1 / 30)


@needs_ffmpeg
def test_a_picture_too_heavy_for_png_becomes_a_jpeg_under_the_limit(tmp_path: Path) -> None:
    # A smaller byte limit injected in place of 10 MB: the PNG would pass it.
    from PySide6.QtGui import QImage

    pixels = os.urandom(900 * 1200 * 3)      # noise: PNG cannot squeeze it, JPEG can
    noisy = tmp_path / "noise.png"
    assert QImage(pixels, 900, 1200, 900 * 3, QImage.Format.Format_RGB888).save(str(noisy))
    limit = noisy.stat().st_size * 2 // 3
    plan = ConversionPlan("image", noisy, (FitSize(limit),), limit_bytes=limit)
    result = convert(plan, output_dir=tmp_path / "out")
    assert result.path.suffix == ".jpg"
    assert result.size_bytes <= limit
    info, problems = check_image(str(result.path))
    assert problems == []
    assert info is not None
    assert info.format == "jpeg"


@needs_ffmpeg
def test_a_banner_can_be_cropped_instead_of_padded(tmp_path: Path) -> None:
    banner = make_image(tmp_path, width=1600, height=400, fmt="png")
    plan = plan_picture(banner, shape=Crop(300, 0, 1000, 400))
    assert plan is not None
    result = convert(plan, output_dir=tmp_path / "out")
    assert (result.width, result.height) == (1000, 400)
    assert check_image(str(result.path))[1] == []


@needs_ffmpeg
def test_a_span_past_the_clip_is_refused_and_nothing_written(qapp: object,
                                                             tmp_path: Path) -> None:
    source = make_video(tmp_path / "in", seconds=4, width=360, height=360, audio=False)
    plan = plan_video(source, orientation=Orientation.IMAGE, trim=Trim(3.0, 9.0))
    assert plan is not None
    out = tmp_path / "out"
    with pytest.raises(ConversionError, match=r"only 1\.0 s are left"):
        convert(plan, output_dir=out)
    assert list(out.iterdir()) == []
