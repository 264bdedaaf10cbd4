"""The words under the form: what is missing, the billable length, the cost estimate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kling_desktop.engine.batch import BatchReport, JobOptions, estimate_cost
from kling_desktop.engine.settings import DEFAULT_CURRENCY
from kling_desktop.sources import is_link
from kling_desktop.ui.widgets import format_cost, format_seconds


def summary_text(report: BatchReport | None, images: Sequence[str], videos: Sequence[str],
                 options: JobOptions, rates: Mapping[str, float] | None,
                 currency: str = DEFAULT_CURRENCY) -> tuple[str, str]:
    """``(summary, cost)``: e.g. ``("2 jobs · 10.0 s billable", "about $1.50 at your rate")``.

    ``rates`` None: no cost estimate at all (no settings to take the rates from).
    """
    if not images or not videos:
        missing = []
        if not images:
            missing.append("a character picture")
        if not videos:
            missing.append("a motion video")
        return "Add " + " and ".join(missing), ""
    if report is None or not report.pairs:
        return "", ""
    # Only accepted inputs count: a refused picture or clip makes no video and bills nothing.
    accepted = report.accepted_job_count
    if accepted == 0:
        return "", ""     # the refusals next to the inputs say why
    if accepted < report.job_count:
        jobs = f"{accepted} of {report.job_count} jobs ready · "
    else:
        jobs = f"{accepted} jobs · " if accepted > 1 else ""
    seconds = report.accepted_billable_seconds
    if seconds is None:
        text = jobs + "length unknown for links"
        if not any(is_link(v) for v in videos):
            text = jobs + "length unknown"
    else:
        text = jobs + f"{format_seconds(seconds)} billable"
    cost_text = ""
    if rates is not None:
        cost = estimate_cost(report, options, rates)
        if cost is not None:
            cost_text = f"about {format_cost(cost, currency)} at your rate"
    return text, cost_text
