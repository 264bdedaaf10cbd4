"""The media slot moved to :mod:`kling_desktop.ui.form`."""

# TEMPORARY re-export for the restructuring; the lead removes it
from kling_desktop.ui.form import PREVIEW_DECODE_MAX as PREVIEW_DECODE_MAX
from kling_desktop.ui.form import MediaKind as MediaKind
from kling_desktop.ui.form import MediaSlot as MediaSlot
from kling_desktop.ui.form import sources_from_mime as sources_from_mime
