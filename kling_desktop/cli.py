"""The headless command line: the same engine as the window, a stable interface for scripts.

Exit codes: 0 success; 2 the input was refused locally (nothing was sent);
3 the provider refused the request or the task failed; 4 the provider could not
be reached after retries; 1 anything else (including interruptions).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from kling_desktop import __version__
from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobState
from kling_desktop.engine.library import LibraryWriteError
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.service import JobService, Note
from kling_desktop.engine.status import describe as describe_status
from kling_desktop.engine.status import provider_reports
from kling_desktop.engine.store import JobNotFoundError, StoreError
from kling_desktop.sources import strip_credentials

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_REFUSED_LOCALLY = 2
EXIT_PROVIDER_REFUSED = 3
EXIT_UNREACHABLE = 4

log = logging.getLogger(__name__)


# -- argument parsing ----------------------------------------------------------


def add_subcommands(parser: argparse.ArgumentParser) -> None:
    """Install the headless subcommands on the program's parser (see ``main.py``)."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser("generate", help="check inputs, upload, create the task(s)",
                         description="Check the inputs, upload local files, create one task "
                                     "per (picture, clip) pair and record the jobs.")
    gen.add_argument("--image", action="append", required=True, metavar="PATH|URL",
                     help="character picture (JPG/PNG) or https:// link; repeat for a batch")
    gen.add_argument("--video", action="append", required=True, metavar="PATH|URL",
                     help="motion clip (MP4/MOV) or https:// link; repeat for a batch")
    gen.add_argument("--model", choices=[m.value for m in Model], default=Model.V3.value)
    gen.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.STD.value,
                     help="std = 720p, pro = 1080p (costs more)")
    gen.add_argument("--prompt", default="", help="optional text, at most 2500 characters")
    gen.add_argument("--orientation", choices=[o.value for o in Orientation],
                     default=Orientation.IMAGE.value,
                     help="image: clip up to 10 s; video: clip up to 30 s")
    gen.add_argument("--keep-audio", choices=["yes", "no"], default="yes",
                     help="keep the clip's original sound")
    gen.add_argument("--wait", action="store_true",
                     help="follow the job(s) to the end and print the saved file")
    gen.add_argument("--json", action="store_true", help="one JSON object per job on stdout")

    jobs = sub.add_parser("jobs", help="list the jobs on this computer")
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--limit", type=int, default=50)

    wait = sub.add_parser("wait", help="resume and finish unfinished jobs")
    wait.add_argument("task_ids", nargs="*", metavar="TASK_ID",
                      help="task ids (or local job numbers) to finish; all when none given")
    wait.add_argument("--json", action="store_true")

    retry = sub.add_parser("retry", help="carry a failed or stopped job on again")
    retry.add_argument("job", metavar="JOB", help="task id or local job number")
    retry.add_argument("--yes-i-checked", action="store_true",
                       help="for a job whose first sending may have been accepted: confirm "
                            "you checked the provider's dashboard")

    library = sub.add_parser("library", help="list the saved results, or rebuild their index")
    library.add_argument("action", choices=["list", "rebuild", "sync"],
                         help="list: saved results; rebuild: re-read every sidecar into a new "
                              "index; sync: pick up files added or removed outside the app")
    library.add_argument("--json", action="store_true")

    key = sub.add_parser("key", help="store, check or delete API keys (system keyring)")
    key.add_argument("action", choices=["set", "status", "delete"])
    key.add_argument("--provider", metavar="URL", default=None,
                     help="the provider the key is for (default: the one in use)")

    sim = sub.add_parser("simulator", help="run the built-in provider simulator on loopback")
    sim.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    sim.add_argument("--key", default=None, help="accept only this bearer key")
    sim.add_argument("--polls", type=int, default=3, help="polls until a task completes")
    sim.add_argument("--latency", type=float, default=0.0, help="seconds added to each call")
    sim.add_argument("--result-shape", default="results_strings",
                     choices=["results_strings", "results_objects", "output"])


