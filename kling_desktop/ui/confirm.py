""""Generate N videos?": the last look before money is spent.

The demo shows the same box, so the step is rehearsed, marked as a demo: nothing is
billed, what a real key would bill is said as such, and there is no "Don't ask again"
(the demo always asks; the user's own choice is untouched).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from kling_desktop.engine.batch import BatchReport, JobOptions, estimate_cost
from kling_desktop.i18n import N_, _, ngettext
from kling_desktop.ui.widgets import format_cost, format_seconds

if TYPE_CHECKING:
    from kling_desktop.engine.settings import Settings

NO_RATE_TEXT = N_("Set your per-second rates in Settings to see a cost estimate.")
DEMO_MARK = N_("Demo: nothing is billed.")
DEMO_RESULT_TEXT = N_("The demo answers with its sample video; with your own key, "
                      "your own character moves.")


def confirmation_text(batch: BatchReport, options: JobOptions,
                      settings: Settings, *, demo: bool = False) -> tuple[str, str]:
    """The question and its details, in plain words (``demo``: the rehearsal's words)."""
    if demo:
        return _demo_confirmation_text(batch, options, settings)
    count = batch.job_count
    question = (ngettext("Generate {n} video?", "Generate {n} videos?", count).format(n=count)
                if count > 1 else _("Generate this video?"))
    lines = [_model_line(options)]
    seconds = batch.total_billable_seconds
    if seconds is None:
        lines.append(_("Billable length: unknown for links (the provider bills the clip's "
                       "full length)."))
    elif count > 1:
        lines.append(ngettext("{n} job · {seconds} billable in all.",
                              "{n} jobs · {seconds} billable in all.", count).format(
            n=count, seconds=format_seconds(seconds)))
    else:
        lines.append(_("{seconds} billable.").format(seconds=format_seconds(seconds)))
    cost = estimate_cost(batch, options, settings.rates)
    if cost is not None:
        lines.append(_("Estimated cost: about {cost} at your rate.").format(
            cost=format_cost(cost, settings.currency)))
    elif settings.rate_for(options.model, options.mode) is None:
        lines.append(_(NO_RATE_TEXT))
    return question, "\n".join(lines)


def _model_line(options: JobOptions) -> str:
    # TRANSLATORS: "Kling V3 · Standard (720p)"
    return _("{model} · {quality}").format(model=options.model.label,
                                           quality=options.mode.label)


def _demo_confirmation_text(batch: BatchReport, options: JobOptions,
                            settings: Settings) -> tuple[str, str]:
    count = batch.job_count
    question = (ngettext("Generate {n} demo video?", "Generate {n} demo videos?", count).format(
        n=count) if count > 1 else _("Generate this demo video?"))
    lines = [_(DEMO_MARK), _model_line(options)]
    seconds = batch.total_billable_seconds
    if seconds is not None:
        cost = estimate_cost(batch, options, settings.rates)
        if cost is not None:
            lines.append(_("With your own key this would bill {seconds}, about {cost} at your "
                           "rate.").format(seconds=format_seconds(seconds),
                                           cost=format_cost(cost, settings.currency)))
        else:
            lines.append(_("With your own key this would bill {seconds}.").format(
                seconds=format_seconds(seconds)))
    lines.append(_(DEMO_RESULT_TEXT))
    return question, "\n".join(lines)


def build_confirm_box(parent: QWidget | None, batch: BatchReport, options: JobOptions,
                      settings: Settings, *, demo: bool = False) -> QMessageBox:
    question, details = confirmation_text(batch, options, settings, demo=demo)
    box = QMessageBox(parent)
    box.setObjectName("confirmGeneration")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(_("Generate — Demo") if demo else _("Generate"))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<b>{html.escape(question)}</b>")
    # One fact per line, never wrapped mid-number.
    box.setInformativeText("".join(
        f'<p style="white-space: pre; margin: 0">{html.escape(line)}</p>'
        for line in details.splitlines()))
    generate = box.addButton(
        _("Generate") if batch.job_count == 1 else
        # TRANSLATORS: a button: "Generate 3" (videos).
        ngettext("Generate {n}", "Generate {n}", batch.job_count).format(n=batch.job_count),
        QMessageBox.ButtonRole.AcceptRole)
    generate.setObjectName("generateButton")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(generate)
    box.setEscapeButton(cancel)
    if demo:
        return box
    check = QCheckBox(_("Don't ask again"), box)
    check.setObjectName("dontAskAgain")
    check.setToolTip(_("Generate at once from now on. Turn asking back on in Settings."))
    box.setCheckBox(check)
    return box


def confirm_generation(parent: QWidget | None, batch: BatchReport, options: JobOptions,
                       settings: Settings, *, demo: bool = False) -> bool:
    """Ask before spending (``demo``: rehearse it, nothing billed); True to go ahead.

    With "Don't ask again" ticked (and Generate chosen), ``settings.confirm_before_generate``
    becomes False; the caller saves the settings. The demo's box has no such choice.
    """
    box = build_confirm_box(parent, batch, options, settings, demo=demo)
    box.exec()
    accepted = box.clickedButton() is box.findChild(QWidget, "generateButton")
    check = box.checkBox()
    if accepted and check is not None and check.isChecked():
        settings.confirm_before_generate = False
    box.deleteLater()
    return accepted
