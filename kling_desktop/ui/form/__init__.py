"""The form an artist fills in: two media slots, the options, the checklist, Generate.

``generate_form``  GenerateForm: runs the engine's checks live, enables Generate
``media_slot``     MediaSlot: the chosen picture(s) or clip(s), drop/paste/choose/link
``preview``        the slot's preview: canvas, details, inline playback
(a clip's first frame: PosterGrabber, from kling_desktop.ui.poster_grabber, loaded on
first use)
``drop``           sources carried by a drop, the clipboard or the link field
``options``        OptionsPanel: model, quality, sound, orientation, prompt
``checklist``      the pre-flight checklist (box and strip)
``summary``        the words under the form (billable length, cost)
``kinds``          MediaKind and each slot's words
"""

from __future__ import annotations

from kling_desktop.ui.form.drop import source_name, sources_from_mime
from kling_desktop.ui.form.generate_form import GenerateForm
from kling_desktop.ui.form.kinds import MediaKind
from kling_desktop.ui.form.media_slot import MediaSlot
from kling_desktop.ui.form.preview import PREVIEW_DECODE_MAX

__all__ = ["PREVIEW_DECODE_MAX", "GenerateForm", "MediaKind", "MediaSlot",
           "source_name", "sources_from_mime"]
