"""Running the real command line as a subprocess against the in-process simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import TEST_KEY

FAST_SETTINGS = {"poll_min_interval": 0.05, "poll_max_interval": 0.3}


def cli_env(data_dir: Path, base_url: str, *, key: str | None = TEST_KEY,
            extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_")}
    env["KLING_DATA_DIR"] = str(data_dir)
    env["KLING_BASE_URL"] = base_url
    env["KLING_KEYRING_SERVICE"] = os.environ.get("KLING_KEYRING_SERVICE", "kling-desktop-test")
    env["PYTHONIOENCODING"] = "utf-8"
    if key is not None:
        env["KLING_API_KEY"] = key
    env.update(extra or {})
    return env


def write_settings(data_dir: Path, **overrides: Any) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = dict(FAST_SETTINGS, **overrides)
    (data_dir / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def last_json(self) -> dict[str, Any]:
        lines = self.json_lines()
        assert lines, f"no JSON on stdout; stderr was:\n{self.stderr}"
        return lines[-1]


def run_cli(args: Sequence[str], env: dict[str, str], *, timeout: float = 120.0,
            stdin: str | None = None) -> CliResult:
    proc = subprocess.run(
        [sys.executable, "-m", "kling_desktop", *args],
        env=env, capture_output=True, text=True, timeout=timeout, input=stdin,
        encoding="utf-8", check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


class RunningCli:
    """A CLI subprocess whose stderr is read line by line, to act at a given phase."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kling_desktop", *args], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 60.0) -> str:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(predicate(line) for line in self.lines) or self.proc.poll() is not None,
                timeout=timeout)
            found = [line for line in self.lines if predicate(line)]
        if not (ok and found):
            raise AssertionError("expected line never came; stderr so far:\n"
                                 + "\n".join(self.lines))
        return found[0]

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the process to end by itself; its exit code. Pipes are closed."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self._reader.join(timeout=5)
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()

    def kill9(self) -> None:
        self.proc.kill()  # SIGKILL on POSIX
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            try:
                if needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits
