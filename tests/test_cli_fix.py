"""`kling-desktop generate --trim START-END` and `--fix`, end to end against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_desktop.api.models import Orientation
from kling_desktop.engine.checks import check_image, check_video
from kling_desktop.simulator import Simulator
from tests.cli_support import cli_env, run_cli, write_settings
from tests.media import ffmpeg_available, make_image, make_video

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media")


@pytest.fixture
def env(isolated_env: Path, sim: Simulator) -> dict[str, str]:
    write_settings(isolated_env)
    return cli_env(isolated_env, sim.base_url)


def converted_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "library" / ".inputs" / "converted").glob("*"))


def test_trim_sends_the_trimmed_clip_with_one_create_call(
    sim: Simulator, env: dict[str, str], tmp_path: Path, isolated_env: Path,
) -> None:
    picture = make_image(tmp_path, width=600, height=800)
    clip = make_video(tmp_path, seconds=14, width=360, height=360, name="dance.mp4")
    refused = run_cli(["generate", "--image", str(picture), "--video", str(clip)], env)
    assert refused.code == 2
    assert sim.count("create") == 0
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip),
                      "--trim", "2.0-9.5", "--wait", "--json"], env)
    assert result.code == 0, result.stderr
    assert "dance.mp4 → MP4" in result.stderr
    assert "7.5 s" in result.stderr
    assert "7.5 s billable" in result.stderr
    (trimmed,) = converted_files(isolated_env)
    info, problems = check_video(str(trimmed), Orientation.IMAGE)
    assert problems == []
    assert info is not None
    assert info.duration == pytest.approx(7.5, abs=1 / 24)
    # The simulator's result is the clip it received: the trimmed one.
    record = result.last_json()
    saved = Path(record["file"])
    assert saved.read_bytes() == trimmed.read_bytes()
    assert sim.count("create", status=200) == 1
    # The job and the result's sidecar record the original and the span kept.
    origin = {"name": "dance.mp4", "path": str(clip.resolve()), "trim": [2.0, 9.5],
              "from_format": None, "steps": []}
    assert record["video_origin"] == origin
    assert "image_origin" not in record
    sidecar = json.loads(saved.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["inputs"]["video"]["origin"] == origin
    assert sidecar["inputs"]["video"]["name"] == trimmed.name     # the copy that was sent
    assert "origin" not in sidecar["inputs"]["image"]
    listed = run_cli(["library", "list", "--json"], env)
    assert listed.code == 0, listed.stderr
    assert listed.last_json()["inputs"]["video"]["origin"] == origin


def test_fix_converts_a_webm_and_a_banner_and_says_what_was_done(
    sim: Simulator, env: dict[str, str], tmp_path: Path, isolated_env: Path,
) -> None:
    banner = make_image(tmp_path, width=1600, height=400, name="banner.png")
    webm = make_video(tmp_path, seconds=12, width=480, height=360, fmt="webm", name="m.webm")
    refused = run_cli(["generate", "--image", str(banner), "--video", str(webm)], env)
    assert refused.code == 2
    assert "Add --fix" in refused.stderr
    assert sim.count("create") == 0
    result = run_cli(["generate", "--image", str(banner), "--video", str(webm), "--fix",
                      "--json"], env)
    assert result.code == 0, result.stderr
    assert "banner.png → PNG, 1600 × 640 px" in result.stderr
    assert "m.webm → MP4" in result.stderr
    assert "10.0 s" in result.stderr
    files = converted_files(isolated_env)
    assert {p.suffix for p in files} == {".png", ".mp4"}
    picture = next(p for p in files if p.suffix == ".png")
    clip = next(p for p in files if p.suffix == ".mp4")
    assert check_image(str(picture))[1] == []
    assert check_video(str(clip), Orientation.IMAGE)[1] == []
    assert sim.count("create", status=200) == 1
    # what was done, by the job's record: the clip cut to 10 s from a WebM, the banner padded
    record = result.last_json()
    assert record["video_origin"]["name"] == "m.webm"
    assert record["video_origin"]["from_format"] == "webm"
    assert record["video_origin"]["trim"] == [0.0, 10.0]
    assert record["image_origin"]["name"] == "banner.png"
    assert record["image_origin"]["steps"] == ["padded"]


def test_a_bad_trim_span_is_refused_before_anything_is_sent(
    sim: Simulator, env: dict[str, str], tmp_path: Path,
) -> None:
    picture = make_image(tmp_path, width=600, height=800)
    clip = make_video(tmp_path, seconds=4, width=360, height=360)
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip),
                      "--trim", "5-2"], env)
    assert result.code == 2
    assert "trim span" in result.stderr
    assert sim.count("upload") == 0
    assert sim.count("create") == 0
