"""The form moved to :mod:`kling_desktop.ui.form`."""

# TEMPORARY re-export for the restructuring; the lead removes it
from kling_desktop.ui.form import GenerateForm as GenerateForm
