"""Job ownership is the operating system's lock: it dies with its holder, never on a timer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kling_desktop.engine.ownership import JobLocks

ROOT = Path(__file__).resolve().parents[1]


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    mine, theirs = JobLocks(tmp_path), JobLocks(tmp_path)
    assert mine.acquire(7)
    assert mine.acquire(7)            # holding it already
    assert not theirs.acquire(7)      # another holder (a lock per open file, like a process)
    assert theirs.acquire(8)          # other jobs are free
    assert mine.holds(7)
    mine.release(7)
    assert not mine.holds(7)
    assert theirs.acquire(7)
    theirs.release_all()
    assert theirs.held() == []


def test_a_finished_job_leaves_no_lock_file_and_a_stale_open_cannot_hold(tmp_path: Path) -> None:
    mine, theirs = JobLocks(tmp_path), JobLocks(tmp_path)
    assert mine.acquire(3)
    mine.release(3, finished=True)
    assert not mine.path(3).exists()
    assert theirs.acquire(3)
    # the file is replaced under a holder (say, deleted by hand): it no longer holds the job
    theirs.path(3).unlink()
    theirs.path(3).write_bytes(b"")
    assert not theirs.holds(3)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
def test_the_lock_of_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    child_code = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from kling_desktop.engine.ownership import JobLocks
        locks = JobLocks(Path(sys.argv[1]))
        print("held" if locks.acquire(5) else "refused", flush=True)
        time.sleep(120)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    locks = JobLocks(tmp_path)
    with subprocess.Popen([sys.executable, "-c", child_code, str(tmp_path)],
                          stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "held"
            # alive: nobody else may follow the job, however long it takes
            assert not locks.acquire(5)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert locks.acquire(5)           # free the moment its holder died: no timer involved
