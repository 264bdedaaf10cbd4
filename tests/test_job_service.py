"""The job service never pays twice: races between processes, kills, refusals, cancels, scale.

Every case runs the real command line as a subprocess (or the real service in
process, where threads are counted) against the loopback simulator, on a real
data folder. Money is counted in the simulator's log: create calls it answered.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from kling_desktop.api.client import RetryPolicy
from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.jobs import Job, JobSpec, JobState
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.service import JobService
from kling_desktop.engine.settings import Settings
from kling_desktop.engine.store import JobStore
from kling_desktop.simulator import Fault, Simulator
from tests.cli_support import CliResult, RunningCli, cli_env, run_cli, write_settings
from tests.conftest import TEST_KEY
from tests.media import make_image, make_video

pytestmark = pytest.mark.slow


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    picture = make_image(folder, width=640, height=900, fmt="png")
    clip = make_video(folder, seconds=4.0, width=1280, height=720, fmt="mp4")
    return picture, clip


def rows(data_dir: Path) -> list[dict[str, object]]:
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM jobs ORDER BY id")]


def queue_job(data_dir: Path, base_url: str, picture: Path, clip: Path) -> int:
    """A job recorded as planned, not yet sent (as the window leaves one when it quits)."""
    with JobStore(data_dir / "jobs.sqlite3") as store:
        return store.add_job(JobSpec(image=str(picture), video=str(clip), billable_seconds=4.0),
                             base_url=base_url, demo=False).id


def generate_and_wait(env: dict[str, str], inputs: tuple[Path, Path]) -> CliResult:
    picture, clip = inputs
    return run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                    "--json"], env, timeout=180)


# ------------------------------------------------------------------ races


def test_two_waits_on_one_job_create_once_and_download_once(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    """A throttled upload outlasts any timer: the second `wait` says who holds the job and
    never touches it; one task, one download."""
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    job_id = queue_job(isolated_env, sim.base_url, picture, clip)
    sim.config.upload_bytes_per_second = 400_000   # the clip takes seconds to upload

    first = RunningCli(["wait", "--json"], env)
    first.wait_for_line(lambda line: "uploading" in line)
    second = RunningCli(["wait", "--json"], env)
    held = second.wait_for_line(lambda line: "being followed by" in line)
    assert "kling-desktop" in held
    assert f"pid {first.proc.pid}" in held

    for running in (first, second):
        assert running.finish() == 0, "\n".join(running.lines)
    assert sim.count("create") == 1
    assert sim.count("download", status=200) == 1
    (row,) = rows(isolated_env)
    assert (row["id"], row["state"], row["create_calls"]) == (job_id, "completed", 1)


def test_the_next_follower_takes_over_the_moment_the_holder_dies(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.config.polls_until_done = 10_000
    generating = RunningCli(["generate", "--image", str(picture), "--video", str(clip),
                             "--wait"], env)
    generating.wait_for_line(lambda line: "(task task-" in line)
    waiting = RunningCli(["wait", "--json"], env)
    waiting.wait_for_line(lambda line: "being followed by" in line)
    sim.config.polls_until_done = 1
    generating.kill9()
    assert waiting.finish() == 0, "\n".join(waiting.lines)
    assert sim.count("create") == 1
    assert [row["state"] for row in rows(isolated_env)] == ["completed"]


# ------------------------------------------------------------------ what is certain


def test_kill_during_a_rate_limit_back_off_sends_again_without_asking(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.inject("create", Fault.rate_limited(retry_after=30.0))
    running = RunningCli(["generate", "--image", str(picture), "--video", str(clip), "--wait"],
                         env)
    running.wait_for_line(lambda line: "waiting to send" in line.lower())
    (row,) = rows(isolated_env)
    assert row["state"] == "send_wait"          # written before sleeping
    assert "nothing was created" in str(row["error_message"])
    running.kill9()

    before = time.monotonic()
    resumed = run_cli(["wait", "--json"], env)
    assert resumed.code == 0, resumed.stderr
    assert resumed.last_json()["status"] == "completed"
    assert sim.count("create", status=200) == 1
    assert sim.count("create") == 2               # the refused one and the real one
    assert "dashboard" not in resumed.stderr       # no question: nothing had been created
    assert time.monotonic() - before < 60          # the back-off was honoured, not doubled


def test_a_refused_key_while_polling_keeps_the_paid_task(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    """401 on polls (a rotated key): the job waits for the key, then the SAME task is
    followed to its result. Nothing is re-created, not even by `retry`."""
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    created = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--json"],
                      env)
    assert created.code == 0, created.stderr
    task_id = created.last_json()["task_id"]

    sim.inject("task", Fault.unauthorized(), times=100)
    blocked = run_cli(["wait", "--json"], env)
    assert blocked.code == 3
    record = blocked.last_json()
    assert record["status"] == "submitted"         # still the paid task, still followable
    assert record["waiting_for"] == "key"
    assert "refused the key" in blocked.stderr

    retried = run_cli(["retry", task_id], env)     # while still refused: polls, not creates
    assert retried.code == 3
    sim.clear_faults()
    done = run_cli(["wait", "--json"], env)
    assert done.code == 0, done.stderr
    assert done.last_json()["task_id"] == task_id
    assert done.last_json()["status"] == "completed"
    assert sim.count("create") == 1


def test_a_404_on_the_first_download_fetches_a_fresh_link(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    clip = inputs[1]
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.config.fresh_result_links = True
    sim.inject("download", Fault(404))
    result = generate_and_wait(env, inputs)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert record["status"] == "completed"
    assert Path(record["file"]).read_bytes() == clip.read_bytes()
    assert sim.count("create") == 1
    assert sim.count("download", status=404) == 1
    assert sim.count("download", status=200) == 1


def test_an_html_page_instead_of_the_video_is_not_saved(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    clip = inputs[1]
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.inject("download", Fault(200, body=b"<html><body>Sorry</body></html>",
                                 content_type="text/html"))
    result = generate_and_wait(env, inputs)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert Path(record["file"]).read_bytes() == clip.read_bytes()
    assert record["duration"] == pytest.approx(4.0, abs=0.2)   # the saved video's own length
    assert sim.count("create") == 1


# ------------------------------------------------------------------ cancel


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX here")
def test_ctrl_c_stops_every_job_not_yet_sent(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    pictures = []
    for n in range(6):
        copy = picture.with_name(f"character-{n}.png")
        shutil.copy(picture, copy)
        pictures.append(copy)
    sim.config.upload_bytes_per_second = 300_000
    args = ["generate", "--video", str(clip), "--wait", "--json"]
    for path in pictures:
        args += ["--image", str(path)]
    running = RunningCli(args, env)
    running.wait_for_line(lambda line: "uploading" in line)
    time.sleep(1.0)
    signalled = time.monotonic()
    running.proc.send_signal(signal.SIGINT)
    assert running.finish(timeout=90) == 1
    creates = [r for r in sim.requests if r.route == "create"]
    assert all(r.time < signalled for r in creates), "a create went out after Ctrl-C"
    text = "\n".join(running.lines)
    assert "nothing more is sent" in text
    states = [row["state"] for row in rows(isolated_env)]
    assert len(states) == 6
    stopped = states.count("cancelled")
    assert stopped + sum(1 for row in rows(isolated_env) if row["task_id"]) == 6
    assert text.count("stopped before it was sent") == stopped


# ------------------------------------------------------------------ scale


def test_two_hundred_jobs_keep_at_most_five_at_the_provider_on_a_few_threads(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    picture, clip = inputs
    sim.config.polls_until_done = 2
    pictures = []
    for n in range(200):
        copy = picture.with_name(f"c{n:03d}.png")
        shutil.copy(picture, copy)
        pictures.append(str(copy))
    settings = Settings(poll_min_interval=0.05, poll_max_interval=0.2, max_concurrent_jobs=5)
    engine = Engine(api_key=TEST_KEY, base_url=sim.base_url, settings=settings,
                    retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1))
    lock = threading.Lock()
    states: dict[int, JobState] = {}
    peak = {"at_provider": 0, "threads": 0}

    def on_update(job: Job) -> None:
        with lock:
            states[job.id] = job.state
            running = sum(1 for s in states.values()
                          if s in (JobState.SUBMITTING, JobState.SUBMITTED))
            peak["at_provider"] = max(peak["at_provider"], running)
            workers = sum(1 for t in threading.enumerate() if t.name.startswith("kling-jobs"))
            peak["threads"] = max(peak["threads"], workers)

    service = JobService(engine, holder="a test", on_update=on_update)
    try:
        plan = service.plan(pictures, [str(clip)], GenerationOptions())
        assert plan.ok, plan.problems
        started = time.monotonic()
        jobs = service.submit(plan.batch, plan.options)
        assert service.wait(timeout=600)
        elapsed = time.monotonic() - started
    finally:
        service.close()
        engine.close()
    assert len(jobs) == 200
    with JobStore(isolated_env / "jobs.sqlite3") as store:
        final = [store.get(job.id) for job in jobs]
    assert all(job is not None and job.state is JobState.COMPLETED for job in final)
    assert sim.count("create", status=200) == 200
    assert peak["at_provider"] <= 5
    assert peak["at_provider"] == 5                 # and the cap is used, not undershot
    assert peak["threads"] <= 8                    # 1 scheduler + 3 transfers + 4 calls
    print(f"200 jobs in {elapsed:.1f} s, peak {peak['at_provider']} at the provider, "
          f"{peak['threads']} worker threads")


def test_a_plan_refuses_an_unwritable_library_before_anything_is_sent(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path], tmp_path: Path) -> None:
    picture, clip = inputs
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the library folder should be")
    settings = Settings(library_dir=str(blocker / "library"))
    engine = Engine(api_key=TEST_KEY, base_url=sim.base_url, settings=settings)
    service = JobService(engine, holder="a test")
    try:
        plan = service.plan([str(picture)], [str(clip)], GenerationOptions())
        assert not plan.ok
        assert any("library folder" in p.message for p in plan.problems)
    finally:
        service.close()
        engine.close()
    assert sim.requests == []


def test_inputs_are_recorded_in_their_canonical_form(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    """`file://` links, "Copy as path" quotes and surrounding spaces used to pass the
    checks and then fail at upload."""
    picture, clip = inputs
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    result = run_cli(["generate", "--image", f' "{picture}" ', "--video", clip.as_uri(),
                      "--wait", "--json"], env)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert (record["image"], record["video"]) == (str(picture), str(clip))
    assert record["status"] == "completed"


def test_retry_of_an_unknown_job_says_so(isolated_env: Path, sim: Simulator) -> None:
    write_settings(isolated_env)
    result = run_cli(["retry", "999"], cli_env(isolated_env, sim.base_url))
    assert result.code == 2
    assert "no job with task id or number '999'" in result.stderr
    assert sim.requests == []


# ------------------------------------------------------------------ what the provider says


def test_an_unknown_status_is_shown_in_the_providers_words_instead_of_spinning(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.inject("task", Fault.patched(status="stuck_in_review"), times=10_000)
    result = generate_and_wait(env, inputs)
    assert result.code == 3
    assert "stuck_in_review" in result.stderr
    record = result.last_json()
    assert record["status"] == "submitted"          # paid, still followable later
    assert record["waiting_for"] == "provider"
    assert sim.count("create") == 1


def test_completed_without_a_link_is_told_not_generating_forever(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.config.polls_until_done = 1
    sim.inject("task", Fault.patched(drop=("results", "output")), times=10_000)
    result = generate_and_wait(env, inputs)
    assert result.code == 3
    assert "sent no video link" in result.stderr
    assert sim.count("create") == 1


def test_the_model_used_and_the_charge_are_recorded_and_shown(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.config.polls_until_done = 1
    sim.inject("task", Fault.patched(model="kling-v2-6-motion-control",
                                     usage={"credits_reserved": 5, "user_group": "default"}),
               times=10_000)
    result = generate_and_wait(env, inputs)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert record["model_used"] == "kling-v2-6-motion-control"
    assert record["provider_reports"] == {"credits_reserved": 5, "user_group": "default"}
    assert "not kling-v3-motion-control as asked" in result.stderr
    assert "credits_reserved 5" in result.stderr
    listed = run_cli(["library", "list", "--json"], env)
    (entry,) = listed.json_lines()
    saved = Path(entry["file"])
    sidecar = saved.with_suffix(".json").read_text(encoding="utf-8")
    assert "kling-v2-6-motion-control" in sidecar
    assert "credits_reserved" in sidecar


def test_an_empty_result_is_never_saved_as_the_video(
        sim: Simulator, isolated_env: Path, inputs: tuple[Path, Path]) -> None:
    clip = inputs[1]
    write_settings(isolated_env)
    env = cli_env(isolated_env, sim.base_url)
    sim.config.fresh_result_links = True
    sim.inject("download", Fault.empty())
    result = generate_and_wait(env, inputs)
    assert result.code == 0, result.stderr
    assert Path(result.last_json()["file"]).read_bytes() == clip.read_bytes()
    assert sim.count("create") == 1
