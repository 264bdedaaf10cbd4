"""``kling-desktop --self-test``: the same command the frozen build runs after packaging."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from kling_desktop.selftest import Context, Informational, run_checks

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_OK = ("qt", "images", "multimedia", "posters", "encoder", "tls", "sqlite", "round trip")


def test_self_test_from_source_passes(isolated_env: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kling_desktop", "--self-test"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in lines if line.startswith("FAIL")]
    for check in EXPECTED_OK:
        assert any(line.startswith(f"ok   {check}: ") for line in lines), (check, done.stdout)
    # A machine without a keyring daemon (CI, containers) reports it, it does not fail;
    # the PySide6 6.12 + Python 3.11 reference bug only fails a frozen build.
    for check in ("keyring", "bindings"):
        assert any(line.startswith((f"ok   {check}: ", f"info {check}: ")) for line in lines)
    assert lines[-1].startswith("self-test passed: ")
    # Everything it wrote went to a temporary folder, not the data folder it was given.
    assert not (isolated_env / "jobs.sqlite3").exists()
    assert not (isolated_env / "library").exists()


def test_each_outcome_prints_one_line_and_failures_count() -> None:
    def broken(ctx: Context) -> str:
        raise RuntimeError("the platform plugin is missing")

    def worth_knowing(ctx: Context) -> str:
        raise Informational("no keyring here")

    out = io.StringIO()
    results = run_checks(
        (("broken", broken), ("note", worth_knowing), ("fine", lambda ctx: "works")), out=out,
    )

    assert [r.level for r in results] == ["FAIL", "info", "ok"]
    assert out.getvalue().splitlines() == [
        "FAIL broken: RuntimeError: the platform plugin is missing",
        "info note: no keyring here",
        "ok   fine: works",
    ]


def test_checks_run_in_a_scratch_data_folder_that_is_removed(isolated_env: Path) -> None:
    seen: dict[str, Path] = {}

    def record(ctx: Context) -> str:
        seen["data"] = Path(os.environ["KLING_DATA_DIR"])
        seen["scratch"] = ctx.scratch
        return "recorded"

    run_checks((("record", record),), out=io.StringIO())

    assert seen["data"].parent == seen["scratch"]
    assert seen["data"] != isolated_env
    assert os.environ["KLING_DATA_DIR"] == str(isolated_env)
    assert not seen["scratch"].exists()