def run_command(args: argparse.Namespace) -> int:
    handlers = {
        "generate": cmd_generate,
        "jobs": cmd_jobs,
        "wait": cmd_wait,
        "retry": cmd_retry,
        "key": cmd_key,
        "library": cmd_library,
        "simulator": cmd_simulator,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        eprint("Interrupted. Unfinished jobs are kept: resume them with `kling-desktop wait`.")
        return EXIT_OTHER
    except api_errors.KlingError as exc:
        eprint(f"Error: {exc.message}")
        if exc.fix:
            eprint(f"  Fix: {exc.fix}")
        return exit_code_for_error(exc)


# -- output helpers --------------------------------------------------------------


def eprint(*parts: object, file: TextIO | None = None) -> None:
    print(*parts, file=file or sys.stderr, flush=True)


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
    if isinstance(exc, UnknownJobError | JobNotFoundError):
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
        line = f"[job {job.id}] {text}" + (f" {percent}%" if percent >= 0 else "")
        print(line, file=self.stream, flush=True)

    def note(self, note: Note) -> None:
        """What the service says beyond the store; a place in line only when first given."""
        with self._lock:
            before = self._notes.get(note.job_id, "")
            self._notes[note.job_id] = note.kind
            if not note.text or note.kind == before:
                return
        print(f"[job {note.job_id}] {note.text}", file=self.stream, flush=True)


def describe(job: Job) -> tuple[str, int]:
    """A phase in words and a percentage (-1 when none applies)."""
    status = describe_status(job)
    text = status.headline
    if job.state is JobState.COMPLETED and job.output_path:
        text = f"saved {job.output_path}"
    elif job.state.is_active and job.blocked_on is not None and status.detail:
        text = f"{text}: {status.detail}"
    elif job.state is JobState.SUBMITTED and job.task_id:
        text = f"{text} (task {job.task_id})"
    elif job.state.is_terminal and job.error_message and not text.endswith(job.error_message):
        text = f"{text}: {job.error_message}"
    percent = -1
    if job.state in (JobState.UPLOADING, JobState.DOWNLOADING, JobState.SUBMITTED) \
            and status.percent is not None and job.blocked_on is None:
        percent = status.percent
        text = text.split(" · ")[0].rstrip("0123456789 %")
    return text[:1].lower() + text[1:], percent


def print_problem_list(problems: Sequence[Any]) -> None:
    for problem in problems:
        eprint(f"✗ {problem.message}")
        if problem.fix:
            eprint(f"  Fix: {problem.fix}")


def emit_results(jobs: Sequence[Job], *, as_json: bool) -> None:
    for job in jobs:
        if job.state is not JobState.COMPLETED and job.error_message:
            text, _ = describe(job)
            eprint(f"[job {job.id}] {text}")
            if job.error_fix:
                eprint(f"  Fix: {job.error_fix}")
        if as_json:
            print(json.dumps(job_record(job), ensure_ascii=False), flush=True)
        elif job.state is JobState.COMPLETED and job.output_path:
            print(job.output_path, flush=True)
        if job.state is JobState.COMPLETED:
            for line in provider_reports(job):
                eprint(f"[job {job.id}] {line}")
        elif not job.error_message:
            text, _ = describe(job)
            eprint(f"[job {job.id}] {text}")


# -- commands ----------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    options = GenerationOptions(
        model=Model(args.model), mode=Mode(args.mode), prompt=args.prompt,
        orientation=Orientation(args.orientation), keep_original_sound=args.keep_audio == "yes")
    with Engine() as engine:
        printer = ProgressPrinter()
        service = _service(engine, printer)
        plan = service.plan(args.image, args.video, options)
        if not plan.ok:
            problems = plan.problems or plan.batch.problems
            eprint("Nothing was sent: "
                   + ("this needs attention." if len(problems) == 1
                      else f"{len(problems)} things need attention."))
            print_problem_list(problems)
            return EXIT_REFUSED_LOCALLY
        batch = plan.batch
        seconds = batch.total_billable_seconds
        billable = f"{seconds:.1f} s billable" if seconds is not None else \
            "billable length unknown for linked clips"
        eprint(f"{batch.job_count} job{'s' if batch.job_count != 1 else ''}, {billable} "
               f"({options.model.label}, {options.mode.label})")
        return _drive(engine, service, lambda: service.submit(
            batch, options, until_submitted=not args.wait), as_json=args.json,
            want_completed=args.wait)


