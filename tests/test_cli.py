"""The command line as a subprocess against the simulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_desktop.simulator import Fault, Simulator
from tests.cli_support import cli_env, files_containing, run_cli, write_settings
from tests.conftest import TEST_KEY
from tests.media import make_image, make_video


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


@pytest.fixture
def picture(media_dir: Path) -> Path:
    return make_image(media_dir, width=600, height=800, fmt="png")


@pytest.fixture
def clip(media_dir: Path) -> Path:
    return make_video(media_dir, seconds=4.0, width=640, height=480, fmt="mp4")


@pytest.fixture
def env(isolated_env: Path, sim: Simulator) -> dict[str, str]:
    write_settings(isolated_env)
    return cli_env(isolated_env, sim.base_url)


@pytest.mark.parametrize("shape", ["results_strings", "results_objects", "output"])
def test_generate_wait_saves_the_video_for_each_result_shape(
    shape: str, sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
    isolated_env: Path,
) -> None:
    sim.config.result_shape = shape
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                      "--json", "--prompt", "a joyful dance"], env)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert record["status"] == "completed"
    assert record["task_id"].startswith("task-")
    saved = Path(record["file"])
    assert saved.is_absolute()
    assert saved.is_file()
    # The simulator's result is the uploaded reference clip: the bytes must match.
    assert saved.read_bytes() == clip.read_bytes()
    sidecar = json.loads(saved.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["task_id"] == record["task_id"]
    assert sidecar["prompt"] == "a joyful dance"
    assert "4.0 s billable" in result.stderr
    assert sim.count("create", status=200) == 1
    assert not files_containing(isolated_env, TEST_KEY.encode())


def test_generate_without_wait_records_the_job_and_wait_finishes_it(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    first = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--json"], env)
    assert first.code == 0, first.stderr
    record = first.last_json()
    assert record["status"] == "submitted"
    assert "file" not in record

    listed = run_cli(["jobs", "--json"], env)
    assert [r["task_id"] for r in listed.json_lines()] == [record["task_id"]]

    done = run_cli(["wait", record["task_id"], "--json"], env)
    assert done.code == 0, done.stderr
    assert done.last_json()["status"] == "completed"
    assert Path(done.last_json()["file"]).read_bytes() == clip.read_bytes()
    assert sim.count("create") == 1


def test_batch_one_clip_many_characters(
    sim: Simulator, env: dict[str, str], media_dir: Path, clip: Path,
) -> None:
    pictures = [make_image(media_dir, width=w, height=700, fmt="jpeg") for w in (500, 600, 700)]
    args = ["generate", "--video", str(clip), "--wait", "--json"]
    for picture in pictures:
        args += ["--image", str(picture)]
    result = run_cli(args, env)
    assert result.code == 0, result.stderr
    assert "3 jobs, 12.0 s billable" in result.stderr.splitlines()[0]
    records = result.json_lines()
    assert len(records) == 3
    assert {r["status"] for r in records} == {"completed"}
    assert len({r["file"] for r in records}) == 3
    assert sim.count("create", status=200) == 3


def test_rate_limited_create_is_retried_and_succeeds(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.inject("create", Fault.rate_limited(retry_after=0.2), times=2)
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--json"], env)
    assert result.code == 0, result.stderr
    assert sim.count("create") == 3
    assert sim.count("create", status=200) == 1


def test_create_500_is_never_repeated_and_asks_the_user(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.inject("create", Fault(500, error_type="server_error", message="boom",
                               accept_anyway=True))
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                      "--json"], env)
    assert result.code == 3
    assert sim.count("create") == 1
    record = result.last_json()
    assert record["status"] == "uncertain"
    assert "dashboard" in record["error"]["fix"]
    # `wait` does not resend it either, and retry refuses without explicit consent.
    again = run_cli(["wait", "--json"], env)
    assert again.code == 0
    assert sim.count("create") == 1
    refused = run_cli(["retry", str(record["job_id"])], env)
    assert refused.code == 3
    assert "twice" in refused.stderr
    assert sim.count("create") == 1


def test_no_balance_is_reported_with_the_fix(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.inject("create", Fault.no_balance())
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--json"], env)
    assert result.code == 3
    assert "Top up" in result.stderr
    assert result.last_json()["error"]["kind"] == "balance"
    assert sim.count("create") == 1


def test_wrong_key_exits_3_and_missing_key_exits_2(
    sim: Simulator, isolated_env: Path, picture: Path, clip: Path,
) -> None:
    write_settings(isolated_env)
    wrong = run_cli(["generate", "--image", str(picture), "--video", str(clip)],
                    cli_env(isolated_env, sim.base_url, key="sk-wrong"))
    assert wrong.code == 3
    assert "Settings" in wrong.stderr
    assert sim.count("create", status=200) == 0

    before = len(sim.requests)
    missing = run_cli(["generate", "--image", str(picture), "--video", str(clip)],
                      cli_env(isolated_env, sim.base_url, key=None))
    assert missing.code == 2
    assert "No API key" in missing.stderr
    assert len(sim.requests) == before


def test_content_policy_failure_is_final(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.fail_next_task(code="content_policy_violation",
                       message="The image did not pass the content review.")
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                      "--json"], env)
    assert result.code == 3
    record = result.last_json()
    assert record["status"] == "failed"
    assert record["error"]["kind"] == "content_policy"
    assert record["error"]["code"] == "content_policy_violation"
    assert "content review" in record["error"]["message"]
    retry = run_cli(["retry", str(record["job_id"])], env)
    assert retry.code == 3
    assert "another picture" in retry.stderr
    assert sim.count("create") == 1


def test_failure_reason_from_task_status_msg(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.fail_next_task(code="E42", message="Motion could not be tracked",
                       field="task_status_msg")
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                      "--json"], env)
    assert result.code == 3
    assert result.last_json()["error"]["message"] == "Motion could not be tracked"


def test_refused_video_upload_offers_a_link_and_is_not_retried(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.config.upload_accepts_video = False
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--json"], env)
    assert result.code == 3
    record = result.last_json()
    assert record["error"]["kind"] == "upload_refused"
    assert "https://" in record["error"]["fix"]
    assert sim.count("upload") == 2  # the picture, then the refused clip once
    assert sim.count("create") == 0


def test_poll_errors_are_retried_and_a_cut_download_is_redone(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path,
) -> None:
    sim.inject("task", Fault.server_error(), times=2)
    sim.inject("download", Fault.cut_download(1000))
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                      "--json"], env)
    assert result.code == 0, result.stderr
    assert Path(result.last_json()["file"]).read_bytes() == clip.read_bytes()
    assert sim.count("download") == 2
    assert sim.count("create") == 1


def test_unreachable_provider_exits_4(isolated_env: Path, picture: Path, clip: Path) -> None:
    write_settings(isolated_env)
    closed = Simulator()
    closed.start()
    url = closed.base_url
    closed.stop()  # nothing listens there any more
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip)],
                     cli_env(isolated_env, url), timeout=180)
    assert result.code == 4
    assert "internet" in result.stderr or "reach" in result.stderr


def test_refusals_exit_2_before_any_byte_is_sent(
    sim: Simulator, env: dict[str, str], media_dir: Path, picture: Path, clip: Path,
) -> None:
    long_clip = make_video(media_dir, seconds=12.0, width=640, height=480, fmt="mp4")
    result = run_cli(["generate", "--image", str(picture), "--video", str(long_clip)], env)
    assert result.code == 2
    assert "12 s long" in result.stderr
    assert "“Match the picture”" in result.stderr   # the orientation, in the form's words
    text_as_png = media_dir / "not a picture.png"
    text_as_png.write_text("hello", encoding="utf-8")
    result = run_cli(["generate", "--image", str(text_as_png), "--video", str(clip)], env)
    assert result.code == 2
    assert "Fix:" in result.stderr
    assert sim.requests == []


def test_simulator_subcommand_prints_its_port(tmp_path: Path) -> None:
    import re
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "kling_desktop", "simulator", "--port", "0",
                             "--key", "K"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        import httpx

        answer = httpx.get(f"http://127.0.0.1:{match.group(1)}/v1/tasks/task-x",
                           headers={"Authorization": "Bearer K"})
        assert answer.status_code == 404
        refused = httpx.get(f"http://127.0.0.1:{match.group(1)}/v1/tasks/task-x",
                            headers={"Authorization": "Bearer other"})
        assert refused.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_unwritable_library_is_refused_before_anything_is_sent(
    sim: Simulator, isolated_env: Path, picture: Path, clip: Path, tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the library folder should be", encoding="utf-8")
    write_settings(isolated_env, library_dir=str(blocker / "library"))
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip)],
                     cli_env(isolated_env, sim.base_url))
    assert result.code == 2
    assert "library folder" in result.stderr
    assert "Settings" in result.stderr
    assert sim.requests == []


def test_unicode_and_spaces_in_paths(
    sim: Simulator, env: dict[str, str], tmp_path: Path,
) -> None:
    folder = tmp_path / "舞蹈 clips – été"
    folder.mkdir()
    picture = make_image(folder, width=600, height=800, fmt="jpeg")
    clip = make_video(folder, seconds=3.5, width=480, height=640, fmt="mov")
    renamed_picture = picture.rename(folder / "角色 picture ü.jpg")
    renamed_clip = clip.rename(folder / "dance take 1 ñ.mov")
    result = run_cli(["generate", "--image", str(renamed_picture), "--video", str(renamed_clip),
                      "--wait", "--json", "--prompt", "一个快乐的舞蹈 / a happy dance"], env)
    assert result.code == 0, result.stderr
    record = result.last_json()
    assert Path(record["file"]).read_bytes() == renamed_clip.read_bytes()
    sidecar = json.loads(Path(record["file"]).with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["prompt"] == "一个快乐的舞蹈 / a happy dance"


def test_library_index_is_rebuilt_from_sidecars_after_the_database_is_lost(
    sim: Simulator, env: dict[str, str], picture: Path, clip: Path, isolated_env: Path,
) -> None:
    made = run_cli(["generate", "--image", str(picture), "--video", str(clip), "--wait",
                    "--json"], env)
    assert made.code == 0, made.stderr
    saved = made.last_json()["file"]
    for name in ("jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"):
        (isolated_env / name).unlink(missing_ok=True)
    assert run_cli(["library", "list", "--json"], env).json_lines() == []
    rebuilt = run_cli(["library", "rebuild", "--json"], env)
    assert rebuilt.code == 0, rebuilt.stderr
    assert "Indexed 1 result" in rebuilt.stderr
    (entry,) = rebuilt.json_lines()
    assert entry["file"] == saved
    assert entry["task_id"] == made.last_json()["task_id"]
    assert entry["sidecar_ok"] is True
