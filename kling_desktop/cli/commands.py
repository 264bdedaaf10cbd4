"""The commands: each one asks the job service, the library or the keyring, and prints."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from kling_desktop import __version__
from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.cli.output import (
    EXIT_OK,
    EXIT_OTHER,
    EXIT_REFUSED_LOCALLY,
    ProgressPrinter,
    UnknownJobError,
    emit_results,
    eprint,
    exit_code_for_job,
    job_line,
    job_record,
    pad,
    print_problem_list,
    worst,
)
from kling_desktop.engine.fixes import parse_trim
from kling_desktop.engine.jobs import BlockedOn, Job, JobState
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.service import JobService
from kling_desktop.engine.status import describe as describe_status
from kling_desktop.i18n import _, format_number, ngettext

log = logging.getLogger(__name__)


# -- commands ----------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    options = GenerationOptions(
        model=Model(args.model), mode=Mode(args.mode), prompt=args.prompt,
        orientation=Orientation(args.orientation), keep_original_sound=args.keep_audio == "yes")
    trim = parse_trim(args.trim) if args.trim else None
    with Engine() as engine:
        images, videos = list(args.image), list(args.video)
        origins: dict[str, Origin] = {}   # where the converted inputs came from
        if trim is not None or args.fix:
            from kling_desktop.cli.fixing import fix_inputs

            fixed = fix_inputs(engine, images, videos, options, trim=trim, auto=args.fix)
            images, videos, origins = fixed.images, fixed.videos, fixed.origins
        printer = ProgressPrinter()
        service = _service(engine, printer)
        plan = service.plan(images, videos, options)
        if not plan.ok:
            problems = plan.problems or plan.batch.problems
            eprint(_("Nothing was sent: this needs attention.") if len(problems) == 1
                   else ngettext("Nothing was sent: {n} thing needs attention.",
                                 "Nothing was sent: {n} things need attention.",
                                 len(problems)).format(n=len(problems)))
            print_problem_list(problems)
            if not args.fix and any(p.field in ("image", "video") for p in problems):
                from kling_desktop.cli.fixing import fixable

                if fixable(images, videos, options):
                    eprint(_("Add --fix to convert what can be converted (format, size, shape, "
                             "length), or --trim START-END to send part of the clip."))
            return EXIT_REFUSED_LOCALLY
        batch = plan.batch
        seconds = batch.total_billable_seconds
        billable = _("{seconds} s billable").format(seconds=format_number(seconds, 1)) \
            if seconds is not None else _("billable length unknown for linked clips")
        # TRANSLATORS: {billable} is "12.0 s billable"; {model} and {mode} the options' names.
        eprint(ngettext("{n} job, {billable} ({model}, {mode})",
                        "{n} jobs, {billable} ({model}, {mode})", batch.job_count).format(
            n=format_number(batch.job_count), billable=billable, model=options.model.label,
            mode=options.mode.label))
        return _drive(engine, service, lambda: service.submit(
            batch, options, origins=origins, until_submitted=not args.wait), as_json=args.json,
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
                eprint(_("No unfinished jobs."))
                return EXIT_OK

        def start() -> list[Job]:
            active = [job for job in targets if job.state.is_active]
            eprint(ngettext("Finishing {n} job…", "Finishing {n} jobs…", len(active)).format(
                n=format_number(len(active))))
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
            eprint(job_line(retried.id, _("following task {task_id} again").format(
                task_id=retried.task_id) if retried.task_id else _("queued again")))
            return [retried]

        return _drive(engine, service, start, as_json=False, want_completed=True)


def _service(engine: Engine, printer: ProgressPrinter) -> JobService:
    """The job service for this command: it gives up on jobs only the user can unblock."""
    tell_if_moved_aside(engine)
    return JobService(
        # TRANSLATORS: who follows a job, as another program names it: "being followed by …".
        engine, holder=_("`kling-desktop` in a terminal"), on_update=printer,
        on_note=printer.note,
        give_up_on=(BlockedOn.KEY, BlockedOn.BALANCE, BlockedOn.PERMISSION,
                    BlockedOn.PROVIDER, BlockedOn.NETWORK, BlockedOn.DISK))


class _Interrupts:
    """The first Ctrl-C stops what was not sent yet; a second one exits at once."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._count = 0
        self._previous: object = None
        # Ready before a signal comes: the handler only writes it.
        self._at_once = (_("Stopped at once. Jobs are kept as they are: see "
                           "`kling-desktop jobs`.") + "\n").encode("utf-8", "replace")

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
            os.write(2, self._at_once)
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
    eprint(_("Interrupted: nothing more is sent. (Press Ctrl-C again to quit at once.)"))
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
        eprint(job_line(job.id, _("stopped before it was sent: nothing was billed")))
    for job in kept:
        if job.state is JobState.COMPLETED:
            eprint(job_line(job.id, _("saved {path}").format(path=job.output_path)))
        elif job.state is JobState.UNCERTAIN:
            eprint(job_line(job.id, _("was being sent: check your provider's dashboard")))
        else:
            eprint(job_line(job.id, _("kept: the provider has task {task_id}; finish it with "
                                      "`kling-desktop wait {task_id}`").format(
                                          task_id=job.task_id)))
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
            eprint("  " + _("The job is kept; finish it later with `kling-desktop wait "
                            "{ref}`.").format(ref=job.task_id or job.id))
    emit_results(final_jobs, as_json=as_json)
    return worst(codes)




