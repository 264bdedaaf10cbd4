"""What the window knows about a job beyond the store, and which rows explain a problem."""

from __future__ import annotations

from dataclasses import dataclass

from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.errors import KlingError
from kling_desktop.ui.job_controller import OfflineInfo

__all__ = ["RowState", "needs_attention"]


@dataclass(frozen=True)
class RowState:
    """What the window knows about a job beyond the store: waiting, or stopped by an error."""

    offline: OfflineInfo | None = None
    note: KlingError | None = None
    service_note: str = ""     # the job service's word: "waiting for a free slot (2nd in line)"
    gone: bool = False         # a saved job whose video left the library (trash, deleted)

    @property
    def interrupted(self) -> bool:
        """Waiting for the provider to be reachable, or stopped by an error."""
        return self.offline is not None or self.note is not None


def needs_attention(job: Job, state: RowState) -> bool:
    """Rows that explain a problem in full (taller, wrapped text)."""
    if job.state in (JobState.FAILED, JobState.EXPIRED, JobState.UNCERTAIN):
        return True
    return job.state.is_active and state.note is not None
