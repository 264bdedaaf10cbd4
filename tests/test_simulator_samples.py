"""The sample result: what the simulator returns for the bundled samples, and in the demo.

Sent the bundled character and motion clip (recognised by their bytes, not their
names), the simulator answers with the sample result, in which the character
dances the motion; in demo mode it answers with it for every job. Otherwise the
result is the uploaded reference clip, as before.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_desktop import paths
from kling_desktop.simulator import Simulator, SimulatorConfig
from kling_desktop.simulator.media import video_facts
from tests.cli_support import cli_env, run_cli, write_settings
from tests.conftest import TEST_KEY
from tests.media import make_image, make_video


def upload(client: httpx.Client, path: Path, name: str | None = None) -> str:
    with path.open("rb") as f:
        r = client.post("/v1/files/upload/stream", files={"file": (name or path.name, f)},
                        data={"file_name": name or path.name})
    assert r.status_code == 200, r.text
    return str(r.json()["url"])


def generate(client: httpx.Client, image_url: str, video_url: str) -> dict[str, Any]:
    r = client.post("/v1/videos/generations",
                    json={"model": "kling-v3-motion-control", "image_url": image_url,
                          "video_url": video_url})
    assert r.status_code == 200, r.text
    task_id = r.json()["id"]
    for _ in range(10):
        body: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        if body["status"] == "completed":
            return body
    raise AssertionError("the task did not complete")


def result_bytes(client: httpx.Client, image_url: str, video_url: str) -> bytes:
    task = generate(client, image_url, video_url)
    return httpx.get(task["results"][0], timeout=30).content


@pytest.fixture
def client(sim: Simulator, api_key: str) -> Iterator[httpx.Client]:
    sim.config.polls_until_done = 1
    with httpx.Client(base_url=sim.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {api_key}"}) as c:
        yield c


def test_the_bundled_samples_give_the_sample_result(client: httpx.Client) -> None:
    result = result_bytes(client, upload(client, paths.sample_character()),
                          upload(client, paths.sample_motion()))
    assert result == paths.sample_result().read_bytes()
    assert result != paths.sample_motion().read_bytes()


def test_samples_are_recognised_by_their_bytes_not_their_names(
        client: httpx.Client, tmp_path: Path) -> None:
    picture = tmp_path / "me.png"
    clip = tmp_path / "dance.mp4"
    shutil.copyfile(paths.sample_character(), picture)
    shutil.copyfile(paths.sample_motion(), clip)
    assert result_bytes(client, upload(client, picture), upload(client, clip)) == (
        paths.sample_result().read_bytes())

    # Other bytes under the samples' names: the uploaded clip comes back, as before.
    named = tmp_path / "named"
    named.mkdir()
    other_picture = make_image(named, width=600, height=800)
    other_clip = make_video(named, seconds=3, width=640, height=480)
    assert result_bytes(client, upload(client, other_picture, "character.png"),
                        upload(client, other_clip, "motion.mp4")) == other_clip.read_bytes()


def test_only_both_samples_together_give_the_sample_result(
        client: httpx.Client, tmp_path: Path) -> None:
    other_picture = make_image(tmp_path, width=600, height=800)
    other_clip = make_video(tmp_path, seconds=3, width=640, height=480)
    sample_clip = upload(client, paths.sample_motion())
    assert result_bytes(client, upload(client, other_picture), sample_clip) == (
        paths.sample_motion().read_bytes())
    assert result_bytes(client, upload(client, paths.sample_character()),
                        upload(client, other_clip)) == other_clip.read_bytes()


def test_demo_mode_gives_the_sample_result_for_any_inputs(
        sim: Simulator, client: httpx.Client, tmp_path: Path) -> None:
    sim.config.demo_result = True
    other_picture = make_image(tmp_path, width=600, height=800)
    other_clip = make_video(tmp_path, seconds=3, width=640, height=480)
    task = generate(client, upload(client, other_picture), upload(client, other_clip))
    assert httpx.get(task["results"][0], timeout=30).content == (
        paths.sample_result().read_bytes())
    # Billed on the clip that was sent; the result's facts are the result's own.
    assert task["usage"]["billable_seconds"] == pytest.approx(3.0, abs=0.1)


def test_demo_result_facts_are_the_sample_results(tmp_path: Path) -> None:
    facts = video_facts(paths.sample_result())
    sim = Simulator(SimulatorConfig(polls_until_done=1, result_shape="output",
                                    demo_result=True))
    with sim, httpx.Client(base_url=sim.base_url, timeout=30,
                           headers={"Authorization": "Bearer k"}) as client:
        clip = make_video(tmp_path, seconds=3, width=640, height=480)
        task = generate(client, "https://example.com/me.png", upload(client, clip))
    output = task["output"]
    assert (output["width"], output["height"]) == (facts.width, facts.height)
    assert output["duration"] == pytest.approx(facts.duration)


def test_generate_against_the_simulator_command_with_the_samples(tmp_path: Path) -> None:
    """The command line against `kling-desktop simulator` sees what the demo shows."""
    proc = subprocess.Popen([sys.executable, "-m", "kling_desktop", "simulator", "--port", "0",
                             "--key", TEST_KEY, "--polls", "1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        assert match
        data = tmp_path / "data"
        write_settings(data)
        env = cli_env(data, match.group(0))
        samples = run_cli(["generate", "--image", str(paths.sample_character()),
                           "--video", str(paths.sample_motion()), "--wait", "--json"], env)
        assert samples.code == 0, samples.stderr
        saved = Path(samples.last_json()["file"]).read_bytes()
        assert saved == paths.sample_result().read_bytes()

        clip = make_video(tmp_path, seconds=3, width=640, height=480)
        own = run_cli(["generate", "--image", str(paths.sample_character()),
                       "--video", str(clip), "--wait", "--json"], env)
        assert own.code == 0, own.stderr
        assert Path(own.last_json()["file"]).read_bytes() == clip.read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