def cmd_wait(args: argparse.Namespace) -> int:
    with Engine() as engine:
        printer = ProgressPrinter()
        service = _service(engine, printer)
        if args.task_ids:
            targets = _select_jobs(engine, args.task_ids)
        else:
            engine.abandon_stale_demo_jobs()
            targets = engine.resumable_jobs()
            if not targets:
                eprint("No unfinished jobs.")
                return EXIT_OK

        def start() -> list[Job]:
            active = [job for job in targets if job.state.is_active]
            eprint(f"Finishing {len(active)} job{'s' if len(active) != 1 else ''}…")
            service.follow(active)
            return targets

        return _drive(engine, service, start, as_json=args.json, want_completed=True)


def cmd_retry(args: argparse.Namespace) -> int:
    with Engine() as engine:
        printer = ProgressPrinter()
        service = _service(engine, printer)
        (job,) = _select_jobs(engine, [args.job])

        def start() -> list[Job]:
            retried = service.retry(job.id, confirm_possible_duplicate=args.yes_i_checked)
            eprint(f"[job {retried.id}] "
                   + ("following task " + retried.task_id + " again" if retried.task_id
                      else "queued again"))
            return [retried]

        return _drive(engine, service, start, as_json=False, want_completed=True)


def _service(engine: Engine, printer: ProgressPrinter) -> JobService:
    """The job service for this command: it gives up on jobs only the user can unblock."""
    tell_if_moved_aside(engine)
    return JobService(
        engine, holder="`kling-desktop` in a terminal", on_update=printer,
        on_note=printer.note,
        give_up_on=(BlockedOn.KEY, BlockedOn.BALANCE, BlockedOn.PERMISSION,
                    BlockedOn.PROVIDER, BlockedOn.NETWORK, BlockedOn.DISK))


