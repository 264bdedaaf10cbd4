"""The headless command line: the same engine as the window, a stable interface for scripts.

Exit codes: 0 success; 2 the input was refused locally (nothing was sent);
3 the provider refused the request or the task failed; 4 the provider could not
be reached after retries; 1 anything else (including interruptions).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from kling_desktop import __version__
from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.batch import JobOptions, check_batch
from kling_desktop.engine.jobs import FailureKind, Job, JobState
from kling_desktop.engine.library import LibraryWriteError
from kling_desktop.engine.runner import Engine, NoApiKeyError
from kling_desktop.engine.store import StoreError

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

    retry = sub.add_parser("retry", help="send a failed job again")
    retry.add_argument("job", metavar="JOB", help="task id or local job number")
    retry.add_argument("--yes-i-checked", action="store_true",
                       help="for a job whose first sending may have been accepted: confirm "
                            "you checked the provider's dashboard")

    library = sub.add_parser("library", help="list the saved results, or rebuild their index")
    library.add_argument("action", choices=["list", "rebuild", "sync"],
                         help="list: saved results; rebuild: re-read every sidecar into a new "
                              "index; sync: pick up files added or removed outside the app")
    library.add_argument("--json", action="store_true")

    key = sub.add_parser("key", help="store, check or delete the API key (system keyring)")
    key.add_argument("action", choices=["set", "status", "delete"])

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
        "model": job.spec.model.value,
        "mode": job.spec.mode.value,
        "image": job.spec.image,
        "video": job.spec.video,
        "billable_seconds": job.spec.billable_seconds,
        "demo": job.demo,
    }
    if job.state is JobState.COMPLETED and job.output_path:
        record["file"] = job.output_path
    if job.error_message:
        record["error"] = {"kind": job.error_kind.value if job.error_kind else None,
                           "code": job.error_code, "message": job.error_message,
                           "fix": job.error_fix}
    return record


def exit_code_for_error(exc: api_errors.KlingError) -> int:
    if isinstance(exc, api_errors.NetworkError | api_errors.RateLimitedError |
                  api_errors.ServiceUnavailableError):
        return EXIT_UNREACHABLE
    if isinstance(exc, api_errors.CancelledError | api_errors.LocalFileError |
                  LibraryWriteError | StoreError):
        return EXIT_OTHER
    return EXIT_PROVIDER_REFUSED


def exit_code_for_job(job: Job, *, want_completed: bool = True) -> int:
    if job.state is JobState.COMPLETED:
        return EXIT_OK
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


def describe(job: Job) -> tuple[str, int]:
    """A phase in words and a percentage (-1 when none applies)."""
    def pct(done: int, total: int) -> int:
        return int(done * 100 / total) if total else 0

    state = job.state
    if state is JobState.UPLOADING:
        return "uploading", pct(job.transfer_done, job.transfer_total)
    if state is JobState.SUBMITTING:
        return "sending to the provider", -1
    if state is JobState.SUBMITTED:
        status = job.provider_status or "pending"
        word = "queued at the provider" if status == "pending" else "generating"
        return f"{word} (task {job.task_id})", job.progress
    if state is JobState.DOWNLOADING:
        return "downloading", pct(job.transfer_done, job.transfer_total)
    if state is JobState.COMPLETED:
        return f"saved {job.output_path}", -1
    if state in (JobState.FAILED, JobState.UNCERTAIN, JobState.EXPIRED, JobState.CANCELLED):
        return f"{state.label.lower()}: {job.error_message or ''}".rstrip(": "), -1
    return state.label.lower(), -1


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
        elif not job.error_message:
            text, _ = describe(job)
            eprint(f"[job {job.id}] {text}")


# -- commands ----------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    options = JobOptions(
        model=Model(args.model), mode=Mode(args.mode), prompt=args.prompt,
        orientation=Orientation(args.orientation), keep_original_sound=args.keep_audio == "yes")
    batch = check_batch(args.image, args.video, options)
    if not batch.ok:
        eprint("Nothing was sent: "
               + ("this input needs attention." if len(batch.problems) == 1
                  else f"{len(batch.problems)} inputs need attention."))
        print_problem_list(batch.problems)
        return EXIT_REFUSED_LOCALLY
    seconds = batch.total_billable_seconds
    billable = f"{seconds:.1f} s billable" if seconds is not None else \
        "billable length unknown for linked clips"
    eprint(f"{batch.job_count} job{'s' if batch.job_count != 1 else ''}, {billable} "
           f"({options.model.label}, {options.mode.label})")
    with Engine() as engine:
        try:
            engine.require_key()
            engine.check_library_writable()
        except (NoApiKeyError, LibraryWriteError) as exc:
            eprint(f"Nothing was sent: {exc.message}")
            eprint(f"  Fix: {exc.fix}")
            return EXIT_REFUSED_LOCALLY
        jobs = engine.enqueue(batch, options)
        cancel = threading.Event()
        results = engine.run_jobs([j.id for j in jobs], on_update=ProgressPrinter(),
                                  cancel=cancel, stop_after_submit=not args.wait)
        return finish(engine, results, as_json=args.json, want_completed=args.wait)


def finish(engine: Engine, results: dict[int, Job | api_errors.KlingError], *, as_json: bool,
           want_completed: bool) -> int:
    codes: list[int] = []
    final_jobs: list[Job] = []
    for job_id, outcome in results.items():
        job = engine.store.get(job_id)
        assert job is not None
        final_jobs.append(job)
        if isinstance(outcome, api_errors.KlingError):
            eprint(f"[job {job_id}] {outcome.message}")
            if outcome.fix:
                eprint(f"  Fix: {outcome.fix}")
            eprint(f"  The job is kept; finish it later with `kling-desktop wait "
                   f"{job.task_id or job.id}`.")
            codes.append(exit_code_for_error(outcome))
        else:
            codes.append(exit_code_for_job(job, want_completed=want_completed))
    emit_results(final_jobs, as_json=as_json)
    return worst(codes)


def worst(codes: Sequence[int]) -> int:
    """The exit code that matters most for a batch."""
    for code in (EXIT_OTHER, EXIT_PROVIDER_REFUSED, EXIT_UNREACHABLE, EXIT_REFUSED_LOCALLY):
        if code in codes:
            return code
    return EXIT_OK


def cmd_jobs(args: argparse.Namespace) -> int:
    with Engine() as engine:
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
        detail = job.output_path or job.error_message or ""
        if job.state is JobState.SUBMITTED:
            detail = f"{job.progress}%"
        print(f"{job.id:>4}  {job.state.label:<20} {job.task_id or '-':<34} "
              f"{job.spec.model.label:<11} {job.spec.mode.value:<4} {detail}")
    return EXIT_OK


def _select_jobs(engine: Engine, refs: Sequence[str]) -> list[Job]:
    selected: list[Job] = []
    for ref in refs:
        job = engine.store.find_by_task_id(ref)
        if job is None and ref.isdigit():
            job = engine.store.get(int(ref))
        if job is None:
            raise api_errors.NotFoundError(
                f"No job with task id or number {ref!r} on this computer.",
                fix="List your jobs with `kling-desktop jobs`.")
        selected.append(job)
    return selected


def cmd_wait(args: argparse.Namespace) -> int:
    with Engine() as engine:
        if args.task_ids:
            targets = _select_jobs(engine, args.task_ids)
        else:
            targets = engine.resumable_jobs()
            if not targets:
                eprint("No unfinished jobs.")
                return EXIT_OK
        to_run = [job.id for job in targets if job.state.is_active]
        eprint(f"Finishing {len(to_run)} job{'s' if len(to_run) != 1 else ''}…")
        results: dict[int, Job | api_errors.KlingError] = dict(
            engine.run_jobs(to_run, on_update=ProgressPrinter()))
        for job in targets:
            results.setdefault(job.id, job)
        return finish(engine, results, as_json=args.json, want_completed=True)


def cmd_retry(args: argparse.Namespace) -> int:
    with Engine() as engine:
        (job,) = _select_jobs(engine, [args.job])
        job = engine.retry(job.id, confirm_possible_duplicate=args.yes_i_checked)
        eprint(f"[job {job.id}] queued again")
        results = engine.run_jobs([job.id], on_update=ProgressPrinter())
        return finish(engine, dict(results), as_json=False, want_completed=True)


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
    from kling_desktop.engine import secrets

    if args.action == "status":
        source = secrets.key_source()
        status = secrets.keyring_status()
        print(f"API key: {'from ' + source if source else 'not set'}")
        print(f"Keyring: {status.backend} — {status.message}")
        if not status.ok and status.fix:
            print(f"  Fix: {status.fix}")
        return EXIT_OK
    if args.action == "delete":
        secrets.delete_api_key()
        print("The API key was removed from the system keyring.")
        return EXIT_OK
    key = (sys.stdin.readline() if not sys.stdin.isatty()
           else getpass.getpass("Paste the API key (input hidden): ")).strip()
    if not key:
        eprint("No key given; nothing was changed.")
        return EXIT_REFUSED_LOCALLY
    secrets.store_api_key(key)
    print("The API key is stored in the system keyring.")
    return EXIT_OK


def cmd_simulator(args: argparse.Namespace) -> int:
    from kling_desktop.simulator import serve

    return serve(args.port, args.key, polls_until_done=args.polls, latency=args.latency,
                 result_shape=args.result_shape)


def version_text() -> str:
    return f"kling-desktop {__version__}"
