"""The headless command line: the same engine as the window, a stable interface for scripts.

Exit codes: 0 success; 2 the input was refused locally (nothing was sent);
3 the provider refused the request or the task failed; 4 the provider could not
be reached after retries; 1 anything else (including interruptions).

This module parses the arguments and runs a command; :mod:`.commands` holds the
commands, :mod:`.output` what they print and the exit codes.
"""

from __future__ import annotations

import argparse

from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.cli.commands import (
    cmd_generate,
    cmd_jobs,
    cmd_key,
    cmd_library,
    cmd_retry,
    cmd_simulator,
    cmd_wait,
    version_text,
)
from kling_desktop.cli.output import EXIT_OTHER, eprint, exit_code_for_error

__all__ = ["add_subcommands", "run_command", "version_text"]


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


