"""The headless command line: the same engine as the window, a stable interface for scripts.

Exit codes: 0 success; 2 the input was refused locally (nothing was sent);
3 the provider refused the request or the task failed; 4 the provider could not
be reached after retries; 1 anything else (including interruptions).

This module parses the arguments and runs a command; :mod:`.commands` holds the
commands, :mod:`.output` what they print and the exit codes.

Language: ``--lang`` (anywhere on the line), else ``LANGUAGE`` / ``LC_ALL`` /
``LC_MESSAGES`` / ``LANG`` (:func:`command_line_language`). :func:`speak` installs it
and routes argparse's own words ("usage:", "options", its errors) through our
catalog, so ``--help`` and a mistyped option read in that language too.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation
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
from kling_desktop.cli.output import EXIT_OTHER, eprint, exit_code_for_error, print_fix
from kling_desktop.i18n import (
    N_,
    PSEUDO,
    _,
    format_number,
    install,
    language_from_environment,
    match_language,
    ngettext,
)

__all__ = ["ARGPARSE_MESSAGES", "LANGUAGE_CHOICES", "add_subcommands", "command_line_language",
           "language_option", "run_command", "speak", "split_language", "version_text"]


# -- language ------------------------------------------------------------------------

#: What ``--lang`` accepts (``pseudo``, the test language, too, without being offered).
LANGUAGE_CHOICES = ("en", "zh_CN")
_LANG_OPTION = "--lang"

#: argparse's own words, which it looks up through its module's ``_``/``ngettext`` when it
#: prints; marked here so that the catalog carries them (see :func:`speak`).
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("unexpected option string: %s"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
)


def _argparse_plurals() -> None:  # pragma: no cover - never called: marks a plural
    ngettext("expected %s argument", "expected %s arguments", 2)


def split_language(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The language asked for with ``--lang X`` / ``--lang=X`` (wherever it stands before a
    ``--``; the last one wins) and ``argv`` without those options. A value that is not a
    language stays in ``argv``, so that the parser refuses it in words."""
    wanted: str | None = None
    rest: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            rest.extend(argv[index:])
            break
        value: str | None = None
        width = 1
        if word == _LANG_OPTION and index + 1 < len(argv):
            value, width = argv[index + 1], 2
        elif word.startswith(_LANG_OPTION + "="):
            value = word.split("=", 1)[1]
        if value is not None and _is_language(value):
            wanted = match_language([value])
        else:
            rest.extend(argv[index:index + width])
        index += width
    return wanted, rest


