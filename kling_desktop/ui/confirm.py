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
from kling_desktop.ui.widgets import format_cost, format_seconds

if TYPE_CHECKING:
    from kling_desktop.engine.settings import Settings

NO_RATE_TEXT = "Set your per-second rates in Settings to see a cost estimate."
DEMO_MARK = "Demo: nothing is billed."
DEMO_RESULT_TEXT = ("The demo answers with its sample video; with your own key, "
                    "your own character moves.")


def confirmation_text(batch: BatchReport, options: JobOptions,
                      settings: Settings, *, demo: bool = False) -> tuple[str, str]:
    """The question and its details, in plain words (``demo``: the rehearsal's words)."""
    if demo:
        return _demo_confirmation_text(batch, options, settings)
    count = batch.job_count
    question = f"Generate {count} videos?" if count > 1 else "Generate this video?"
    lines = [f"{options.model.label} · {options.mode.label}"]
    seconds = batch.total_billable_seconds
    if seconds is None:
        lines.append("Billable length: unknown for links (the provider bills the clip's "
                     "full length).")
    elif count > 1:
        lines.append(f"{count} jobs · {format_seconds(seconds)} billable in all.")
    else:
        lines.append(f"{format_seconds(seconds)} billable.")
    cost = estimate_cost(batch, options, settings.rates)
    if cost is not None:
        lines.append(f"Estimated cost: about {format_cost(cost, settings.currency)} at your rate.")
    elif settings.rate_for(options.model, options.mode) is None:
        lines.append(NO_RATE_TEXT)
    return question, "\n".join(lines)


def _demo_confirmation_text(batch: BatchReport, options: JobOptions,
                            settings: Settings) -> tuple[str, str]:
    count = batch.job_count
    question = f"Generate {count} demo videos?" if count > 1 else "Generate this demo video?"
    lines = [DEMO_MARK, f"{options.model.label} · {options.mode.label}"]
    seconds = batch.total_billable_seconds
    if seconds is not None:
        real = f"With your own key this would bill {format_seconds(seconds)}"
        cost = estimate_cost(batch, options, settings.rates)
        if cost is not None:
            real += f", about {format_cost(cost, settings.currency)} at your rate"
        lines.append(real + ".")
    lines.append(DEMO_RESULT_TEXT)
    return question, "\n".join(lines)


def build_confirm_box(parent: QWidget | None, batch: BatchReport, options: JobOptions,
                      settings: Settings, *, demo: bool = False) -> QMessageBox:
    question, details = confirmation_text(batch, options, settings, demo=demo)
    box = QMessageBox(parent)
    box.setObjectName("confirmGeneration")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Generate — Demo" if demo else "Generate")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<b>{question}</b>")
    # One fact per line, never wrapped mid-number.
    box.setInformativeText("".join(
        f'<p style="white-space: pre; margin: 0">{html.escape(line)}</p>'
        for line in details.splitlines()))
    generate = box.addButton(
        "Generate" if batch.job_count == 1 else f"Generate {batch.job_count}",
        QMessageBox.ButtonRole.AcceptRole)
    generate.setObjectName("generateButton")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(generate)
    box.setEscapeButton(cancel)
    if demo:
        return box
    check = QCheckBox("Don't ask again", box)
    check.setObjectName("dontAskAgain")
    check.setToolTip("Generate at once from now on. Turn asking back on in Settings.")
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
