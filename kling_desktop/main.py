"""Program entry: the window by default, headless subcommands otherwise.

``kling-desktop``            opens the window
``kling-desktop --demo``     opens the window against the built-in simulator
``kling-desktop COMMAND``    runs a headless command (see ``kling_desktop.cli``)
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Sequence

from kling_desktop import APP_NAME, cli
from kling_desktop.logging_setup import PrivateRotatingFileHandler
from kling_desktop.paths import app_paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kling-desktop",
        description=f"{APP_NAME}: animate a character picture with the motion of a video.",
    )
    parser.add_argument("--version", action="version", version=cli.version_text())
    parser.add_argument("--demo", action="store_true",
                        help="open the window against the built-in simulator (no key, no cost)")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (no display needed), then exit")
    parser.add_argument("--debug", action="store_true", help="log debug details to the log file")
    cli.add_subcommands(parser)
    return parser


def setup_logging(*, debug: bool = False) -> None:
    """Log to a rotating file under the data folder; the API key is never logged anywhere."""
    root = logging.getLogger()
    if any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        return
    try:
        logs = app_paths().ensure().logs_dir
        handler: logging.Handler = PrivateRotatingFileHandler(
            logs / "kling-desktop.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:  # before logging: the self-test must not touch the user's folders
        from kling_desktop.selftest import run_self_test

        return run_self_test()
    setup_logging(debug=args.debug)
    if args.command is None:
        from kling_desktop.ui.app import run_app

        return run_app(demo=args.demo)
    return cli.run_command(args)


def gui_main() -> int:
    """Entry for the windowed launcher (no console on Windows)."""
    return main(sys.argv[1:] or [])
