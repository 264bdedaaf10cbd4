"""What the command line prints (text and JSON) and the exit codes it ends with."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from kling_desktop.api import errors as api_errors
from kling_desktop.engine.fixes import ConversionCancelled, ConversionError, TrimError
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobState
from kling_desktop.engine.library import LibraryWriteError
from kling_desktop.engine.service import Note
from kling_desktop.engine.status import describe as describe_status
from kling_desktop.engine.status import provider_reports
from kling_desktop.engine.store import JobNotFoundError, StoreError
from kling_desktop.i18n import _
from kling_desktop.sources import strip_credentials

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_REFUSED_LOCALLY = 2
EXIT_PROVIDER_REFUSED = 3
EXIT_UNREACHABLE = 4

log = logging.getLogger(__name__)



# -- output helpers --------------------------------------------------------------


def eprint(*parts: object, file: TextIO | None = None) -> None:
    print(*parts, file=file or sys.stderr, flush=True)


def job_line(job_id: int, text: str) -> str:
    """One line about one job: "[job 3] text"."""
    return _("[job {job_id}] {text}").format(job_id=job_id, text=text)


def print_fix(fix: str | None, *, file: TextIO | None = None) -> None:
    """The remedy under a message, indented ("  Fix: …"), when there is one."""
    if fix:
        eprint("  " + _("Fix: {fix}").format(fix=fix), file=file)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)
    fill = " " * max(0, width - used)
    return fill + text if right else text + fill


def job_record(job: Job) -> dict[str, Any]:
    """The stable JSON shape scripts rely on."""
    record: dict[str, Any] = {
        "job_id": job.id,
        "task_id": job.task_id,
        "status": job.state.value,
        "provider_status": job.provider_status,
        "progress": job.progress,
        "model": job.spec.options.model.value,
        "mode": job.spec.options.mode.value,
        "image": strip_credentials(job.spec.image),
        "video": strip_credentials(job.spec.video),
        "billable_seconds": job.spec.billable_seconds,
        "demo": job.demo,
    }
    if job.state is JobState.COMPLETED and job.output_path:
        record["file"] = job.output_path
        record["duration"] = job.result_duration
    for name, origin in (("image_origin", job.spec.image_origin),
                         ("video_origin", job.spec.video_origin)):
        if origin is not None:          # where a trimmed or converted input came from
            record[name] = origin.to_json()
    if job.model_used:
        record["model_used"] = job.model_used
    if job.provider_usage:
        with contextlib.suppress(ValueError):
            record["provider_reports"] = json.loads(job.provider_usage)
    if job.blocked_on is not None and job.state.is_active:
        record["waiting_for"] = job.blocked_on.value
    if job.error_message:
        record["error"] = {"kind": job.error_kind.value if job.error_kind else None,
                           "code": job.error_code, "message": job.error_message,
                           "fix": job.error_fix}
    return record


def exit_code_for_error(exc: api_errors.KlingError) -> int:
    if isinstance(exc, ConversionCancelled):
        return EXIT_OTHER
    if isinstance(exc, UnknownJobError | JobNotFoundError | TrimError | ConversionError):
        return EXIT_REFUSED_LOCALLY
    if isinstance(exc, api_errors.NetworkError | api_errors.RateLimitedError |
                  api_errors.ServiceUnavailableError):
        return EXIT_UNREACHABLE
    if isinstance(exc, api_errors.CancelledError | api_errors.LocalFileError |
                  LibraryWriteError | StoreError):
        return EXIT_OTHER
    return EXIT_PROVIDER_REFUSED


_BLOCKED_EXIT = {
    BlockedOn.KEY: EXIT_PROVIDER_REFUSED,
    BlockedOn.BALANCE: EXIT_PROVIDER_REFUSED,
    BlockedOn.PERMISSION: EXIT_PROVIDER_REFUSED,
    BlockedOn.PROVIDER: EXIT_PROVIDER_REFUSED,
    BlockedOn.NETWORK: EXIT_UNREACHABLE,
    BlockedOn.LINK: EXIT_UNREACHABLE,
    BlockedOn.DISK: EXIT_OTHER,
}


def exit_code_for_job(job: Job, *, want_completed: bool = True) -> int:
    if job.state is JobState.COMPLETED:
        return EXIT_OK
    if job.state.is_active and job.blocked_on is not None:
        return _BLOCKED_EXIT.get(job.blocked_on, EXIT_OTHER)
    if not want_completed and job.state in (JobState.SUBMITTED, JobState.DOWNLOADING):
        return EXIT_OK
    if job.state is JobState.FAILED:
        if job.error_kind is FailureKind.RETRYABLE:
            return EXIT_UNREACHABLE
        if job.error_kind is FailureKind.UNKNOWN:
            return EXIT_OTHER
        return EXIT_PROVIDER_REFUSED
    if job.state is JobState.UNCERTAIN:
        return EXIT_PROVIDER_REFUSED
    return EXIT_OTHER


@dataclass
class ProgressPrinter:
    """Human progress on stderr: one line per change of phase, throttled percentages."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    _last: dict[int, tuple[str, int, float]] = field(default_factory=dict)
    _notes: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, job: Job) -> None:
        text, percent = describe(job)
        now = time.monotonic()
        with self._lock:
            previous = self._last.get(job.id)
            if previous is not None:
                same_text = previous[0] == text
                small_step = abs(percent - previous[1]) < 10 and now - previous[2] < 5.0
                if same_text and (percent == previous[1] or small_step):
                    return
            self._last[job.id] = (text, percent, now)
        line = job_line(job.id, text) + (f" {percent}%" if percent >= 0 else "")
        print(line, file=self.stream, flush=True)

    def note(self, note: Note) -> None:
        """What the service says beyond the store; a place in line only when first given."""
        with self._lock:
            before = self._notes.get(note.job_id, "")
            self._notes[note.job_id] = note.kind
            if not note.text or note.kind == before:
                return
        print(job_line(note.job_id, note.text), file=self.stream, flush=True)


