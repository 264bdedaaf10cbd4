"""The window's message boxes: a yes/no question, an error with its fix, "keep running
jobs for next time?" on quit, "stop following this job?" and "send an uncertain job
again?", and what stops the app from starting. In the demo none of them speaks of
billing except to say nothing is billed.

Qt's QMessageBox is imported where a box is made: its Python wrapper (built on first
use, with its enums) is not needed to show the window."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QWidget

from kling_desktop import APP_NAME
from kling_desktop.errors import KlingError
from kling_desktop.i18n import _, ngettext
from kling_desktop.paths import app_paths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

log = logging.getLogger(__name__)


class QuitChoice(StrEnum):
    """What to do with running jobs when the window closes."""

    KEEP = "keep"
    STOP = "stop"
    STAY = "stay"


def _run(box: QMessageBox) -> QAbstractButton | None:
    """Show ``box`` modally, then dispose of it; the button the user clicked."""
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return clicked


def ask(parent: QWidget, question: str, detail: str, *, yes: str, no: str) -> bool:
    """A question whose safe answer (``no``) is the default; True for ``yes``."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(question)
    box.setInformativeText(detail)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no_button)
    box.setEscapeButton(no_button)
    return _run(box) is yes_button


def startup_error_text(error: BaseException) -> tuple[str, str]:
    """What went wrong and what to do, for a problem that stops the app from starting
    (before its window opens, or when the window opens its job list)."""
    if isinstance(error, KlingError):
        return error.message, error.fix
    if isinstance(error, OSError):
        where = error.filename or app_paths().data_dir
        return (_("The app's data folder cannot be used ({reason}): {folder}").format(
                    reason=error.strerror or error, folder=where),
                _("Check that the disk is connected and that your account may write there, "
                  "or set KLING_DATA_DIR to a folder you can write to."))
    return (_("The app could not start ({kind}: {error}).").format(
                kind=type(error).__name__, error=error),
            _("See the log file for details, and send it with your report."))


def show_startup_error(error: BaseException, parent: QWidget | None = None) -> None:
    """Why the app cannot start and the fix, modally (over ``parent``, if any)."""
    message, fix = startup_error_text(error)
    log.error("start-up failed: %s", message, exc_info=not isinstance(error, KlingError))
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setObjectName("startupErrorBox")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(_("{app} cannot start").format(app=APP_NAME))
    box.setText(message)
    box.setInformativeText(fix)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    _run(box)


def show_error(parent: QWidget, title: str, error: KlingError) -> None:
    """What went wrong and, below it, what to do (window-modal, does not block)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(error.message)
    if error.fix:
        box.setInformativeText(error.fix)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def ask_about_running_jobs(parent: QWidget, count: int, *, unsent: int,
                           demo: bool) -> QuitChoice:
    """"Keep ``count`` running jobs for next time?" (``unsent`` of them not sent yet)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setObjectName("quitBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(_("Quit"))
    if demo:
        box.setText(ngettext("Quit the demo? {n} demo job is still running.",
                             "Quit the demo? {n} demo jobs are still running.", count).format(
            n=count))
        box.setInformativeText(_("Demo jobs end with the demo; nothing was billed."))
        quit_button = box.addButton(_("Quit"), QMessageBox.ButtonRole.AcceptRole)
        stay = box.addButton(_("Don't quit"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(quit_button)
        box.setEscapeButton(stay)
        return QuitChoice.STOP if _run(box) is quit_button else QuitChoice.STAY
    box.setText(ngettext("Keep {n} running job for next time?",
                         "Keep {n} running jobs for next time?", count).format(n=count))
    kept = _("Kept jobs carry on when you open {app} again, and finished videos are "
             "downloaded then (the provider keeps them for 24 hours).").format(app=APP_NAME)
    billed = _("Jobs the provider already has keep running there (and are billed) either "
               "way; they are followed again next time.")
    if unsent:
        from kling_desktop.engine.status import message_and_fix  # (not needed to show the window)

        billed = message_and_fix(ngettext(
            "{n} of them has not been sent yet: stopping it costs nothing.",
            "{n} of them have not been sent yet: stopping them costs nothing.",
            unsent).format(n=unsent), billed)
    box.setInformativeText(kept + "\n\n" + billed)
    keep = box.addButton(_("Keep for next time"), QMessageBox.ButtonRole.AcceptRole)
    keep.setObjectName("keepJobs")
    stop = box.addButton(_("Stop jobs not sent yet"), QMessageBox.ButtonRole.DestructiveRole)
    stop.setObjectName("stopJobs")
    stop.setEnabled(unsent > 0)
    stay = box.addButton(_("Don't quit"), QMessageBox.ButtonRole.RejectRole)
    stay.setObjectName("dontQuit")
    box.setDefaultButton(keep)
    box.setEscapeButton(stay)
    clicked = _run(box)
    if clicked is keep:
        return QuitChoice.KEEP
    if clicked is stop:
        return QuitChoice.STOP
    return QuitChoice.STAY


def confirm_stop_following(parent: QWidget, *, demo: bool = False) -> bool:
    """"Stop following this job?" for a job the provider already has; True to stop."""
    if demo:
        return ask(parent, _("Stop this demo job?"),
                   _("Nothing is billed in the demo; its video will not be saved."),
                   yes=_("Stop following"), no=_("Keep it"))
    return ask(parent, _("Stop following this job?"),
               _("The provider already has it and may still finish (and bill) it; the video "
                 "will not be downloaded."),
               yes=_("Stop following"), no=_("Keep it"))


def confirm_send_again(parent: QWidget, *, demo: bool = False) -> bool:
    """The warning before sending a job the provider may already have (and bill twice).

    In the demo nothing is billed: the box says so and only warns of a second video."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setObjectName("sendAgainBox")
    box.setIcon(QMessageBox.Icon.Question if demo else QMessageBox.Icon.Warning)
    box.setWindowTitle(_("Send again?"))
    if demo:
        box.setText(_("The demo may already have this job."))
        box.setInformativeText(
            _("The app lost the demo's answer while sending it. Sending it again may make "
              "a second demo video. Nothing is billed in the demo."))
    else:
        box.setText(_("The provider may already have this job."))
        box.setInformativeText(
            _("The app lost the provider's answer while sending it, so it may have been "
              "accepted and billed. Sending it again could make the same video twice and "
              "charge you twice.\n\nCheck the task list in your provider's dashboard first, "
              "and send it again only if the job is not there."))
    send = box.addButton(_("Send again"), QMessageBox.ButtonRole.DestructiveRole)
    send.setObjectName("sendAgainButton")
    keep = box.addButton(_("Don't send"), QMessageBox.ButtonRole.RejectRole)
    keep.setObjectName("dontSendButton")
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return _run(box) is send