class _Interrupts:
    """The first Ctrl-C stops what was not sent yet; a second one exits at once."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._count = 0
        self._previous: object = None

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]

    def _handle(self, _signum: int, _frame: object) -> None:
        self._count += 1
        if self._count > 1:
            os.write(2, b"Stopped at once. Jobs are kept as they are: see `kling-desktop jobs`.\n")
            os._exit(130)
        self.requested.set()


def _drive(engine: Engine, service: JobService, start: Callable[[], list[Job]], *,
           as_json: bool, want_completed: bool) -> int:
    """Start the jobs, follow them to rest (or to Ctrl-C), then report them."""
    with _Interrupts() as interrupts:
        try:
            jobs = start()
            while not service.wait(timeout=0.2):
                if interrupts.requested.is_set():
                    return _interrupted(engine, service, jobs, as_json=as_json)
            if interrupts.requested.is_set():
                return _interrupted(engine, service, jobs, as_json=as_json)
        finally:
            service.close(timeout=5.0)
    return finish(engine, jobs, as_json=as_json, want_completed=want_completed)


def _interrupted(engine: Engine, service: JobService, jobs: list[Job], *, as_json: bool) -> int:
    eprint("Interrupted: nothing more is sent. (Press Ctrl-C again to quit at once.)")
    service.stop_unsent()
    # A create call already on its way is answered within the client's deadline.
    service.close(timeout=75.0)
    stopped: list[Job] = []
    kept: list[Job] = []
    for job in jobs:
        current = engine.store.get(job.id) or job
        (kept if current.task_id or current.state is JobState.UNCERTAIN
         or current.state is JobState.COMPLETED else stopped).append(current)
    for job in stopped:
        eprint(f"[job {job.id}] stopped before it was sent: nothing was billed")
    for job in kept:
        if job.state is JobState.COMPLETED:
            eprint(f"[job {job.id}] saved {job.output_path}")
        elif job.state is JobState.UNCERTAIN:
            eprint(f"[job {job.id}] was being sent: check your provider's dashboard")
        else:
            eprint(f"[job {job.id}] kept: the provider has task {job.task_id}; finish it with "
                   f"`kling-desktop wait {job.task_id}`")
    if as_json:
        for job in stopped + kept:
            print(json.dumps(job_record(job), ensure_ascii=False), flush=True)
    return EXIT_OTHER


def finish(engine: Engine, jobs: Sequence[Job], *, as_json: bool, want_completed: bool) -> int:
    codes: list[int] = []
    final_jobs: list[Job] = []
    for original in jobs:
        job = engine.store.get(original.id) or original
        final_jobs.append(job)
        codes.append(exit_code_for_job(job, want_completed=want_completed))
        if job.state.is_active and (job.blocked_on is not None or want_completed):
            eprint(f"  The job is kept; finish it later with `kling-desktop wait "
                   f"{job.task_id or job.id}`.")
    emit_results(final_jobs, as_json=as_json)
    return worst(codes)


def worst(codes: Sequence[int]) -> int:
    """The exit code that matters most for a batch."""
    for code in (EXIT_OTHER, EXIT_PROVIDER_REFUSED, EXIT_UNREACHABLE, EXIT_REFUSED_LOCALLY):
        if code in codes:
            return code
    return EXIT_OK


def tell_if_moved_aside(engine: Engine) -> None:
    message = engine.store.moved_aside_message
    if message:
        eprint(f"Note: {message}")


def cmd_jobs(args: argparse.Namespace) -> int:
    with Engine() as engine:
        tell_if_moved_aside(engine)
        jobs = engine.jobs(limit=args.limit)
    if args.json:
        for job in jobs:
            print(json.dumps(job_record(job), ensure_ascii=False))
        return EXIT_OK
    if not jobs:
        print("No jobs yet. Start one with `kling-desktop generate --image … --video …`.")
        return EXIT_OK
    print(f"{'JOB':>4}  {'STATUS':<20} {'TASK':<34} {'MODEL':<11} {'MODE':<4} DETAIL")
    for job in jobs:
        status = describe_status(job)
        detail = job.output_path if job.state is JobState.COMPLETED else (
            status.headline if job.state.is_active else (job.error_message or ""))
        print(f"{job.id:>4}  {job.state.label:<20} {job.task_id or '-':<34} "
              f"{job.spec.options.model.label:<11} {job.spec.options.mode.value:<4} {detail}")
    return EXIT_OK


def _select_jobs(engine: Engine, refs: Sequence[str]) -> list[Job]:
    selected: list[Job] = []
    for ref in refs:
        job = engine.store.find_by_task_id(ref)
        if job is None and ref.isdigit():
            job = engine.store.get(int(ref))
        if job is None:
            raise UnknownJobError(
                f"There is no job with task id or number {ref!r} on this computer.",
                fix="List your jobs with `kling-desktop jobs`.")
        selected.append(job)
    return selected


class UnknownJobError(api_errors.KlingError):
    """A job reference that names nothing here: refused locally, nothing was sent."""


def cmd_library(args: argparse.Namespace) -> int:
    with Engine() as engine:
        library = engine.library
        if args.action == "rebuild":
            report = library.rebuild_index(
                progress=lambda done, total: eprint(f"reading sidecars {done}/{total}")
                if total and (done == total or done % 500 == 0) else None)
            eprint(f"Indexed {report.indexed} results from {library.root}.")
            for path in report.unreadable:
                eprint(f"  unreadable description (video kept): {path}")
            for path in report.orphans:
                eprint(f"  video without a description: {path}")
        elif args.action == "sync":
            synced = library.sync_index()
            eprint(f"{synced.added} added, {synced.removed} removed.")
        records = engine.store.list_results()
    for record in records:
        path = library.root / record.video_rel
        if args.json:
            print(json.dumps({"file": str(path), "task_id": record.task_id,
                              "model": record.model, "mode": record.mode,
                              "prompt": record.prompt, "duration": record.duration,
                              "demo": record.demo, "mark": record.mark,
                              "sidecar_ok": record.sidecar_ok}, ensure_ascii=False))
        elif args.action == "list":
            print(path)
    return EXIT_OK


def cmd_key(args: argparse.Namespace) -> int:
    from kling_desktop.engine.keys_cli import run_key_command

    return run_key_command(args.action, args.provider, stdin=sys.stdin, stdout=sys.stdout,
                           stderr=sys.stderr)


def cmd_simulator(args: argparse.Namespace) -> int:
    from kling_desktop.simulator import serve

    return serve(args.port, args.key, polls_until_done=args.polls, latency=args.latency,
                 result_shape=args.result_shape)


def version_text() -> str:
    return f"kling-desktop {__version__}"
