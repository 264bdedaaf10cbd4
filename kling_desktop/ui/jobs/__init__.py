"""The jobs panel: every job, its status in words and what to do next (see :mod:`.panel`).

Modules, each one job: :mod:`.row_state` (what the window knows beyond the store),
:mod:`.actions` (what a job offers), :mod:`.wording` (a row in words),
:mod:`.thumbnails`, :mod:`.model` (the list model), :mod:`.layout` (where things go in
a row), :mod:`.delegate` (painting and clicks), :mod:`.panel` (the widget).
"""

from __future__ import annotations

from kling_desktop.ui.jobs.actions import Action, actions_for
from kling_desktop.ui.jobs.panel import JobsPanel
from kling_desktop.ui.jobs.row_state import RowState
from kling_desktop.ui.jobs.wording import badges_for, elapsed_text, status_text

__all__ = ["Action", "JobsPanel", "RowState", "actions_for", "badges_for", "elapsed_text",
           "status_text"]
