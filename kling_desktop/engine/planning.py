"""Before money is spent: every check of a batch, and the jobs it records.

:func:`plan` checks the inputs (:mod:`batch`), the key for the provider the jobs
will go to and that the library folder can take the results; nothing is recorded
or sent. :func:`record` writes one job per accepted pair, only when that plan is
still clean at the moment of recording. The job service (:mod:`service`) is the
only caller; the faces see :class:`Plan` and :class:`PlanRefusedError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.batch import BatchReport, check_batch, job_specs
from kling_desktop.engine.checks import Problem
from kling_desktop.engine.jobs import Job
from kling_desktop.engine.library import LibraryWriteError
from kling_desktop.engine.origins import Origin
from kling_desktop.engine.runner import DEMO_BASE_URL, Engine, NoApiKeyError
from kling_desktop.i18n import N_

__all__ = ["Plan", "PlanRefusedError", "plan", "preflight", "record"]


class PlanRefusedError(api_errors.KlingError):
    """The plan has problems; nothing was recorded or sent. ``causes``: the errors behind
    the problems that are not about the inputs (no key, library not writable)."""

    default_message = N_("Nothing was sent: the inputs need attention.")

    def __init__(self, problems: Sequence[Problem],
                 causes: Sequence[api_errors.KlingError] = ()) -> None:
        first = problems[0] if problems else None
        super().__init__(first.message if first else None, fix=first.fix if first else None)
        self.problems = tuple(problems)
        self.causes = tuple(causes)


@dataclass(frozen=True)
class Plan:
    """Every check made before money is spent: the inputs, the key, the library folder."""

    batch: BatchReport
    options: GenerationOptions
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.batch.ok and not self.problems


def preflight(engine: Engine) -> tuple[list[Problem], list[api_errors.KlingError]]:
    """The checks that do not depend on the inputs (the key, the library folder):
    the problems to show, and the errors behind them."""
    problems: list[Problem] = []
    causes: list[api_errors.KlingError] = []
    try:
        engine.require_key()
    except NoApiKeyError as exc:
        problems.append(Problem("options", exc.message, exc.fix, action="open_settings"))
        causes.append(exc)
    try:
        engine.check_library_writable()
    except LibraryWriteError as exc:
        problems.append(Problem("options", exc.message, exc.fix, action="open_settings"))
        causes.append(exc)
    return problems, causes


def plan(engine: Engine, images: Sequence[str], videos: Sequence[str],
         options: GenerationOptions) -> Plan:
    """Check everything before money is spent; nothing is recorded or sent."""
    batch = check_batch(images, videos, options)
    return Plan(batch, options, tuple(batch.problems) + tuple(preflight(engine)[0]))


def record(engine: Engine, batch: BatchReport, options: GenerationOptions,
           origins: Mapping[str, Origin] | None = None) -> list[Job]:
    """One job per accepted pair, checked again now; each remembers where its trimmed or
    converted inputs came from (``origins``, by canonical source). Raises
    :class:`PlanRefusedError`."""
    found, causes = preflight(engine)
    problems = list(batch.problems) + found
    if problems or not batch.ok:
        raise PlanRefusedError(problems, causes)
    base_url = DEMO_BASE_URL if engine.demo else engine.base_url
    jobs = [engine.store.add_job(spec, base_url=base_url, demo=engine.demo)
            for spec in job_specs(batch, options, origins)]
    engine.remember_session_jobs(job.id for job in jobs)
    return jobs
