"""Program entry: the window by default, headless subcommands otherwise.

``kling-desktop``            opens the window
``kling-desktop --demo``     opens the window against the built-in simulator
``kling-desktop COMMAND``    runs a headless command (see ``kling_desktop.cli``)
``kling-desktop --lang zh_CN COMMAND``  … in 简体中文 (else ``LC_ALL`` / ``LANG`` decide)

Language: the terminal's (``--lang``, else the environment) is installed for what is
printed here: the headless commands, ``--help``, ``--version``, argparse's errors and the
self-test. The window chooses its own in :func:`_window` (the one place for it).

Start-up: ``kling-desktop`` and ``kling-desktop --demo`` (what a desktop launcher runs)
open the window without loading the command line (its commands import the whole engine:
the network client, the keyring); any other word goes through the full parser.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from types import ModuleType

from kling_desktop import APP_NAME, i18n
from kling_desktop.i18n import _
from kling_desktop.logging_setup import open_log_file, setup_logging, start_logging

WINDOW_FLAGS = frozenset({"--demo", "--debug"})


def build_parser() -> argparse.ArgumentParser:
    """The program's parser, in the language installed now (see :func:`main`)."""
    from kling_desktop import cli

    parser = argparse.ArgumentParser(
        prog="kling-desktop",
        description=_("{app}: animate a character picture with the motion of a video.").format(
            app=APP_NAME),
    )
    parser.add_argument("--version", action="version", version=cli.version_text(),
                        help=_("show program's version number and exit"))
    parser.add_argument("--lang", type=cli.language_option, metavar="{en,zh_CN}",
                        help=_("the language of the command line (default: from LC_ALL, "
                               "LC_MESSAGES or LANG)"))
    parser.add_argument("--demo", action="store_true",
                        help=_("open the window against the built-in simulator (no key, "
                               "no cost)"))
    parser.add_argument("--self-test", action="store_true",
                        help=_("check that this installation works (no display needed), "
                               "then exit"))
    parser.add_argument("--debug", action="store_true",
                        help=_("log debug details to the log file"))
    cli.add_subcommands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words == ["--poster-helper"]:   # the window's poster helper (ui.poster_helper)
        from kling_desktop.ui.import_check import load_qt

        load_qt()
        from kling_desktop.ui.poster_helper import run_helper

        return run_helper()
    if set(words) <= WINDOW_FLAGS:   # the window, nothing to parse: start it at once
        start_logging(debug="--debug" in words)   # the file opens after the first paint
        return _window(argparse.Namespace(demo="--demo" in words, debug="--debug" in words))
    from kling_desktop import cli

    language, words = cli.split_language(words)
    if _prints_in_the_terminal(words):
        cli.speak(language or i18n.language_from_environment())
    args = build_parser().parse_args(words)
    if args.self_test:  # before logging: the self-test must not touch the user's folders
        from kling_desktop.selftest import run_self_test

        return run_self_test()
    setup_logging(debug=args.debug)
    if args.command is None:
        return _window(args, language)
    return cli.run_command(args)


def _prints_in_the_terminal(words: Sequence[str]) -> bool:
    """A headless command, ``--help``, ``--version``, ``--self-test`` or a mistake the
    parser will refuse: anything but opening the window."""
    return any(word not in WINDOW_FLAGS for word in words)


def _window(args: argparse.Namespace, language: str | None = None) -> int:
    """Open the window. THE place where the window's language is chosen and installed:
    ``--lang`` for this run, else Settings → Language, else the system's (see
    :mod:`kling_desktop.ui.language`); nothing of the terminal's is installed on this path."""
    try:
        code: int = load_window().run_app(demo=args.demo, language=language)
        return code
    finally:
        open_log_file()          # (if the window never got as far as opening it)
        if not gc.isenabled():   # the window never got as far as its jobs list
            gc.collect()         # (from zero: no collection at the next allocation)
            gc.enable()


def load_window() -> ModuleType:
    """Import the window's code (:mod:`kling_desktop.ui.app`, Qt with it) with the cyclic
    collector paused. Start-up makes objects that live until quit: the ~60 collections
    its imports and first build would run find nothing to free and cost ~8 ms before the
    first paint. The window resumes the collector once it is painted and its jobs listed
    (:func:`kling_desktop.ui.app.freeze_startup_objects`).

    Qt's core is loaded first, on its own, so that PySide's look at every module imported
    after it reads bytes instead of going through ``inspect``
    (:mod:`kling_desktop.ui.import_check`)."""
    gc.disable()
    from kling_desktop.ui.import_check import load_qt

    load_qt()
    from kling_desktop.ui import app

    return app


def gui_main() -> int:
    """Entry for the windowed launcher (no console on Windows)."""
    return main(sys.argv[1:] or [])
