"""A job row in words: title, badges, status, small print, elapsed time, tooltip, bar value.

Built on :func:`kling_desktop.engine.status.describe`, the one wording the window
shares with the command line; this module only adds what the window alone knows
(offline countdowns, errors that stopped a job) and what only a row shows.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QDate, QDateTime, QLocale, Qt
from PySide6.QtGui import QFontMetrics

from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.engine.status import describe, percent, provider_reports
from kling_desktop.i18n import N_, _
from kling_desktop.sources import display_name
from kling_desktop.ui.jobs.row_state import RowState

__all__ = ["badges_for", "detail_text", "elapsed_text", "elided_title", "inputs_text",
           "phase_progress", "status_text", "title_text", "tooltip_text", "when_text"]

TITLE_JOINER = " + "
# Marked here, translated where shown.
GONE_STATUS = N_("Moved to the trash")
GONE_DETAIL = N_("The video is no longer in the library folder. Its settings can still be "
                 "used again (right-click).")


def status_text(job: Job, state: RowState | None = None, *, now: float | None = None,
                monotonic_now: float | None = None) -> str:
    """The job's state in a few words, e.g. "Generating 40 % · about 40 s left"."""
    state = state or RowState()
    if job.state.is_active and state.offline is not None:
        seconds = state.offline.seconds_left(monotonic_now)
        head = _("Offline") if state.offline.reason == "offline" else _("Provider busy")
        if seconds > 0:
            return _("{status} — retrying in {seconds} s").format(status=head, seconds=seconds)
        return _("{status} — retrying now").format(status=head)
    if job.state.is_active and state.note is not None:
        return _("Stopped — {message}").format(message=state.note.message)
    if job.state is JobState.COMPLETED and state.gone:
        return _(GONE_STATUS)
    return describe(job, note=state.service_note, now=now).headline


def detail_text(job: Job, state: RowState | None = None) -> str:
    """The row's second line of small print: what to do, or where the video is."""
    state = state or RowState()
    if job.state.is_active:
        if state.offline is not None:
            return state.offline.message
        if state.note is not None:
            return state.note.fix
    if job.state is JobState.COMPLETED and state.gone:
        return _(GONE_DETAIL)
    return describe(job, note=state.service_note).detail


def elapsed_text(job: Job, now: float | None = None) -> str:
    """How long the job has run (until now, or until it came to rest): "1:05", "1:02:03"."""
    now = time.time() if now is None else now
    end = now if job.state.is_active else (job.updated_at or now)
    seconds = max(0, int(end - job.created_at))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def title_text(job: Job) -> str:
    """The job's human title (:attr:`JobSpec.title`: picture, clip, the prompt's first
    words), the same the library, the notifications and the file name use."""
    return job.spec.title


def inputs_text(job: Job) -> str:
    """"hero.png + dance.mp4": the inputs by their names (the title shortens them)."""
    return display_name(job.spec.image) + TITLE_JOINER + display_name(job.spec.video)


def elided_title(job: Job, fm: QFontMetrics, width: int) -> str:
    """:func:`title_text`, shortened at its end to fit ``width``."""
    return fm.elidedText(title_text(job), Qt.TextElideMode.ElideRight, width)


def when_text(job: Job, *, short: bool = False, shortest: bool = False) -> str:
    """When the job was made, as the user's locale writes a date and time; ``short``
    (for a card): "Today 14:05" for today's jobs; ``shortest`` (a narrow card): the time
    alone for today's jobs, the date alone for older ones."""
    moment = QDateTime.fromMSecsSinceEpoch(round(job.created_at * 1000))
    locale = QLocale()
    today = moment.date() == QDate.currentDate()
    if shortest:
        if today:
            return locale.toString(moment.time(), QLocale.FormatType.ShortFormat)
        return locale.toString(moment.date(), QLocale.FormatType.ShortFormat)
    if short and today:
        return _("Today {time}").format(
            time=locale.toString(moment.time(), QLocale.FormatType.ShortFormat))
    return locale.toString(moment, QLocale.FormatType.ShortFormat)


def badges_for(job: Job) -> list[str]:
    """The small labels under the title: "Demo" (if it is one), the model, the quality."""
    options = job.spec.options
    badges = [options.model.label, options.mode.short_label]
    if job.demo:
        badges.insert(0, _("Demo"))
    return badges


def phase_progress(job: Job) -> int | None:
    """0..100 for the progress bar of an active job; None when there is no bar."""
    if job.state is JobState.UPLOADING or job.state is JobState.DOWNLOADING:
        return percent(job.transfer_done, job.transfer_total) or 0
    if job.state is JobState.SUBMITTED:
        return max(0, min(100, job.progress))
    if job.state.is_active:
        return 0
    return None


def tooltip_text(job: Job, state: RowState | None = None) -> str:
    """Everything the row knows, one fact a line (also what "Copy details" copies)."""
    lines = [title_text(job), inputs_text(job)]
    prompt = " ".join(job.spec.options.prompt.split())
    if prompt and prompt not in lines[0]:
        lines.append(_("Prompt: {prompt}").format(prompt=prompt[:300]))
    status = status_text(job, state)
    lines += [_("Made {when}").format(when=when_text(job)), status]
    detail = detail_text(job, state)
    if detail and detail not in status:
        lines.append(detail)
    if job.error_fix and job.error_fix not in "\n".join(lines):
        lines.append(job.error_fix)
    if job.task_id:
        lines.append(_("Provider task: {task_id}").format(task_id=job.task_id))
    lines.extend(provider_reports(job))
    if job.demo:
        lines.append(_("Demo job: made by the built-in simulator, nothing was billed."))
    return "\n".join(lines)