def command_line_language(argv: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """The language of this command line: ``--lang``, else ``LANGUAGE`` / ``LC_ALL`` /
    ``LC_MESSAGES`` / ``LANG`` (:func:`language_from_environment`)."""
    wanted, _rest = split_language(argv)
    return wanted or language_from_environment(environ)


def _is_language(value: str) -> bool:
    return value in LANGUAGE_CHOICES or value == PSEUDO


def speak(language: str) -> str:
    """Use ``language`` for everything the command line prints, argparse's words included;
    returns the code installed."""
    code = install(language)
    # argparse calls its module-level ``_`` and ``ngettext`` each time it prints: ours
    # follow whatever language is installed.
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
    return code


def language_option(value: str) -> str:
    """``--lang``'s value, checked (argparse shows the error in the chosen language)."""
    if not _is_language(value):
        raise argparse.ArgumentTypeError(
            _("unknown language “{value}”: use one of {choices}").format(
                value=value, choices=", ".join(LANGUAGE_CHOICES)))
    return value


# -- argument parsing ----------------------------------------------------------


def add_subcommands(parser: argparse.ArgumentParser) -> None:
    """Install the headless subcommands on the program's parser (see ``main.py``); their
    words are in the language installed now (:func:`speak` first)."""
    # Metavars stay as they are (argparse measures columns by characters, so a CJK one
    # would push the help column out of line), except this one, which has no help beside it.
    sub = parser.add_subparsers(dest="command", metavar=_("COMMAND"))

    gen = sub.add_parser("generate", help=_("check inputs, upload, create the task(s)"),
                         description=_("Check the inputs, upload local files, create one task "
                                       "per (picture, clip) pair and record the jobs."))
    gen.add_argument("--image", action="append", required=True, metavar="PATH|URL",
                     help=_("character picture (JPG/PNG) or https:// link; repeat for a batch"))
    gen.add_argument("--video", action="append", required=True, metavar="PATH|URL",
                     help=_("motion clip (MP4/MOV) or https:// link; repeat for a batch"))
    gen.add_argument("--model", choices=[m.value for m in Model], default=Model.V3.value,
                     help=_("the motion-control model (default: {model})").format(
                         model=Model.V3.value))
    gen.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.STD.value,
                     help=_("std = 720p, pro = 1080p (costs more)"))
    gen.add_argument("--prompt", default="",
                     help=_("optional text, at most {n} characters").format(
                         n=format_number(MAX_PROMPT_CHARS)))
    gen.add_argument("--orientation", choices=[o.value for o in Orientation],
                     default=Orientation.IMAGE.value,
                     help=_("image: clip up to 10 s; video: clip up to 30 s"))
    gen.add_argument("--keep-audio", choices=["yes", "no"], default="yes",
                     help=_("keep the clip's original sound"))
    gen.add_argument("--trim", metavar="START-END", default=None,
                     help=_("keep only this part of the clip(s), in seconds, e.g. 2.5-9.5 "
                            "(a trimmed copy is sent; the original is not changed)"))
    gen.add_argument("--fix", action="store_true",
                     help=_("convert what the provider would refuse but can be fixed (format, "
                            "size, shape by padding, length by trimming from the start) and "
                            "say what was done"))
    gen.add_argument("--wait", action="store_true",
                     help=_("follow the job(s) to the end and print the saved file"))
    gen.add_argument("--json", action="store_true",
                     help=_("one JSON object per job on stdout"))

    jobs = sub.add_parser("jobs", help=_("list the jobs on this computer"),
                          description=_("List the jobs on this computer, newest first."))
    jobs.add_argument("--json", action="store_true", help=_("one JSON object per job on stdout"))
    jobs.add_argument("--limit", type=int, default=50, metavar="N",
                      help=_("show at most N jobs (default: 50)"))

    wait = sub.add_parser("wait", help=_("resume and finish unfinished jobs"),
                          description=_("Resume unfinished jobs and follow them to the end."))
    wait.add_argument("task_ids", nargs="*", metavar="TASK_ID",
                      help=_("task ids (or local job numbers) to finish; all when none given"))
    wait.add_argument("--json", action="store_true", help=_("one JSON object per job on stdout"))

    retry = sub.add_parser("retry", help=_("carry a failed or stopped job on again"),
                           description=_("Carry a failed or stopped job on again (a paid task "
                                         "is followed again, never sent twice)."))
    retry.add_argument("job", metavar="JOB", help=_("task id or local job number"))
    retry.add_argument("--yes-i-checked", action="store_true",
                       help=_("for a job whose first sending may have been accepted: confirm "
                              "you checked the provider's dashboard"))

    library = sub.add_parser("library",
                             help=_("list the saved results, or rebuild their index"),
                             description=_("List the saved results, or rebuild their index."))
    library.add_argument("action", choices=["list", "rebuild", "sync"],
                         help=_("list: saved results; rebuild: re-read every sidecar into a new "
                                "index; sync: pick up files added or removed outside the app"))
    library.add_argument("--json", action="store_true",
                         help=_("one JSON object per result on stdout"))

    key = sub.add_parser("key", help=_("store, check or delete API keys (system keyring)"),
                         description=_("Store, check or delete the API key of a provider "
                                       "(kept in the system keyring, never in a file)."))
    key.add_argument("action", choices=["set", "status", "delete"],
                     help=_("set: save a key (read from the terminal or stdin); status: which "
                            "keys are set up; delete: remove the key"))
    key.add_argument("--provider", metavar="URL", default=None,
                     help=_("the provider the key is for (default: the one in use)"))

    sim = sub.add_parser("simulator", help=_("run the built-in provider simulator on loopback"),
                         description=_("Run the built-in provider simulator on loopback (for "
                                       "trying the app and scripts; nothing is billed)."))
    sim.add_argument("--port", type=int, default=0, help=_("0 = any free port (printed)"))
    sim.add_argument("--key", default=None, help=_("accept only this bearer key"))
    sim.add_argument("--polls", type=int, default=3, help=_("polls until a task completes"))
    sim.add_argument("--latency", type=float, default=0.0,
                     help=_("seconds added to each call"))
    sim.add_argument("--result-shape", default="results_strings",
                     choices=["results_strings", "results_objects", "output"],
                     help=_("how the simulator's answers carry the video link"))


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
        eprint(_("Interrupted. Unfinished jobs are kept: resume them with "
                 "`kling-desktop wait`."))
        return EXIT_OTHER
    except api_errors.KlingError as exc:
        eprint(_("Error: {message}").format(message=exc.message))
        print_fix(exc.fix)
        return exit_code_for_error(exc)


