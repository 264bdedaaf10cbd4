"""Every input of the bad-input corpus exits 2 through the CLI before any byte is sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kling_desktop.simulator import Simulator
from tests import media
from tests.cli_support import cli_env, run_cli, write_settings

Make = Callable[[Path], tuple[Path, Path, list[str]]]


def _picture(folder: Path) -> Path:
    return media.make_image(folder, width=600, height=800, fmt="png")


def _clip(folder: Path) -> Path:
    return media.make_video(folder, seconds=4.0, width=640, height=480)


CORPUS: dict[str, tuple[Make, tuple[str, ...]]] = {
    "empty picture": (
        lambda f: (media.make_empty(f), _clip(f), []), ("empty", "Fix:")),
    "truncated PNG": (
        lambda f: (media.make_truncated_png(f), _clip(f), []),
        ("incomplete", "Get the file again")),
    "GIF renamed .jpg": (
        lambda f: (media.make_gif_renamed_jpg(f), _clip(f), []),
        ("GIF image", "Save it as PNG or JPG")),
    "WebM clip": (
        lambda f: (_picture(f), media.make_video(f, seconds=4.0, fmt="webm"), []),
        ("WebM", "MP4")),
    "2 s clip": (
        lambda f: (_picture(f), media.make_video(f, seconds=2.0), []), ("2", "at least 3 s")),
    "31 s clip with orientation video": (
        lambda f: (_picture(f), media.make_video(f, seconds=31.0, width=320, height=360),
                   ["--orientation", "video"]), ("31", "30 s")),
    "9000x300 picture": (
        lambda f: (media.make_image(f, width=9000, height=300), _clip(f), []),
        ("30:1", "Crop")),
    "11 MB picture": (
        lambda f: (media.make_padded_png(f), _clip(f), []), ("10 MB", "Fix:")),
    "folder instead of a picture": (
        lambda f: ((f / "a folder.png").resolve(), _clip(f), []), ("folder", "Fix:")),
    "missing clip": (
        lambda f: (_picture(f), f / "nowhere" / "gone.mp4", []), ("not", "Fix:")),
    "prompt over 2500 characters": (
        lambda f: (_picture(f), _clip(f), ["--prompt", "舞" * 2501]), ("2,500", "Shorten it")),
    "plain http link": (
        lambda f: (_picture(f), Path("http://example.com/dance.mp4"), []), ("https://",)),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_refused_locally_with_a_fix_and_nothing_sent(
    case: str, sim: Simulator, isolated_env: Path, tmp_path: Path,
) -> None:
    folder = tmp_path / "inputs ü"
    folder.mkdir()
    (folder / "a folder.png").mkdir()
    make, expected = CORPUS[case]
    image, video, extra = make(folder)
    write_settings(isolated_env)
    video_arg = "http://example.com/dance.mp4" if str(video).startswith("http:") else str(video)
    result = run_cli(["generate", "--image", str(image), "--video", video_arg, *extra],
                     cli_env(isolated_env, sim.base_url))
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("Nothing was sent")
    for words in expected:
        assert words in result.stderr, result.stderr
    assert "Fix:" in result.stderr
    assert sim.requests == []
