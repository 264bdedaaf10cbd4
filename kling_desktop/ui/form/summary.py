"""The words under the form: what is missing, the billable length, the cost estimate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kling_desktop.engine.settings import DEFAULT_CURRENCY
from kling_desktop.i18n import _, ngettext
from kling_desktop.sources import is_link
from kling_desktop.ui.widgets import format_cost, format_seconds

if TYPE_CHECKING:   # the checks load after the first paint (a report comes from them)
    from kling_desktop.engine.batch import BatchReport, JobOptions


def summary_text(report: BatchReport | None, images: Sequence[str], videos: Sequence[str],
                 options: JobOptions, rates: Mapping[str, float] | None,
                 currency: str = DEFAULT_CURRENCY) -> tuple[str, str]:
    """``(summary, cost)``: e.g. ``("2 jobs · 10.0 s billable", "about $1.50 at your rate")``.

    ``rates`` None: no cost estimate at all (no settings to take the rates from).
    """
    if not images and not videos:
        return _("Add a character picture and a motion video"), ""
    if not images:
        return _("Add a character picture"), ""
    if not videos:
        return _("Add a motion video"), ""
    if report is None or not report.pairs:
        return "", ""
    # Only accepted inputs count: a refused picture or clip makes no video and bills nothing.
    accepted = report.accepted_job_count
    if accepted == 0:
        return "", ""     # the refusals next to the inputs say why
    seconds = report.accepted_billable_seconds
    if seconds is None:
        length = (_("length unknown") if not any(is_link(v) for v in videos)
                  else _("length unknown for links"))
    else:
        length = _("{seconds} billable").format(seconds=format_seconds(seconds))
    if accepted < report.job_count:
        # TRANSLATORS: "2 of 3 jobs ready · 10.0 s billable"
        text = ngettext("{n} of {total} job ready · {length}",
                        "{n} of {total} jobs ready · {length}", report.job_count).format(
            n=accepted, total=report.job_count, length=length)
    elif accepted > 1:
        text = ngettext("{n} job · {length}", "{n} jobs · {length}", accepted).format(
            n=accepted, length=length)
    else:
        text = length
    cost_text = ""
    if rates is not None:
        from kling_desktop.engine.batch import estimate_cost

        cost = estimate_cost(report, options, rates)
        if cost is not None:
            cost_text = _("about {cost} at your rate").format(cost=format_cost(cost, currency))
    return text, cost_text