def tell_if_moved_aside(engine: Engine) -> None:
    message = engine.store.moved_aside_message
    if message:
        eprint(_("Note: {message}").format(message=message))


def cmd_jobs(args: argparse.Namespace) -> int:
    with Engine() as engine:
        tell_if_moved_aside(engine)
        jobs = engine.jobs(limit=args.limit)
    if args.json:
        for job in jobs:
            print(json.dumps(job_record(job), ensure_ascii=False))
        return EXIT_OK
    if not jobs:
        print(_("No jobs yet. Start one with `kling-desktop generate --image … --video …`."))
        return EXIT_OK
    # TRANSLATORS: the headings of the columns of `kling-desktop jobs` (short words).
    headings = (_("JOB"), _("STATUS"), _("TASK"), _("MODEL"), _("MODE"), _("DETAIL"))
    print(_table_row(headings).rstrip())
    for job in jobs:
        status = describe_status(job)
        detail = job.output_path if job.state is JobState.COMPLETED else (
            status.headline if job.state.is_active else (job.error_message or ""))
        print(_table_row((str(job.id), job.state.label, job.task_id or "-",
                          job.spec.options.model.label, job.spec.options.mode.value,
                          detail or "")).rstrip())
    return EXIT_OK


_COLUMNS = (4, 20, 34, 11, 4)


def _table_row(cells: Sequence[str]) -> str:
    """One line of the jobs table: the job number right-aligned, then aligned columns."""
    number, *middle, last = cells
    parts = [pad(number, _COLUMNS[0], right=True) + " "]
    parts += [pad(cell, width) for cell, width in zip(middle, _COLUMNS[1:], strict=True)]
    return " ".join(parts) + " " + last


def _select_jobs(engine: Engine, refs: Sequence[str]) -> list[Job]:
    selected: list[Job] = []
    for ref in refs:
        job = engine.store.find_by_task_id(ref)
        if job is None and ref.isdigit():
            job = engine.store.get(int(ref))
        if job is None:
            raise UnknownJobError(
                _("There is no job with task id or number '{ref}' on this computer.").format(
                    ref=ref),
                fix=_("List your jobs with `kling-desktop jobs`."))
        selected.append(job)
    return selected



def cmd_library(args: argparse.Namespace) -> int:
    with Engine() as engine:
        library = engine.library
        if args.action == "rebuild":
            report = library.rebuild_index(
                progress=lambda done, total: eprint(_("reading sidecars {done}/{total}").format(
                    done=format_number(done), total=format_number(total)))
                if total and (done == total or done % 500 == 0) else None)
            eprint(ngettext("Indexed {n} result from {folder}.",
                            "Indexed {n} results from {folder}.", report.indexed).format(
                n=format_number(report.indexed), folder=library.root))
            for path in report.unreadable:
                eprint("  " + _("unreadable description (video kept): {path}").format(
                    path=path))
            for path in report.orphans:
                eprint("  " + _("video without a description: {path}").format(path=path))
        elif args.action == "sync":
            synced = library.sync_index()
            eprint(_("{added} added, {removed} removed.").format(
                added=format_number(synced.added), removed=format_number(synced.removed)))
        records = engine.store.list_results()
    for record in records:
        path = library.root / record.video_rel
        if args.json:
            entry = library.entry_from_record(record)
            # each input as its sidecar records it: name, link or kept copy, and where a
            # trimmed or converted one came from ("origin": name, path, trim, ...)
            inputs = (None if entry is None else
                      {"image": entry.image.to_json(), "video": entry.video.to_json()})
            print(json.dumps({"file": str(path), "task_id": record.task_id,
                              "model": record.model, "mode": record.mode,
                              "prompt": record.prompt, "duration": record.duration,
                              "demo": record.demo, "mark": record.mark,
                              "sidecar_ok": record.sidecar_ok, "inputs": inputs},
                             ensure_ascii=False))
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
