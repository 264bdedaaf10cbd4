"""SIGKILL of `generate --wait` at each phase, then `wait`: one create call, the right bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_desktop.simulator import Simulator
from tests.cli_support import RunningCli, cli_env, run_cli, write_settings
from tests.media import make_image, make_video

pytestmark = pytest.mark.slow


def job_states(data_dir: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        return [(row[0], row[1]) for row in db.execute("SELECT state, task_id FROM jobs")]


def _slow_down_upload(sim: Simulator) -> None:
    sim.config.upload_bytes_per_second = 150_000


def _slow_down_polls(sim: Simulator) -> None:
    sim.config.polls_until_done = 10_000


def _slow_down_download(sim: Simulator) -> None:
    sim.config.download_bytes_per_second = 150_000


def _restore(sim: Simulator) -> None:
    sim.config.upload_bytes_per_second = None
    sim.config.download_bytes_per_second = None
    sim.config.polls_until_done = 2


PHASES: dict[str, tuple[Callable[[Simulator], None], Callable[[str], bool]]] = {
    "uploading": (_slow_down_upload, lambda line: "uploading" in line),
    "right-after-create": (_slow_down_polls, lambda line: "(task task-" in line),
    "polling": (_slow_down_polls, lambda line: "generating" in line),
    "downloading": (_slow_down_download, lambda line: "downloading" in line),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_at_each_phase_then_wait_finishes_with_one_create(
    phase: str, sim: Simulator, isolated_env: Path, tmp_path: Path,
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    picture = make_image(inputs, width=640, height=900, fmt="png")
    # Big enough that a throttled transfer takes a few seconds.
    clip = make_video(inputs, seconds=6.0, width=1280, height=720, fmt="mp4")
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    slow_down, is_phase_line = PHASES[phase]
    slow_down(sim)

    running = RunningCli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                          "--json"], env)
    running.wait_for_line(is_phase_line)
    running.kill9()
    assert running.proc.returncode == -9

    _restore(sim)
    resumed = run_cli(["wait", "--json"], env)
    assert resumed.code == 0, resumed.stderr
    record = resumed.last_json()
    assert record["status"] == "completed"
    saved = Path(record["file"])
    assert saved.read_bytes() == clip.read_bytes()
    assert sim.count("create") == 1
    assert job_states(isolated_env) == [("completed", record["task_id"])]
    # No half-written file is left next to the result.
    leftovers = [p.name for p in saved.parent.iterdir() if p.name.endswith(".part")]
    assert leftovers == []
