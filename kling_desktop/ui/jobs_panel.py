"""The jobs panel moved to :mod:`kling_desktop.ui.jobs`; this stub keeps old imports working."""

# TEMPORARY re-export for the restructuring; the lead removes it
from kling_desktop.ui.jobs import Action as Action  # TEMPORARY re-export
from kling_desktop.ui.jobs import JobsPanel as JobsPanel  # TEMPORARY re-export
