"""The bundled resources: demo samples the provider would accept, and the app icon.

Pure byte-level checks (no Qt). The video's codec and duration are read with
ffprobe when it is installed; without it, only the MP4 container is checked.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CHARACTER = RESOURCES / "samples" / "character.png"
MOTION = RESOURCES / "samples" / "motion.mp4"
RESULT = RESOURCES / "samples" / "result.mp4"
ICONS = RESOURCES / "icons"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    head = path.read_bytes()[:33]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", head[8:16])
    assert kind == b"IHDR", f"{path.name}: first chunk is not IHDR"
    assert length == 13
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def mp4_top_level_boxes(path: Path) -> list[bytes]:
    kinds: list[bytes] = []
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
        elif size == 0:
            size = len(data) - pos
        assert size >= 8, f"corrupt box {kind!r} at {pos}"
        kinds.append(kind)
        pos += size
    assert pos == len(data), "trailing bytes after the last box"
    return kinds


def test_character_is_an_acceptable_png() -> None:
    assert CHARACTER.is_file()
    width, height = png_size(CHARACTER)
    assert width >= 300
    assert height >= 300
    assert 1 / 2.5 <= width / height <= 2.5
    assert CHARACTER.stat().st_size < 10 * 1024 * 1024


def test_motion_is_an_mp4_container_with_faststart() -> None:
    assert MOTION.is_file()
    assert MOTION.stat().st_size < 100 * 1024 * 1024
    boxes = mp4_top_level_boxes(MOTION)
    assert boxes[0] == b"ftyp"
    assert b"moov" in boxes
    assert b"mdat" in boxes
    # +faststart: the index comes before the media data, so players can start streaming.
    assert boxes.index(b"moov") < boxes.index(b"mdat")


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
def test_motion_is_h264_within_the_provider_limits() -> None:
    info = probe(MOTION)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert len(video) == 1
    stream = video[0]
    assert stream["codec_name"] == "h264"
    assert stream["pix_fmt"] == "yuv420p"
    assert 340 <= int(stream["width"]) <= 3850
    assert 340 <= int(stream["height"]) <= 3850
    assert 3.0 <= float(info["format"]["duration"]) <= 10.0
    assert "mp4" in info["format"]["format_name"]


def test_result_is_a_small_faststart_mp4_unlike_the_motion_clip() -> None:
    """The demo's result (the character dancing the motion) ships, and is not the clip."""
    assert RESULT.is_file()
    assert 20 * 1024 < RESULT.stat().st_size < 1024 * 1024
    assert RESULT.read_bytes() != MOTION.read_bytes()
    boxes = mp4_top_level_boxes(RESULT)
    assert boxes[0] == b"ftyp"
    assert boxes.index(b"moov") < boxes.index(b"mdat")


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
def test_result_plays_like_the_motion_clip_with_its_sound() -> None:
    result, motion = probe(RESULT), probe(MOTION)
    video = [s for s in result["streams"] if s["codec_type"] == "video"]
    audio = [s for s in result["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1
    assert video[0]["codec_name"] == "h264"
    assert video[0]["pix_fmt"] == "yuv420p"
    assert video[0]["avg_frame_rate"] == "24/1"
    motion_video = next(s for s in motion["streams"] if s["codec_type"] == "video")
    assert (video[0]["width"], video[0]["height"]) == (motion_video["width"],
                                                     motion_video["height"])
    assert float(result["format"]["duration"]) == pytest.approx(5.0, abs=0.1)
    assert [s["codec_name"] for s in audio] == ["aac"]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_result_frames_show_another_figure_than_the_motion_clip() -> None:
    """Same moment, different pictures: the character, not the clip's dancer."""
    def frame(path: Path) -> bytes:
        return subprocess.run(
            ["ffmpeg", "-v", "error", "-ss", "2", "-i", str(path), "-frames:v", "1",
             "-vf", "scale=27:48", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
            capture_output=True, check=True, timeout=60).stdout

    a, b = frame(RESULT), frame(MOTION)
    assert len(a) == len(b) == 27 * 48
    assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a) > 6


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_has_its_size(size: int) -> None:
    path = ICONS / f"app-{size}.png"
    assert path.is_file(), f"missing {path.name}"
    assert png_size(path) == (size, size)


def test_icon_svg_exists() -> None:
    svg = (ICONS / "app.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert 'viewBox="0 0 512 512"' in svg