def describe(job: Job) -> tuple[str, int]:
    """A phase in words and a percentage (-1 when none applies)."""
    status = describe_status(job)
    text = status.headline
    if job.state is JobState.COMPLETED and job.output_path:
        text = _("saved {path}").format(path=job.output_path)
    elif job.state.is_active and job.blocked_on is not None and status.detail:
        # TRANSLATORS: a job's state in words, then what it waits for or why.
        text = _("{headline}: {detail}").format(headline=text, detail=status.detail)
    elif job.state is JobState.SUBMITTED and job.task_id:
        text = _("{headline} (task {task_id})").format(headline=text, task_id=job.task_id)
    elif job.state.is_terminal and job.error_message and not text.endswith(job.error_message):
        text = _("{headline}: {detail}").format(headline=text, detail=job.error_message)
    percent = -1
    if job.state in (JobState.UPLOADING, JobState.DOWNLOADING, JobState.SUBMITTED) \
            and status.percent is not None and job.blocked_on is None:
        percent = status.percent
        text = text.split(" · ")[0].rstrip("0123456789 %")
    return text[:1].lower() + text[1:], percent


def print_problem_list(problems: Sequence[Any]) -> None:
    for problem in problems:
        eprint(f"✗ {problem.message}")
        print_fix(problem.fix)


def emit_results(jobs: Sequence[Job], *, as_json: bool) -> None:
    for job in jobs:
        if job.state is not JobState.COMPLETED and job.error_message:
            text, _percent = describe(job)
            eprint(job_line(job.id, text))
            print_fix(job.error_fix)
        if as_json:
            print(json.dumps(job_record(job), ensure_ascii=False), flush=True)
        elif job.state is JobState.COMPLETED and job.output_path:
            print(job.output_path, flush=True)
        if job.state is JobState.COMPLETED:
            for line in provider_reports(job):
                eprint(job_line(job.id, line))
        elif not job.error_message:
            text, _percent = describe(job)
            eprint(job_line(job.id, text))


def worst(codes: Sequence[int]) -> int:
    """The exit code that matters most for a batch."""
    for code in (EXIT_OTHER, EXIT_PROVIDER_REFUSED, EXIT_UNREACHABLE, EXIT_REFUSED_LOCALLY):
        if code in codes:
            return code
    return EXIT_OK


class UnknownJobError(api_errors.KlingError):
    """A job reference that names nothing here: refused locally, nothing was sent."""
